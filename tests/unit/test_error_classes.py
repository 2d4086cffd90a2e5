"""Errors nbprod raises on purpose are NbprodError subclasses with an exit code (issue 9 §4):
no bare RuntimeError from kernels/, export/base.py or execute/report.py."""

from __future__ import annotations

import pytest

from nbprod.cli.common import failure_exit_code
from nbprod.errors import (
    EXIT_INTERNAL,
    ExportTemplateError,
    InfraError,
    KernelNotReady,
    NbprodError,
    ReportError,
)
from nbprod.execute.report import ReportRenderer
from nbprod.export.base import render
from nbprod.kernels.provisioner import _kernel_arguments


def test_a_kernel_that_is_not_ready_is_infra_and_what_jupyter_client_expects() -> None:
    with pytest.raises(KernelNotReady) as caught:
        _kernel_arguments(["/usr/bin/R", "--slave"])
    assert isinstance(caught.value, InfraError) and isinstance(caught.value, RuntimeError)
    assert caught.value.exit_code == 4


def test_a_broken_export_template_is_an_internal_nbprod_error() -> None:
    with pytest.raises(ExportTemplateError, match=r"export template no-such\.j2") as caught:
        render("no-such.j2", None, "docker")  # type: ignore[arg-type]
    assert caught.value.exit_code == EXIT_INTERNAL


def test_an_unavailable_report_renderer_is_a_report_error() -> None:
    renderer = ReportRenderer.__new__(ReportRenderer)
    renderer._exporter = None
    renderer._error = ImportError("nbconvert is broken")

    class _Done:
        def join(self) -> None:
            pass

    renderer._thread = _Done()  # type: ignore[assignment]
    with pytest.raises(ReportError, match="nbconvert is broken") as caught:
        renderer.render({})
    assert isinstance(caught.value, NbprodError)


def test_an_internal_failure_exits_70() -> None:
    assert failure_exit_code("internal") == EXIT_INTERNAL == 70
    assert failure_exit_code("infra") == 4
