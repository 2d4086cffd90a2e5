"""export_job itself: target lookup, versions, plugins, where files go; and the CLI."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from nbprod.errors import InvalidInput, NotFound, SettingsError
from nbprod.export.base import GROUP, ExportContext, Exporter, load_exporters, mask_secrets

from .conftest import export, make_project

BUILT_IN = {"docker", "k8s", "airflow", "github"}


class NomadExporter:
    """A third-party target, registered through a (test) entry point."""

    name = "nomad"
    summary = "HashiCorp Nomad periodic job"

    def files(self, context: ExportContext) -> dict[str, str]:
        return {f"{context.job}.nomad.hcl":
                f'# {context.header("nomad")[0]}\njob "{context.job}" {{\n'
                f'  periodic {{ crons = ["{context.schedule}"] }}\n'
                f"  # {context.shell_command}\n}}\n"}


class EscapingExporter:
    name = "escape"
    summary = "writes where it must not"
    target = "../outside.txt"

    def files(self, context: ExportContext) -> dict[str, str]:
        return {"inside.txt": "fine\n", self.target: "not fine\n"}


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBPROD_")}
    return subprocess.run([sys.executable, "-m", "nbprod", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[importlib.metadata.EntryPoint]]:
    """Entry points added to the ``nbprod.exporters`` group (the one stub in these tests)."""
    extra: list[importlib.metadata.EntryPoint] = []
    real = importlib.metadata.entry_points

    def entry_points(**params: Any) -> Any:
        found = real(**params)
        return [*found, *extra] if params.get("group") == GROUP else found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    yield extra


def entry(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group=GROUP)


def test_built_in_exporters_are_entry_points() -> None:
    exporters = load_exporters()
    assert set(exporters) >= BUILT_IN
    for name, exporter in exporters.items():
        assert isinstance(exporter, Exporter)
        assert exporter.name == name and exporter.summary


def test_an_unknown_target_lists_the_known_ones(root: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        export(root, "nomad")
    assert "no export target 'nomad'" in caught.value.message
    assert all(name in (caught.value.hint or "") for name in BUILT_IN)
    assert caught.value.exit_code == 2


def test_no_built_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with pytest.raises(NotFound) as caught:
        export(root, "k8s")
    assert "no version yet" in caught.value.message
    assert "nbprod job build pipe" in (caught.value.hint or "")
    assert not (root / "deploy").exists()


def test_an_unknown_version(root: Path) -> None:
    with pytest.raises(NotFound):
        export(root, "docker", version=7)


def test_a_third_party_exporter_is_found(root: Path,
                                         plugin: list[importlib.metadata.EntryPoint]) -> None:
    plugin.append(entry("nomad", f"{__name__}:NomadExporter"))
    assert isinstance(load_exporters()["nomad"], NomadExporter)
    files = export(root, "nomad")
    assert list(files) == ["pipe.nomad.hcl"]
    assert 'crons = ["0 6 * * *"]' in files["pipe.nomad.hcl"]
    assert "nbprod job run pipe --stage production" in files["pipe.nomad.hcl"]


def test_a_broken_plugin_is_named(plugin: list[importlib.metadata.EntryPoint]) -> None:
    plugin.append(entry("nomad", "acme_missing_package.deploy:Nomad"))
    with pytest.raises(SettingsError) as caught:
        load_exporters()
    message = caught.value.one_line()
    assert "exporter plugin nomad (acme_missing_package.deploy:Nomad) failed to load" in message
    assert "ModuleNotFoundError" in message


def test_a_plugin_must_look_like_an_exporter(
        plugin: list[importlib.metadata.EntryPoint]) -> None:
    plugin.append(entry("nomad", "json:dumps"))
    with pytest.raises(SettingsError, match="lacks name, summary, files"):
        load_exporters()


def test_a_plugin_registered_under_another_name(
        plugin: list[importlib.metadata.EntryPoint]) -> None:
    plugin.append(entry("hcl", f"{__name__}:NomadExporter"))
    with pytest.raises(SettingsError, match="calls itself 'nomad'"):
        load_exporters()


def test_two_plugins_with_one_name(plugin: list[importlib.metadata.EntryPoint]) -> None:
    plugin.append(entry("k8s", f"{__name__}:NomadExporter"))
    with pytest.raises(SettingsError, match="two exporters are registered as 'k8s'"):
        load_exporters()


@pytest.mark.parametrize("target", ["../outside.txt", "/tmp/outside.txt", "a/../../outside.txt",
                                    ""])
def test_nothing_is_written_outside_the_output_folder(
        root: Path, plugin: list[importlib.metadata.EntryPoint],
        monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    monkeypatch.setattr(EscapingExporter, "target", target)
    plugin.append(entry("escape", f"{__name__}:EscapingExporter"))
    with pytest.raises(SettingsError, match="exporter escape wants to write"):
        export(root, "escape")
    assert not (root / "deploy").exists()  # checked before anything is written
    assert not (root / "outside.txt").exists()


def test_a_symbolic_link_out_of_the_folder_is_refused(root: Path, tmp_path: Path) -> None:
    (root / "deploy").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "deploy" / "dags").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(SettingsError, match="resolves outside"):
        export(root, "airflow")
    assert not list((tmp_path / "elsewhere").iterdir())


def test_writing_again_replaces_the_files(root: Path) -> None:
    first = export(root, "k8s")
    (root / "deploy" / "cronjob.yaml").write_text("edited\n")
    assert export(root, "k8s") == first
    assert sorted(p.name for p in (root / "deploy").iterdir()) == ["cronjob.yaml"]  # no temp


def test_export_is_reproducible(root: Path) -> None:
    for target in sorted(BUILT_IN):
        assert export(root, target, out=target) == export(root, target, out=target)


@pytest.mark.parametrize(("url", "masked", "secret"), [
    ("postgresql+psycopg://u:secret@db/x", "postgresql+psycopg://u:***@db/x", True),
    ("postgresql://u@db:5432/x", "postgresql://u@db:5432/x", False),
    ("postgresql://db/x?user=u&password=pw&sslmode=require",
     "postgresql://db/x?user=u&password=***&sslmode=require", True),
    ("s3://bucket/prefix", "s3://bucket/prefix", False),
    ("s3://bucket/p?key=AKIA&secret=abc", "s3://bucket/p?key=***&secret=***", True),
])
def test_mask_secrets(url: str, masked: str, secret: bool) -> None:
    assert mask_secrets(url) == (masked, secret)


def test_through_the_cli(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    built = cli(root, "job", "build", "pipe")
    assert built.returncode == 0, built.stderr
    done = cli(root, "job", "export", "pipe", "--target", "k8s", "--out", "deploy")
    assert done.returncode == 0, done.stderr
    assert f"wrote {root / 'deploy' / 'cronjob.yaml'}" in done.stdout
    data = yaml.safe_load((root / "deploy" / "cronjob.yaml").read_text())
    kubernetes_validate.validate(data, "1.30.0", strict=True)
    as_json = cli(root, "job", "export", "pipe", "--target", "docker", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["files"][0] == str(root / "deploy" / "Dockerfile")
    unknown = cli(root, "job", "export", "pipe", "--target", "nomad")
    assert unknown.returncode == 2
    assert "nomad" in unknown.stderr


def test_the_cli_without_a_built_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    done = cli(root, "job", "export", "pipe", "--target", "github")
    assert done.returncode == 2
    assert "nbprod job build pipe" in done.stderr
    assert not (root / "deploy").exists()
