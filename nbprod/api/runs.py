"""Use case: run one notebook into an immutable run record; read and compare records.

The order of a run is what makes it trustworthy:

1. check the notebook and the parameters (a problem is a ``failed``/``invalid_input`` run);
2. commit the ``running`` row before the kernel starts, then heartbeat while it runs;
3. execute (one final outcome, the kernel always stopped);
4. commit every artifact to the store (atomic, hashed): notebook, report, files, record;
5. only then move the row to ``succeeded`` or ``failed``, with values and artifact hashes,
   in one transaction.

A runner killed anywhere in between leaves a ``running`` row that readers turn into ``lost``;
no ``succeeded`` row ever points at a missing or partial file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    ArtifactsCorrupt,
    InfraError,
    IntegrityError,
    InvalidInput,
    NbprodError,
    ReportError,
)
from ..lineage import git_state, python_environment, this_runner
from ..notebook.contract import ParameterContract
from ..notebook.secrets import Secrets, recorded, split_secrets
from ..notebook.values import GivenValue, resolve_parameters
from ..records import (
    ArtifactRef,
    CheckRecord,
    Failure,
    Lineage,
    RunRecord,
    RunState,
    new_run_id,
    utcnow,
)
from .cache import cached, declared_inputs, given_parameters, kernel_name, run_key
from .cache import located as _located
from .profiles import checks_env, data_check_failure, profile_record
from .project import PARTIAL_NOTEBOOK, Project
from .upstream import default_upstream, fetch_upstream
from .writers import Writers

if TYPE_CHECKING:
    from ..notebook.injection import InjectedNotebook
    from ..notebook.load import Notebook
    from ..store.base import StoredObject


@dataclass(frozen=True)
class RunRequest:
    """What to run and how; ``None`` fields fall back to the project's defaults."""

    notebook: str
    parameters: Mapping[str, GivenValue] = field(default_factory=dict)
    strict: bool | None = None
    kernel: str | None = None
    start_timeout: float | None = None
    cell_timeout: float | None = None
    timeout: float | None = None
    # Job steps: where the kernel runs, the notebook path to record (the project's, for a
    # bundled copy), the job run and step, and the runs whose files nbprod.step_path reads
    # (None: the latest succeeded runs of the earlier steps of a job holding this notebook).
    cwd: Path | None = None
    record_as: str | None = None
    job_run_id: str | None = None
    step: str | None = None
    upstream: Mapping[str, str] | None = None
    # Kernels forked from a warm template (None: the project's setting); wait for a template
    # that is still starting (many runs) instead of running this one in a plain kernel.
    fast: bool | None = None
    wait_for_template: bool = False
    # --cache: return the newest succeeded run with the same run key instead of executing.
    cache: bool = False
    sweep_id: str | None = None
    point: int | None = None


class RunObserver:
    """Progress of a run; override what you show. Indexes are input-notebook cell positions."""

    def run_started(self, run_id: str, notebook: str, total_cells: int) -> None: ...

    def cell_started(self, index: int | None, total: int, label: str) -> None: ...

    def cell_finished(self, index: int | None, total: int) -> None: ...

    def finishing(self) -> None: ...

    def phase(self, name: str) -> None:
        """From now on the run is in phase ``name``: ``prepare`` (read and check the
        notebook and parameters, lineage), ``registry``, ``kernel`` (fork or spawn, kernel
        ready), ``execute`` (the cells), ``shutdown`` (the kernel stopped), ``report``
        (the HTML report), ``store`` (artifacts committed). ``bench/phases.py`` times them."""


@dataclass(frozen=True)
class _Prepared:
    notebook: Notebook
    contract: ParameterContract
    parameters: dict[str, Any]  # as recorded: secret values are "***"
    injected: InjectedNotebook
    kernel: str
    inputs: dict[str, str]
    env: dict[str, str]  # what the kernel gets besides the project's environment
    secrets: Secrets = field(default_factory=Secrets)


