"""Execute one parameterized notebook with papermill's engine, and say how it ended.

papermill's ``PapermillNotebookClient`` (nbclient underneath) runs the cells and its
``NotebookExecutionManager`` keeps per-cell status; nbprod adds what papermill leaves open:
finite timeouts for kernel start, each cell and the whole run; a kernel that is always
stopped with its process group; and exactly one outcome, ``Failure`` or none, classified as
``cell_error``, ``kernel_died``, ``timeout``, ``invalid_input``, ``infra`` (the kernel did not
start, the machine failed: retrying may help) or ``internal`` (a bug in nbprod: the failure
holds the traceback). The executed notebook is returned in every case, with the failing cell
marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jupyter_client.asynchronous  # noqa: F401 - loaded by every run; see api.runs
from jupyter_client.kernelspec import NoSuchKernel
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..errors import NbprodError
from ..kernels import notice
from ..notebook._nbformat import nbformat  # before papermill: keeps jsonschema's grammar out
from ..notebook.injection import InjectedNotebook
from ..notebook.version import cell_source
from ..records import Failure
from ._papermill import NotebookExecutionManager
from .kernel import SupervisedKernelManager, describe_exit
from .outputs import DEFAULT_MAX_OUTPUT_BYTES, BoundedClient

FAILED_TAG = "nbprod-failed"
MARKER_TAG = "nbprod-error-marker"
_SUCCESS_EXITS = ("", "0", "None")


class ExecutionObserver(Protocol):
    """Progress callbacks; indexes are positions in the executed notebook's cells."""

    def kernel_ready(self, total_cells: int) -> None: ...

    def cell_started(self, index: int, total: int, label: str) -> None: ...

    def cell_finished(self, index: int, total: int) -> None: ...

    def phase(self, name: str) -> None:
        """From now on the run is in ``name``: ``kernel`` (fork or spawn, kernel ready),
        ``execute`` (the cells), ``shutdown`` (the kernel stopped)."""


@dataclass(frozen=True)
class ExecutionRequest:
    notebook: InjectedNotebook
    kernel_name: str
    cwd: Path
    env: Mapping[str, str]
    start_timeout: float
    cell_timeout: float
    timeout: float
    shutdown_timeout: float = 5.0
    start_attempts: int = 2
    kernel_log: Path | None = None
    # Fork the kernel from a warm template preloading these modules (None: spawn a plain
    # kernel). A fork that fails falls back to a plain kernel.
    preload: tuple[str, ...] | None = None
    template: tuple[str, str] | None = None  # (key, env digest) of the template (fast.py)
    # Called with the notebook as it stands, at most every autosave_every seconds (more
    # rarely if saving is slow), so a runner killed mid-run leaves the cells that finished.
    autosave: Callable[[Any], None] | None = None
    autosave_every: float = 5.0
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES  # per cell; the rest is dropped, noted
    # Called once the kernel is ready, before its first cell, with the notebook being
    # executed (its language_info the kernel's): for the caller's work that can overlap the
    # cells, such as the report's priming.
    on_started: Callable[[Any], None] | None = None
    # Called after each cell has finished, with its index in that notebook (its outputs
    # complete): for the caller's work on them while the next cell runs.
    on_cell_done: Callable[[int], None] | None = None
    # After a run without failure, only ask the kernel to shut down and return at once:
    # the caller calls the result's ``settle`` (which waits until the kernel's work is done:
    # what it wrote complete) before it reads files the notebook wrote, and its ``finish``
    # (which waits for the kernel's exit, kills what is left of its process group and
    # reaps it) always before it returns. A failed run's kernel is stopped here.
    defer_stop: bool = False


def _nothing() -> None: ...


@dataclass(frozen=True)
class ExecutionResult:
    node: Any  # the executed notebook (NotebookNode)
    failure: Failure | None
    note: str | None = None
    # Waits for the kernel to end (see ExecutionRequest.defer_stop); safe to call twice.
    finish: Callable[[], None] = _nothing
    # Waits until the kernel's work is done (its files complete, its process may still be
    # ending: a forked kernel's notice, see nbprod.kernels.notice), else as ``finish``.
    settle: Callable[[], None] = _nothing


