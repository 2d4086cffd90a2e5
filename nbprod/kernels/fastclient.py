"""A kernel client that is ready as soon as its kernel is, not 0.2 s later.

jupyter_client's ``wait_for_ready`` ends by draining IOPub until 0.2 s pass without a message,
which costs every run 0.2 s once the kernel itself starts in milliseconds. This client stops
when the kernel's ``idle`` status answering its own ``kernel_info`` request arrives on IOPub:
that proves both channels are connected, and nothing older is left to drain. A spare kernel
that told its ``kernel_info`` ahead (:mod:`.greeting`) is not asked: its IOPub's welcome to
this client's subscription proves that channel live (the shell channel queues what is sent
on it until it connects).
"""

from __future__ import annotations

import math
import time
from queue import Empty
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient

from ..errors import KernelNotReady


class FastKernelClient(AsyncKernelClient):
    language_info: dict[str, Any] | None = None  # from the kernel_info reply that readied it

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = False,
                       hb: bool = False, control: bool = False) -> None:
        """Shell and IOPub only, unless asked: executing a notebook uses no other channel
        (nbclient answers no input requests; the kernel manager interrupts and shuts down
        through its own control socket and knows whether the kernel lives without the
        heartbeat, whose thread and socket cost every run a few milliseconds)."""
        import zmq

        # Connecting before the kernel has bound retries every 10 ms, not zmq's 100 ms.
        self.context.setsockopt(zmq.RECONNECT_IVL, 10)
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=hb, control=control)

    def stop_channels(self) -> None:
        """Stop the channels that were started (jupyter_client's would first create the
        others, connecting each, only to find them not running)."""
        for channel in (self._shell_channel, self._iopub_channel, self._stdin_channel,
                        self._hb_channel, self._control_channel):
            if channel is not None and channel.is_alive():
                channel.stop()
        if self._created_context and not self.context.closed:
            self.context.destroy(linger=100)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else math.inf)
        told = getattr(getattr(self.parent, "provisioner", None), "kernel_info", None)
        if isinstance(told, dict) and await self._welcomed(
                min(deadline, time.monotonic() + _WELCOME_WAIT)):
            # a spare that told its kernel_info ahead (.greeting): ready once IOPub is
            self._handle_kernel_info_reply({"content": told})
            self.language_info = told.get("language_info")
            return
        while True:
            msg_id = self.kernel_info()
            if await self._kernel_info_answered(msg_id, deadline):
                return
            if not await self._async_is_alive():
                raise KernelNotReady("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise KernelNotReady(f"Kernel didn't respond in {timeout:g} seconds")

    async def _welcomed(self, deadline: float) -> bool:
        """Whether the kernel's IOPub welcomed this client's subscription (ipykernel 7's
        ``iopub_welcome``, sent once the subscription is live) before ``deadline``."""
        while True:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return False
            try:
                msg = await self.iopub_channel.get_msg(timeout=wait)
            except Empty:
                return False
            if msg["msg_type"] == "iopub_welcome":
                return True

    async def _kernel_info_answered(self, msg_id: str, deadline: float) -> bool:
        reply: Any = None
        while reply is None:
            wait = min(1.0, max(0.0, deadline - time.monotonic()))
            try:
                msg = await self.shell_channel.get_msg(timeout=wait)
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
        # IOPub is a PUB/SUB pair: status messages published before our subscription reached
        # the kernel are lost. Wait briefly for this request's idle; if it does not come,
        # the caller asks again (a new request, a new idle) rather than waiting long.
        end = time.monotonic() + _IOPUB_WAIT
        while time.monotonic() < end:
            try:
                msg = await self.iopub_channel.get_msg(timeout=max(0.0, end - time.monotonic()))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id and \
                    msg["msg_type"] == "status" and \
                    msg["content"].get("execution_state") == "idle":
                self._handle_kernel_info_reply(reply)
                self.language_info = reply["content"].get("language_info")
                return True
        return False


_IOPUB_WAIT = 0.05
# A spare's welcome comes within milliseconds; past this, the kernel is asked as any other.
_WELCOME_WAIT = 1.0
