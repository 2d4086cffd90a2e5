"""Who is acting, and what jupyter_server lets them reach.

The acting user is always jupyter_server's authenticated user, never a header or a request
field:

- a single-user server (JupyterLab with its token or password): whoever holds the token is the
  server's owner, so the acting user is the operating-system user running the server;
- JupyterHub, or any other identity provider: the user it authenticated (``username``);
- ``nbprod serve``: :class:`NbprodIdentityProvider`: the server's own token is its owner, and the
  users declared in ``[tool.nbprod.server.users]`` log in with their own tokens, kept there only
  as hashes (``nbprod serve --new-token NAME`` makes one)::

      [tool.nbprod.server.users]
      alice = "argon2:$argon2id$v=19$m=10240,t=10,p=8$..."

Roles (``[tool.nbprod.roles]``) then say what each user may do. Under ``nbprod serve``,
:class:`NbprodAuthorizer` answers jupyter_server's ``@authorized`` checks: resource ``nbprod``
by role, and every other Jupyter resource (kernels, terminals, contents, sessions) is refused.
"""

from __future__ import annotations

import asyncio
import getpass
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from jupyter_server.auth import security
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.auth.identity import (
    IdentityProvider,
    LegacyIdentityProvider,
    PasswordIdentityProvider,
    User,
)

RESOURCE = "nbprod"
_SINGLE_USER = (IdentityProvider, PasswordIdentityProvider, LegacyIdentityProvider)
# Jupyter resources a dashboard user may read under `nbprod serve` (server status, identity).
_PUBLIC_READ = frozenset({"api"})


def owner() -> str:
    """The operating-system user running this server."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def acting_user(handler: Any, user: User) -> str:
    """The nbprod user name for jupyter_server's authenticated ``user`` (module docstring)."""
    if type(handler.identity_provider) in _SINGLE_USER:
        return owner()
    return str(user.username)


class NbprodIdentityProvider(IdentityProvider):
    """The server's token (its owner) and the declared users' own tokens (module docstring).

    A token that matched once is remembered by its SHA-256 (an argon2 check costs ~0.15 s;
    ``--new-token`` writes salted SHA-256 hashes, enough for a random 256-bit token); a user
    removed from the settings loses access at once, cookie or not.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._verified: dict[str, str] = {}
        # user name -> hashed token; the app points this at the project's settings
        # ([tool.nbprod.server.users]), re-read when they change.
        self.declared: Callable[[], Mapping[str, str]] = dict

    async def get_user_token(self, handler: Any) -> User | None:
        token = self.get_token(handler)
        if not token:
            return None
        known = self._known(token)
        if known is not None:
            return known
        # Checking hashes can be slow (argon2): never on the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, self.user_for_token,
                                                                token)

    def _known(self, token: str) -> User | None:
        if self.token and hmac.compare_digest(token.encode(), str(self.token).encode()):
            return _user(owner())
        name = self._verified.get(hashlib.sha256(token.encode()).hexdigest())
        return _user(name) if name is not None and name in self.declared() else None

    def user_for_token(self, token: str) -> User | None:
        """The user a token belongs to, if any."""
        known = self._known(token)
        if known is not None:
            return known
        key = hashlib.sha256(token.encode()).hexdigest()
        for name, hashed in self.declared().items():
            if _passwd_check(hashed, token):
                self._verified[key] = name
                return _user(name)
        return None

    def get_user_cookie(self, handler: Any) -> Any:
        user = super().get_user_cookie(handler)
        if isinstance(user, User) and user.username != owner() and \
                user.username not in self.declared():
            return None  # no longer declared
        return user

    def process_login_form(self, handler: Any) -> User | None:
        typed = handler.get_argument("password", default="")
        return self.user_for_token(typed) if typed else None

    @property
    def login_available(self) -> bool:
        return True


def _passwd_check(hashed: str, token: str) -> bool:
    """jupyter_server's check of a token against its hash (argon2, or salted sha)."""
    return bool(security.passwd_check(hashed, token))  # type: ignore[no-untyped-call]


def _user(name: str) -> User:
    return User(username=name, name=name, display_name=name)


class NbprodAuthorizer(Authorizer):
    """``nbprod`` for anyone with a role; nothing else Jupyter serves (module docstring)."""

    def is_authorized(self, handler: Any, user: User, action: str, resource: str) -> bool:
        if resource != RESOURCE:
            return resource in _PUBLIC_READ and action == "read"
        app = handler.settings.get(RESOURCE)
        if app is None:
            return False
        # Anyone with a role gets past this gate; each method then requires its own role
        # (@requires: run, approve, promote...), which says precisely what is missing and
        # lets promotion refusals reach the audit log.
        return bool(app.permissions(acting_user(handler, user)).view)
