"""What a spare kernel says about itself before it is asked: its ``kernel_info`` reply.

A client readies a kernel by asking for ``kernel_info`` and waiting for the reply and for
the request's ``idle`` on IOPub (:mod:`.fastclient`): a round trip through the kernel's
shell-channel thread and main thread (4-5 ms of every run). A spare has initialized before
its run, so it writes the reply's content, and whether its IOPub greets a new subscriber
(ipykernel 7's XPUB socket sends ``iopub_welcome``), to a file in its private folder. The
client of a spare that wrote one only waits for the welcome, which proves its IOPub
subscription live, and takes the reply's content from the file; a spare that has not written
it yet (still initializing when its run came) is asked, as any other kernel is.

Standard library only: this runs in the template's children.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

_NAME = "greeting.json"


def write(folder: str, app: Any) -> None:
    """In an initialized spare: its greeting, in ``folder`` (best effort)."""
    with contextlib.suppress(Exception):
        import zmq

        iopub = app.iopub_thread
        welcomes = iopub.socket.getsockopt(zmq.TYPE) == zmq.XPUB and \
            getattr(iopub, "session", None) is not None and \
            hasattr(iopub, "_send_welcome_message")
        data = json.dumps({"kernel_info": app.kernel.kernel_info, "iopub_welcome": welcomes})
        tmp = os.path.join(folder, f".{_NAME}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(data)
        os.replace(tmp, os.path.join(folder, _NAME))


def read(connection: dict[str, Any]) -> dict[str, Any] | None:
    """The greeting of the spare with this connection information (its sockets' folder),
    if it wrote one and its IOPub welcomes subscribers; else None (ask the kernel)."""
    ip = connection.get("ip")
    if connection.get("transport") != "ipc" or not isinstance(ip, str):
        return None
    try:
        data = json.loads((Path(ip).parent / _NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    info = data.get("kernel_info")
    if not data.get("iopub_welcome") or not isinstance(info, dict) or \
            not isinstance(info.get("language_info"), dict) or \
            not isinstance(info.get("protocol_version"), str):
        return None
    return info
