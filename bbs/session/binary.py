"""A session's line as a raw 8-bit channel for file transfers, and back to text afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bbs.session.session import Session

DRAIN_LIMIT = 10.0
"""Most seconds to wait for the caller to take the transfer's last bytes."""
_QUEUE_CHUNKS = 32


class SessionChannel:
    """Raw bytes to and from the caller while a transfer runs (IAC handled by telnet)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(_QUEUE_CHUNKS)
        self._buffer = bytearray()
        self._eof = False
        self._unpaced = 0

    @property
    def queue(self) -> asyncio.Queue[bytes]:
        return self._queue

    async def read(self, n: int, timeout: float) -> bytes:
        """Up to `n` bytes; TimeoutError after `timeout`; b"" once the caller hung up."""
        if not self._buffer and not self._eof:
            chunk = await asyncio.wait_for(self._queue.get(), timeout)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
        if not self._buffer:
            return b""
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def discard_pending(self) -> bool:
        """Drop the bytes that came and were not read (protocol leftovers); whether the
        caller hung up meanwhile."""
        self._buffer.clear()
        while not self._queue.empty():
            if not self._queue.get_nowait():
                self._eof = True
        return self._eof

    def write(self, data: bytes) -> None:
        """Bytes to the caller; telnet doubles IAC on the way."""
        if not self._session.link.is_closing():
            self._session.flush()
            self._session.link.write(data)
            self._unpaced += len(data)

    async def drain(self) -> None:
        """Wait for the caller to take what was sent, and keep to the emulated modem speed."""
        await self._session.link.drain()
        baud = self._session.caps.baud
        if baud and self._unpaced:
            sent, self._unpaced = self._unpaced, 0
            await self._session.sleep(sent * 10 / baud)


@contextlib.asynccontextmanager
async def binary_line(session: Session) -> AsyncIterator[SessionChannel]:
    """The caller's line as a raw channel for the time of a transfer.

    BINARY is asked for both ways first and put back as it was after; input is then
    read raw. The protocol ends on the terminal's own last word (its ZFIN and "OO", the
    last ACK), so text may follow at once: nothing waits for a quiet line. What the
    terminal still sends of its protocol is dropped by the session as it comes
    (`Session.divert_bytes`), never read as menu keys.
    """
    session.flush()  # what was said before goes ahead of telnet commands and raw bytes
    before = await session.link.set_binary(True)
    session.link.transfer_mode(True)
    channel = SessionChannel(session)
    session.divert_bytes(channel.queue)
    try:
        yield channel
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.link.drain(), DRAIN_LIMIT)
        session.divert_bytes(None)
        hung_up = channel.discard_pending()
        session.link.transfer_mode(False)
        if not before and not hung_up:
            await session.link.set_binary(False)
