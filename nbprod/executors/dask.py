"""The Dask executor: tasks on a Dask cluster (a LocalCluster, or a scheduler's address).

    nbprod sweep train --executor dask                                   # LocalCluster
    nbprod sweep train --executor dask --dask-scheduler tcp://HOST:8786  # existing cluster

Each task runs in a Dask worker process, which writes its own run record; on a cluster of
several machines the registry must be shared (PostgreSQL) and the store too (S3). A worker
that dies mid-task makes its task fail with KilledWorker (nbprod asks for no retries), and
the run it was executing is found ``lost`` by the registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InfraError
from .forkpool import Outcome


class DaskExecutor:
    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 **_ignored: Any) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise InfraError("the dask executor needs dask.distributed",
                             hint="pip install 'nbprod[dask]'") from exc
        self._cluster = None
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="10s")
            else:
                self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self.client = Client(self._cluster)
        except OSError as exc:
            raise InfraError(f"cannot reach the Dask scheduler {scheduler}: {exc}",
                             hint="is `dask scheduler` running there?") from exc

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[tuple[str, Any]], *,
            timeout: float, on_done: Callable[[Outcome[Any]], None] | None = None,
            stop_when: Callable[[], bool] | None = None) -> list[Outcome[Any]]:
        from distributed import as_completed

        started = time.monotonic()
        futures = {self.client.submit(fn, task, key=f"nbprod-{key}-{time.time_ns()}",
                                      pure=False, retries=0): key for key, task in tasks}
        outcomes: dict[str, Outcome[Any]] = {}
        # Futures do not say when they started running: the limit is for the whole call.
        for future in as_completed(list(futures), timeout=timeout * max(1, len(futures))):
            key = futures[future]
            seconds = time.monotonic() - started
            if future.cancelled():
                outcomes[key] = Outcome(key, skipped=True, error="not started: stopped early")
                if on_done is not None:
                    on_done(outcomes[key])
                continue
            try:
                outcome: Outcome[Any] = Outcome(key, value=future.result(), seconds=seconds)
            except Exception as exc:  # KilledWorker, a task's own error, a lost connection
                outcome = Outcome(key, error=f"{type(exc).__name__}: {exc}"[:500],
                                  seconds=seconds)
            outcomes[key] = outcome
            if on_done is not None:
                on_done(outcome)
            if stop_when is not None and stop_when():
                for other, other_key in futures.items():
                    if other_key not in outcomes and not other.done():
                        other.cancel()
        for key, _task in tasks:
            if key not in outcomes:
                outcomes[key] = Outcome(key, skipped=True, error="not started: stopped early")
                if on_done is not None:
                    on_done(outcomes[key])
        return [outcomes[key] for key, _ in tasks]

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
