"""What the XMODEM and YMODEM tests share: sinks into a folder, an in-memory line.

(These helpers live in a test module because the X/YMODEM tests own only
`test_xmodem*`/`test_ymodem*` files; the tests at the bottom check the helpers.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bbs.transfer.blocks import Timing
from bbs.transfer.channel import TransferError

FAST = Timing(start=3.0, reply=1.0, char=0.5, purge=0.05, retries=10)
"""Short waits for tests whose peer misbehaves on purpose."""


class FileSink:
    """A received file written beside its final name and renamed there on commit."""

    def __init__(self, path: Path, cap: int | None = None) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        self.cap = cap
        self.offset = 0
        self.written = 0
        self.state = "open"
        self._file = self.part.open("wb")

    def write(self, data: bytes) -> None:
        assert self.state == "open"
        if self.cap is not None and self.written + len(data) > self.cap:
            raise TransferError(f"{self.path.name} is over the {self.cap}-byte limit")
        self._file.write(data)
        self.written += len(data)

    def commit(self) -> None:
        assert self.state == "open"
        self._file.close()
        self.part.rename(self.path)
        self.state = "committed"

    def abort(self) -> None:
        assert self.state in ("open", "aborted")
        self._file.close()
        self.part.unlink(missing_ok=True)
        self.state = "aborted"


class FolderIncoming:
    """Received files go into `folder` under the name the sender gave."""

    def __init__(self, folder: Path, cap: int | None = None, refuse: frozenset[str] = frozenset()):
        self.folder = folder
        self.cap = cap
        self.refuse = refuse
        self.announced: list[tuple[str, int | None, int | None]] = []
        self.sinks: list[FileSink] = []

    def open(self, name: str, size: int | None, mtime: int | None) -> FileSink | None:
        self.announced.append((name, size, mtime))
        if name in self.refuse:
            return None
        sink = FileSink(self.folder / name, self.cap)
        self.sinks.append(sink)
        return sink


class MemoryChannel:
    """One end of an in-memory line; `mangle` may alter what this end sends."""

    def __init__(self, mangle: Callable[[bytes], bytes] | None = None) -> None:
        self.inbox = asyncio.StreamReader(limit=1 << 30)
        self.peer: MemoryChannel | None = None
        self.mangle = mangle
        self.sent = 0
        self.closed = False

    async def read(self, n: int, timeout: float) -> bytes:
        return await asyncio.wait_for(self.inbox.read(n), timeout)

    def write(self, data: bytes) -> None:
        assert self.peer is not None
        if self.closed or self.peer.closed:
            return
        self.sent += len(data)
        if self.mangle is not None:
            data = self.mangle(data)
        self.peer.inbox.feed_data(data)

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        """Hang up: the other end reads b"" once it has read what was sent before."""
        self.closed = True
        assert self.peer is not None
        with contextlib.suppress(Exception):
            self.peer.inbox.feed_eof()


def line(
    mangle_a: Callable[[bytes], bytes] | None = None,
    mangle_b: Callable[[bytes], bytes] | None = None,
) -> tuple[MemoryChannel, MemoryChannel]:
    """Two connected channel ends."""
    a, b = MemoryChannel(mangle_a), MemoryChannel(mangle_b)
    a.peer, b.peer = b, a
    return a, b


def padded(data: bytes, unit: int = 128) -> bytes:
    """What an XMODEM receiver keeps of `data`: SUB up to the next multiple of `unit`."""
    return data + b"\x1a" * (-len(data) % unit)


# --- the helpers themselves ----------------------------------------------------------


async def test_line_carries_bytes_both_ways_and_hangs_up() -> None:
    a, b = line()
    a.write(b"abc")
    assert await b.read(10, 1) == b"abc"
    b.write(b"x")
    assert await a.read(1, 1) == b"x"
    with pytest.raises(TimeoutError):
        await a.read(1, 0.01)
    a.close()
    assert await b.read(1, 1) == b""


def test_file_sink_keeps_only_committed_files(tmp_path: Path) -> None:
    kept = FileSink(tmp_path / "kept", cap=4)
    kept.write(b"1234")
    with pytest.raises(TransferError):
        kept.write(b"5")
    kept.commit()
    dropped = FileSink(tmp_path / "dropped")
    dropped.write(b"x")
    dropped.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert (tmp_path / "kept").read_bytes() == b"1234"
