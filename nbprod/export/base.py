"""The exporter contract, the context every exporter receives, rendering and plugin loading."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import jinja2

from ..errors import ExportTemplateError, InvalidInput, NbprodError, SettingsError
from ..urls import mask_secrets

__all__ = ["mask_secrets"]  # re-exported: exporters import it from here

GROUP = "nbprod.exporters"
TEMPLATES = "export"  # inside the nbprod.templates package (templates/ in the repository)

# The Kubernetes Secret (and GitHub secrets) holding what must not be written in a file.
SECRET_NAME = "nbprod"

# A CronJob's name: a DNS label of at most 52 characters (Kubernetes appends 11 for its Jobs).
CRONJOB_NAME_MAX = 52
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

LocationKind = Literal["url", "secret", "local", "unset"]
Installer = Literal["pip", "pylock", "uv", "poetry"]


@dataclass(frozen=True)
class Location:
    """Where the deployed job finds its registry (``NBPROD_REGISTRY``) or store
    (``NBPROD_STORE``), without the password.

    ``kind``: ``url`` (a server or bucket URL, safe to write in a file), ``secret`` (a URL that
    carries a password: files reference a secret instead), ``local`` (a path or SQLite file the
    deployment cannot reach unless it runs on this machine) or ``unset`` (the project's default,
    ``.nbprod/`` inside the project). ``shown`` is safe to print: the URL, the URL with its
    password masked (``***``), or the path.
    """

    env: str
    kind: LocationKind
    shown: str = ""

    @classmethod
    def of(cls, env: str, value: str | None) -> Location:
        value = (value or "").strip()
        if not value:
            return cls(env, "unset", "")
        if "://" not in value:
            return cls(env, "local", value)
        scheme = value.split("://", 1)[0].lower()
        local = scheme in ("file", "local") or scheme.split("+", 1)[0] == "sqlite"
        masked, secret = mask_secrets(value)
        return cls(env, "secret" if secret else "local" if local else "url", masked)

    @property
    def url(self) -> str | None:
        """The value to write in a file, when there is one that holds no secret."""
        return self.shown if self.kind == "url" else None

    @property
    def note(self) -> str:
        """One line saying where the value comes from, for comments."""
        if self.kind == "url":
            return self.shown
        if self.kind == "secret":
            return f"{self.shown} has a password: not written here, give it as a secret"
        if self.kind == "local":
            return f"{self.shown} is on this machine; elsewhere, use a shared one"
        return "not set (the project's .nbprod/ folder); elsewhere, use a shared one"


@dataclass(frozen=True)
class ExportContext:
    """Everything an exporter may put in a file. Nothing here holds a password."""

    job: str
    version: int  # the built version whose environment lock is installed
    manifest: Mapping[str, Any]
    lock_kind: str  # "installed" or "file:<name>"
    lock_filename: str
    lock_text: str
    schedule: str | None  # 5-field cron, or None
    image: str
    registry: Location
    store: Location
    stage: str = "production"  # the stage whose version the deployment runs
    project_root: Path = field(default_factory=Path)  # absolute, on this machine
    project_in_repo: str = "."  # the project folder, relative to its git repository's root
    out_in_project: str | None = None  # the output folder relative to the project (None: outside)
    installable: bool = False  # the project folder is a Python package (pip install . works)
    python: str = "3.11"
    # The project's own templates (setting templates_dir), taking precedence over nbprod's.
    templates_dir: Path | None = None

    @property
    def command(self) -> list[str]:
        """What every target runs."""
        return ["nbprod", "job", "run", self.job, "--stage", self.stage]

    @property
    def shell_command(self) -> str:
        return shlex.join(self.command)

    @property
    def installer(self) -> Installer:
        """How the lock is installed: pip (requirements style), pylock (uv pip), uv, poetry."""
        name = self.lock_filename
        if name == "uv.lock":
            return "uv"
        if name == "poetry.lock":
            return "poetry"
        if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
            return "pylock"
        return "pip"

    @property
    def resource_name(self) -> str:
        """``nbprod-<job>`` as a DNS label (Kubernetes names, image names)."""
        return resource_name(self.job)

    @property
    def locations(self) -> tuple[Location, Location]:
        return self.registry, self.store

    def header(self, target: str) -> list[str]:
        """The lines every generated file starts with (as comments)."""
        return [
            f"Generated by nbprod for job {self.job} (--target {target}); edits are lost on the "
            "next export.",
            f"Runs whatever version the {self.stage} stage points at ({self.shell_command}),",
            "so promoting or rolling back needs no new export. Installs the environment lock of",
            f"version {self.version} ({self.lock_filename}): export again when the lock changes.",
        ]

    def require_schedule(self, target: str) -> str:
        if not self.schedule:
            raise InvalidInput(
                f"job {self.job} has no schedule: the {target} target needs one",
                hint=f"set schedule = \"0 6 * * *\" (a 5-field cron) in "
                     f"[tool.nbprod.jobs.{self.job}]")
        return self.schedule


@runtime_checkable
class Exporter(Protocol):
    """A deploy target: files for a job, by path relative to the output folder."""

    name: str
    summary: str

    def files(self, context: ExportContext) -> dict[str, str]: ...


def resource_name(job: str) -> str:
    """``nbprod-<job>`` as a DNS label that fits a CronJob name (and an image name)."""
    return dns_label(f"nbprod-{job}", CRONJOB_NAME_MAX)


def dns_label(text: str, max_length: int = 63) -> str:
    """``text`` as a DNS label (lowercase ``[a-z0-9-]``, at most ``max_length``). When that
    changes the text, a short hash of it is appended so that two names stay two labels."""
    label = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")
    if label == text and len(label) <= max_length:
        return label
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    head = label[: max_length - len(digest) - 1].rstrip("-")
    result = f"{head}-{digest}" if head else f"x-{digest}"
    assert _DNS_LABEL.fullmatch(result), result
    return result


def label_value(text: str) -> str:
    """``text`` as a Kubernetes label value: ``[A-Za-z0-9._-]``, at most 63, alphanumeric ends."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", text)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def _comment(value: object) -> str:
    """A value safe inside a one-line comment."""
    return " ".join(str(value).split())


