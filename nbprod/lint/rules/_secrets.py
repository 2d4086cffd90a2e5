"""Secret patterns shared by NBP302 (in cell sources) and NBP303 (in outputs).

Each pattern has cheap substring hints tested first, so text without any of them costs a
few ``in`` tests; only then does its regex run. Generic patterns (a password in a
connection string, a literal assigned to ``*_token``) skip obvious placeholders and any
span a specific pattern (a GitHub token...) already reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ._source import Hints, mentions


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str
    start: int  # offset in the text searched

    @property
    def redacted(self) -> str:
        """The first 4 characters and an ellipsis: enough to find it, not to use it."""
        return f"{self.value[:4]}…"


@dataclass(frozen=True)
class _Pattern:
    kind: str
    hints: tuple[str, ...]  # one must occur in the text (lower-cased when `folded`)
    regex: re.Pattern[str]
    group: int = 0  # the group holding the secret
    folded: bool = False
    generic: bool = False  # placeholders are skipped, specific matches win


_PATTERNS = (
    _Pattern("AWS access key id", ("AKIA", "ASIA"),
             re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")),
    _Pattern("AWS secret access key", ("secret_access_key", "secretaccesskey"),
             re.compile(r"aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?"
                        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])", re.IGNORECASE),
             group=1, folded=True),
    _Pattern("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
             re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])")),
    _Pattern("GitHub token", ("github_pat_",),
             re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{60,}")),
    _Pattern("Slack token", ("xox",),
             re.compile(r"(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}")),
    _Pattern("Google API key", ("AIza",),
             re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")),
    _Pattern("Stripe live key", ("_live_",),
             re.compile(r"(?<![A-Za-z0-9])(?:sk|rk)_live_[0-9A-Za-z]{16,}")),
    _Pattern("private key", ("PRIVATE KEY-----",),
             re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    _Pattern("password in a connection string", ("://",),
             re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]+:([^\s/@'\"]+)@[^\s/'\"]"),
             group=1, generic=True),
    _Pattern("secret assigned to a variable",
             ("passw", "secret", "token", "api_key", "apikey", "api-key"),
             re.compile(r"(?:password|passwd|secret|token|api[_-]?key)(?![A-Za-z0-9_])"
                        r"[\"']?\]?\s*(?::\s*[A-Za-z]+\s*)?[=:]\s*[rbuRBU]?"
                        r"([\"'])([^\"'\s]{8,})\1", re.IGNORECASE),
             group=2, folded=True, generic=True),
)

# Values that stand for a secret rather than being one.
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|\$\{?.*|\{.*\}|%.*|\*+|x+|\.+|•+)$"
    r"|xxx|\*\*\*|\.\.\.|…|change.?me|your|placeholder|redacted|dummy|example|sample|"
    r"replace|secret_?here|password|passwd|^none$|^null$|^/|://", re.IGNORECASE)


# Every hint of every pattern, lower-cased: text holding none of them holds no secret. A hint
# holding another ("secret_access_key", "secret") is left out: the shorter one answers.
_HINTS = frozenset(hint.lower() for pattern in _PATTERNS for hint in pattern.hints)
_ANY_HINT = Hints(tuple(sorted(hint for hint in _HINTS
                               if not any(other != hint and other in hint for other in _HINTS))))


def may_hold_secrets(text: str) -> bool:
    """A cheap test: False means :func:`find_secrets` finds nothing in ``text``."""
    return _ANY_HINT.any(text.lower())


def find_secrets(text: str) -> Iterator[Secret]:
    """The secrets in ``text``, in the order of the patterns (at most one per span)."""
    folded = text.lower()
    if not _ANY_HINT.any(folded):
        return
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        haystack = folded if pattern.folded else text
        if not mentions(haystack, pattern.hints):
            continue
        for match in pattern.regex.finditer(text):
            value = match.group(pattern.group)
            start, end = match.span(pattern.group)
            if pattern.generic and (_PLACEHOLDER.search(value) or
                                    any(s < end and start < e for s, e in taken)):
                continue
            taken.append((start, end))
            yield Secret(pattern.kind, value, start)
