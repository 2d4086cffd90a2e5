"""Promote and approve from the notebook: the jobs this notebook is a step of, where their
stages point, and a version's gate verdict shown before anything moves.

The buttons follow the acting user's role (``[tool.nbprod.roles]``); the use cases check the
role again and audit refusals, as for ``nbprod promote``.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..api.joboverview import job, verdict
from ..api.notebookview import JobStep, jobs_of
from ..api.promotion import approve, promote
from ..errors import NbprodError
from .session import NotebookSession


def verdict_html(data: dict[str, Any]) -> str:
    """A verdict's gates, one line each (✓ passed, ✗ failed with why)."""
    lines = []
    for gate in data["gates"]:
        mark, colour = ("✓", "#1a7f37") if gate["passed"] else ("✗", "#cf222e")
        lines.append(f'<div><span style="color:{colour}">{mark}</span> '
                     f"<b>{html.escape(gate['gate'])}</b>: {html.escape(gate['detail'])}</div>")
    head = "every gate passes" if data["passed"] else "refused: a gate fails"
    return (f"<div><b>version {data['version']} → {html.escape(data['stage'])}</b>: {head}"
            f"</div>{''.join(lines) or '<div>(no gates)</div>'}")


def stages_html(step: JobStep) -> str:
    parts = [f"{html.escape(stage)} → {'v' + str(version) if version else '—'}"
             for stage, version in step.stages]
    latest = f"newest build v{step.latest_version}" if step.latest_version else "not built yet"
    return (f"job <b>{html.escape(step.job)}</b> (step {html.escape(step.step)}): "
            f"{', '.join(parts)}; {latest}")


class PromoteBox:
    """Job, stage and version pickers, Check gates, Promote and Approve."""

    def __init__(self, session: NotebookSession) -> None:
        self.session = session
        self.steps = {s.job: s for s in jobs_of(session.project, session.notebook)}
        allowed = session.allowed
        self.job = w.Dropdown(options=list(self.steps), description="job")
        self.stage = w.Dropdown(description="stage")
        self.version = w.IntText(description="version", layout=w.Layout(width="12em"))
        self.check_button = w.Button(description="Check gates", icon="list-check")
        self.promote_button = w.Button(description="Promote", button_style="warning",
                                       disabled=True, icon="arrow-up")
        self.approve_button = w.Button(description="Approve", disabled=not allowed.approve,
                                       icon="check")
        self.stages = w.HTML()
        self.verdict = w.HTML()
        self.checked: dict[str, Any] | None = None
        self.job.observe(lambda _change: self._pick_job(), names="value")
        for picker in (self.stage, self.version):
            picker.observe(lambda _change: self._forget(), names="value")
        self.check_button.on_click(lambda _b: self.check())
        self.promote_button.on_click(lambda _b: self.promote())
        self.approve_button.on_click(lambda _b: self.approve())
        if not self.steps:
            self.widget: w.Widget = w.HTML(
                "<i>This notebook is not a step of any job ([tool.nbprod.jobs]): there is "
                "nothing to promote.</i>")
            return
        self._pick_job()
        self.widget = w.VBox([self.stages, w.HBox([self.job, self.stage, self.version]),
                              w.HBox([self.check_button, self.promote_button,
                                      self.approve_button]), self.verdict])

    def _pick_job(self) -> None:
        step = self.steps.get(self.job.value)
        if step is None:
            return
        self.stages.value = stages_html(step)
        self.stage.options = [s for s, _ in step.stages]
        self.version.value = step.latest_version or 0
        self._forget()

    def _forget(self) -> None:
        self.checked = None
        self.promote_button.disabled = True

    def _say(self, message: str, ok: bool) -> None:
        colour = "#1a7f37" if ok else "#cf222e"
        self.verdict.value += f'<div style="color:{colour}">{html.escape(message)}</div>'

    def check(self) -> dict[str, Any] | None:
        """The gate verdict for the picked version and stage (nothing moves)."""
        try:
            result = verdict(self.session.project, self.job.value, self.version.value,
                             self.stage.value).to_json()
        except NbprodError as exc:
            self.verdict.value = ""
            self._say(exc.one_line(), ok=False)
            return None
        self.checked = result
        self.verdict.value = verdict_html(result)
        allowed = self.session.allowed
        if not allowed.may_promote(self.stage.value):
            self._say(f"{allowed.user} may not promote to {self.stage.value} "
                      "([tool.nbprod.roles])", ok=False)
        self.promote_button.disabled = not (result["passed"] and
                                            allowed.may_promote(self.stage.value))
        return result

    def promote(self) -> None:
        """Promote the checked version (the use case checks role and gates again)."""
        if self.checked is None:
            return
        project = self.session.project
        try:
            outcome = promote(project, job(project, self.job.value), self.version.value,
                              self.stage.value)
        except NbprodError as exc:
            self._say(exc.one_line(), ok=False)
            return
        self._say(f"{self.stage.value} now points at version {self.version.value}"
                  if outcome.moved else f"{self.stage.value} already points at version "
                  f"{self.version.value}", ok=True)
        self._refresh()

    def approve(self) -> None:
        project = self.session.project
        try:
            approvals = approve(project, job(project, self.job.value), self.version.value,
                                self.stage.value)
        except NbprodError as exc:
            self._say(exc.one_line(), ok=False)
            return
        self._say(f"approved: version {self.version.value} for {self.stage.value} has "
                  f"{len(approvals)} approval(s)", ok=True)

    def _refresh(self) -> None:
        self.steps = {s.job: s for s in jobs_of(self.session.project, self.session.notebook)}
        step = self.steps.get(self.job.value)
        if step is not None:
            self.stages.value = stages_html(step)
        self._forget()
