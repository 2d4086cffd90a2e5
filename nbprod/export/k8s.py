"""``--target k8s``: a ``batch/v1`` CronJob running the job on its schedule.

One run at a time (``concurrencyPolicy: Forbid``), no pod retries (``backoffLimit: 0``:
nbprod retries what is worth retrying itself), the image from the docker target, and
``NBPROD_REGISTRY`` / ``NBPROD_STORE`` as plain values when they are URLs without a password,
else from the Secret ``nbprod``.
"""

from __future__ import annotations

from .base import SECRET_NAME, ExportContext, label_value, render


class KubernetesExporter:
    name = "k8s"
    summary = "Kubernetes CronJob (batch/v1) on the job's schedule"

    def files(self, context: ExportContext) -> dict[str, str]:
        schedule = context.require_schedule(self.name)
        labels = {
            "app.kubernetes.io/name": "nbprod",
            "app.kubernetes.io/instance": context.resource_name,
            "app.kubernetes.io/component": "job",
            "app.kubernetes.io/managed-by": "nbprod",
            "nbprod/job": label_value(context.job) or context.resource_name,
        }
        from_secret = [loc for loc in context.locations if loc.kind != "url"]
        return {"cronjob.yaml": render(
            "cronjob.yaml.j2", context, self.name, name=context.resource_name,
            schedule=schedule, labels=labels, secret_name=SECRET_NAME,
            from_secret=from_secret)}
