"""Use case: what a user may do in a project, and the project as that user acts in it.

An interface that authenticates people itself (the server) asks :func:`permissions` before it
calls a use case, and runs the use case on :func:`acting_as`'s copy of the project so that run
records and audit rows name the authenticated user. The promotion use cases check roles again
themselves (the same ``[tool.nbprod.roles]``), so a check missed above is still refused here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import NotAllowed
from .project import Project
from .promotion import roles_of

# What an action needs; the server maps each request to one of these.
ACTIONS = ("view", "run", "approve", "promote", "admin")


@dataclass(frozen=True)
class Permissions:
    """What ``user`` may do: view, run (runs, job runs, builds), approve, promote per stage."""

    user: str
    view: bool
    run: bool
    approve: bool
    admin: bool
    promote_stages: frozenset[str] | None  # None: every stage

    def may_promote(self, stage: str) -> bool:
        return self.promote_stages is None or stage in self.promote_stages

    def allows(self, action: str, stage: str | None = None) -> bool:
        """Whether ``action`` (one of :data:`ACTIONS`) is allowed, for ``stage`` if given."""
        if action == "promote":
            return self.view and (self.may_promote(stage) if stage is not None
                                  else self.promote_stages is None or bool(self.promote_stages))
        return bool({"view": self.view, "run": self.run, "approve": self.approve,
                     "admin": self.admin}.get(action, False))

    def require(self, action: str, stage: str | None = None) -> None:
        """Raise :class:`NotAllowed` unless ``action`` is allowed."""
        if not self.allows(action, stage):
            what = f"{action} {stage}" if stage else action
            raise NotAllowed(f"{self.user} may not {what} in this project",
                             hint="ask an admin to add you to [tool.nbprod.roles]")

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "view": self.view, "run": self.run,
                "approve": self.approve, "admin": self.admin,
                "promote": sorted(self.promote_stages) if self.promote_stages is not None
                else "*"}


def permissions(project: Project, user: str) -> Permissions:
    """``user``'s permissions from ``[tool.nbprod.roles]`` (everything when it is absent,
    except forcing past failed gates). A stage the table's ``promote`` omits is for admins."""
    roles = roles_of(project)
    view = roles.may_view(user)
    if not roles.configured or roles.is_admin(user):
        promote: frozenset[str] | None = None
    else:
        promote = frozenset(s for s in roles.promote if roles.may_promote(user, s))
    return Permissions(user=user, view=view, run=view and roles.may_run(user),
                       approve=view and roles.may_approve(user),
                       admin=roles.is_admin(user) if roles.configured else False,
                       promote_stages=promote if view else frozenset())


def acting_as(project: Project, user: str) -> Project:
    """The same open project (registry, store, settings) with ``user`` as the one acting."""
    return dataclasses.replace(project, user=user)
