"""Use cases: promote a job version to a stage, approve it, roll a stage back, read the audit.

A promotion reads the stage's current revision, checks the user's role, evaluates every gate
of the target stage (and the approvals it requires), and moves the pointer only if nobody else
moved it meanwhile. Each attempt — moved, refused, not allowed, conflicting — leaves one audit
row; a move and its audit row are written in the same transaction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..errors import EXIT_GATE_FAILED, GateFailed, InvalidInput, NotAllowed, NotFound
from ..jobs.spec import JobSpec
from ..promote.gates import GateResult, GateSet
from ..promote.roles import Roles
from ..records import AuditEntry, CheckRecord, JobRun, JobVersion, StagePointer, utcnow
from .project import Project


@dataclass(frozen=True)
class Verdict:
    """Every gate's result for moving ``version`` into ``stage``."""

    job: str
    version: int
    stage: str
    results: tuple[GateResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "version": self.version, "stage": self.stage,
                "passed": self.passed, "gates": [r.to_json() for r in self.results]}


@dataclass(frozen=True)
class PromotionOutcome:
    verdict: Verdict
    pointer: StagePointer | None
    moved: bool
    forced: bool = False
    dry_run: bool = False
    refused: GateFailed | None = None  # gates failed: nothing moved (audited as refused)

    @property
    def exit_code(self) -> int:
        """5 when gates refused the move (or would have, without --dry-run), else 0."""
        failed = not self.verdict.passed and not self.moved and not self.dry_run
        return EXIT_GATE_FAILED if self.refused is not None or failed else 0

    def to_json(self) -> dict[str, Any]:
        data = {**self.verdict.to_json(), "moved": self.moved, "forced": self.forced,
                "pointer": self.pointer.to_json() if self.pointer else None}
        if self.refused is not None:
            data["error"] = {"type": "GateFailed", "message": self.refused.one_line(),
                             "exit_code": self.refused.exit_code}
        return data


class _Context:
    """The registry as promotion gates see it (implements GateContext)."""

    def __init__(self, project: Project, spec: JobSpec, version: JobVersion,
                 stage: str) -> None:
        self.project = project
        self.spec = spec
        self.version = version
        self.stage = stage
        self.previous_stage = spec.previous_stage(stage)

    def checks(self, notebook_version: str, kind: str) -> list[CheckRecord]:
        """Only results produced under the settings the project has now: a result of
        ``nbprod lint --ignore NBP`` (or ``nbprod test --no-regression``) does not count."""
        wanted = check_settings_digest(self.project, kind)
        return [c for c in self.project.registry.checks.for_version(notebook_version, kind)
                if c.config_digest == wanted]

    def job_runs(self, version: int, state: str | None = None) -> list[JobRun]:
        return self.project.registry.jobs.runs(self.spec.name, version=version, state=state)

    def values(self, job_run: JobRun) -> dict[str, dict[str, Any]]:
        ids = [s.run_id for s in job_run.steps if s.run_id]
        records = {r.run_id: r for r in self.project.registry.list_runs(run_ids=ids)}
        return {s.step: dict(records[s.run_id].values) for s in job_run.steps
                if s.run_id in records}

    def stage_version(self, stage: str) -> int | None:
        pointer = self.project.registry.jobs.stage(self.spec.name, stage)
        return pointer.version if pointer else None

    def was_in_stage(self, version: int, stage: str) -> bool:
        return any(e.to_version == version
                   for e in self.project.registry.jobs.stage_history(self.spec.name, stage))


def check_settings_digest(project: Project, kind: str) -> str:
    """The digest lint or test results record for the project's current settings."""
    raw = project.settings.raw if project.settings is not None else {}
    if kind == "lint":
        from ..lint.config import LintConfig

        return LintConfig.from_table(raw.get("lint", {})).digest()
    from ..validate.config import TestConfig

    return TestConfig.from_table(raw.get("test", {})).digest()


def roles_of(project: Project) -> Roles:
    raw = project.settings.raw.get("roles") if project.settings is not None else None
    return Roles.from_table(raw)


