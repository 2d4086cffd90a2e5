"""``--cache`` without executing anything: find the succeeded run that has this run's key.

Computes the same run key as :func:`~nbprod.api.runs.run_notebook` (notebook version,
coerced parameters, input digests, environment, upstream runs, kernel) from the notebook's
JSON, without loading nbformat or the execution engine, so a cache hit costs a fraction of
a second. Anything unusual (an old nbformat, a parameter problem) is a miss: the full run then
reports it properly.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import NbprodError
from ..lineage import input_digests, python_environment
from ..notebook.contract import ParameterContract, parse_contract
from ..notebook.values import GivenValue, resolve_parameters
from ..notebook.version import cell_source, notebook_version
from ..records import RunRecord
from .project import Project
from .upstream import default_upstream

if TYPE_CHECKING:
    from .runs import RunRequest


def run_key(notebook_version: str, parameters: Mapping[str, Any], inputs: Mapping[str, str],
            environment: str, upstream: Mapping[str, str], kernel: str) -> str:
    """What makes two runs interchangeable: the same code, parameters, data and environment."""
    material = {"notebook_version": notebook_version, "parameters": dict(parameters),
                "inputs": dict(inputs), "environment": environment,
                "upstream": dict(upstream), "kernel": kernel}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def located(project: Project, record: RunRecord) -> RunRecord:
    """The record with each artifact's store key turned into its location."""
    artifacts = tuple(dataclasses.replace(a, location=project.store.location(a.location))
                      for a in record.artifacts)
    return dataclasses.replace(record, artifacts=artifacts)


def lookup(project: Project, request: RunRequest) -> RunRecord | None:
    """The newest succeeded run with the key this request would have, or None."""
    try:
        path, entry = project.resolve_notebook(request.notebook)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
            return None
        strict = project.defaults.strict if request.strict is None else request.strict
        contract = _contract(data, str(path), strict)
        given: dict[str, GivenValue] = {}
        if entry is not None:
            given.update({k: GivenValue(v, source="settings")
                          for k, v in entry.parameters.items()})
        given.update(request.parameters)
        parameters = resolve_parameters(contract, given, strict=strict)
        inputs = input_digests(project.root, entry.inputs, f"[tool.nbprod.notebooks."
                               f"{entry.name}]") if entry is not None else {}
        spec = (data.get("metadata") or {}).get("kernelspec") or {}
        kernel = (request.kernel or (entry.kernel if entry else None) or
                  project.defaults.kernel or spec.get("name") or "python3")
        notebook = request.record_as or project.relative(path)
        upstream = dict(request.upstream) if request.upstream is not None else \
            default_upstream(project, notebook)
        key = run_key(notebook_version(data), parameters, inputs,
                      python_environment(project.cache_dir).digest, upstream, kernel)
    except (NbprodError, OSError, ValueError, KeyError, TypeError):
        return None
    cached = project.registry.cached_run(key)
    if cached is None:
        return None
    return dataclasses.replace(located(project, cached), cache_hit=True)


def _contract(data: dict[str, Any], path: str, strict: bool) -> ParameterContract:
    tagged = [(i, c) for i, c in enumerate(data["cells"])
              if "parameters" in ((c.get("metadata") or {}).get("tags") or [])]
    if not tagged:
        return ParameterContract(cell_index=None)
    index, cell = tagged[0]
    return parse_contract(cell_source(cell), cell_index=index, path=path, strict=strict)


__all__ = ["lookup"]
