"""Lint results cached per file content, like ruff's own cache.

One JSON file per configuration in ``.nbprod/cache/``: its name hashes everything that can
change a result besides the file itself (nbprod's version, the installed distributions via
the ``sys.path`` folders' modification times, the lint settings, the installed kernels). An
entry maps a notebook's SHA-256 to its findings and version, and remembers which registries
already hold the result, so an unchanged notebook is neither re-linted nor recorded twice.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .model import FileResult, Finding


class LintCache:
    def __init__(self, folder: Path, key_parts: list[str]) -> None:
        key = hashlib.sha256("\n".join(key_parts).encode()).hexdigest()[:24]
        self.path = folder / f"lint-{key}.json"
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty = False
        try:
            data = json.loads(self.path.read_text())
            if isinstance(data, dict):
                self._entries = data
        except (OSError, ValueError):
            pass

    def get(self, sha: str, shown: str) -> FileResult | None:
        """A cached result for this content, with the path as now shown; or None."""
        entry = self._entries.get(sha)
        if entry is None:
            return None
        findings = tuple(Finding.from_json(f)._replace(path=shown) for f in entry["findings"])
        return FileResult(path=shown, sha256=sha, notebook_version=entry.get("version"),
                          findings=findings, cached=True)

    def put(self, result: FileResult) -> None:
        self._entries[result.sha256] = {
            "version": result.notebook_version,
            "findings": [f.to_json() for f in result.findings],
            "recorded": self._entries.get(result.sha256, {}).get("recorded", []),
        }
        self._dirty = True

    def recorded(self, sha: str, registry: str) -> bool:
        return registry in self._entries.get(sha, {}).get("recorded", [])

    def mark_recorded(self, sha: str, registry: str) -> None:
        entry = self._entries.get(sha)
        if entry is not None and registry not in entry.setdefault("recorded", []):
            entry["recorded"].append(registry)
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (best effort: a cache is never worth an error)."""
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self._entries, separators=(",", ":")))
            os.replace(tmp, self.path)
        except OSError:
            pass
        self._dirty = False