class _Manager(NotebookExecutionManager):  # type: ignore[misc]
    """papermill's execution manager, reporting progress and remembering the current cell.

    papermill calls :meth:`save` at every cell boundary and :meth:`autosave_cell` on every
    kernel message; here both are one throttled save through ``autosave``: at most every
    ``every`` seconds, backing off when a save takes more than a quarter of that (as
    papermill's autosave does), and a timer on the event loop writes changes that no later
    boundary would (a cell that finished before a long, silent one).
    """

    def __init__(self, nb: Any, observer: ExecutionObserver | None,
                 autosave: Callable[[Any], None] | None = None, every: float = 5.0) -> None:
        super().__init__(nb, output_path=None, progress_bar=False, autosave_cell_every=0)
        self.observer = observer
        self.current: int | None = None
        self.exception: Any = None
        self.exception_index: int | None = None
        self.started = 0
        self.autosave = autosave
        self.every = every
        self._saved_at = time.monotonic()
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self.on_cell_done: Callable[[int], None] | None = None

    def save(self, **kwargs: Any) -> None:
        if self.autosave is None:
            return
        self._dirty = True
        wait = self._saved_at + self.every - time.monotonic()
        if wait <= 0:
            self._write()
        elif self._timer is None:
            with contextlib.suppress(RuntimeError):  # no running loop: the next boundary will
                self._timer = asyncio.get_running_loop().call_later(wait, self._fire)

    def autosave_cell(self) -> None:
        self.save()

    def _fire(self) -> None:
        self._timer = None
        if self._dirty:
            self._write()

    def _write(self) -> None:
        assert self.autosave is not None
        started = time.monotonic()
        self.autosave(self.nb)
        self._dirty = False
        self._saved_at = time.monotonic()
        if self._saved_at - started > self.every / 4:
            self.every *= 2  # saving is slow (a huge notebook): save less often

    def stop_autosave(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        super().cell_start(cell, cell_index, **kwargs)
        self.current = cell_index
        self.started += 1
        if self.observer is not None and cell_index is not None:
            first = next((ln for ln in cell_source(cell).splitlines() if ln.strip()), "")
            self.observer.cell_started(cell_index, len(self.nb.cells), first[:60])

    def cell_exception(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        super().cell_exception(cell, cell_index, **kwargs)
        self.exception = kwargs.get("exception")
        self.exception_index = cell_index

    def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
        # papermill's own, without dateutil's parser (1-2 ms a cell) for the start time it
        # wrote itself with isoformat(); the same metadata (tests/unit/test_engine_meta.py)
        end_time = self.now()
        meta = cell.metadata.papermill
        meta["end_time"] = end_time.isoformat()
        if meta.get("start_time"):
            start = dt.datetime.fromisoformat(meta["start_time"])
            meta["duration"] = (end_time - start).total_seconds()
        if meta["status"] != self.FAILED:
            meta["status"] = self.COMPLETED
        self.save()
        if self.on_cell_done is not None and cell_index is not None:
            self.on_cell_done(cell_index)
        if self.observer is not None and cell_index is not None:
            self.observer.cell_finished(cell_index, len(self.nb.cells))


def execute_notebook(request: ExecutionRequest,
                     observer: ExecutionObserver | None = None) -> ExecutionResult:
    """Run the notebook; never raises for a notebook or kernel failure (see module doc)."""
    attempt = 0
    fell_back = None
    while True:
        attempt += 1
        result, retriable = _attempt(request, observer)
        if retriable and request.preload is not None:
            # The template failed us: a plain kernel at once, not counted as an attempt.
            request = dataclasses.replace(request, preload=None, template=None)
            fell_back = "forked kernel failed to start; ran in a plain kernel"
            attempt -= 1
            continue
        if not retriable or attempt >= request.start_attempts:
            return dataclasses.replace(result, note=_join(result.note, fell_back))
        time.sleep(0.5 * 2 ** (attempt - 1))  # infrastructure only: bounded, with backoff


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def _attempt(request: ExecutionRequest,
             observer: ExecutionObserver | None) -> tuple[ExecutionResult, bool]:
    import copy

    node = copy.deepcopy(request.notebook.node)
    manager = _Manager(node, observer, request.autosave, request.autosave_every)
    manager.on_cell_done = request.on_cell_done
    # Unix sockets, not TCP: no port to collide on when many kernels start at once (TCP ports
    # are probed, released, then bound by the kernel, which races with parallel starts). The
    # socket path must be absolute: the kernel runs in the notebook's folder, not ours.
    sockets = Path(tempfile.mkdtemp(prefix="nbprod-k"))
    env = dict(request.env)
    done = notice.listen(sockets) if request.preload is not None else None
    if done is not None:  # a forked kernel says when its work is done, before its exit
        env[notice.ENV] = str(done.getsockname())
    km = SupervisedKernelManager(kernel_name=request.kernel_name, transport="ipc",
                                 ip=str(sockets / "kernel"),
                                 client_class="nbprod.kernels.fastclient.FastKernelClient")
    km.preload = list(request.preload) if request.preload is not None else None
    km.template = request.template
    client: BoundedClient  # the hook below reads its kernel client once it runs
    client = BoundedClient(
        manager, km=km, max_output_bytes=request.max_output_bytes,
        on_notebook_start=lambda **_: _started(observer, request.on_started, node, client),
        after_cells=lambda: _phase(observer, "shutdown"),
        kernel_name=request.kernel_name, timeout=_seconds(request.cell_timeout),
        extra_arguments=list(KERNEL_ARGUMENTS),
        startup_timeout=_seconds(request.start_timeout), log_output=False,
        raise_on_iopub_timeout=False, shutdown_kernel="immediate")
    km.shutdown_wait_time = request.shutdown_timeout
    run_timer = _RunTimer(km, request.timeout)
    failure: Failure | None = None
    note: str | None = None
    retriable = False
    log = request.kernel_log.open("ab") if request.kernel_log else None
    manager.notebook_start()
    _phase(observer, "kernel")
    try:
        run_timer.start()
        client.execute(cwd=str(request.cwd), env=env, stdout=log, stderr=log)
        failure, note = _cell_outcome(manager, request.notebook)
    except NoSuchKernel:
        failure = Failure(kind="invalid_input", message=_no_kernel(request.kernel_name))
    except CellTimeoutError:
        failure = _timeout(manager, request, whole_run=run_timer.fired)
    except DeadKernelError:
        failure = _timeout(manager, request, whole_run=True) if run_timer.fired \
            else _kernel_died(manager, km, request.notebook)
    except RuntimeError as exc:  # KernelNotReady, or jupyter_client's own "did not respond"
        if manager.started == 0:  # kernel did not start or answer: infrastructure
            failure = _start_failure(km, request, exc)
            retriable = not run_timer.fired
        else:
            failure = _internal(manager, request.notebook, exc)
    except OSError as exc:
        if manager.started == 0 and km.kernel_process is None and km.kernel_pgid is None:
            failure = _broken_kernelspec(request.kernel_name, exc)  # its command cannot run
        else:
            failure = _infra(manager, request.notebook, exc)
    except NbprodError as exc:  # nbprod's machinery
        failure = _infra(manager, request.notebook, exc)
    except Exception as exc:  # anything else is a bug in nbprod, not "retrying may help"
        failure = _internal(manager, request.notebook, exc)
    finally:
        run_timer.cancel()
        if run_timer.fired:  # whatever the kernel did once interrupted and killed
            failure, retriable = _timeout(manager, request, whole_run=True), False
        finish, settle = _stop_kernel(client, km, graceful=failure is None,
                                      wait=request.shutdown_timeout, sockets=sockets,
                                      done=done)
        if failure is not None or not request.defer_stop:
            finish()
        manager.autosave = None  # the runner stores the finished notebook itself
        manager.stop_autosave()
        manager.notebook_complete()
        if log is not None:
            log.close()
    if failure is not None:
        _mark_failure(node, request.notebook, manager, failure)
    note = _join(note, client.dropped_note(request.notebook.input_index))
    return ExecutionResult(node=node, failure=failure, note=note, finish=finish,
                           settle=settle), retriable


# IPython keeps the run's input history in memory, not in ~/.ipython's history database: a
# SQLite file shared by every kernel of the user, written (and synced) after each cell and at
# exit, which made a kernel's shutdown wait 50-150 ms on a busy disk. ``In``, ``_ih`` and
# ``%history`` of the run itself are unchanged; a production run stays out of the history of
# the user's interactive sessions.
# ipykernel sleeps 0.5 ms before each execute_reply, so that a frontend that stops listening
# at the reply has the cell's last outputs; nbclient reads IOPub up to the cell's idle status,
# which follows every output on the same socket, so the sleep only delays each cell.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:", "--Kernel._execute_sleep=0")


def _started(observer: ExecutionObserver | None, hook: Callable[[Any], None] | None,
             node: Any, client: Any) -> None:
    _phase(observer, "execute")
    if hook is not None:
        # papermill sets the notebook's language_info after the cells, from the same reply
        info = getattr(getattr(client, "kc", None), "language_info", None)
        if info:
            node.metadata["language_info"] = info
        hook(node)


def _phase(observer: ExecutionObserver | None, name: str) -> None:
    if observer is not None:
        observer.phase(name)


def _seconds(value: float) -> int:
    return max(1, round(value))


class _RunTimer:
    """Kills the kernel's process group when the whole-run timeout passes."""

    def __init__(self, km: SupervisedKernelManager, seconds: float) -> None:
        self.km = km
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        self.fired = True
        import signal

        self.km.signal_group(signal.SIGINT)
        time.sleep(0.2)
        self.km.kill_group()


def _stop_kernel(client: Any, km: SupervisedKernelManager, *, graceful: bool, wait: float,
                 sockets: Path, done: socket.socket | None = None,
                 ) -> tuple[Callable[[], None], Callable[[], None]]:
    """Begin stopping the kernel (a shutdown request if ``graceful``, else an interrupt).
    Of the two calls returned, the first (finish), once, waits up to ``wait`` for it to end,
    then kills its group; the second (settle) waits up to ``wait`` for the kernel's notice
    on ``done`` that its work is done (or its end), and finishes it if neither comes. The
    kernel gets ``wait`` in all: a finish after a settle waits only for what is left."""
    from jupyter_core.utils import run_sync

    kc = getattr(client, "kc", None)
    if kc is not None:
        with contextlib.suppress(Exception):
            kc.stop_channels()
        client.kc = None
    if not graceful:
        import signal

        km.signal_group(signal.SIGINT)  # interrupt first, then kill (below)
    asked = False
    with contextlib.suppress(Exception):
        asked = run_sync(km.begin_stop)(graceful=graceful)
    finished: list[bool] = []
    deadline: list[float] = []  # set by the first of the two calls

    def left() -> float:
        if not deadline:
            deadline.append(time.monotonic() + wait)
        return max(0.0, deadline[0] - time.monotonic())

    def finish() -> None:
        if finished:
            return
        finished.append(True)
        with contextlib.suppress(Exception):
            run_sync(km.end_stop)(wait=left(), asked=asked)
        km.kill_group()
        if done is not None:
            done.close()
        shutil.rmtree(sockets, ignore_errors=True)

    def settle() -> None:
        if finished:
            return
        pidfd = km.kernel_pidfd()  # None: not a forked kernel, which sends no notice
        if asked and done is not None and pidfd is not None and \
                notice.wait(done, pidfd, time.monotonic() + left()) is not None:
            return
        finish()

    return finish, settle


def _cell_outcome(manager: _Manager,
                  injected: InjectedNotebook) -> tuple[Failure | None, str | None]:
    exc = manager.exception
    if exc is None:
        return None, None
    ename = str(getattr(exc, "ename", "") or type(exc).__name__)
    evalue = str(getattr(exc, "evalue", "") or "")
    index = injected.input_index(manager.exception_index)
    if ename == "SystemExit" and evalue.strip() in _SUCCESS_EXITS:
        return None, (f"stopped early by sys.exit({evalue or ''}) in cell {index}, counted as "
                      "success")
    hint = " (the kernel ran out of memory: a memory limit such as RLIMIT_AS was reached)" \
        if ename == "MemoryError" else ""
    return Failure(kind="cell_error",
                   message=(f"cell {index} raised {ename}: {evalue}"[:400] + hint)[:500],
                   cell_index=index, ename=ename, evalue=evalue), None


def _timeout(manager: _Manager, request: ExecutionRequest, *, whole_run: bool) -> Failure:
    index = request.notebook.input_index(manager.current)
    if whole_run:
        message = (f"the run did not finish within {request.timeout:g} s (--timeout); "
                   f"stopped in cell {index}")
    else:
        message = (f"cell {index} did not finish within {request.cell_timeout:g} s "
                   "(--cell-timeout)")
    return Failure(kind="timeout", message=message, cell_index=index, ename="Timeout",
                   evalue=message)


def _kernel_died(manager: _Manager, km: SupervisedKernelManager,
                 injected: InjectedNotebook) -> Failure:
    phrase, code, signame = describe_exit(km.exit_status(wait=2.0))
    index = injected.input_index(manager.current)
    if signame == "SIGKILL" and km.ran_out_of_memory():
        phrase += (" (it ran out of memory: its memory cgroup's limit was reached; give it "
                   "more memory or use less)")
    return Failure(kind="kernel_died", message=f"{phrase} while running cell {index}",
                   cell_index=index, ename="DeadKernelError", evalue=phrase, exit_code=code,
                   signal=signame)


def _start_failure(km: SupervisedKernelManager, request: ExecutionRequest,
                   exc: BaseException) -> Failure:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # Only a kernel that died by itself has an exit status worth showing; one that did not
    # answer in time was stopped by nbprod.
    died = "died" in reason.lower()
    code = km.exit_status(wait=0.5) if died and km.kernel_process is not None else None
    phrase = "" if code is None else f" ({describe_exit(code)[0]})"
    return Failure(kind="infra", ename="KernelStartError", exit_code=code,
                   evalue=reason, message=(f"kernel '{request.kernel_name}' did not start: "
                                           f"{reason}{phrase}"))


def _infra(manager: _Manager, injected: InjectedNotebook, exc: BaseException) -> Failure:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return Failure(kind="infra", message=f"execution machinery failed: {type(exc).__name__}: "
                                         f"{reason}"[:500],
                   cell_index=injected.input_index(manager.current),
                   ename=type(exc).__name__, evalue=reason)


def _broken_kernelspec(name: str, exc: OSError) -> Failure:
    reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    return Failure(kind="invalid_input", ename=type(exc).__name__, evalue=reason,
                   message=f"kernel '{name}' cannot start: {reason}; fix its kernelspec "
                           "(`jupyter kernelspec list` shows where it is) or pass --kernel")


def _internal(manager: _Manager, injected: InjectedNotebook, exc: BaseException) -> Failure:
    import traceback

    return Failure(kind="internal", message=f"internal error (a bug in nbprod): "
                                            f"{type(exc).__name__}: {exc}"[:500],
                   cell_index=injected.input_index(manager.current), ename=type(exc).__name__,
                   evalue="".join(traceback.format_exception(exc))[-4000:])


def _no_kernel(name: str) -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        installed = ", ".join(sorted(KernelSpecManager().find_kernel_specs())) or "none"
    except Exception:
        installed = "unknown"
    return f"no Jupyter kernel named '{name}' (installed: {installed}); pass --kernel NAME"


def _mark_failure(node: Any, injected: InjectedNotebook, manager: _Manager,
                  failure: Failure) -> None:
    """Tag the failing cell and put a note at the top, as papermill does for errors."""
    position = manager.exception_index if failure.kind == "cell_error" else manager.current
    if position is not None and 0 <= position < len(node.cells):
        cell = node.cells[position]
        cell.metadata["nbprod"] = {"failed": True, "kind": failure.kind}
        tags = list(cell.metadata.get("tags", []))
        if FAILED_TAG not in tags:
            cell.metadata["tags"] = [*tags, FAILED_TAG]
    where = f"cell {failure.cell_index}" if failure.cell_index is not None else "start-up"
    marker = nbformat.v4.new_markdown_cell(
        f"<span style=\"color:red\">**nbprod: this run failed ({failure.kind}) at {where}.**"
        f"</span>\n\n{failure.message}")
    marker.metadata["tags"] = [MARKER_TAG]
    node.cells.insert(0, marker)
