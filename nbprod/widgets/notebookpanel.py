"""The panel ``nbprod.widgets.panel()`` shows: the notebook's parameters form, Run and Sweep
with a progress bar, its runs, a chart of one recorded value, and promotion.

Run and Sweep check the form against the contract first (each wrong field gets the CLI's
message) and start nothing until it fits; the work then runs on a thread of this kernel, so
the notebook stays usable and the bar moves. :meth:`Panel.wait` waits for it (scripts, tests).
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from .. import api
from ..api import browse, notebookview
from ..errors import NbprodError
from .form import SWEEP_SOURCE, GridForm, ParametersForm
from .history import runs_table, shown, value_chart
from .promote import PromoteBox
from .session import NotebookSession, open_session

_TICK = 1.0  # seconds between elapsed-time updates while work runs


def open_panel(notebook: str | Path | None, *, project_dir: str | Path | None = None) -> Any:
    """The panel for ``notebook``; under ``nbprod run`` only a note (nothing is opened)."""
    import os

    from ..execute.capture import CAPTURE_ENV

    if os.environ.get(CAPTURE_ENV):
        return w.HTML("<i>nbprod panel: not shown under <code>nbprod run</code></i>")
    return Panel(open_session(notebook, project_dir))


class _Progress(api.RunObserver):
    """A run's cells on the panel's bar."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.done = 0

    def run_started(self, run_id: str, notebook: str, total_cells: int) -> None:
        self.panel.step(f"run {run_id}: starting the kernel", 0, None)

    def cell_started(self, index: int | None, total: int, label: str) -> None:
        self.done += 1
        where = "injected parameters" if index is None else label[:60]
        self.panel.step(f"cell {min(self.done, total)} of {total}: {where}", self.done - 1,
                        total)

    def finishing(self) -> None:
        self.panel.step("storing artifacts", None, None)


