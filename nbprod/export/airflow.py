"""``--target airflow``: a DAG with one BashOperator running the job in the project folder.

For an Airflow worker on a machine that has the project (and nbprod) installed. The registry
and store URLs are passed in the task's environment when they hold no password; a URL with a
password is left to the worker's own environment (never written in the DAG file).
"""

from __future__ import annotations

import re
import shlex

from .base import ExportContext, render


class AirflowExporter:
    name = "airflow"
    summary = "Airflow DAG (BashOperator) on the job's schedule"

    def files(self, context: ExportContext) -> dict[str, str]:
        schedule = context.require_schedule(self.name)
        stem = re.sub(r"[^A-Za-z0-9_]", "_", context.job)
        env = {loc.env: loc.shown for loc in context.locations if loc.kind in ("url", "local")}
        bash = f"cd {shlex.quote(str(context.project_root))} && {context.shell_command}"
        return {f"dags/nbprod_{stem}.py": render(
            "airflow_dag.py.j2", context, self.name, dag_id=f"nbprod_{context.job}",
            schedule=schedule, bash_command=bash, env=env,
            worker_env=[loc for loc in context.locations if loc.kind == "secret"])}
