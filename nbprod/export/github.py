"""``--target github``: a GitHub Actions workflow on the job's schedule (and by hand).

Writes ``.github/workflows/nbprod-<job>.yml`` and the version's lock under
``.github/nbprod/<job>/``; paths in the workflow are relative to the repository root, so
export with ``--out`` at the repository root. ``NBPROD_REGISTRY`` and ``NBPROD_STORE`` come from
repository secrets.
"""

from __future__ import annotations

from .base import ExportContext, render


class GitHubExporter:
    name = "github"
    summary = "GitHub Actions workflow (schedule + workflow_dispatch)"

    def files(self, context: ExportContext) -> dict[str, str]:
        schedule = context.require_schedule(self.name)
        lock = f".github/nbprod/{context.job}/{context.lock_filename}"
        return {
            f".github/workflows/nbprod-{context.job}.yml": render(
                "github_workflow.yml.j2", context, self.name, schedule=schedule, lock=lock),
            lock: context.lock_text,
        }
