"""Registry tables (SQLAlchemy Core). Changes go through an Alembic migration in migrations/."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# The Alembic revision these tables correspond to; tests check it is the scripts' head.
HEAD_REVISION = "0008"

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("notebook", sa.String(1024), nullable=False),
    sa.Column("notebook_version", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("failure", sa.JSON),
    sa.Column("parameters", sa.JSON, nullable=False),
    sa.Column("contract", sa.JSON, nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("git_dirty", sa.Boolean),
    sa.Column("environment_digest", sa.String(64)),
    sa.Column("python", sa.String(32)),
    sa.Column("input_digests", sa.JSON, nullable=False),
    sa.Column("kernel", sa.String(255)),
    sa.Column("user", sa.String(255)),
    sa.Column("host", sa.String(255)),
    sa.Column("runner_pid", sa.Integer),
    sa.Column("runner_start", sa.String(32)),
    sa.Column("run_key", sa.String(64), index=True),
    sa.Column("note", sa.Text),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
    sa.Column("job_run_id", sa.String(40), index=True),
    sa.Column("step", sa.String(100)),
    sa.Column("upstream", sa.JSON),
    sa.Column("sweep_id", sa.String(40), index=True),
    sa.Column("point", sa.Integer),
    # Filtered lists, newest first, paged after a run id (migration 0005).
    sa.Index("ix_runs_notebook_run_id", "notebook", "run_id"),
    sa.Index("ix_runs_state_run_id", "state", "run_id"),
    sa.Index("ix_runs_user_run_id", "user", "run_id"),
)

run_values = sa.Table(
    "run_values", metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("value", sa.JSON),
    sa.Column("number", sa.Float),  # the value when numeric, for thresholds and sorting
)

run_artifacts = sa.Table(
    "run_artifacts", metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(512), primary_key=True),
    sa.Column("key", sa.String(600), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
)

environments = sa.Table(
    "environments", metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("python", sa.String(32), nullable=False),
    sa.Column("packages", sa.JSON, nullable=False),
)

# Lint and test results, recorded against the notebook version they checked.
checks = sa.Table(
    "checks", metadata,
    sa.Column("check_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # lint | test
    sa.Column("notebook", sa.String(1024), nullable=False),
    sa.Column("notebook_version", sa.String(64), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("config_digest", sa.String(64)),
    sa.Column("run_id", sa.String(40)),
    sa.Column("user", sa.String(255)),
    sa.Column("host", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("result_digest", sa.String(64)),  # 0008; NULL in older rows
    # a version's latest result under given settings, from the index alone (0008)
    sa.Index("ix_checks_latest", "notebook_version", "kind", "config_digest", "check_id",
             "result_digest"),
)

# Jobs: immutable versions, job runs, stage pointers, approvals and the audit log.
job_versions = sa.Table(
    "job_versions", metadata,
    sa.Column("job", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("manifest", sa.JSON, nullable=False),
    sa.Column("built_by", sa.String(255), nullable=False),
    sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("job", "digest", name="uq_job_versions_digest"),
)

job_runs = sa.Table(
    "job_runs", metadata,
    sa.Column("job_run_id", sa.String(40), primary_key=True),
    sa.Column("job", sa.String(100), nullable=False, index=True),
    sa.Column("version", sa.Integer),
    sa.Column("stage", sa.String(100)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("failure", sa.JSON),
    sa.Column("steps", sa.JSON, nullable=False),
    sa.Column("resumed_from", sa.String(40)),
    sa.Column("user", sa.String(255)),
    sa.Column("host", sa.String(255)),
    sa.Column("runner_pid", sa.Integer),
    sa.Column("runner_start", sa.String(32)),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)

stages = sa.Table(
    "stages", metadata,
    sa.Column("job", sa.String(100), primary_key=True),
    sa.Column("stage", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("moved_by", sa.String(255), nullable=False),
    sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
)

approvals = sa.Table(
    "approvals", metadata,
    sa.Column("job", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("stage", sa.String(100), primary_key=True),
    sa.Column("approver", sa.String(255), primary_key=True),
    sa.Column("comment", sa.Text),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user", sa.String(255), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("job", sa.String(100), nullable=False, index=True),
    sa.Column("version", sa.Integer),
    sa.Column("stage", sa.String(100)),
    sa.Column("from_version", sa.Integer),
    sa.Column("to_version", sa.Integer),
    sa.Column("forced", sa.Boolean, nullable=False),
    sa.Column("gates", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("os_user", sa.String(255)),
    sa.Column("claimed_user", sa.String(255)),
)

# Monitoring: data profiles recorded by runs, monitor verdicts, alerts (migration 0006).
profiles = sa.Table(
    "profiles", metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("columns", sa.Integer, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),  # per column: kind, missing
    sa.Column("checks", sa.JSON, nullable=False),  # data check results
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),  # of the profile artifact
)

monitor_verdicts = sa.Table(
    "monitor_verdicts", metadata,
    sa.Column("verdict_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(100), nullable=False, index=True),
    sa.Column("stage", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer),
    sa.Column("job_run_id", sa.String(40), index=True),
    sa.Column("reference_job_run_id", sa.String(40)),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("decayed", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("user", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(255), nullable=False, index=True),  # repeats share a key
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("job", sa.String(100), index=True),
    sa.Column("stage", sa.String(100)),
    sa.Column("version", sa.Integer),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending|sent|failed|suppressed
    sa.Column("deliveries", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
