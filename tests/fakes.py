"""A fake telnet link for session tests: inbound bytes from a queue, outbound into a buffer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bbs.session.link import Negotiated


class FakeLink:
    """Implements the Link protocol in memory, so sessions run without sockets."""

    def __init__(self, negotiated: Negotiated | None = None) -> None:
        self.peer = "fake:1"
        self.info = negotiated or Negotiated(telnet=True, binary_out=True, echo=True)
        self.inbound: asyncio.Queue[bytes] = asyncio.Queue()
        self.output = bytearray()
        self.closed = False
        self.resize_callbacks: list[Callable[[int, int], None]] = []
        self.answer_cpr: tuple[int, int] | None = None
        """When set, each cursor-position request is answered with this (row, col)."""
        self.column = 1
        self.binary = True
        self.transferring = False

    def negotiated(self) -> Negotiated:
        return self.info

    async def read(self, n: int) -> bytes:
        if self.closed and self.inbound.empty():
            return b""
        return await self.inbound.get()

    def write(self, data: bytes) -> None:
        self.output += data
        if self.answer_cpr is not None and b"\x1b[6n" in data:
            row, col = self.answer_cpr
            self.inbound.put_nowait(f"\x1b[{row};{col}R".encode())

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.inbound.put_nowait(b"")

    def is_closing(self) -> bool:
        return self.closed

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        self.resize_callbacks.append(callback)

    async def set_binary(self, on: bool) -> bool:
        before = self.binary
        self.binary = on
        return before

    def transfer_mode(self, on: bool) -> None:
        self.transferring = on

    # test helpers

    def type(self, data: bytes | str) -> None:
        """The caller types `data`."""
        self.inbound.put_nowait(data.encode("latin-1") if isinstance(data, str) else data)

    def resize(self, cols: int, rows: int) -> None:
        """The caller's window changes size."""
        for callback in self.resize_callbacks:
            callback(cols, rows)

    def take(self) -> bytes:
        """Everything sent so far, then forget it."""
        data = bytes(self.output)
        self.output.clear()
        return data
