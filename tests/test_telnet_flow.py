"""Flow control of the board's telnet protocol: reading held back for several reasons,
writing paused and resumed by asyncio, and drain() following the writing flag alone."""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
from dataclasses import replace
from typing import Any

import telnetlib3

from bbs.config import Config
from bbs.telnet.server import BoardTelnetServer, BoardWriter, Edge


class Line(asyncio.Transport):
    """A transport that records pauses of reading and what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.9", 4000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def connected() -> tuple[BoardTelnetServer, Line]:
    protocol = BoardTelnetServer(
        encoding=False,
        connect_maxwait=0.05,
        timeout=0,
        compression=False,
        writer_factory=BoardWriter,
    )
    protocol.edge = Edge(replace(Config(), drain_timeout=30.0))
    line = Line()
    protocol.connection_made(line)
    return protocol, line


async def test_writing_paused_and_resumed_while_reading_is_held_does_not_crash() -> None:
    protocol, line = connected()
    try:
        protocol.pause("budget")
        assert not line.reading
        protocol.pause_writing()
        protocol.resume_writing()
        # Once asyncio has paused and resumed writing, reading can still be held and let go.
        protocol.pause("reader")
        protocol.data_received(b"still here")
        protocol.resume("budget")
        assert not line.reading
        protocol.resume("reader")
        assert line.reading
        protocol.pause_writing()
        protocol.pause("budget")
        protocol.resume_writing()
        assert not line.reading
        protocol.resume("budget")
        assert line.reading
    finally:
        protocol.connection_lost(None)


async def test_drain_follows_writing_not_reading() -> None:
    protocol, _ = connected()
    assert protocol.writer is not None
    try:
        # Reading held back: the line still takes data, so drain() returns at once.
        protocol.pause("budget")
        await asyncio.wait_for(protocol.writer.drain(), 1)
        protocol.pause_writing()
        waiting = asyncio.ensure_future(protocol.writer.drain())
        await asyncio.sleep(0)
        assert not waiting.done()
        protocol.resume_writing()
        await asyncio.wait_for(waiting, 1)
    finally:
        protocol.connection_lost(None)


def _assigned(cls: type) -> set[str]:
    """Names a class defines or assigns on `self` anywhere in its methods."""
    names = set(vars(cls)) - {"__module__", "__doc__", "__qualname__", "__annotations__"}
    names -= {n for n, v in vars(cls).items() if inspect.isfunction(v)}
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            names.add(node.attr)
    return names


def _theirs(base: type, instance: object) -> set[str]:
    names = set(vars(instance))
    for cls in base.__mro__:
        names |= set(vars(cls))
    return names


async def test_our_state_shadows_nothing_of_telnetlib3_or_asyncio() -> None:
    """Our protocol and writer keep their state under names the libraries do not use (the
    reasons reading is held once shadowed asyncio's writing-paused flag)."""
    bare = telnetlib3.TelnetServer(encoding=False, connect_maxwait=0.05, timeout=0)
    bare.connection_made(Line())
    try:
        assert bare.writer is not None
        assert not _assigned(BoardTelnetServer) & _theirs(telnetlib3.TelnetServer, bare)
        assert not _assigned(BoardWriter) & _theirs(telnetlib3.TelnetWriter, bare.writer)
    finally:
        bare.connection_lost(None)