class Panel(w.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """The widget ``nbprod.widgets.panel()`` returns (module docstring)."""

    def __init__(self, session: NotebookSession) -> None:
        self.session = session
        info = browse.notebook_info(session.project, session.notebook)
        self.contract = info.contract
        self.form = ParametersForm(info.contract)
        self.grid = GridForm(info.contract)
        self.use_button = w.Button(description="Use in notebook", icon="download",
                                   tooltip="set the form's values as variables of this kernel")
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.sweep_button = w.Button(description="Sweep", icon="th")
        self.progress = w.FloatProgress(value=0, min=0, max=1, layout=w.Layout(width="18em"))
        self.progress_label = w.HTML()
        self.status = w.HTML()
        self.runs = w.HTML()
        self.chart_value = w.Dropdown(description="value")
        self.chart = w.HTML()
        self.promote = PromoteBox(session)
        self.error: BaseException | None = None
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self._step = ""
        for button, name in ((self.use_button, "use"), (self.run_button, "run"),
                             (self.sweep_button, "sweep")):
            button.add_class(f"nbprod-{name}")
        self.status.add_class("nbprod-status")
        self.use_button.on_click(lambda _b: self.use())
        self.run_button.on_click(lambda _b: self.run())
        self.sweep_button.on_click(lambda _b: self.sweep())
        self.chart_value.observe(lambda _c: self._draw_chart(), names="value")
        self.tabs = w.Tab(children=[self.runs, w.VBox([self.chart_value, self.chart]),
                                    w.VBox([w.HTML("Values to sweep, comma separated; the "
                                                   "points are every combination."),
                                            self.grid.widget]), self.promote.widget])
        for index, title in enumerate(("Runs", "Chart", "Sweep grid", "Promote")):
            self.tabs.set_title(index, title)
        problem = f'<div style="color:#cf222e">{html.escape(info.problem)}</div>' \
            if info.problem else ""
        super().__init__([self._header(), w.HTML(problem), self.form.widget,
                          w.HBox([self.use_button, self.run_button, self.sweep_button]),
                          w.HBox([self.progress, self.progress_label]), self.status,
                          self.tabs])
        self.refresh()
        self._set_busy(False)

    def _header(self) -> w.HTML:
        allowed = self.session.allowed
        roles = [r for r in ("run", "approve", "admin") if getattr(allowed, r)]
        return w.HTML(f"<b>nbprod</b> · <code>{html.escape(self.session.notebook)}</code> · "
                      f"as {html.escape(allowed.user)} ({', '.join(roles) or 'viewer'})"
                      " · Run executes the saved notebook file")

    # -- the form -------------------------------------------------------------------------

    @property
    def parameters(self) -> dict[str, Any]:
        """The form's values, checked and coerced as a run would get them."""
        return notebookview.form_parameters(self.session.project, self.session.notebook,
                                            self.form.given())

    def use(self) -> dict[str, Any] | None:
        """Set the form's values as variables of this kernel (what the parameters cell
        defines), so the notebook can be iterated on with the values a run would get."""
        if not self._checked():
            return None
        values = self.parameters
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            shell.user_ns.update(values)
        self.say("set " + ", ".join(f"{k}={shown(v)}" for k, v in values.items())
                 + (" in this notebook" if shell is not None else " (no kernel to set them in)"))
        return values

    def _checked(self, grid: bool = False) -> bool:
        """Check the form (and the grid) field by field; show each field's message."""
        project, notebook = self.session.project, self.session.notebook
        check = notebookview.check_form(project, notebook, self.form.given())
        self.form.show_errors(check.errors)
        ok = check.ok
        if grid:
            swept = notebookview.check_form(project, notebook, self.grid.given())
            self.grid.show_errors(swept.errors)
            ok = ok and swept.ok
        if not ok:
            self.say(check.problem or "nothing started: fix the values marked in red",
                     error=True)
        return ok

    # -- work on a thread -----------------------------------------------------------------

    def run(self) -> bool:
        """Run the notebook with the form's values; False if it did not start."""
        if self.busy or not self._checked():
            return False
        given = self.form.given()
        return self._start("run", lambda: self._run(given))

    def _run(self, given: dict[str, api.GivenValue]) -> None:
        project = self.session.project
        request = api.RunRequest(notebook=str(project.root / self.session.notebook),
                                 parameters=given)
        record = api.run_notebook(project, request, _Progress(self))
        values = "  ".join(f"{k}={shown(v)}" for k, v in record.values.items())
        took = f"{record.duration:.1f} s" if record.duration is not None else ""
        if record.state == "succeeded":
            self.say(f"✓ run {record.run_id} succeeded in {took}  {values}")
        else:
            failure = record.failure.message if record.failure else record.state
            self.say(f"✗ run {record.run_id} {record.state}: {failure}", error=True)

    def sweep(self) -> bool:
        """Run every point of the Sweep grid (the form gives the other values)."""
        if self.busy:
            return False
        grid = self.grid.grid()
        if not grid:
            self.tabs.selected_index = 2
            self.say("nothing started: give values to sweep in the Sweep grid tab", error=True)
            return False
        if not self._checked(grid=True):
            return False
        from ..api.sweep import grid_points, validate_points

        project, notebook = self.session.project, str(self.session.project.root /
                                                      self.session.notebook)
        fixed = {k: v for k, v in self.form.given().items() if k not in grid}
        try:
            checked = validate_points(project, notebook, fixed,
                                      grid_points(list(grid.items()), source=SWEEP_SOURCE),
                                      project.defaults.strict)
        except NbprodError as exc:
            self.say(exc.one_line(), error=True)
            return False
        return self._start("sweep", lambda: self._sweep(notebook, checked))

    def _sweep(self, notebook: str, checked: list[Any]) -> None:
        from ..api.sweep import PointResult, run_sweep
        from ..executors.threads import ThreadExecutor

        total, finished = len(checked), 0
        self.step(f"0 of {total} points done", 0, total)

        def done(_result: PointResult) -> None:
            nonlocal finished
            finished += 1
            self.step(f"{finished} of {total} points done", finished, total)

        session = self.session
        report = run_sweep(session.project, session.settings, session.environ, notebook,
                           checked, ThreadExecutor(), on_done=done)
        counts = ", ".join(f"{n} {state}" for state, n in report.counts().items())
        self.say(f"sweep {report.sweep_id}: {counts}",
                 error=any(r.state != "succeeded" for r in report.results))

    def _start(self, what: str, work: Callable[[], None]) -> bool:
        with self._lock:
            if self.busy:
                return False
            self.error = None
            self._started = time.monotonic()
            self._worker = threading.Thread(target=self._work, args=(what, work),
                                            name=f"nbprod-panel-{what}", daemon=True)
            self._set_busy(True)
            self.say("")
            self._worker.start()
        threading.Thread(target=self._tick, args=(self._worker,), daemon=True).start()
        return True

    def _work(self, what: str, work: Callable[[], None]) -> None:
        try:
            work()
        except NbprodError as exc:
            self.error = exc
            self.say(f"{what} failed: {exc.one_line()}", error=True)
        except Exception as exc:  # a bug: shown, kept for wait() to re-raise
            self.error = exc
            self.say(f"{what} failed: internal error {type(exc).__name__}: {exc}", error=True)
        finally:
            self.progress.value = self.progress.max
            self._step = f"finished in {time.monotonic() - self._started:.1f} s"
            self.progress_label.value = self._step
            self._set_busy(False)
            self.refresh()

    def _tick(self, worker: threading.Thread) -> None:
        while worker.is_alive():
            self._show_step()
            worker.join(_TICK)

    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a Run or Sweep to end; True if nothing is running any more."""
        if self._worker is not None:
            self._worker.join(timeout)
        return not self.busy

    def _set_busy(self, busy: bool) -> None:
        allowed = self.session.allowed.run
        for button in (self.run_button, self.sweep_button):
            button.disabled = busy or not allowed
        if not allowed:
            self.run_button.tooltip = f"{self.session.allowed.user} may not run here"

    # -- showing ----------------------------------------------------------------------

    def step(self, label: str, value: float | None, total: float | None) -> None:
        """Move the bar (``value`` of ``total``; None leaves it) and name the step."""
        if total is not None:
            self.progress.max = max(float(total), 1.0)
        if value is not None:
            self.progress.value = min(float(value), self.progress.max)
        self._step = label
        self._show_step()

    def _show_step(self) -> None:
        if self.busy:
            elapsed = time.monotonic() - self._started
            self.progress_label.value = f"{html.escape(self._step)} · {elapsed:.0f} s"

    def say(self, message: str, error: bool = False) -> None:
        colour = "#cf222e" if error else "#1a7f37"
        self.status.value = f'<span style="color:{colour}">{html.escape(message)}</span>' \
            if message else ""

    def refresh(self) -> None:
        """Read the runs and the chartable values again."""
        project, notebook = self.session.project, self.session.notebook
        page = browse.runs_page(project, browse.RunQuery(notebook=notebook, limit=10))
        self.runs.value = runs_table(page.to_json()["runs"])
        names = browse.value_names(project, notebook)
        if list(self.chart_value.options) != names:
            current = self.chart_value.value
            self.chart_value.options = names
            self.chart_value.value = current if current in names else \
                (names[0] if names else None)
        self._draw_chart()

    def _draw_chart(self) -> None:
        name = self.chart_value.value
        if not name:
            self.chart.value = "<i>No recorded numbers yet: runs that call nbprod.record " \
                               "show here.</i>"
            return
        points = browse.value_series(self.session.project, self.session.notebook, name, 50)
        self.chart.value = value_chart(points, name)
