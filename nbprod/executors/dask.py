"""The Dask executor: tasks on a Dask cluster (a LocalCluster, or a scheduler's address).

    nbprod sweep train --executor dask                                   # LocalCluster
    nbprod sweep train --executor dask --dask-scheduler tcp://HOST:8786  # existing cluster
    nbprod sweep train --executor dask --dask-scheduler tls://HOST:8786  # with dask_tls files

Each task runs in a Dask worker process, which writes its own run record; on a cluster of
several machines the registry must be shared (PostgreSQL) and the store too (S3). A worker
that dies mid-task makes its task fail with KilledWorker (nbprod asks for no retries), and
the run it was executing is found ``lost`` by the registry.

A ``tls://`` address connects with Dask's TLS security (``distributed.security.Security``),
from the project's ``dask_tls = { ca_file, cert, key }`` setting or, without it, Dask's own
``distributed.comm.tls`` configuration. Tasks carry only ``NBPROD_*`` variables and those
``pass_env`` names (``api/sweep.py``); secret parameters are sent only over a private channel
(:attr:`private`: a LocalCluster, a loopback address or TLS).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import InfraError, SettingsError
from ..urls import redact
from .forkpool import Outcome


def is_private(scheduler: str | None) -> bool:
    """Whether tasks sent to ``scheduler`` stay encrypted or on this machine."""
    if not scheduler:
        return True  # a LocalCluster
    scheme, _, rest = scheduler.partition("://")
    if scheme in ("tls", "inproc"):
        return True
    host = rest.rsplit(":", 1)[0].strip("[]") if rest else scheme
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _security(scheduler: str, tls: Mapping[str, str]) -> Any:
    """Dask's TLS settings for a ``tls://`` address (None: Dask's own configuration)."""
    if not tls:
        return None
    if not scheduler.startswith("tls://"):
        raise SettingsError(f"dask_tls is set but the scheduler address {scheduler} is not "
                            "tls://", hint="use tls://HOST:PORT")
    missing = [k for k in ("ca_file", "cert", "key") if not tls.get(k)]
    if missing:
        raise SettingsError(f"dask_tls needs {', '.join(missing)}")
    from distributed.security import Security

    return Security(tls_ca_file=tls["ca_file"], tls_client_cert=tls["cert"],
                    tls_client_key=tls["key"], require_encryption=True)


class DaskExecutor:
    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 tls: Mapping[str, str] | None = None, **_ignored: Any) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise InfraError("the dask executor needs dask.distributed",
                             hint="pip install 'nbprod[dask]'") from exc
        self._cluster = None
        self.private = is_private(scheduler)
        try:
            if scheduler:
                self.client = Client(scheduler, timeout="10s",
                                     security=_security(scheduler, tls or {}))
            else:
                self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self.client = Client(self._cluster)
        except OSError as exc:
            raise InfraError(f"cannot reach the Dask scheduler {redact(scheduler or '')}: "
                             f"{redact(str(exc))}",
                             hint="is `dask scheduler` running there?") from exc
        except TypeError as exc:
            if "TLS" not in str(exc):
                raise
            raise SettingsError(f"the Dask scheduler {redact(scheduler or '')} speaks TLS and "
                                "no certificates are configured",
                                hint="set dask_tls = { ca_file, cert, key } in [tool.nbprod] "
                                     "(or Dask's distributed.comm.tls settings)") from exc

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
