"""YMODEM-G from our sender. lrzsz's `rb` never asks with G, so the receiver here is
ours (itself checked against `sb`'s -G streaming in test_ymodem_lrzsz.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from bbs.transfer.channel import Cancelled, OutFile, TransferError
from bbs.transfer.ymodem import ymodem_receive, ymodem_send
from tests.transfer.peers import every_byte, finished, lrzsz, sha256
from tests.transfer.test_xmodem_failures import Interrupting, both, corrupt_blocks
from tests.transfer.test_xmodem_support import FAST, FolderIncoming, line

SIZES = [0, 1, 127, 128, 1023, 1024, 1025, 1 << 20, 10 << 20]


def _files(folder: Path, sizes: list[int]) -> list[OutFile]:
    folder.mkdir()
    files = []
    for size in sizes:
        path = folder / f"file{size}.bin"
        path.write_bytes(every_byte(size))
        os.utime(path, (700_000_000, 700_000_000))
        files.append(OutFile(path.name, path))
    return files


@pytest.mark.parametrize("g", [False, True], ids=["ymodem", "ymodem-g"])
@pytest.mark.parametrize("size", SIZES)
async def test_ours_to_ours(tmp_path: Path, size: int, g: bool) -> None:
    files = _files(tmp_path / "out", [size])
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox)
    sender_end, receiver_end = line()
    started = time.monotonic()
    sent, names = await both(
        ymodem_send(sender_end, files), ymodem_receive(receiver_end, incoming, g=g)
    )
    print(f"us -> us{' (G)' if g else ''} {size} bytes: {time.monotonic() - started:.2f} s")
    assert sent == size
    assert names == [files[0].name]
    assert incoming.announced == [(files[0].name, size, 700_000_000)]
    assert sha256(inbox / files[0].name) == sha256(files[0].path)
    if g:
        # Streaming: the receiver only said G; ACK G (header); ACK (EOT); G; ACK (end).
        assert receiver_end.sent == 6


async def test_a_g_batch(tmp_path: Path) -> None:
    files = _files(tmp_path / "out", [0, 1, 1025, 70_000, 1023])
    inbox = tmp_path / "in"
    inbox.mkdir()
    sender_end, receiver_end = line()
    sent, names = await both(
        ymodem_send(sender_end, files), ymodem_receive(receiver_end, FolderIncoming(inbox), g=True)
    )
    assert sent == 0 + 1 + 1025 + 70_000 + 1023
    assert names == [f.name for f in files]
    for f in files:
        assert sha256(inbox / f.name) == sha256(f.path)


async def test_any_error_ends_a_g_transfer(tmp_path: Path) -> None:
    """-G cannot ask for a block again: one damaged block cancels, and the receiver
    says why; the file in progress is not kept, the one before is."""
    files = _files(tmp_path / "out", [3000, 5000])
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox)
    # Writes of 100+ bytes: header 1, 3 data blocks, header 2, then file 2's blocks.
    sender_end, receiver_end = line(mangle_a=corrupt_blocks(lambda n: n == 7))
    sent, names = await both(
        ymodem_send(sender_end, files, timing=FAST),
        ymodem_receive(receiver_end, incoming, g=True, timing=FAST),
    )
    assert isinstance(names, TransferError)
    assert "YMODEM-G" in str(names) and "CRC error" in str(names)
    assert isinstance(sent, Cancelled)
    assert [s.state for s in incoming.sinks] == ["committed", "aborted"]
    assert sorted(p.name for p in inbox.iterdir()) == [files[0].name]


async def test_sb_cancelling_a_g_stream(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(every_byte(10 << 20))
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox)
    async with lrzsz("sb", "big.bin", cwd=tmp_path) as channel:
        with pytest.raises(Cancelled):
            await asyncio.wait_for(
                ymodem_receive(Interrupting(channel, 200_000), incoming, g=True), 30
            )
        code, err = await finished(channel)
    assert code == 128 + signal.SIGINT, err
    assert [s.state for s in incoming.sinks] == ["aborted"]
    assert list(inbox.iterdir()) == []
