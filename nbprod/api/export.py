"""Use case: write deploy files for a job (``nbprod job export``).

The files run ``nbprod job run JOB --stage production`` on the job's schedule: whatever version
the stage points at, so promotion and rollback never need a new export. The exported version
(the one given, else the newest built) only decides which environment lock is installed.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from ..errors import InvalidInput, SettingsError
from ..export.base import ExportContext, Location, load_exporters, resource_name
from ..jobs.bundle import read_lock
from ..jobs.spec import JobSpec
from .jobs import export_manifest
from .project import Project

DEPLOY_STAGE = "production"
# An image reference: [registry/]name[:tag][@digest]; no spaces, quotes or newlines.
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}")


def export_job(project: Project, spec: JobSpec, *, target: str, version: int | None,
               out_dir: Path, image: str | None, environ: Mapping[str, str]) -> list[Path]:
    """Write ``target``'s files for ``spec`` under ``out_dir``; return their paths.

    ``environ`` gives the registry and store the deployment uses (``NBPROD_REGISTRY``,
    ``NBPROD_STORE``), over the project's settings; a password in them is never written.
    """
    exporters = load_exporters()
    exporter = exporters.get(target)
    if exporter is None:
        raise InvalidInput(f"no export target '{target}'",
                           hint=f"targets: {', '.join(exporters) or 'none installed'}")
    job_version = export_manifest(project, spec, version)
    manifest = job_version.manifest
    environment = manifest["environment"]
    try:
        lock_text = read_lock(manifest, project.store).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the environment lock of {spec.name} version "
                           f"{job_version.version} is not UTF-8 text") from exc
    out_dir = Path(os.path.abspath(out_dir))
    context = ExportContext(
        job=spec.name, version=job_version.version, manifest=manifest,
        lock_kind=environment["kind"], lock_filename=environment["filename"],
        lock_text=lock_text, schedule=spec.schedule,
        image=_image(image, spec.name),
        registry=Location.of("NBPROD_REGISTRY", _setting(project, environ, "registry")),
        store=Location.of("NBPROD_STORE", _setting(project, environ, "store")),
        stage=DEPLOY_STAGE if DEPLOY_STAGE in spec.stages else spec.stages[-1],
        project_root=project.root.resolve(),
        project_in_repo=_project_in_repo(project.root),
        out_in_project=_relative(out_dir, project.root),
        installable=_installable(project.root),
        templates_dir=_templates_dir(project))
    files = exporter.files(context)
    targets = [(_target(out_dir, name, target), text) for name, text in files.items()]
    for path, text in targets:
        _write(path, text)
    return [path for path, _ in targets]


def _templates_dir(project: Project) -> Path | None:
    """The project's ``templates_dir`` setting, checked to be a folder."""
    path = project.settings.templates_path if project.settings is not None else None
    if path is not None and not path.is_dir():
        raise SettingsError(f"templates_dir {project.settings.templates_dir!r} "  # type: ignore[union-attr]
                            f"({path}) is not a folder",
                            hint="create it with the templates to override (e.g. "
                                 "Dockerfile.j2), or remove the setting")
    return path


def _image(image: str | None, job: str) -> str:
    if image is None:
        return f"{resource_name(job)}:latest"
    if not _IMAGE.fullmatch(image):
        raise InvalidInput(f"--image {image!r} is not an image reference",
                           hint="like registry.example.com/team/nbprod-pipeline:1.2")
    return image


def _setting(project: Project, environ: Mapping[str, str], name: str) -> str:
    """NBPROD_<NAME> from ``environ``, else the project's setting (as written, not resolved:
    a local path stays a path)."""
    value = environ.get(f"NBPROD_{name.upper()}")
    if value:
        return value
    settings = project.settings
    return str(getattr(settings, name, "") or "") if settings is not None else ""


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _project_in_repo(root: Path) -> str:
    """The project folder relative to the root of its git repository ("." without one)."""
    root = root.resolve()
    for folder in (root, *root.parents):
        if (folder / ".git").exists():
            return root.relative_to(folder).as_posix()
    return "."


def _installable(root: Path) -> bool:
    """Whether ``pip install .`` builds the project folder (a Python package)."""
    if (root / "setup.py").is_file():
        return True
    try:
        with (root / "pyproject.toml").open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return "project" in data or "build-system" in data


def _target(out_dir: Path, name: str, exporter: str) -> Path:
    """Where a file the exporter names goes; never outside ``out_dir``."""
    relative = PurePosixPath(name)
    if not name or "\\" in name or relative.is_absolute() or ".." in relative.parts or \
            relative.parts[:1] == ("~",):
        raise SettingsError(f"exporter {exporter} wants to write '{name}', outside the output "
                            "folder", hint="an exporter names files relative to --out")
    path = out_dir.joinpath(*relative.parts)
    if not path.resolve().is_relative_to(out_dir.resolve()):
        raise SettingsError(f"exporter {exporter} wants to write '{name}', which resolves "
                            f"outside {out_dir} (a symbolic link?)",
                            hint="remove the link or choose another --out")
    return path


def _write(path: Path, text: str) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}",
                           hint="choose another --out") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}",
                               hint="choose another --out") from exc
        raise
