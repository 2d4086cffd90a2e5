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
from nbprod.export.base import ExportContext, Location, render
from nbprod.kernels.provisioner import _kernel_arguments


def test_a_kernel_that_is_not_ready_is_infra_and_what_jupyter_client_expects() -> None:
    with pytest.raises(KernelNotReady) as caught:
        _kernel_arguments(["/usr/bin/R", "--slave"])
    assert isinstance(caught.value, InfraError) and isinstance(caught.value, RuntimeError)
    assert caught.value.exit_code == 4


def test_a_broken_export_template_is_an_internal_nbprod_error() -> None:
    with pytest.raises(ExportTemplateError, match=r"export template no-such\.j2") as caught:
        render("no-such.j2", ExportContext(
            job="j", version=1, manifest={}, lock_kind="installed", lock_filename="x.lock",
            lock_text="", schedule=None, image="j:1", registry=Location.of("NBPROD_REGISTRY", ""),
            store=Location.of("NBPROD_STORE", "")), "docker")
    assert caught.value.exit_code == EXIT_INTERNAL


def test_an_unavailable_report_renderer_is_a_report_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from nbprod.execute import report

    def broken() -> None:
        raise ImportError("nbconvert is broken")

    monkeypatch.setattr(report, "warm_exporter", broken)
    renderer = ReportRenderer()
    with pytest.raises(ReportError, match="nbconvert is broken") as caught:
        renderer.render({})
    assert isinstance(caught.value, NbprodError)


def test_an_internal_failure_exits_70() -> None:
    assert failure_exit_code("internal") == EXIT_INTERNAL == 70
    assert failure_exit_code("infra") == 4


def test_memory_evidence_is_read_from_the_kernels_cgroup(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """cgroup v1 ``memory.oom_control`` and v2 ``memory.events`` count OOM kills: a kernel
    killed by SIGKILL while its cgroup's count rose ran out of memory."""
    from nbprod.execute.kernel import SupervisedKernelManager, oom_kills

    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    v1.mkdir()
    v2.mkdir()
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    (v2 / "memory.events").write_text("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n")
    assert (oom_kills(v1), oom_kills(v2), oom_kills(tmp_path), oom_kills(None)) == \
        (2, 1, None, None)
    km = SupervisedKernelManager.__new__(SupervisedKernelManager)
    km.memory_cgroup, km.oom_kills_at_start = v1, 2
    assert not km.ran_out_of_memory()
    (v1 / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert km.ran_out_of_memory()
