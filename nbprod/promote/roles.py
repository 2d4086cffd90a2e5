"""``[tool.nbprod.roles]``: who may see, run, promote to which stage, approve, administer.

```toml
[tool.nbprod.roles]
admins = ["alice"]                       # may do anything, and --force past failed gates
approvers = ["dave", "erin"]             # may approve versions (never their own build)
promote = { dev = ["*"], staging = ["*"], production = ["carol"] }
runners = ["bob"]                        # may start runs and job runs, and build (server)
viewers = ["*"]                          # may read runs, jobs and the audit (server)
```

Without a roles table everyone may promote and approve (never their own build), and nobody
may force. With one, a stage missing from ``promote`` is for admins only. ``viewers`` and
``runners`` are checked by the server (``nbprod serve``, ``/nbprod`` in JupyterLab): anyone named
in any role may view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingsError

_KEYS = frozenset({"admins", "approvers", "promote", "runners", "viewers"})


@dataclass(frozen=True)
class Roles:
    configured: bool = False
    admins: frozenset[str] = frozenset()
    approvers: frozenset[str] = frozenset()
    promote: Mapping[str, frozenset[str]] = field(default_factory=dict)
    runners: frozenset[str] = frozenset()
    viewers: frozenset[str] = frozenset()

    @classmethod
    def from_table(cls, table: Any, where: str = "[tool.nbprod.roles]") -> Roles:
        if table is None or table == {}:
            return cls()
        if not isinstance(table, dict):
            raise SettingsError(f"{where} must be a table")
        unknown = set(table) - _KEYS
        if unknown:
            raise SettingsError(f"{where}: unknown setting '{sorted(unknown)[0]}'",
                                hint=f"known: {', '.join(sorted(_KEYS))}")
        promote = table.get("promote", {})
        if not isinstance(promote, dict):
            raise SettingsError(f"{where}.promote must map stages to lists of users")
        return cls(configured=True, admins=_users(table.get("admins", []), f"{where}.admins"),
                   approvers=_users(table.get("approvers", []), f"{where}.approvers"),
                   promote={str(stage): _users(users, f"{where}.promote.{stage}")
                            for stage, users in promote.items()},
                   runners=_users(table.get("runners", []), f"{where}.runners"),
                   viewers=_users(table.get("viewers", []), f"{where}.viewers"))

    def is_admin(self, user: str) -> bool:
        return _member(user, self.admins)

    def may_promote(self, user: str, stage: str) -> bool:
        if not self.configured or self.is_admin(user):
            return True
        return _member(user, self.promote.get(stage, frozenset()))

    def may_approve(self, user: str) -> bool:
        if not self.configured:
            return True
        return self.is_admin(user) or _member(user, self.approvers)


    def may_run(self, user: str) -> bool:
        """Start runs and job runs, build job versions."""
        if not self.configured:
            return True
        return self.is_admin(user) or _member(user, self.runners)

    def may_view(self, user: str) -> bool:
        """Read runs, jobs, stages and the audit: anyone the table names in any role."""
        if not self.configured:
            return True
        named = (self.viewers, self.runners, self.approvers, self.admins,
                 *self.promote.values())
        return any(_member(user, users) for users in named)


def _member(user: str, users: frozenset[str]) -> bool:
    return "*" in users or user in users


def _users(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(u, str) for u in value):
        raise SettingsError(f"{where} must be a list of user names (\"*\" for everyone)")
    return frozenset(value)
