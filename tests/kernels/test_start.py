"""SupervisedKernelManager.start_kernel: jupyter_client's start without its 10 ms test pause,
its ``ready`` future still kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from jupyter_client.kernelspec import NoSuchKernel

from nbprod.execute.kernel import SupervisedKernelManager


def _manager(tmp_path: Path, kernel: str = "python3") -> SupervisedKernelManager:
    return SupervisedKernelManager(kernel_name=kernel, transport="ipc",
                                   ip=str(tmp_path / "kernel"))


def test_a_started_kernel_is_ready_and_answers(tmp_path: Path) -> None:
    async def start_and_ask() -> tuple[bool, str]:
        km = _manager(tmp_path)
        await km.start_kernel()
        try:
            ready = km.ready.done() and km.ready.exception() is None
            client = km.client()
            client.start_channels()
            await client.wait_for_ready(timeout=60)
            reply = await client.execute_interactive("x = 6 * 7", timeout=60)
            client.stop_channels()
            return ready, reply["content"]["status"]
        finally:
            await km.shutdown_kernel(now=True)

    ready, status = asyncio.run(start_and_ask())
    assert ready and status == "ok"


def test_a_kernel_that_cannot_start_fails_its_ready_future(tmp_path: Path) -> None:
    async def start() -> SupervisedKernelManager:
        km = _manager(tmp_path, "no-such-kernel-here")
        with pytest.raises(NoSuchKernel):
            await km.start_kernel()
        return km

    km = asyncio.run(start())
    assert km.ready.done() and isinstance(km.ready.exception(), NoSuchKernel)


def test_the_start_does_not_wait_for_jupyter_clients_test_pause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_client's in_pending_state sleeps 10 ms after every start; counted here by
    the sleeps of at least that long the start asks for."""
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def counted(delay: float, *args: object) -> object:
        if delay >= 0.01:
            pauses.append(delay)
        return await real_sleep(delay, *args)

    async def start() -> None:
        km = _manager(tmp_path)
        monkeypatch.setattr(asyncio, "sleep", counted)
        try:
            await km.start_kernel()
        finally:
            monkeypatch.setattr(asyncio, "sleep", real_sleep)
            await km.shutdown_kernel(now=True)

    asyncio.run(start())
    assert pauses == []