@functools.cache
def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment: ``templates_dir`` (its ``export/`` folder, then itself) first,
    then nbprod's ``templates/export``."""
    shipped = jinja2.PackageLoader("nbprod.templates", TEMPLATES)
    loader: jinja2.BaseLoader = shipped if templates_dir is None else jinja2.ChoiceLoader([
        jinja2.FileSystemLoader([templates_dir / TEMPLATES, templates_dir]), shipped])
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Quoting for each language a template writes.
    env.filters["json"] = json.dumps  # YAML and Dockerfile exec form accept JSON scalars
    env.filters["py"] = repr
    env.filters["sh"] = shlex.quote
    env.filters["comment"] = _comment
    return env


def render(template: str, context: ExportContext, target: str, **values: Any) -> str:
    """Render ``templates/export/<template>`` (or the project's own, from its
    ``templates_dir``) with ``ctx`` (the context), ``header`` and ``values``."""
    try:
        loaded = environment(context.templates_dir).get_template(template)
        return loaded.render(ctx=context, header=context.header(target), **values)
    except jinja2.TemplateError as exc:
        raise _template_error(template, exc, context.templates_dir) from exc


def _template_error(template: str, exc: jinja2.TemplateError,
                    templates_dir: Path | None) -> NbprodError:
    """The project's template is the user's to fix (a settings error naming its file); one of
    nbprod's own is a bug (ExportTemplateError)."""
    line = getattr(exc, "lineno", None)
    where = f" line {line}" if line else ""
    filename = getattr(exc, "filename", None)
    if templates_dir is not None and filename and \
            Path(filename).resolve().is_relative_to(templates_dir.resolve()):
        return SettingsError(f"export template {filename}{where}: {exc}",
                             hint="fix the template in your templates_dir, or remove it to use "
                                  "nbprod's")
    if templates_dir is not None and filename is None:
        return SettingsError(f"export template {template}{where}: {exc}",
                             hint="check the templates in your templates_dir against nbprod's "
                                  "(templates/export/ in nbprod's sources)")
    return ExportTemplateError(f"export template {template}: {exc}",
                               hint="a bug in the exporter's template: please report it")


def load_exporters() -> dict[str, Exporter]:
    """Every exporter installed in this environment (built-in and plugins), by target name."""
    from importlib.metadata import entry_points

    exporters: dict[str, Exporter] = {}
    sources: dict[str, str] = {}
    for entry in entry_points(group=GROUP):
        if entry.name in sources:
            if sources[entry.name] == entry.value:
                continue  # the same distribution seen twice on sys.path
            raise SettingsError(f"two exporters are registered as '{entry.name}' "
                                f"({sources[entry.name]} and {entry.value})",
                                hint="uninstall one of the packages providing them")
        try:
            loaded = entry.load()
            exporter = loaded() if isinstance(loaded, type) else loaded
        except Exception as exc:  # a broken plugin is named, not a crash
            raise SettingsError(f"exporter plugin {entry.name} ({entry.value}) failed to load: "
                                f"{type(exc).__name__}: {exc}",
                                hint="fix or uninstall the package providing it") from exc
        missing = [a for a in ("name", "summary", "files") if not hasattr(exporter, a)]
        if missing or not callable(exporter.files):
            raise SettingsError(f"exporter plugin {entry.name} ({entry.value}) lacks "
                                f"{', '.join(missing) or 'a callable files()'}",
                                hint="an exporter has name, summary and files(context)")
        if exporter.name != entry.name:
            raise SettingsError(f"exporter plugin {entry.name} ({entry.value}) calls itself "
                                f"'{exporter.name}'",
                                hint="register it under the name it has")
        exporters[entry.name] = exporter
        sources[entry.name] = entry.value
    return dict(sorted(exporters.items()))
