"""``[tool.nbprod.monitor]``: drift options, decay thresholds, health limits, alert channels.

```toml
[tool.nbprod.monitor]
alpha = 0.01            # family-wise error rate of the drift tests
large = 1000            # above this many rows, distances instead of tests
threshold = 0.1         # Wasserstein (normed) and Jensen-Shannon thresholds
grace = "1h"            # health: a scheduled run may be this late before the job is stale
failing_after = 3       # health: this many failed runs in a row is failing
slow_factor = 3.0       # health: slower than this times the median of earlier runs is slow
dashboard_url = "https://nbprod.example.com/nbprod"   # links in alerts (optional)

[tool.nbprod.monitor.jobs.score]          # what `nbprod monitor score` compares
datasets = { scoring_input = "training" } # current dataset = reference dataset
decay = { "score.batch_accuracy" = 0.05 } # a drop of more than this since promotion is decay
on_drift = "retrain"                      # or "alert" (the default)
retrain = "pipeline"                      # the job to rebuild and run as the challenger
after_run = true                          # monitor after every run at a monitored stage

[tool.nbprod.monitor.alerts]
window = "6h"                             # the same alert is not sent again within it
retries = 3                               # delivery attempts per channel, with backoff

[[tool.nbprod.monitor.alerts.channels]]
type = "webhook"
url_env = "NBPROD_SLACK_WEBHOOK"          # the URL (a secret) from the environment, or url = ...
format = "slack"                          # or "json": Slack's text plus the alert's fields

[[tool.nbprod.monitor.alerts.channels]]
type = "email"
host = "smtp.example.com"
port = 587
starttls = true
sender = "nbprod@example.com"
to = ["ml-team@example.com"]
username_env = "NBPROD_SMTP_USER"         # credentials come from the environment
password_env = "NBPROD_SMTP_PASSWORD"
```

Durations are seconds or a number with ``s``, ``m``, ``h`` or ``d``. A webhook channel whose
``url_env`` variable is not set is left out where it is unset (a laptop, CI).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingsError

_WHERE = "[tool.nbprod.monitor]"
_KEYS = frozenset({"alpha", "large", "threshold", "grace", "failing_after", "slow_factor",
                   "dashboard_url", "jobs", "alerts", "checks"})
_JOB_KEYS = frozenset({"datasets", "decay", "on_drift", "retrain", "after_run", "stage"})
_ALERT_KEYS = frozenset({"window", "retries", "backoff", "timeout", "channels"})
_CHANNEL_KEYS = {
    "webhook": frozenset({"type", "url", "url_env", "format", "name"}),
    "email": frozenset({"type", "host", "port", "starttls", "ssl", "sender", "to",
                        "username_env", "password_env", "name"}),
}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class DecayRule:
    metric: str  # STEP.NAME or NAME
    max_drop: float
    higher_is_better: bool = True


@dataclass(frozen=True)
class JobMonitor:
    job: str
    datasets: Mapping[str, str] = field(default_factory=dict)
    decay: tuple[DecayRule, ...] = ()
    on_drift: str = "alert"  # alert | retrain
    retrain: str | None = None
    after_run: bool = True
    stage: str = "production"


@dataclass(frozen=True)
class Channel:
    type: str  # webhook | email
    options: Mapping[str, Any]

    @property
    def name(self) -> str:
        given = self.options.get("name")
        if given:
            return str(given)
        if self.type == "webhook":
            variable = self.options.get("url_env")
            return f"webhook ${variable}" if variable else f"webhook {self.options.get('url')}"
        return f"email {self.options.get('host')}"


@dataclass(frozen=True)
class AlertSettings:
    window: float = 6 * 3600.0
    retries: int = 3
    backoff: float = 0.5
    timeout: float = 5.0
    channels: tuple[Channel, ...] = ()


@dataclass(frozen=True)
class MonitorSettings:
    alpha: float = 0.01
    large: int = 1000
    threshold: float = 0.1
    grace: float = 3600.0
    failing_after: int = 3
    slow_factor: float = 3.0
    dashboard_url: str | None = None
    jobs: Mapping[str, JobMonitor] = field(default_factory=dict)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def job(self, name: str) -> JobMonitor:
        return self.jobs.get(name) or JobMonitor(job=name)


def duration(value: Any, where: str) -> float:
    """Seconds from a number or a text like ``90s``, ``30m``, ``6h``, ``2d``."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise SettingsError(f"{where} must be a duration such as 90, '30m', '6h' or '2d', "
                            f"got {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_monitor(table: Any) -> MonitorSettings:
    """Monitor settings from the raw ``[tool.nbprod.monitor]`` table (or None)."""
    if table is None:
        return MonitorSettings()
    if not isinstance(table, Mapping):
        raise SettingsError(f"{_WHERE} must be a table")
    _known(table, _KEYS, _WHERE)
    alpha = _number(table.get("alpha", 0.01), f"{_WHERE}.alpha", 0.0, 1.0)
    threshold = _number(table.get("threshold", 0.1), f"{_WHERE}.threshold", 0.0, None)
    large = int(_number(table.get("large", 1000), f"{_WHERE}.large", 1.0, None))
    failing = int(_number(table.get("failing_after", 3), f"{_WHERE}.failing_after", 1, None))
    slow = _number(table.get("slow_factor", 3.0), f"{_WHERE}.slow_factor", 1.0, None)
    url = table.get("dashboard_url")
    if url is not None and not isinstance(url, str):
        raise SettingsError(f"{_WHERE}.dashboard_url must be a URL")
    jobs = table.get("jobs", {})
    if not isinstance(jobs, Mapping):
        raise SettingsError(f"{_WHERE}.jobs must be a table of job names")
    return MonitorSettings(
        alpha=alpha, large=large, threshold=threshold,
        grace=duration(table.get("grace", 3600), f"{_WHERE}.grace"), failing_after=failing,
        slow_factor=slow, dashboard_url=url,
        jobs={str(name): _job(str(name), entry) for name, entry in jobs.items()},
        alerts=_alerts(table.get("alerts", {})))