def evaluate(project: Project, spec: JobSpec, version: JobVersion, stage: str,
             gates: GateSet | None = None) -> Verdict:
    """Every gate of ``stage``, and its approvals, for ``version`` (moves nothing)."""
    policy = spec.policy(stage)
    gates = gates or GateSet.from_entry_points()
    context = _Context(project, spec, version, stage)
    results = gates.evaluate(context, [(g.name, g.options) for g in policy.gates])
    if policy.approvals:
        results.append(_approvals(project, spec, version, stage, policy.approvals))
    return Verdict(spec.name, version.version, stage, tuple(results))


def _approvals(project: Project, spec: JobSpec, version: JobVersion, stage: str,
               required: int) -> GateResult:
    roles = roles_of(project)
    approvers = [user for user, _at in project.registry.jobs.approvals(spec.name,
                                                                        version.version, stage)
                 if user != version.built_by and roles.may_approve(user)]
    detail = f"{len(approvers)} of {required} approval{'s' if required != 1 else ''}"
    detail += f" (by {', '.join(approvers)})" if approvers else \
        f"; run `nbprod approve {spec.name} {version.version}` as an approver other than " \
        f"the builder ({version.built_by})"
    return GateResult("approvals", len(approvers) >= required, detail,
                      {"approvers": approvers, "required": required})


def promote(project: Project, spec: JobSpec, version_number: int, stage: str, *,
            force: bool = False, reason: str | None = None, dry_run: bool = False,
            gates: GateSet | None = None) -> PromotionOutcome:
    """Move ``stage`` to ``version_number`` if the user may and every gate passes."""
    user = project.user
    spec.policy(stage)  # NotFound for an unknown stage
    version = project.registry.jobs.version(spec.name, version_number)
    roles = roles_of(project)
    base = _actor(project, AuditEntry(
        at=utcnow(), user=user, action="promote", outcome="ok", job=spec.name,
        version=version_number, stage=stage, to_version=version_number, reason=reason))
    if not roles.may_promote(user, stage):
        if not dry_run:
            _audit(project, base, "not_allowed", reason=f"{user} may not promote to {stage}")
        raise NotAllowed(f"{user} may not promote {spec.name} to {stage}",
                         hint="see [tool.nbprod.roles].promote")
    pointer = project.registry.jobs.stage(spec.name, stage)
    verdict = evaluate(project, spec, version, stage, gates)
    if pointer is not None and pointer.version == version_number:
        return PromotionOutcome(verdict, pointer, moved=False)
    if dry_run:
        return PromotionOutcome(verdict, pointer, moved=False)
    gate_rows = [r.to_json() for r in verdict.results]
    entry = _with(base, from_version=pointer.version if pointer else None, gates=gate_rows)
    forced = False
    if not verdict.passed:
        if not force:
            _audit(project, entry, "refused")
            names = "; ".join(f"{r.gate}: {r.detail}" for r in verdict.failed)
            raise GateFailed(f"promotion of {spec.name} version {version_number} to {stage} "
                             f"refused: {len(verdict.failed)} gate(s) failed: {names}",
                             results=list(verdict.results))
        if not roles.is_admin(user):
            _audit(project, _with(entry, forced=True), "not_allowed",
                   reason="--force needs an admin")
            raise NotAllowed(f"--force needs an admin; {user} is not one",
                             hint="see [tool.nbprod.roles].admins")
        if not reason:
            raise InvalidInput("--force needs --reason: say why the gates are overridden")
        forced = True
    moved = project.registry.jobs.move_stage(
        _with(entry, forced=forced, at=utcnow()),
        expected_revision=pointer.revision if pointer else None)
    return PromotionOutcome(verdict, moved, moved=True, forced=forced)


def try_promote(project: Project, spec: JobSpec, version_number: int, stage: str, *,
                force: bool = False, reason: str | None = None, dry_run: bool = False,
                gates: GateSet | None = None) -> PromotionOutcome:
    """:func:`promote`, with a refusal by failed gates returned (``refused``, every gate's
    result in ``verdict``) rather than raised; other errors still raise."""
    try:
        outcome = promote(project, spec, version_number, stage, force=force, reason=reason,
                          dry_run=dry_run, gates=gates)
    except GateFailed as exc:
        verdict = Verdict(spec.name, version_number, stage, tuple(exc.results))
        return PromotionOutcome(verdict, None, moved=False, refused=exc)
    return dataclasses.replace(outcome, dry_run=dry_run)