def run_notebook(project: Project, request: RunRequest,
                 observer: RunObserver | None = None) -> RunRecord:
    """Execute a notebook into a run record and return the record in its final state.

    A notebook that fails (or parameters that do not fit) is a returned record with
    ``state == "failed"``. This raises when no run could be recorded at all (unknown notebook
    path, registry unavailable), and for failures of nbprod's own machinery while storing
    (disk full, store or registry errors, Ctrl-C) after recording the run as ``infra``.
    """
    _phase(observer, "prepare")
    path, entry = project.resolve_notebook(request.notebook)
    notebook_ref = request.record_as or project.relative(path)
    if request.record_as is not None:
        entry = project.settings_for(request.record_as)
    run_id = new_run_id()
    runner = this_runner()
    started = utcnow()
    try:
        prepared = _prepare(project, request, path, entry)
    except InvalidInput as exc:
        record = RunRecord(run_id=run_id, notebook=notebook_ref, notebook_version=None,
                           state="running", started_at=started,
                           lineage=Lineage(user=project.user, host=runner.host,
                                           runner_pid=runner.pid),
                           job_run_id=request.job_run_id, step=request.step)
        project.registry.create_run(record, runner=runner)
        failure = Failure(kind="invalid_input", message=exc.one_line(),
                          ename=type(exc).__name__, evalue=exc.message)
        project.registry.finish_run(run_id, state="failed", failure=failure, values={},
                                    artifacts=[])
        return get_run(project, run_id)

    environment = python_environment(project.cache_dir)
    upstream = dict(request.upstream) if request.upstream is not None else \
        default_upstream(project, notebook_ref)
    key = run_key(prepared.notebook.version, prepared.parameters, prepared.inputs,
                  environment.digest, upstream, prepared.kernel)
    if request.cache:
        hit = cached(project, key)
        if hit is not None:
            return hit
    git = git_state(project.root)
    _phase(observer, "registry")
    project.registry.record_environment(environment.digest, environment.python,
                                        environment.packages)
    record = RunRecord(
        run_id=run_id, notebook=notebook_ref, notebook_version=prepared.notebook.version,
        state="running", started_at=started, parameters=prepared.parameters,
        contract=prepared.contract.to_json(),
        lineage=Lineage(git_commit=git.commit, git_dirty=git.dirty,
                        environment_digest=environment.digest, python=environment.python,
                        input_digests=prepared.inputs, kernel=prepared.kernel,
                        user=project.user, host=runner.host, runner_pid=runner.pid,
                        upstream=upstream),
        job_run_id=request.job_run_id, step=request.step, sweep_id=request.sweep_id,
        point=request.point, run_key=key)
    project.registry.create_run(record, runner=runner, run_key=key)
    runner_ = _Runner(project, request, prepared, record, observer)
    runner_.run()
    if runner_.final is not None:  # the row it committed, as a read would return it
        return runner_.final
    _phase(observer, "registry")
    # this run's row as committed (its id is known: not resolved; other runs' lost runners
    # are for readers to reap)
    [final] = project.registry.list_runs(run_ids=[run_id])
    return _located(project, final)


def check_run_request(project: Project, request: RunRequest) -> None:
    """Raise what :func:`run_notebook` would record as ``invalid_input``, before anything
    runs: an unreadable notebook, a broken parameters cell, parameters that do not fit."""
    from ..notebook import contract_of, read_notebook  # nbformat: lazily

    path, entry = project.resolve_notebook(request.notebook)
    strict = project.defaults.strict if request.strict is None else request.strict
    contract = contract_of(read_notebook(path), strict=strict)
    resolve_parameters(contract, given_parameters(entry, request.parameters), strict=strict)


def _prepare(project: Project, request: RunRequest, path: Path,
             entry: Any) -> _Prepared:
    strict = project.defaults.strict if request.strict is None else request.strict
    from ..notebook import contract_of, inject_parameters, read_notebook  # nbformat: lazily

    notebook = read_notebook(path)
    contract = contract_of(notebook, strict=strict)
    parameters = resolve_parameters(contract, given_parameters(entry, request.parameters),
                                    strict=strict)
    public, secrets = split_secrets(contract, parameters, project.kernel_env)
    injected = inject_parameters(notebook, public, secrets.names)
    kernel = kernel_name(project, request.kernel, entry, notebook.kernel_name)
    return _Prepared(notebook, contract, recorded(public, secrets), injected, kernel,
                     declared_inputs(project, entry), checks_env(project), secrets)


