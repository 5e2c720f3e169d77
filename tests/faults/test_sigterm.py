"""SIGTERM drains a real node: callers are warned, a transfer in flight finishes within the
grace period or is aborted the ZMODEM way (nothing kept), and the process exits in time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bbs.transfer.blocks import CANCEL_SEQUENCE
from tests.faults.callers import Call, call, payload, signed_in, sz_through
from tests.faults.checks import leftovers, stored_uploads
from tests.faults.node import UPLOADER, Node, copy_board

pytestmark = pytest.mark.e2e

GRACE = 1.0
EXIT_BOUND = 5.0
"""Seconds past the grace period within which the node must have exited."""


async def exit_status(node: Node, within: float) -> int:
    assert node.proc is not None
    proc = node.proc
    try:
        return await asyncio.wait_for(asyncio.to_thread(proc.wait), within)
    except TimeoutError:
        raise AssertionError(f"the node was still running {within} s after SIGTERM") from None


async def uploading(node: Node, folder: Path, name: str, size: int) -> Call:
    """A caller at the deposit screen whose terminal is about to send `name`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(payload(name, size))
    line = await signed_in(node.port, UPLOADER)
    await line.choose("GO SERVICES", "Votre choix (")
    line.type("UL Z\r")
    await line.expect("annuler.")
    return line


async def test_sigterm_aborts_a_long_upload_cleanly_and_warns_everyone(
    template: Path, tmp_path: Path
) -> None:
    node = Node(copy_board(template, tmp_path / "db"), tmp_path / "uploads", tmp_path / "log")
    node.grace = GRACE
    node.start()
    lines: list[Call] = []
    try:
        idle = await call(node.port)
        lines.append(idle)
        idle.type("INVITE\r")
        await idle.expect("Votre choix")
        size = 3 * 1024 * 1024
        sender = await uploading(node, tmp_path / "src", "long.bin", size)
        lines.append(sender)
        # 200 KB/s: 15 s of transfer, far longer than the grace period.
        heard = bytearray()
        transfer = asyncio.create_task(
            sz_through(sender, tmp_path / "src", "long.bin", rate=200_000, heard=heard)
        )
        await asyncio.sleep(1.0)
        assert not transfer.done(), "the upload ended before the signal"
        node.terminate()
        signalled = time.monotonic()
        await idle.expect("Le serveur s'arrete pour maintenance", GRACE + EXIT_BOUND)
        code = await asyncio.wait_for(transfer, GRACE + EXIT_BOUND + 5)
        assert code != 0, "sz believes the file went through"
        status = await exit_status(node, GRACE + EXIT_BOUND)
        took = time.monotonic() - signalled
        assert status == 0, node.tail()
        assert took < GRACE + EXIT_BOUND
        # Before hanging up, the board cancelled the transfer the protocols' way (CAN x5,
        # BS x5), then said why.
        cancel = heard.rfind(CANCEL_SEQUENCE)
        assert cancel >= 0, f"no CAN sequence before the hang-up: {bytes(heard[-200:])!r}"
        assert b"Le serveur s'arrete pour maintenance" in heard[cancel:]
        assert stored_uploads(node.uploads, {"long.bin": size}) == {}
        assert leftovers(node.uploads) == [], "the aborted upload left files behind"
    finally:
        for line in lines:
            line.close()
        node.kill()


async def test_sigterm_lets_a_short_upload_finish(template: Path, tmp_path: Path) -> None:
    node = Node(copy_board(template, tmp_path / "db"), tmp_path / "uploads", tmp_path / "log")
    node.grace = 3.0
    node.start()
    sender: Call | None = None
    try:
        size = 200_000
        sender = await uploading(node, tmp_path / "src", "short.bin", size)
        # 400 KB/s: half a second of transfer, well inside the grace period.
        transfer = asyncio.create_task(
            sz_through(sender, tmp_path / "src", "short.bin", rate=400_000)
        )
        await asyncio.sleep(0.1)
        node.terminate()
        assert await asyncio.wait_for(transfer, 10) == 0
        sender.consumed = 0
        await sender.expect("Transfert termine", 5)
        status = await exit_status(node, node.grace + EXIT_BOUND)
        assert status == 0, node.tail()
        kept = stored_uploads(node.uploads, {"short.bin": size})
        assert list(kept) == ["short.bin"]
        assert leftovers(node.uploads) == []
    finally:
        if sender is not None:
            sender.close()
        node.kill()
