"""Use case: drift between two datasets, each a CSV or Parquet file or a recorded profile.

A source is a file path (``.csv``, ``.parquet``), profiled here, or ``RUN_ID:NAME``, the
profile a run recorded with ``nbprod.profile(df, NAME)`` (read from the store, hash
verified). Either way the comparison runs on profiles, so its cost does not grow with rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ..monitor.drift import DriftOptions, DriftReport
    from ..monitor.profile import Profile
    from .project import Project

_READERS = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class DriftResult:
    report: DriftReport
    reference: Profile
    current: Profile

    def to_json(self) -> dict[str, Any]:
        return self.report.to_json()

    def html(self) -> str:
        from ..monitor.report import render_html

        return render_html(self.report, self.reference, self.current)


def is_run_profile(source: str) -> bool:
    """``RUN_ID:NAME`` (and not an existing file whose name holds a colon)."""
    return ":" in source and not Path(source).exists() and "/" not in source.split(":")[0]


def run_profile(project: Project, run_ref: str, name: str) -> Profile:
    """The profile ``name`` recorded by a run, read from the store and hash-verified."""
    from ..monitor.profile import Profile
    from .runs import get_run

    record = get_run(project, run_ref)
    artifact = record.artifact(f"profiles/{name}.json")
    if artifact is None:
        recorded = [a.name[len("profiles/"):-len(".json")] for a in record.artifacts
                    if a.name.startswith("profiles/")]
        raise NotFound(f"run {record.run_id} recorded no profile '{name}'",
                       hint=f"its profiles: {', '.join(recorded) or 'none'} "
                            "(nbprod.profile(df, NAME) records one)")
    data = project.store.read_bytes(f"runs/{record.run_id}/{artifact.name}", artifact.sha256)
    return Profile.from_json(json.loads(data)["profile"])


def file_profile(path: Path) -> Profile:
    """Profile a CSV or Parquet file."""
    from ..monitor.profile import profile_frame

    if not path.is_file():
        raise NotFound(f"no file {path}", hint="give a .csv or .parquet file or RUN_ID:NAME")
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise InvalidInput(f"{path}: cannot read '{suffix or 'no suffix'}' files",
                           hint="give a .csv or .parquet file, or RUN_ID:NAME for a profile "
                                "a run recorded")
    try:
        if suffix == ".csv":
            return profile_frame(_read_csv(path), path.name)
        return _parquet_profile(path)
    except ImportError as exc:
        raise InvalidInput(f"{path}: reading Parquet needs pyarrow ({exc})",
                           hint="pip install 'nbprod[parquet]'") from None
    except (ValueError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"{path}: not a readable {suffix[1:]} file: {first}"[:300]) from None


def _read_csv(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path, engine="pyarrow")
    except ImportError:
        return pd.read_csv(path)


def _parquet_profile(path: Path) -> Profile:
    """Profile a Parquet file one column at a time: memory for one column, not the file."""
    import pyarrow.parquet as pq

    from ..monitor.profile import Profile, profile_column

    parquet = pq.ParquetFile(path)
    names = [n for n in parquet.schema_arrow.names if not n.startswith("__index_level_")]
    columns = tuple(profile_column(parquet.read(columns=[name]).to_pandas()[name], name)
                    for name in names)
    return Profile(name=path.name, rows=parquet.metadata.num_rows, columns=columns)


def profile_source(source: str, project: Project | None) -> Profile:
    if is_run_profile(source):
        if project is None:
            raise InvalidInput(f"{source}: a run's profile needs a project")
        run_ref, _, name = source.partition(":")
        return run_profile(project, run_ref, name)
    return file_profile(Path(source))


def drift(reference: str, current: str, options: DriftOptions,
          project: Project | None = None) -> DriftResult:
    """Drift of ``current`` against ``reference`` (paths or ``RUN_ID:NAME``)."""
    from ..monitor.drift import compare

    ref = profile_source(reference, project)
    cur = profile_source(current, project)
    return DriftResult(report=compare(ref, cur, options), reference=ref, current=cur)