class _Runner:
    """Steps 3-5 of a run, for a row already committed as ``running``."""

    def __init__(self, project: Project, request: RunRequest, prepared: _Prepared,
                 record: RunRecord, observer: RunObserver | None) -> None:
        self.project = project
        self.request = request
        self.prepared = prepared
        self.record = record
        self.observer = observer
        self.work = project.work_dir / record.run_id
        self.committed: list[tuple[str, str, str, int]] = []
        # Artifacts are written (each synced and moved into place, as the store does) on
        # worker threads while the runner goes on (rendering the report, waiting for the
        # kernel's exit); _settle waits for them before anything lists them.
        self._uploads: Writers | None = None
        self._pending: list[tuple[str, Future[StoredObject]]] = []
        self.kernel_note: str | None = None
        # The run as finish_run committed it, when the registry would return it unchanged
        # (see _as_stored); else None, and the row is read back.
        self.final: RunRecord | None = None

    def run(self) -> None:
        # The engine (papermill, nbclient, jupyter_client) is imported on this thread before
        # the report renderer starts importing nbconvert on its own: two threads importing the
        # same packages at once can see half-initialised modules.
        from ..execute import engine  # noqa: F401
        from ..execute.report import ReportRenderer

        _phase(self.observer, "prepare")
        renderer = ReportRenderer()
        heartbeat = _Heartbeat(self.project, self.record.run_id)
        heartbeat.start()
        self._uploads = Writers(4, "nbprod-put")  # started now, not when first needed
        try:
            self._scratch_folder()
            result = self._execute(renderer)
            try:
                self._finish(result, renderer)
            finally:
                _phase(self.observer, "shutdown")
                result.finish()  # the kernel has ended before the run returns
        except IntegrityError as exc:
            # An earlier step's file no longer matches its record: nothing ran; this run is
            # a failed one (infra, naming the file), returned like any other failure.
            self._finish_abnormally(exc)
        except BaseException as exc:
            self._finish_abnormally(exc)
            raise
        finally:
            _phase(self.observer, "store")  # the scratch folder
            renderer.close()
            self._close_uploads()
            heartbeat.stop()
            shutil.rmtree(self.work, ignore_errors=True)

    def _scratch_folder(self) -> None:
        try:
            self.work.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InfraError(f"cannot create the run's scratch folder {self.work}: "
                             f"{exc.strerror or exc}",
                             hint="check that disk's free space and permissions") from exc

    def _execute(self, renderer: Any) -> Any:
        from ..execute.capture import CAPTURE_ENV, STEP_OUTPUTS_ENV
        from ..execute.engine import ExecutionRequest, execute_notebook
        from ..execute.fast import choose_kernel

        defaults = self.project.defaults
        req = self.request
        folders = fetch_upstream(self.project, self.record.lineage.upstream,
                                 self.work / "upstream")
        env = {**self.project.kernel_env, **self.prepared.secrets.env,
               CAPTURE_ENV: str(self.work / "capture"),
               STEP_OUTPUTS_ENV: json.dumps(folders),
               "NBPROD_RUN_ID": self.record.run_id, "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               **self.prepared.env}
        if self.observer is not None:
            self.observer.run_started(self.record.run_id, self.record.notebook,
                                      len(self.prepared.notebook.cells))
        cwd = Path(req.cwd or self.prepared.notebook.path.parent)
        _phase(self.observer, "kernel")
        choice = choose_kernel(
            (c.source for c in self.prepared.notebook.node.cells if c.cell_type == "code"),
            self.prepared.kernel,
            enabled=defaults.fast_kernels if req.fast is None else req.fast,
            wait=req.wait_for_template, env=env, cwd=cwd, idle=defaults.template_idle,
            limits=defaults.template_limits)
        self.kernel_note = choice.note
        return execute_notebook(
            ExecutionRequest(
                notebook=self.prepared.injected, kernel_name=self.prepared.kernel,
                cwd=cwd, env=env,
                start_timeout=req.start_timeout or defaults.start_timeout,
                cell_timeout=req.cell_timeout or defaults.cell_timeout,
                timeout=req.timeout or defaults.timeout,
                shutdown_timeout=defaults.shutdown_timeout,
                kernel_log=self.work / "kernel.log", preload=choice.preload,
                template=choice.template,
                autosave=self._autosave, defer_stop=True,
                on_started=renderer.prime,
                # outputs are sanitized as they come, but not a run's with secrets: its
                # page shows them masked, and its unmasked outputs are not kept
                on_cell_done=None if self.prepared.secrets.values else renderer.cell_done),
            _ObserverBridge(self.observer, self.prepared.injected) if self.observer else None)

    def _autosave(self, node: Any) -> None:
        """The notebook so far, written atomically (secrets masked): what a run keeps if
        its runner is killed (``Project.reap_lost`` stores it with the lost run)."""
        data = self.prepared.secrets.mask_data(node)
        tmp = self.work / f".{PARTIAL_NOTEBOOK}.tmp"
        try:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.work / PARTIAL_NOTEBOOK)
        except OSError:  # best effort: a full disk shows up where the run stores its files
            tmp.unlink(missing_ok=True)

    def _finish(self, result: Any, renderer: Any) -> None:
        from ..execute.capture import captured_profiles, produced_files, read_values
        from ..notebook._nbformat import nbformat
        from ..notebook.write import notebook_json

        if self.observer is not None:
            self.observer.finishing()
            self.observer.phase("store")
        secrets = self.prepared.secrets
        node = nbformat.from_dict(secrets.mask_data(result.node)) if secrets.values else \
            result.node
        outputs = [o for cell in node.cells for o in cell.get("outputs", [])]
        values = secrets.mask_data(read_values(self.work / "capture", outputs))
        notes = [*self.prepared.notebook.notes,
                 *(n for n in (self.kernel_note, result.note) if n)]
        # Profiles first: a data check that fails makes the run failed (data_check), which the
        # report's header card must already say.
        profiles = []
        for name, data, content in captured_profiles(self.work / "capture"):
            # stored on the upload threads like the other artifacts: the same bytes, so the
            # same SHA-256 as the stored object's
            self._put_bytes(f"profiles/{name}.json", data)
            profiles.append(profile_record(self.record.run_id, name, content,
                                           hashlib.sha256(data).hexdigest()))
        failure = data_check_failure(result.failure, profiles)
        if failure is not None and secrets.values:
            failure = Failure.from_json(secrets.mask_data(failure.to_json()))
        state: RunState = "failed" if failure else "succeeded"
        shown = dataclasses.replace(self.record, state=state, failure=failure,
                                    values=values, ended_at=utcnow())
        # nbformat.v4.writes's JSON (without nbformat.writes's schema validation: the
        # report's exporter validates the same notebook once, and logs what is invalid),
        # without its deep copy of the notebook.
        self._put_bytes("notebook.ipynb", notebook_json(node).encode("utf-8"))
        try:
            _phase(self.observer, "report")
            report = renderer.render(node, shown)
            _phase(self.observer, "store")
            self._put_bytes("report.html", report)
        except ReportError as exc:
            notes.append(f"HTML report not rendered: {exc.message}"[:300])
        except NbprodError:
            raise
        except Exception as exc:  # nbconvert failed on this notebook: the run still counts
            notes.append(f"HTML report not rendered: {type(exc).__name__}: {exc}"[:300])
        # The kernel was asked to shut down when its last cell finished and exits while the
        # notebook and report are stored; the files it wrote are complete once its work is
        # done (its atexit handlers run and open files flushed), and its process ends while
        # they are stored and the run recorded. Values and profiles were written (closed) by
        # nbprod.record and nbprod.profile while the cells ran.
        _phase(self.observer, "shutdown")
        result.settle()
        _phase(self.observer, "store")
        log = self.work / "kernel.log"
        if failure is not None and log.is_file() and log.stat().st_size:
            if secrets.values:
                self._put_bytes("kernel.log", secrets.mask(
                    log.read_text(encoding="utf-8", errors="replace")).encode("utf-8"))
            else:
                self._put_file("kernel.log", log)
        for name, path in produced_files(self.work / "capture"):
            self._put_file(f"files/{name}", path)
        self._settle()  # a run lists (and succeeds with) only artifacts that are committed
        final = dataclasses.replace(
            self.record, state=state, failure=failure, values=values,
            ended_at=utcnow(), note="; ".join(notes) or None,
            artifacts=self._artifacts())
        self._put_bytes("record.json",
                        json.dumps(final.to_json(), indent=2, sort_keys=True).encode(),
                        wait=True)
        _phase(self.observer, "registry")
        if self.project.registry.finish_run(
                self.record.run_id, state=state, failure=failure, values=values,
                artifacts=self.committed, note=final.note, ended_at=final.ended_at,
                profiles=profiles):
            self.final = _as_stored(dataclasses.replace(final, artifacts=self._artifacts()))
        else:
            # Declared lost before it finished (another process found its heartbeat stale:
            # a runner suspended or starved for minutes). ``lost`` is final, so it stays; what
            # was committed is attached to it (but the files its reaper already attached, the
            # notebook saved so far), so nothing stored is unreachable.
            self.project.registry.add_lost_artifacts(self.record.run_id, self.committed)

    def _finish_abnormally(self, exc: BaseException) -> None:
        """Record why the machinery stopped (store full, Ctrl-C); keep what was committed."""
        if isinstance(exc, KeyboardInterrupt):
            failure = Failure(kind="infra", message="interrupted (Ctrl-C or SIGINT) while "
                              "running", ename="KeyboardInterrupt", evalue="")
        elif isinstance(exc, NbprodError):
            failure = Failure(kind="infra", message=exc.one_line(), ename=type(exc).__name__,
                              evalue=exc.message)
        else:  # a bug in nbprod: the CLI shows the traceback (exit 70)
            failure = Failure(kind="internal", message=f"internal error (a bug in nbprod): "
                              f"{type(exc).__name__}: {exc}"[:500], ename=type(exc).__name__,
                              evalue=_traceback(exc))
        failure = Failure.from_json(self.prepared.secrets.mask_data(failure.to_json()))
        with contextlib.suppress(Exception):  # keep what was committed; the error is exc's
            self._settle()
        partial = self.work / PARTIAL_NOTEBOOK
        if partial.is_file() and not any(c[0] == "notebook.ipynb" for c in self.committed):
            with contextlib.suppress(NbprodError):  # the cells that finished, if it can
                self._put_file("notebook.ipynb", partial, wait=True)
        # If the registry is what failed, readers will see the run as lost.
        with contextlib.suppress(NbprodError):
            self.project.registry.finish_run(self.record.run_id, state="failed",
                                             failure=failure, values={},
                                             artifacts=self.committed)

    def _artifacts(self) -> tuple[ArtifactRef, ...]:
        """The artifacts committed so far, each with its location."""
        return tuple(ArtifactRef(n, self._location(k), s, z) for n, k, s, z in self.committed)

    def _key(self, name: str) -> str:
        return f"runs/{self.record.run_id}/{name}"

    def _location(self, key: str) -> str:
        return self.project.store.location(key)

    def _put_bytes(self, name: str, data: bytes, *, wait: bool = False) -> None:
        self._submit(name, lambda: self.project.store.put_bytes(self._key(name), data), wait)

    def _put_file(self, name: str, path: Path, *, wait: bool = False) -> None:
        self._submit(name, lambda: self.project.store.put_file(self._key(name), path), wait)

    def _submit(self, name: str, put: Callable[[], StoredObject], wait: bool) -> None:
        assert self._uploads is not None, "artifacts are stored while the run runs"
        self._pending.append((name, self._uploads.submit(put)))
        if wait:
            self._settle()

    def _settle(self) -> None:
        """Wait for the artifacts being written and list each one committed, in the order
        they were given; then raise the first failure, if any."""
        pending, self._pending = self._pending, []
        error: BaseException | None = None
        for name, future in pending:
            try:
                stored = future.result()
            except BaseException as exc:  # the store's error (disk full), raised below
                error = error or exc
                continue
            self.committed.append((name, stored.key, stored.sha256, stored.size))
        if error is not None:
            raise error

    def _close_uploads(self) -> None:
        if self._uploads is not None:
            uploads, self._uploads = self._uploads, None
            uploads.close()  # nothing is left writing into the run's folder


