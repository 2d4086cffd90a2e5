"""Use case: send an alert on the configured channels, once per window, and record it.

The alert row is written ``pending`` before delivery and finished with each channel's
outcome (``sent``, or ``failed`` with the errors), so an undeliverable alert is recorded and
shown (``nbprod alerts``). The same alert (same key) already sent within the window is
recorded as ``suppressed`` and not sent. Credentials come from the project's environment.
"""

from __future__ import annotations

import datetime as dt

from ..errors import NbprodError
from ..monitor.alerts import Alert, active_channels, deliver
from ..monitor.settings import MonitorSettings, parse_monitor
from ..records import AlertRecord, utcnow
from .project import Project


def monitor_settings(project: Project) -> MonitorSettings:
    raw = project.settings.raw if project.settings is not None else {}
    return parse_monitor(raw.get("monitor"))


def link(settings: MonitorSettings, path: str) -> str | None:
    """A dashboard link, when ``dashboard_url`` is configured."""
    return f"{settings.dashboard_url.rstrip('/')}/{path}" if settings.dashboard_url else None


def send_alert(project: Project, alert: Alert) -> AlertRecord:
    """Deliver ``alert`` unless it was sent within the window; the recorded outcome."""
    settings = monitor_settings(project).alerts
    now = utcnow()
    base = AlertRecord(key=alert.key, event=alert.event, title=alert.title,
                       payload=alert.to_json(), status="pending",
                       job=_field(alert, "job"), stage=_field(alert, "stage"),
                       version=_int(alert.fields.get("version")), created_at=now)
    registry = project.registry.monitor
    since = now - dt.timedelta(seconds=settings.window)
    previous = registry.last_alert(alert.key, ["sent"], since)
    if previous is not None:
        return registry.add_alert(_status(base, "suppressed", [{
            "channel": "-", "ok": True, "attempts": 0,
            "error": f"repeat of alert {previous.alert_id} sent "
                     f"{previous.created_at:%Y-%m-%d %H:%M} UTC (window "
                     f"{settings.window / 3600:g} h)"}]))
    if not active_channels(settings, project.kernel_env):
        return registry.add_alert(_status(base, "unrouted", []))
    pending = registry.add_alert(base)
    deliveries = [d.to_json() for d in deliver(alert, settings, project.kernel_env)]
    status = "sent" if delivered_json(deliveries) else "failed"
    assert pending.alert_id is not None
    registry.finish_alert(pending.alert_id, status, deliveries)
    return _status(pending, status, deliveries)


def notify(project: Project, alert: Alert) -> tuple[AlertRecord | None, str | None]:
    """:func:`send_alert` for callers that must not fail (a finished run): the record, or
    why nothing could be recorded."""
    try:
        return send_alert(project, alert), None
    except NbprodError as exc:
        return None, f"alert '{alert.title}' not recorded: {exc.one_line()}"


def list_alerts(project: Project, job: str | None = None, status: str | None = None,
                limit: int = 50) -> list[AlertRecord]:
    """Alerts, newest first (``failed``: undeliverable)."""
    return project.registry.monitor.alerts(job, status=status, limit=limit)


def delivered_json(deliveries: list[dict[str, object]]) -> bool:
    return bool(deliveries) and all(bool(d.get("ok")) for d in deliveries)


def _status(record: AlertRecord, status: str, deliveries: list[dict[str, object]]
            ) -> AlertRecord:
    import dataclasses

    return dataclasses.replace(record, status=status, deliveries=list(deliveries))


def _field(alert: Alert, name: str) -> str | None:
    value = alert.fields.get(name)
    return str(value) if value is not None else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
