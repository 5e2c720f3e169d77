"""What the ZMODEM tests share (no tests here): channels in memory, a noisy line, a
folder of received files. Named test_zmodem_* only so it sits with the files it serves."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path

from bbs.transfer.channel import TransferError
from bbs.transfer.zmodem_frames import Deframer, Encoder, Header

Tap = Callable[[bytes], bytes]


class MemoryChannel:
    """One end of an in-memory line: what one end writes, the other reads.

    `drain` holds the writer while the reader has more than `limit` bytes unread, like a
    full socket buffer. `tap` (if set) sees, and may alter, every byte written.
    """

    def __init__(self, limit: int = 256 * 1024) -> None:
        self.peer: MemoryChannel = self
        self.inbox = bytearray()
        self.written = bytearray()
        self.tap: Tap | None = None
        self.limit = limit
        self.closed = False
        self._arrived = asyncio.Event()
        self._taken = asyncio.Event()

    async def read(self, n: int, timeout: float) -> bytes:
        async with asyncio.timeout(timeout):
            while not self.inbox and not self.closed:
                self._arrived.clear()
                await self._arrived.wait()
        data = bytes(self.inbox[:n])
        del self.inbox[:n]
        self._taken.set()
        return data

    def write(self, data: bytes) -> None:
        self.written += data
        if self.tap is not None:
            data = self.tap(data)
        if self.peer.closed:
            return
        self.peer.inbox += data
        self.peer._arrived.set()

    async def drain(self) -> None:
        while len(self.peer.inbox) > self.limit and not self.peer.closed:
            self.peer._taken.clear()
            await self.peer._taken.wait()

    def hang_up(self) -> None:
        """Both ends see the line close."""
        for end in (self, self.peer):
            end.closed = True
            end._arrived.set()
            end._taken.set()


def channel_pair(limit: int = 256 * 1024) -> tuple[MemoryChannel, MemoryChannel]:
    a, b = MemoryChannel(limit), MemoryChannel(limit)
    a.peer, b.peer = b, a
    return a, b


class Noise:
    """Damages a byte stream: on average one byte in `every` is replaced by a random
    byte or dropped (half and half). Seeded, so a failure can be replayed."""

    def __init__(self, every: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.every = every
        self.hits = 0
        self._next = self._gap()

    def _gap(self) -> int:
        return int(self.rng.expovariate(1 / self.every))

    def __call__(self, data: bytes) -> bytes:
        if self._next >= len(data):
            self._next -= len(data)
            return data
        out = bytearray()
        start = 0
        while self._next < len(data) - start:
            at = start + self._next
            out += data[start:at]
            if self.rng.random() < 0.5:
                out.append(self.rng.randrange(256))
            start = at + 1
            self.hits += 1
            self._next = self._gap()
        self._next -= len(data) - start
        out += data[start:]
        return bytes(out)


class NoisyChannel:
    """Another channel (an lrzsz process, say) seen through noise both ways."""

    def __init__(self, inner: object, outbound: Tap, inbound: Tap) -> None:
        self.inner = inner
        self.outbound = outbound
        self.inbound = inbound

    async def read(self, n: int, timeout: float) -> bytes:
        data: bytes = await self.inner.read(n, timeout)  # type: ignore[attr-defined]
        return self.inbound(data) if data else data

    def write(self, data: bytes) -> None:
        self.inner.write(self.outbound(data))  # type: ignore[attr-defined]

    async def drain(self) -> None:
        await self.inner.drain()  # type: ignore[attr-defined]


class FolderSink:
    def __init__(self, path: Path, offset: int, cap: int | None) -> None:
        self.path = path
        self.offset = offset
        self.cap = cap
        self.state = "open"
        self._file = path.open("r+b" if offset else "wb")
        self._file.seek(offset)
        self._file.truncate()
        self.size = offset

    def write(self, data: bytes) -> None:
        if self.cap is not None and self.size + len(data) > self.cap:
            raise TransferError(f"{self.path.name} is larger than the {self.cap} bytes allowed")
        self._file.write(data)
        self.size += len(data)

    def commit(self) -> None:
        assert self.state == "open", self.state
        self._file.close()
        self.state = "committed"

    def abort(self) -> None:
        assert self.state == "open", self.state
        self._file.close()
        self.path.unlink()
        self.state = "aborted"


class Folder:
    """Received files land in a folder; some names skipped, some resumed, sizes capped."""

    def __init__(
        self,
        root: Path,
        *,
        skip: frozenset[str] = frozenset(),
        resume: bool = False,
        cap: int | None = None,
    ) -> None:
        self.root = root
        self.skip = skip
        self.resume = resume
        self.cap = cap
        self.offers: list[tuple[str, int | None, int | None]] = []
        self.sinks: dict[str, FolderSink] = {}

    def open(self, name: str, size: int | None, mtime: int | None) -> FolderSink | None:
        self.offers.append((name, size, mtime))
        if name in self.skip:
            return None
        path = self.root / Path(name).name
        offset = path.stat().st_size if self.resume and path.exists() else 0
        sink = FolderSink(path, offset, self.cap)
        self.sinks[name] = sink
        return sink


class Peer:
    """A scripted ZMODEM peer on one end of a memory line, for the cases real programs
    do not produce (hostile commands, CAN storms, silence)."""

    def __init__(self, channel: MemoryChannel, crc32: bool = True) -> None:
        self.channel = channel
        self.frames = Deframer()
        self.enc = Encoder(crc32=crc32)
        self.crc32 = crc32
        self.kinds: list[int] = []
        """The kind (ZHEX, ZBIN, ZBIN32) of each header read."""

    async def _more(self, timeout: float) -> None:
        data = await self.channel.read(1 << 16, timeout)
        if not data:
            raise EOFError("the line closed")
        self.frames.feed(data)

    async def header(self, timeout: float = 5.0) -> Header:
        async with asyncio.timeout(timeout):
            while (got := self.frames.header()) is None:
                await self._more(timeout)
        self.kinds.append(got[1])
        return got[0]

    async def expect(self, frame: int, timeout: float = 5.0) -> Header:
        """Headers until one of type `frame` (others are passed over)."""
        async with asyncio.timeout(timeout):
            while (header := await self.header(timeout)).type != frame:
                pass
        return header

    async def subpacket(self, timeout: float = 5.0) -> bytes:
        async with asyncio.timeout(timeout):
            while (got := self.frames.subpacket(self.crc32)) is None:
                await self._more(timeout)
        self.last_end = got.end
        return got.data

    async def bytes_in(self, at_least: int, timeout: float = 5.0) -> None:
        """Read (and throw away) until `at_least` bytes came."""
        seen = 0
        async with asyncio.timeout(timeout):
            while seen < at_least:
                data = await self.channel.read(1 << 16, timeout)
                if not data:
                    raise EOFError("the line closed")
                seen += len(data)

    def send(self, data: bytes) -> None:
        self.channel.write(data)