def _as_stored(record: RunRecord) -> RunRecord | None:
    """``record`` as the registry returns it once committed (values and artifacts in name
    order), or None if a value may come back otherwise: reading the row back costs ~2 ms of
    every run. SQLite gives a JSON column numeric affinity, so a top-level number is stored
    as a number (an integral float comes back an int, an int past 64 bits a float); such a
    value, and anything not a plain JSON scalar, list or object, is left to the read."""
    if not all(_round_trips(v) for v in record.values.values()):
        return None
    return dataclasses.replace(record, values=dict(sorted(record.values.items())),
                               artifacts=tuple(sorted(record.artifacts, key=lambda a: a.name)))


def _round_trips(value: Any, top: bool = True) -> bool:
    """Whether ``value`` comes back from the registry as it is (``top``: a whole value, which
    SQLite stores as a number when it is one; inside a list or object it stays JSON text)."""
    if value is None or isinstance(value, (bool, str)):
        return True
    if isinstance(value, int):
        return -(2 ** 63) <= value < 2 ** 63
    if isinstance(value, float):
        return math.isfinite(value) and not (top and value.is_integer())
    if isinstance(value, list):
        return all(_round_trips(v, False) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _round_trips(v, False) for k, v in value.items())
    return False


def _phase(observer: RunObserver | None, name: str) -> None:
    if observer is not None:
        observer.phase(name)


