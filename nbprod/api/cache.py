"""The run key and ``--cache``: find the succeeded run that has this run's key.

:func:`run_key` is the one computation of what makes two runs interchangeable (notebook
version, coerced parameters without secrets, input digests, environment, upstream runs,
kernel); :func:`~nbprod.api.runs.run_notebook` computes it once, from the prepared run (the
notebook read and checked, its parameters resolved), and looks it up before executing. A run
that cannot be prepared is a recorded ``invalid_input`` failure saying why, cache or not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..lineage import input_digests
from ..notebook.values import GivenValue
from ..records import RunRecord
from .project import Project

if TYPE_CHECKING:
    pass


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
