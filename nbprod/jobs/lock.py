"""The environment a job version pins: the project's lock file, or the exact installed set.

A project lock file (pylock.toml, uv.lock, poetry.lock, requirements.lock) wins, verbatim.
Otherwise the lock lists every installed distribution as ``name==version``, leaving out those
installed from a local folder (the project itself, editable installs): the Dockerfile installs
those from the source it copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LOCK_FILES = ("pylock.toml", "uv.lock", "poetry.lock", "requirements.lock",
              "requirements-lock.txt")


@dataclass(frozen=True)
class EnvironmentLock:
    kind: str  # "installed" or "file:<name>"
    content: bytes

    @property
    def filename(self) -> str:
        return self.kind.split(":", 1)[1] if self.kind.startswith("file:") else \
            "requirements.lock"


def environment_lock(project_root: Path) -> EnvironmentLock:
    for name in LOCK_FILES:
        path = project_root / name
        if path.is_file():
            return EnvironmentLock(f"file:{name}", path.read_bytes())
    return EnvironmentLock("installed", installed_requirements().encode())


def installed_requirements() -> str:
    """``name==version`` per installed distribution, sorted; local installs left out."""
    from importlib import metadata

    distributions = list(metadata.distributions())
    # A project installed from its folder can also be found through a stray egg-info on
    # sys.path (no direct_url.json): skip every distribution of a locally installed name.
    local = {(d.metadata["Name"] or "").lower() for d in distributions if _installed_locally(d)}
    lines = set()
    for dist in distributions:
        name = (dist.metadata["Name"] or "").lower()
        if not name or name in local:
            continue
        lines.add(f"{name}=={dist.version}")
    return "".join(f"{line}\n" for line in sorted(lines))


def _installed_locally(dist: object) -> bool:
    try:
        text = dist.read_text("direct_url.json")  # type: ignore[attr-defined]
    except (OSError, ValueError):
        return False
    if not text:
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return "dir_info" in data or str(data.get("url", "")).startswith("file:")