def approve(project: Project, spec: JobSpec, version_number: int, stage: str = "production",
            comment: str | None = None) -> list[tuple[str, Any]]:
    """Approve ``version_number`` for ``stage``; returns the approvals it now has."""
    user = project.user
    spec.policy(stage)
    version = project.registry.jobs.version(spec.name, version_number)
    entry = _actor(project, AuditEntry(at=utcnow(), user=user, action="approve", outcome="ok",
                                       job=spec.name, version=version_number, stage=stage,
                                       reason=comment))
    if not roles_of(project).may_approve(user):
        _audit(project, entry, "not_allowed", reason=f"{user} is not an approver")
        raise NotAllowed(f"{user} is not an approver", hint="see [tool.nbprod.roles].approvers")
    if user == version.built_by:
        _audit(project, entry, "not_allowed", reason="the builder cannot approve their own "
                                                     "version")
        raise NotAllowed(f"{user} built version {version_number} of {spec.name} and cannot "
                         "approve it", hint="another approver must")
    project.registry.jobs.approve(entry)
    return project.registry.jobs.approvals(spec.name, version_number, stage)


def rollback(project: Project, spec: JobSpec, stage: str, *,
             reason: str | None = None) -> StagePointer:
    """Point ``stage`` back at the version it held before the current one."""
    user = project.user
    spec.policy(stage)
    base = _actor(project, AuditEntry(at=utcnow(), user=user, action="rollback", outcome="ok",
                                      job=spec.name, stage=stage, reason=reason))
    if not roles_of(project).may_promote(user, stage):
        _audit(project, base, "not_allowed", reason=f"{user} may not move {stage}")
        raise NotAllowed(f"{user} may not roll back {stage} of {spec.name}")
    pointer = project.registry.jobs.stage(spec.name, stage)
    if pointer is None:
        raise NotFound(f"stage {stage} of {spec.name} points at no version")
    previous = previous_version(project.registry.jobs.stage_history(spec.name, stage))
    if previous is None:
        _audit(project, _with(base, version=pointer.version, from_version=pointer.version),
               "refused", reason="no earlier version to roll back to")
        raise NotFound(f"stage {stage} of {spec.name} had no version before "
                       f"{pointer.version}: nothing to roll back to")
    return project.registry.jobs.move_stage(
        _with(base, version=previous, from_version=pointer.version, to_version=previous),
        expected_revision=pointer.revision)


def previous_version(history: list[AuditEntry]) -> int | None:
    """Replay a stage's moves: promotions push a version, rollbacks pop one.

    So rolling back twice after two promotions walks back two versions, and a rollback is
    never undone by another rollback.
    """
    stack: list[int] = []
    for entry in history:
        if entry.action == "rollback" and len(stack) > 1:
            stack.pop()
        elif entry.action == "promote" and entry.to_version is not None:
            stack.append(entry.to_version)
    return stack[-2] if len(stack) > 1 else None


def stages(project: Project, spec: JobSpec) -> list[tuple[str, StagePointer | None]]:
    pointers = {p.stage: p for p in project.registry.jobs.stages(spec.name)}
    return [(stage, pointers.get(stage)) for stage in spec.stages]


def audit_log(project: Project, job: str | None = None, limit: int = 100) -> list[AuditEntry]:
    return project.registry.jobs.audit(job, limit=limit)


def _actor(project: Project, entry: AuditEntry) -> AuditEntry:
    """The entry with who ran the command as the OS says, and who NBPROD_USER claimed to be."""
    return _with(entry, os_user=project.os_user or None, claimed_user=project.claimed_user)


def _with(entry: AuditEntry, **changes: Any) -> AuditEntry:
    import dataclasses

    return dataclasses.replace(entry, **changes)


def _audit(project: Project, entry: AuditEntry, outcome: str, *,
           reason: str | None = None) -> None:
    project.registry.jobs.add_audit(_with(entry, outcome=outcome, at=utcnow(),
                                          reason=reason or entry.reason))

