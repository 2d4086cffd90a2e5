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


def given_parameters(entry: Any, *layers: Mapping[str, GivenValue]) -> dict[str, GivenValue]:
    """The notebook's parameters from settings (``entry``), then each layer over them."""
    given: dict[str, GivenValue] = {}
    if entry is not None:
        given.update({k: GivenValue(v, source="settings") for k, v in entry.parameters.items()})
    for layer in layers:
        given.update(layer)
    return given


def kernel_name(project: Project, requested: str | None, entry: Any,
                notebook_kernel: str | None) -> str:
    """The kernelspec a run uses: asked for, the notebook's settings, the project's, the
    notebook's own metadata, then ``python3``."""
    return (requested or (entry.kernel if entry else None) or project.defaults.kernel
            or notebook_kernel or "python3")


def declared_inputs(project: Project, entry: Any) -> dict[str, str]:
    """Digests of the input files the notebook's settings declare."""
    if entry is None:
        return {}
    return input_digests(project.root, entry.inputs, f"[tool.nbprod.notebooks.{entry.name}]")


def cached(project: Project, key: str) -> RunRecord | None:
    """The newest succeeded run with this run key, marked as a cache hit, or None."""
    record = project.registry.cached_run(key)
    if record is None:
        return None
    return dataclasses.replace(located(project, record), cache_hit=True)


def located(project: Project, record: RunRecord) -> RunRecord:
    """The record with each artifact's store key turned into its location."""
    artifacts = tuple(dataclasses.replace(a, location=project.store.location(a.location))
                      for a in record.artifacts)
    return dataclasses.replace(record, artifacts=artifacts)


def lookup(project: Project, request: RunRequest) -> tuple[RunRecord | None, bool]:
    """The newest succeeded run with the key this request would have (or None), and whether
    the key could be worked out here: if it was, a miss need not be looked up again."""
    key = request_key(project, request)
    return (cached(project, key) if key is not None else None), key is not None


def request_key(project: Project, request: RunRequest) -> str | None:
    """The run key this request would have, or None if only a full run can tell."""
    try:
        path, entry = project.resolve_notebook(request.notebook)
        if request.record_as is not None:
            entry = project.settings_for(request.record_as)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
            return None
        strict = project.defaults.strict if request.strict is None else request.strict
        contract = _contract(data, str(path), strict)
        parameters = resolve_parameters(contract, given_parameters(entry, request.parameters),
                                        strict=strict)
        spec = (data.get("metadata") or {}).get("kernelspec") or {}
        notebook = request.record_as or project.relative(path)
        upstream = dict(request.upstream) if request.upstream is not None else \
            default_upstream(project, notebook)
        return run_key(notebook_version(data), parameters, declared_inputs(project, entry),
                       python_environment(project.cache_dir).digest, upstream,
                       kernel_name(project, request.kernel, entry, spec.get("name")))
    except (NbprodError, OSError, ValueError, KeyError, TypeError):
        return None


def _contract(data: dict[str, Any], path: str, strict: bool) -> ParameterContract:
    tagged = [(i, c) for i, c in enumerate(data["cells"])
              if "parameters" in ((c.get("metadata") or {}).get("tags") or [])]
    if not tagged:
        return ParameterContract(cell_index=None)
    index, cell = tagged[0]
    return parse_contract(cell_source(cell), cell_index=index, path=path, strict=strict)


__all__ = ["lookup"]
