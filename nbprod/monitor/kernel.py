"""What ``nbprod.profile(df, name)`` does inside the kernel, once pandas is worth loading.

Profile the frame, run the data checks declared for the dataset (settings, handed over by the
runner) and those given in code, write both to the run's capture folder as one JSON file
(``profiles/NAME.json``, an artifact of the run), then raise :class:`DataCheckFailed` if a
check broke: the cell fails, and the runner records the run as failed with kind
``data_check``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .checks import CheckResult, DataCheckFailed, failed, failure_message, run_checks
from .profile import Profile, profile_frame


def profile_dataset(data: Any, name: str, folder: Path, *, checks: Any = None,
                    declared: Any = None) -> Profile:
    """Profile ``data``, check it, write ``folder/NAME.json``; raise if a check broke."""
    profile = profile_frame(data, name)
    results: list[CheckResult] = []
    for spec in (declared, checks):
        if spec is not None:
            results += run_checks(data, profile, spec)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.json"
    partial = folder / f".{name}.json.tmp"
    partial.write_text(json.dumps({"profile": profile.to_json(),
                                   "checks": [r.to_json() for r in results]},
                                  allow_nan=False), encoding="utf-8")
    os.replace(partial, target)
    if failed(results):
        raise DataCheckFailed(failure_message(results), results)
    return profile