def _traceback(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))[-4000:]


class _ObserverBridge:
    """Translates executed-notebook cell positions into input-notebook positions."""

    def __init__(self, observer: RunObserver | None, injected: InjectedNotebook) -> None:
        self.observer = observer
        self.injected = injected

    def kernel_ready(self, total_cells: int) -> None:
        pass

    def phase(self, name: str) -> None:
        if self.observer is not None:
            self.observer.phase(name)

    def cell_started(self, index: int, total: int, label: str) -> None:
        if self.observer is not None:
            self.observer.cell_started(self.injected.input_index(index), total, label)

    def cell_finished(self, index: int, total: int) -> None:
        if self.observer is not None:
            self.observer.cell_finished(self.injected.input_index(index), total)


class _Heartbeat:
    """Refreshes the run's heartbeat so other hosts can tell it is still alive."""

    def __init__(self, project: Project, run_id: str) -> None:
        self.project = project
        self.run_id = run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="nbprod-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.project.defaults.heartbeat_interval):
            with contextlib.suppress(NbprodError):  # a missed beat is tolerated
                self.project.registry.heartbeat(self.run_id)


# -- reading --------------------------------------------------------------------------------


def get_run(project: Project, ref: str) -> RunRecord:
    """One run by id, id prefix or random suffix, with artifact locations filled in."""
    project.reap_lost()
    return _located(project, project.registry.get_run(ref))


