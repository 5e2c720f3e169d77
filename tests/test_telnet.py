"""The telnet layer over real sockets: what the board asks for, refuses, and keeps of a client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bbs.session.link import Link, Negotiated
from bbs.telnet.server import start_server
from tests.telnet_client import (
    BINARY,
    DO,
    DONT,
    ECHO,
    IAC,
    MCCP2,
    NAWS,
    NEW_ENVIRON,
    SGA,
    TSPEED,
    TTYPE,
    WILL,
    Script,
    TelnetClient,
)


class Recorder:
    """A shell that notes what negotiation learned, then echoes a line and hangs up."""

    def __init__(self) -> None:
        self.seen: asyncio.Queue[Negotiated] = asyncio.Queue()
        self.resizes: list[tuple[int, int]] = []

    async def __call__(self, link: Link) -> None:
        link.on_resize(lambda cols, rows: self.resizes.append((cols, rows)))
        await self.seen.put(link.negotiated())
        data = await asyncio.wait_for(link.read(100), 5)
        link.write(b"got:" + data)
        await link.drain()


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, Recorder]]:
    recorder = Recorder()
    srv = await start_server("127.0.0.1", 0, recorder, connect_maxwait=1.5)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield port, recorder
    finally:
        srv.close()
        await srv.wait_closed()


async def test_negotiates_the_whole_set(server: tuple[int, Recorder]) -> None:
    port, recorder = server
    script = Script(ttypes=["SYNCTERM", "ANSI", "ANSI"], cols=100, rows=40, speed="38400,38400")
    client = await TelnetClient.connect(port, script)
    try:
        info = await asyncio.wait_for(recorder.seen.get(), 5)
        assert info.terminal_types == ("syncterm", "ansi")
        assert (info.cols, info.rows) == (100, 40)
        assert info.speed == "38400,38400"
        assert info.telnet and info.binary_out and info.echo
        sent = set(client.commands)
        for wanted in [
            (DO, TTYPE),
            (WILL, SGA),
            (WILL, ECHO),
            (WILL, BINARY),
            (DO, NAWS),
            (DO, TSPEED),
        ]:
            assert wanted in sent
        assert (DO, BINARY) in sent, "BINARY is asked for both ways"
    finally:
        client.close()


async def test_environ_values_are_cleaned_capped_and_never_trusted(
    server: tuple[int, Recorder],
) -> None:
    port, recorder = server
    # Under max_subnegotiation (4 KiB): a longer one closes the line.
    evil = "\x1b]52;c;ZWNobyBwd25lZA==\x07" + "A" * 3000
    script = Script(environ={"USER": "-f root", "EVIL": evil, "LANG": "fr_FR.UTF-8"})
    client = await TelnetClient.connect(port, script)
    try:
        info = await asyncio.wait_for(recorder.seen.get(), 5)
        assert (DO, NEW_ENVIRON) in client.commands
        for value in info.environ.values():
            assert len(value) <= 64
            assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in value)
        assert info.environ.get("USER") == "-f root"  # kept as a hint, never used to log in
        assert "\x1b" not in info.environ.get("EVIL", "")
    finally:
        client.close()


async def test_compression_is_refused(server: tuple[int, Recorder]) -> None:
    port, _ = server
    client = await TelnetClient.connect(port, Script())
    try:
        client.send(bytes([IAC, WILL, MCCP2]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while (DONT, MCCP2) not in client.commands and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert (DONT, MCCP2) in client.commands
    finally:
        client.close()


async def test_iac_is_doubled_both_ways(server: tuple[int, Recorder]) -> None:
    port, recorder = server
    client = await TelnetClient.connect(port, Script())
    try:
        await asyncio.wait_for(recorder.seen.get(), 5)
        client.send(b"a\xff\xffb")
        data = await client.wait_for(b"got:")
        await client.wait_for(b"b")
        assert data.endswith(b"got:a\xffb")
    finally:
        client.close()


async def test_window_change_reaches_the_session(server: tuple[int, Recorder]) -> None:
    port, recorder = server
    client = await TelnetClient.connect(port, Script(cols=80, rows=24))
    try:
        await asyncio.wait_for(recorder.seen.get(), 5)
        client.send(bytes([IAC, 250, NAWS, 0, 120, 0, 50, IAC, 240]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 3
        while not recorder.resizes and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert recorder.resizes[-1] == (120, 50)
    finally:
        client.close()


async def test_a_raw_tcp_client_still_gets_a_shell(server: tuple[int, Recorder]) -> None:
    port, recorder = server
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        info = await asyncio.wait_for(recorder.seen.get(), 5)
        assert not info.telnet and info.terminal_types == ()
    finally:
        writer.close()