def _job(name: str, entry: Any) -> JobMonitor:
    where = f"{_WHERE}.jobs.{name}"
    if not isinstance(entry, Mapping):
        raise SettingsError(f"{where} must be a table")
    _known(entry, _JOB_KEYS, where)
    datasets = entry.get("datasets", {})
    if not isinstance(datasets, Mapping) or not all(
            isinstance(v, str) for v in datasets.values()):
        raise SettingsError(f"{where}.datasets must map current dataset names to reference "
                            "dataset names")
    on_drift = entry.get("on_drift", "alert")
    if on_drift not in ("alert", "retrain"):
        raise SettingsError(f"{where}.on_drift must be \"alert\" or \"retrain\", got "
                            f"{on_drift!r}")
    retrain = entry.get("retrain")
    if retrain is not None and not isinstance(retrain, str):
        raise SettingsError(f"{where}.retrain must name a job")
    after_run = entry.get("after_run", True)
    stage = entry.get("stage", "production")
    if not isinstance(after_run, bool) or not isinstance(stage, str):
        raise SettingsError(f"{where}.after_run must be true or false and stage a stage name")
    return JobMonitor(job=name, datasets={str(k): v for k, v in datasets.items()},
                      decay=_decay(entry.get("decay", {}), f"{where}.decay"),
                      on_drift=on_drift, retrain=retrain, after_run=after_run, stage=stage)


def _decay(table: Any, where: str) -> tuple[DecayRule, ...]:
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where} must map metric names to the drop that is decay")
    rules = []
    for metric, rule in table.items():
        if isinstance(rule, Mapping):
            _known(rule, frozenset({"max_drop", "higher_is_better"}), f"{where}.{metric}")
            drop = _number(rule.get("max_drop", 0.0), f"{where}.{metric}.max_drop", 0.0, None)
            higher = rule.get("higher_is_better", True)
            if not isinstance(higher, bool):
                raise SettingsError(f"{where}.{metric}.higher_is_better must be true or false")
        else:
            drop, higher = _number(rule, f"{where}.{metric}", 0.0, None), True
        rules.append(DecayRule(str(metric), drop, higher))
    return tuple(rules)


def _alerts(table: Any) -> AlertSettings:
    where = f"{_WHERE}.alerts"
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where} must be a table")
    _known(table, _ALERT_KEYS, where)
    channels = table.get("channels", [])
    if not isinstance(channels, list):
        raise SettingsError(f"{where}.channels must be a list of channel tables")
    return AlertSettings(
        window=duration(table.get("window", "6h"), f"{where}.window"),
        retries=int(_number(table.get("retries", 3), f"{where}.retries", 1, 10)),
        backoff=_number(table.get("backoff", 0.5), f"{where}.backoff", 0.0, 60.0),
        timeout=_number(table.get("timeout", 5.0), f"{where}.timeout", 0.1, 120.0),
        channels=tuple(_channel(c, f"{where}.channels[{i}]") for i, c in enumerate(channels)))


def _channel(entry: Any, where: str) -> Channel:
    if not isinstance(entry, Mapping) or entry.get("type") not in _CHANNEL_KEYS:
        raise SettingsError(f"{where} must be a table with type = \"webhook\" or \"email\"")
    kind = str(entry["type"])
    _known(entry, _CHANNEL_KEYS[kind], where)
    if kind == "webhook":
        url, variable = entry.get("url"), entry.get("url_env")
        if (url is None) == (variable is None):
            raise SettingsError(f"{where} needs url, or url_env naming the environment "
                                "variable that holds it (for a secret Slack URL)")
        if url is not None and (not isinstance(url, str)
                                or not url.startswith(("http://", "https://"))):
            raise SettingsError(f"{where}.url must be an http(s) URL")
        if variable is not None and not isinstance(variable, str):
            raise SettingsError(f"{where}.url_env must name an environment variable")
        if entry.get("format", "json") not in ("json", "slack"):
            raise SettingsError(f"{where}.format must be \"json\" or \"slack\"")
    else:
        to = entry.get("to")
        if not isinstance(entry.get("host"), str) or not isinstance(entry.get("sender"), str) \
                or not isinstance(to, list) or not to or not all(isinstance(t, str) for t in to):
            raise SettingsError(f"{where} needs host, sender and a list of recipients (to)")
    return Channel(kind, dict(entry))


def _known(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            raise SettingsError(f"{where}: unknown setting '{key}'",
                                hint=f"did you mean '{close[0]}'?" if close else
                                f"known: {', '.join(sorted(known))}")


def _number(value: Any, where: str, low: float | None, high: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{where} must be a number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
        raise SettingsError(f"{where} must be {bounds}, got {value}")
    return float(value)
