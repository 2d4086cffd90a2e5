"""Alerts: what fired and where, as a webhook JSON body (Slack-compatible) or an e-mail.

Delivery never raises: every channel gets up to ``retries`` attempts with exponential backoff
(``backoff``, then twice that, ...), each bounded by ``timeout`` seconds, and the outcome of
each channel is returned for the registry to keep. Credentials for SMTP come from environment
variables the channel names (``username_env``, ``password_env``), passed in by the caller.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from .settings import AlertSettings, Channel


@dataclass(frozen=True)
class Alert:
    event: str  # run_failed | drift | decay | stale | failing | slow
    key: str  # alerts with the same key within the window are repeats
    title: str
    lines: tuple[str, ...] = ()  # what fired and where, one fact a line
    fields: Mapping[str, Any] = field(default_factory=dict)  # job, stage, version, ...
    link: str | None = None

    @property
    def text(self) -> str:
        body = "\n".join(f"• {line}" for line in self.lines)
        link = f"\n{self.link}" if self.link else ""
        return f"{self.title}\n{body}{link}".strip()

    def to_json(self) -> dict[str, Any]:
        return {"event": self.event, "key": self.key, "title": self.title,
                "lines": list(self.lines), "fields": dict(self.fields), "link": self.link}


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"channel": self.channel, "ok": self.ok, "attempts": self.attempts,
                "error": self.error}


def webhook_body(alert: Alert, form: str) -> dict[str, Any]:
    """The JSON a webhook receives. Both forms carry Slack's ``text``; ``slack`` adds
    Block Kit blocks, ``json`` the alert's fields for programs."""
    if form == "slack":
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(
                f"• {line}" for line in alert.lines)[:2900] or alert.title}}]
        if alert.link:
            blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                       "text": f"<{alert.link}|open in nbprod>"}})
        return {"text": alert.text[:3000], "blocks": blocks}
    return {"text": alert.text, **alert.to_json()}


def active_channels(settings: AlertSettings, environ: Mapping[str, str]) -> list[Channel]:
    """The channels that apply here: a webhook whose ``url_env`` is unset is left out."""
    return [c for c in settings.channels
            if not c.options.get("url_env") or environ.get(str(c.options["url_env"]))]


def deliver(alert: Alert, settings: AlertSettings, environ: Mapping[str, str],
            sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send ``alert`` on every active channel; the outcome per channel (never raises)."""
    return [_with_retries(alert, channel, settings, environ, sleep)
            for channel in active_channels(settings, environ)]


def _with_retries(alert: Alert, channel: Channel, settings: AlertSettings,
                  environ: Mapping[str, str], sleep: Callable[[float], None]) -> Delivery:
    error = "not attempted"
    for attempt in range(1, settings.retries + 1):
        try:
            if channel.type == "webhook":
                _post(_url(channel.options, environ), webhook_body(alert, str(
                    channel.options.get("format", "json"))), settings.timeout)
            else:
                _mail(channel.options, alert, settings.timeout, environ)
            return Delivery(channel.name, True, attempt)
        except _Permanent as exc:
            return Delivery(channel.name, False, attempt, str(exc))
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            error = _describe(exc)
        if attempt < settings.retries:
            sleep(settings.backoff * 2 ** (attempt - 1))
    return Delivery(channel.name, False, settings.retries, error)


class _Permanent(Exception):
    """A failure retrying cannot fix (a missing credential)."""


def _url(options: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    variable = options.get("url_env")
    url = environ.get(str(variable), "") if variable else str(options["url"])
    if not url.startswith(("http://", "https://")):
        raise _Permanent(f"environment variable {variable} does not hold an http(s) URL")
    return url


def _post(url: str, body: dict[str, Any], timeout: float) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "nbprod-alerts"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read(1024)


def _mail(options: Mapping[str, Any], alert: Alert, timeout: float,
          environ: Mapping[str, str]) -> None:
    credentials = _credentials(options, environ)
    message = EmailMessage()
    message["Subject"] = f"[nbprod] {alert.title}"[:250]
    message["From"] = str(options["sender"])
    message["To"] = ", ".join(options["to"])
    message.set_content(alert.text + "\n")
    host, port = str(options["host"]), int(options.get("port", 25))
    if options.get("ssl"):
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if options.get("starttls"):
            client.starttls(context=ssl.create_default_context())
        if credentials is not None:
            client.login(*credentials)
        client.send_message(message)


def _credentials(options: Mapping[str, Any],
                 environ: Mapping[str, str]) -> tuple[str, str] | None:
    user_var, password_var = options.get("username_env"), options.get("password_env")
    if not user_var and not password_var:
        return None
    missing = [v for v in (user_var, password_var) if v and not environ.get(str(v))]
    if missing:
        raise _Permanent(f"environment variable {missing[0]} (SMTP credentials) is not set")
    return environ.get(str(user_var), ""), environ.get(str(password_var), "")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot reach the webhook: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"[:300]


def delivered(deliveries: Sequence[Delivery]) -> bool:
    """Whether every channel took the alert (no channel: nothing was sent)."""
    return bool(deliveries) and all(d.ok for d in deliveries)