def list_runs(project: Project, *, notebook: str | None = None, state: str | None = None,
              last: int | None = None) -> list[RunRecord]:
    """Runs, newest first; runs whose runner vanished are reported ``lost``."""
    from .runlist import iter_runs

    return list(iter_runs(project, notebook=notebook, state=state, last=last))


def verify_artifacts(project: Project, record: RunRecord) -> ArtifactsCorrupt | None:
    """The integrity error for artifacts whose stored bytes are missing or no longer match
    their recorded SHA-256 (None when all match)."""
    from ..errors import IntegrityError, StoreError

    problems: list[tuple[str, str, str | None]] = []
    for artifact in record.artifacts:
        try:
            project.store.read_bytes(f"runs/{record.run_id}/{artifact.name}", artifact.sha256)
        except IntegrityError as exc:
            problems.append((artifact.name, artifact.sha256, exc.actual))
        except StoreError:
            problems.append((artifact.name, artifact.sha256, None))
    return ArtifactsCorrupt(record.run_id, problems) if problems else None


def checks_for(project: Project, notebook_version: str | None) -> list[CheckRecord]:
    """Lint and test results recorded for a notebook version, newest first."""
    if not notebook_version:
        return []
    return project.registry.checks.for_version(notebook_version)


def list_checks(project: Project, *, notebook: str | None = None, kind: str | None = None,
                limit: int = 50) -> list[CheckRecord]:
    """Recent lint and test results, newest first."""
    if notebook:
        try:
            path, _ = project.resolve_notebook(notebook)
            notebook = project.relative(path)
        except InvalidInput:
            pass
    return project.registry.checks.latest(notebook=notebook, kind=kind, limit=limit)
