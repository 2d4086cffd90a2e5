"""What a notebook hands back to nbprod: recorded values and produced files.

Two halves meet here. Inside the kernel, :func:`record` and :func:`output_path` (exported as
``nbprod.record`` / ``nbprod.output_path``) write to the run's capture folder, which the runner
names in the kernel's environment (``NBPROD_CAPTURE_DIR``). In the runner,
:func:`read_values` collects what was recorded, plus values glued with scrapbook.

The kernel half imports only the standard library: it runs in every production notebook, and
``import nbprod`` plus one ``record`` must cost milliseconds, not seconds. Outside nbprod
(interactively in JupyterLab) the same calls write beside the notebook, under ``nbprod-local/``,
and say so.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CAPTURE_ENV = "NBPROD_CAPTURE_DIR"
STEP_OUTPUTS_ENV = "NBPROD_STEP_OUTPUTS"  # JSON: step name -> folder of that step's files
DATA_CHECKS_ENV = "NBPROD_DATA_CHECKS"  # JSON: dataset name -> its declared data checks
VALUES_FILE = "values.jsonl"
FILES_DIR = "files"
PROFILES_DIR = "profiles"
LOCAL_DIR = "nbprod-local"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,200}")
_SCRAPBOOK_PREFIX = "application/scrapbook.scrap."
_PAPERMILL_RECORD = "application/papermill.record+json"


class RecordError(ValueError):
    """A value or name that nbprod cannot record (raised inside the notebook)."""


def _capture_dir() -> tuple[Path, bool]:
    folder = os.environ.get(CAPTURE_ENV)
    if folder:
        return Path(folder), False
    return Path.cwd() / LOCAL_DIR, True


def record(name: str, value: Any) -> None:
    """Record a named value (a metric, a count, a short string) for this run.

    Values must be plain data: numbers, strings, booleans, None, and lists or dicts of them.
    NumPy and pandas scalars are converted. Recording a name again replaces the value.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RecordError(f"nbprod.record: name {name!r} must be 1-200 characters of "
                          "letters, digits, '.', '_' or '-'")
    plain = _plain(value, name)
    folder, interactive = _capture_dir()
    folder.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"name": name, "value": plain}, allow_nan=False)
    with open(folder / VALUES_FILE, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    if interactive:
        print(f"nbprod: recorded {name} = {plain!r} in {folder / VALUES_FILE} "
              "(not under `nbprod run`: kept beside the notebook)", file=sys.stderr)


def output_path(name: str) -> Path:
    """A path to write an output file to; nbprod stores the file with the run.

    ``name`` is relative (``model.joblib``, ``plots/roc.png``). Under ``nbprod run`` the
    file becomes an artifact of the run, with its SHA-256; interactively it lands in
    ``nbprod-local/files/`` beside the notebook.
    """
    _check_relative(name, "output_path")
    folder, interactive = _capture_dir()
    path = folder / FILES_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if interactive:
        print(f"nbprod: output {name} goes to {path} (not under `nbprod run`)", file=sys.stderr)
    return path


def step_path(step: str, name: str) -> Path:
    """The file ``name`` that an earlier step wrote with :func:`output_path`.

    In a job run it is the file of that step in the same job run; under ``nbprod run`` of a
    notebook that is a step of a job, the file of that step's latest succeeded run;
    interactively, ``nbprod-local/files/NAME`` beside the notebook (where the earlier
    notebook's ``output_path`` put it when run interactively from the same folder).
    """
    _check_relative(name, "step_path")
    folders = os.environ.get(STEP_OUTPUTS_ENV)
    if folders is not None:
        known = json.loads(folders)
        if step not in known:
            raise RecordError(f"nbprod.step_path: no outputs of step {step!r} are available "
                              f"here (steps before this one: {', '.join(known) or 'none'}); "
                              "run that step first")
        path = Path(known[step]) / name
    else:
        path = Path.cwd() / LOCAL_DIR / FILES_DIR / name
        print(f"nbprod: reading {name} of step {step} from {path} (not under `nbprod run`)",
              file=sys.stderr)
    if not path.is_file():
        raise FileNotFoundError(f"nbprod.step_path: step {step!r} produced no file {name!r} "
                                f"(looked at {path})")
    return path


def profile(data: Any, name: str, *, checks: Any = None) -> Any:
    """Record a compact profile of a pandas DataFrame with this run, and check the data.

    The profile (per column: kind, counts, missing values, a quantile sketch or the top
    values; never the rows) is stored as the artifact ``profiles/NAME.json`` and summarized
    in the registry; ``nbprod drift`` and ``nbprod monitor`` compare profiles. Data checks
    declared for ``name`` in settings (``[tool.nbprod.monitor.checks.NAME]``) and those given
    as ``checks`` (the same table, or a pandera ``DataFrameSchema``) run on the frame; a
    broken one raises ``DataCheckFailed`` and the run fails as ``data_check``. Returns the
    profile. pandas (and pandera, with checks) load on the first call, not on import.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise RecordError(f"nbprod.profile: name {name!r} must be 1-200 characters of "
                          "letters, digits, '.', '_' or '-'")
    from ..monitor.kernel import profile_dataset  # pandas: only when a notebook profiles

    declared = json.loads(os.environ.get(DATA_CHECKS_ENV) or "{}").get(name)
    folder, interactive = _capture_dir()
    result = profile_dataset(data, name, folder / PROFILES_DIR, checks=checks,
                             declared=declared)
    if interactive:
        print(f"nbprod: profile {name} written to {folder / PROFILES_DIR} (not under "
              "`nbprod run`)", file=sys.stderr)
    return result


def _check_relative(name: str, function: str) -> None:
    if not isinstance(name, str) or not name or name.startswith("/") or any(
            part in ("", ".", "..") or not _NAME.fullmatch(part) for part in name.split("/")):
        raise RecordError(f"nbprod.{function}: {name!r} must be a relative name made of "
                          "letters, digits, '.', '_', '-' and '/'")


def _plain(value: Any, name: str, depth: int = 0) -> Any:
    """Convert to JSON-safe plain data; non-finite floats become strings ("nan", "inf")."""
    if depth > 20:
        raise RecordError(f"nbprod.record({name!r}): value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, name, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, name, depth + 1) for k, v in value.items()}
    item = getattr(value, "item", None)  # NumPy / pandas scalars
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return _plain(item(), name, depth + 1)
    tolist = getattr(value, "tolist", None)  # small NumPy arrays
    if callable(tolist) and getattr(value, "size", 10_001) <= 10_000:
        return _plain(tolist(), name, depth + 1)
    raise RecordError(f"nbprod.record({name!r}): {type(value).__name__} is not plain data; "
                      "record numbers, strings, booleans, lists or dicts (save objects with "
                      "nbprod.output_path)")


# -- runner side -------------------------------------------------------------------------


def read_values(capture_dir: Path, outputs: Iterable[Any] = ()) -> dict[str, Any]:
    """Values recorded in a run: scrapbook/papermill glue first, then ``nbprod.record``.

    ``outputs`` are the executed notebook's cell outputs (to find glued scraps). A later
    record of the same name wins.
    """
    values = _glued(outputs)
    path = capture_dir / VALUES_FILE
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a dying kernel
            if isinstance(entry, dict) and "name" in entry:
                values[str(entry["name"])] = entry.get("value")
    return values


def _glued(outputs: Iterable[Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for output in outputs:
        data = output.get("data") if hasattr(output, "get") else None
        if not data:
            continue
        for mime, payload in data.items():
            if mime.startswith(_SCRAPBOOK_PREFIX) and isinstance(payload, dict):
                encoder = payload.get("encoder")
                if encoder in ("json", "text") and "name" in payload:
                    values[str(payload["name"])] = payload.get("data")
            elif mime == _PAPERMILL_RECORD and isinstance(payload, dict):
                values.update({str(k): v for k, v in payload.items()})
    return values


def captured_profiles(capture_dir: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    """``(name, data, content)`` of every profile the notebook recorded with :func:`profile`:
    the file's bytes, read once (what is stored and hashed is what was parsed).

    ``content`` holds ``profile`` (the profile's JSON) and ``checks`` (data check results).
    """
    root = capture_dir / PROFILES_DIR
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob("*.json")):
        try:
            data = path.read_bytes()
            content = json.loads(data.decode("utf-8"))
        except (OSError, ValueError):
            continue  # a file cut short by a dying kernel
        if isinstance(content, dict) and isinstance(content.get("profile"), dict):
            found.append((path.stem, data, content))
    return found


def produced_files(capture_dir: Path) -> list[tuple[str, Path]]:
    """``(name, path)`` of every file the notebook wrote through :func:`output_path`."""
    root = capture_dir / FILES_DIR
    if not root.is_dir():
        return []
    return [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*")) if p.is_file()]
