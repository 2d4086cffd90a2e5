"""The per-user runtime folder for nbprod's sockets, and who may talk over them.

The warm nbprod (``cli/warm.py``) receives a command's whole environment and its terminal's
file descriptors over a Unix socket, and a kernel template (``kernels/forkserver.py``) forks
kernels with the environment it is sent. Both sockets live in ``$XDG_RUNTIME_DIR/nbprod-UID``
(or ``/tmp/nbprod-UID`` without ``XDG_RUNTIME_DIR``). In a shared ``/tmp`` another local user
could create that folder first, or a symbolic link by that name, and collect what is sent. So
the folder is created mode 0700 and then checked with ``lstat``: a folder (not a symbolic
link), owned by this user, mode exactly 0700. Anything else is :class:`UnsafeRuntimeDir`, and
the callers fall back to what needs no socket (the command runs in its own process, the
kernel is a plain one) after saying why. Servers also check the peer of every connection
(``SO_PEERCRED``) before reading a byte, and clients check the server's.

Standard library only: the ``nbprod`` launcher imports it on every command.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
from collections.abc import Mapping
from pathlib import Path

from .errors import InfraError


class UnsafeRuntimeDir(InfraError):
    """The runtime folder is not private to this user: its sockets are not used."""


def runtime_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The verified private folder (created 0700 if missing); raises UnsafeRuntimeDir."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_RUNTIME_DIR")
    if not base:
        base = temp_dir(env)
    folder = Path(base) / f"nbprod-{os.getuid()}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UnsafeRuntimeDir(f"cannot create the runtime folder {folder}: "
                               f"{exc.strerror or exc}",
                               hint="set XDG_RUNTIME_DIR to a folder of your own") from None
    else:
        os.chmod(folder, 0o700)  # ours, just made: the umask may have removed owner bits
    check_private(folder)
    return folder


def temp_dir(env: Mapping[str, str]) -> str:
    """:func:`tempfile.gettempdir`'s folder without importing :mod:`tempfile` (which loads
    ``random``, ``hashlib`` and ``shutil``: a tenth of a quick command): the first of
    ``$TMPDIR``, ``$TEMP``, ``$TMP``, ``/tmp``, ``/var/tmp``, ``/usr/tmp`` that is a folder this
    user may create files in, else the working folder."""
    for candidate in (env.get("TMPDIR"), env.get("TEMP"), env.get("TMP"),
                      "/tmp", "/var/tmp", "/usr/tmp"):
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return os.path.abspath(candidate)
    return os.getcwd()


def check_private(folder: Path) -> None:
    """Raise UnsafeRuntimeDir unless ``folder`` is a real folder of ours with mode 0700."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        raise UnsafeRuntimeDir(f"cannot inspect the runtime folder {folder}: "
                               f"{exc.strerror or exc}") from None
    fix = "remove it (or set XDG_RUNTIME_DIR to a folder of your own); nbprod makes it again"
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeRuntimeDir(f"the runtime folder {folder} is a symbolic link", hint=fix)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeRuntimeDir(f"the runtime folder {folder} is not a folder", hint=fix)
    if info.st_uid != os.getuid():
        raise UnsafeRuntimeDir(f"the runtime folder {folder} is owned by uid {info.st_uid}, "
                               f"not by you (uid {os.getuid()})", hint=fix)
    mode = stat.S_IMODE(info.st_mode)
    if mode != 0o700:
        raise UnsafeRuntimeDir(f"the runtime folder {folder} has mode {mode:04o}, not 0700",
                               hint=f"chmod 700 {folder}, or {fix}")


_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(conn: socket.socket) -> int:
    """The user id of the process at the other end of a connected Unix socket."""
    _pid, uid, _gid = _CRED.unpack(
        conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    return int(uid)


def same_user(conn: socket.socket) -> bool:
    """Whether the peer of ``conn`` runs as this process's user (never raises)."""
    try:
        return peer_uid(conn) == os.getuid()
    except (OSError, struct.error):
        return False
