"""The connection edge of a live node, over raw sockets: admission limits, the sign-in grace,
the input budget, sub-negotiation and negotiation-loop limits, stalled readers, and PROXY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from bbs.telnet.proxy import v1_header, v2_header
from tests.e2e.harness import running_board
from tests.e2e.story import Line
from tests.telnet_client import IAC, SB, SE, Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

NOP, WILL, WONT = 241, 251, 252
ECHO_OPT, TM, NEW_ENVIRON = 1, 6, 39


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("edge")
    url = f"sqlite:///{folder / 'bbs.db'}"

    async def prepare() -> None:
        await upgrade(url)
        await load_dir(url, ROOT / "data")

    asyncio.run(prepare())
    return url


@pytest.fixture
def base(database: str, tmp_path: Path) -> Config:
    return replace(
        Config(),
        db=database,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        probe_timeout=0.3,
        connect_maxwait=0.5,
        shutdown_grace=0.1,
        upload_dir=str(tmp_path / "uploads"),
    )


@pytest.fixture
def edge_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING, logger="bbs.edge")
    yield caplog


def lines(caplog: pytest.LogCaptureFixture, *words: str) -> list[str]:
    """Structured edge lines holding every one of `words`."""
    found = [r.getMessage() for r in caplog.records if r.name == "bbs.edge"]
    return [m for m in found if all(w in m.split() for w in words)]


async def until(predicate: object, timeout: float = 5.0) -> None:
    """Wait until `predicate()` is true (polling), or fail."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.02)


async def raw(
    port: int, source: str = "127.0.0.1", rcvbuf: int = 0
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A plain TCP connection from `source` (any 127.x address works on loopback)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 5)
    return await asyncio.open_connection(sock=sock)


async def read_all(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """Everything until the server closes; fails if it stays open past `timeout`."""
    data = bytearray()
    async with asyncio.timeout(timeout):
        while chunk := await reader.read(65536):
            data += chunk
    return bytes(data)


async def is_closed(reader: asyncio.StreamReader, timeout: float = 5.0) -> bool:
    """Whether the server closes the line within `timeout` (reading whatever it sends)."""
    try:
        await read_all(reader, timeout)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def still_open(reader: asyncio.StreamReader, wait: float) -> bool:
    """Whether the line is still open after `wait` seconds of reading what comes."""
    return not await is_closed(reader, wait)


async def guest(port: int, script: Script | None = None) -> Line:
    """A scripted telnet caller signed in as a guest, at the index."""
    client = await TelnetClient.connect(port, script or Script(ttypes=["dumb"], rows=60))
    line = Line(client)
    await line.expect("Appuyez sur Entree")
    line.type("\r")
    await line.expect("Votre nom :")
    line.type("INVITE\r")
    await line.expect("Votre choix")
    return line


def close_all(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()


async def leave(held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    """Hang up `held` and wait until the board has let each go (it closes its side once
    it has released the line's place)."""
    for _, writer in held:
        writer.write_eof()

    async def gone(reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            await read_all(reader, 10)

    await asyncio.gather(*(gone(reader) for reader, _ in held))
    close_all([writer for _, writer in held])


# ---------------------------------------------------------------- admission


async def test_the_eleventh_connection_from_one_address_is_refused(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(base) as config:
        assert config.max_per_address == 10
        held = [await raw(config.port) for _ in range(10)]
        try:
            # The ten are admitted: telnet negotiation starts on each.
            for reader, _ in held:
                assert (await asyncio.wait_for(reader.read(3), 5))[:1] == bytes([IAC])
            reader, writer = await raw(config.port)
            said = await read_all(reader)
            assert (
                said == b"Trop de connexions depuis votre adresse / Too many connections "
                b"from your address\r\n"
            )
            writer.close()
            # Another address is not affected.
            other, other_writer = await raw(config.port, "127.0.0.2")
            assert (await asyncio.wait_for(other.read(3), 5))[:1] == bytes([IAC])
            other_writer.close()
            # One of the ten leaves: its place is free again.
            await leave(held[:1])
            again, again_writer = await raw(config.port)
            assert (await asyncio.wait_for(again.read(3), 5))[:1] == bytes([IAC])
            again_writer.close()
        finally:
            close_all([w for _, w in held])
    refused = lines(edge_log, "event=refused", "reason=max_per_address", "addr=127.0.0.1")
    assert len(refused) == 1
    assert f"node={config.node_label}" in refused[0]


async def test_the_201st_session_is_refused(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(replace(base, max_per_address=1000)) as config:
        assert config.max_sessions == 200
        held = [await raw(config.port, f"127.0.1.{n % 50 + 1}") for n in range(200)]
        try:
            reader, writer = await raw(config.port, "127.0.2.1")
            said = await read_all(reader)
            assert b"Board full, please try again later" in said and said.isascii()
            writer.close()
            # Their places are given back when they leave.
            await leave(held)
        finally:
            close_all([w for _, w in held])
        reader, writer = await raw(config.port, "127.0.2.1")
        assert (await asyncio.wait_for(reader.read(3), 5))[:1] == bytes([IAC])
        writer.close()
    assert lines(edge_log, "event=refused", "reason=max_sessions", "addr=127.0.2.1")


# ---------------------------------------------------------------- sign-in grace


async def test_a_slowloris_is_cut_at_the_grace_deadline(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(replace(base, login_grace=3.0)) as config:
        reader, writer = await raw(config.port)
        started = time.monotonic()
        received = bytearray()

        async def drain() -> None:
            while chunk := await reader.read(4096):
                received.extend(chunk)

        pump = asyncio.create_task(drain())
        try:
            # One byte a second: each would reset an idle timer, none moves the deadline.
            while not pump.done() and time.monotonic() - started < 8:
                with contextlib.suppress(ConnectionError):
                    writer.write(b"a")
                    await writer.drain()
                await asyncio.wait([pump], timeout=1.0)
            elapsed = time.monotonic() - started
        finally:
            pump.cancel()
            writer.close()
        assert pump.done(), "the line stayed open"
        assert 2.5 < elapsed < 5.0
        assert b"Sign-in took too long" in received
    assert lines(edge_log, "event=disconnected", "reason=login_grace", "addr=127.0.0.1")


async def test_the_grace_ends_with_sign_in(base: Config) -> None:
    async with running_board(replace(base, login_grace=3.0)) as config:
        line = await guest(config.port)
        try:
            await asyncio.sleep(3.5)
            line.type("GO INDEX\r")
            await line.expect("Votre choix")
        finally:
            line.close()


# ---------------------------------------------------------------- telnet abuse


async def test_a_subnegotiation_without_end_closes_the_line(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(replace(base, max_subnegotiation=1024)) as config:
        bystander = await guest(config.port)
        try:
            for payload in (b"A" * 8192, b"\xff\xff" * 4096):  # also IAC IAC pairs inside
                reader, writer = await raw(config.port)
                writer.write(bytes([IAC, SB, NEW_ENVIRON]) + payload)
                assert await is_closed(reader), "an endless SB was kept"
                writer.close()
            bystander.type("GO INDEX\r")
            await bystander.expect("Votre choix")
        finally:
            bystander.close()
    assert len(lines(edge_log, "event=disconnected", "reason=subnegotiation_too_long")) == 2


async def test_an_sb_under_the_cap_is_kept(base: Config) -> None:
    async with running_board(replace(base, max_subnegotiation=1024)) as config:
        # A long but legal terminal type: within the cap, the caller is served.
        line = await guest(config.port, Script(ttypes=["dumb" + "x" * 600], rows=60))
        line.close()


async def test_will_wont_ping_pong_is_damped_then_cut(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(replace(base, max_option_changes=10)) as config:
        reader, writer = await raw(config.port)
        received = bytearray()
        # NEW-ENVIRON flipped on and off: each WILL would earn a DO/SB, without damping.
        writer.write(bytes([IAC, WILL, NEW_ENVIRON, IAC, WONT, NEW_ENVIRON]) * 200)
        with contextlib.suppress(ConnectionError):
            received += await read_all(reader)
        writer.close()
        # Not one answer per flip: the requests SB SEND came a handful of times at most.
        assert received.count(bytes([IAC, SB, NEW_ENVIRON])) <= 10
    assert lines(edge_log, "event=disconnected", "reason=negotiation_loop")


async def test_repeated_requests_get_no_answer(base: Config) -> None:
    async with running_board(base) as config:
        reader, writer = await raw(config.port)
        try:
            # DO 150 names no option: refused once, then not answered again (nor counted a loop).
            writer.write(bytes([IAC, 253, 150]) * 50)
            # A timing mark after them: once its answer is in, every other answer is too.
            writer.write(bytes([IAC, 253, TM]))
            data = bytearray()
            async with asyncio.timeout(5):
                while bytes([IAC, WILL, TM]) not in data:
                    chunk = await reader.read(65536)
                    assert chunk, "the line was closed"
                    data += chunk
            assert data.count(bytes([IAC, WONT, 150])) == 1
            assert await still_open(reader, 0.3)
        finally:
            writer.close()


async def test_an_iac_nop_flood_is_throttled_then_cut_and_others_keep_working(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    limits = replace(base, input_commands_per_second=2000, flood_timeout=2.0)
    async with running_board(limits) as config:
        bystander = await guest(config.port)
        reader, writer = await raw(config.port)
        started = time.monotonic()
        sent = 0
        try:
            flood = bytes([IAC, NOP]) * 32768
            with contextlib.suppress(ConnectionError):
                while time.monotonic() - started < 10 and not reader.at_eof():
                    writer.write(flood)
                    sent += len(flood)
                    # A bystander's keystroke is answered promptly meanwhile.
                    begin = time.monotonic()
                    bystander.type("GO INDEX\r")
                    await bystander.expect("Votre choix", timeout=5)
                    assert time.monotonic() - begin < 1.0
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(writer.drain(), 0.3)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reader.read(65536), 0.01)
            elapsed = time.monotonic() - started
        finally:
            writer.close()
            bystander.close()
        assert reader.at_eof() or elapsed < 10, "the flood was never cut"
        assert elapsed < 8
    assert lines(edge_log, "event=disconnected", "reason=flood", "addr=127.0.0.1")


async def test_unsolicited_compression_start_is_not_inflated(base: Config) -> None:
    import zlib

    async with running_board(base) as config:
        line = await guest(config.port)
        try:
            bomb = zlib.compress(b"GO INDEX\r" * 100_000, 9)
            for option in (86, 87):  # MCCP2, MCCP3
                line.peer.send(bytes([IAC, SB, option, IAC, SE]) + bomb[:2000])  # type: ignore[union-attr]
            # Had the board inflated it, 100 000 index screens would come before the fax
            # menu's: input is read in order.
            line.type("\rGO FAX\r")
            await line.expect("Fax sur demande")
            assert line.transcript().count("Votre choix") < 20
        finally:
            line.close()


async def test_a_caller_who_stops_reading_is_cut_at_the_drain_timeout(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    limits = replace(base, drain_timeout=2.0, output_high_water=16 * 1024)
    async with running_board(limits) as config:
        bystander = await guest(config.port)
        # A small receive window set before connecting (after, autotuning has already grown it).
        reader, writer = await raw(config.port, rcvbuf=4096)
        client = TelnetClient(reader, writer, Script(ttypes=["dumb"], rows=60))
        line = Line(client)
        try:
            await line.expect("Appuyez sur Entree")
            line.type("\r")
            await line.expect("Votre nom :")
            line.type("INVITE\r")
            await line.expect("Votre choix")
            # Stop reading, and ask for screen after screen.
            client._task.cancel()
            for _ in range(3000):
                client.type("GO INDEX\r")
            await asyncio.sleep(0)
            await until(lambda: lines(edge_log, "event=disconnected", "reason=stalled"), timeout=30)
            bystander.type("GO INDEX\r")
            await bystander.expect("Votre choix")
        finally:
            client.writer.close()
            bystander.close()


# ---------------------------------------------------------------- PROXY protocol


async def proxied_guest(port: int, header: bytes) -> Line:
    """A guest whose connection starts with `header`, as HAProxy's would."""
    reader, writer = await raw(port)
    writer.write(header)
    client = TelnetClient(reader, writer, Script(ttypes=["dumb"], rows=60))
    line = Line(client)
    await line.expect("Appuyez sur Entree")
    line.type("\r")
    await line.expect("Votre nom :")
    line.type("INVITE\r")
    await line.expect("Votre choix")
    return line


@pytest.mark.parametrize("version", [1, 2])
async def test_a_node_behind_proxy_uses_the_header_address(
    base: Config, edge_log: pytest.LogCaptureFixture, version: int
) -> None:
    edge_log.set_level(logging.INFO, logger="bbs.board")
    src = ("203.0.113.7", 40007)
    header = v1_header(src, ("127.0.0.1", 2323)) if version == 1 else v2_header(src)
    limits = replace(base, proxy_protocol=True, max_per_address=1)
    async with running_board(limits) as config:
        line = await proxied_guest(config.port, header)
        try:
            # The header's address is the one counted: a second caller from it is refused,
            # though both come from HAProxy's own 127.0.0.1.
            reader, writer = await raw(config.port)
            writer.write(header)
            assert b"Too many connections" in await read_all(reader)
            writer.close()
        finally:
            line.close()
    assert lines(edge_log, "event=refused", "reason=max_per_address", "addr=203.0.113.7")
    board = [r.getMessage() for r in edge_log.records if r.name == "bbs.board"]
    assert any(m.startswith("203.0.113.7:40007 node ") for m in board), board


async def test_proxy_local_command_keeps_the_socket_address(base: Config) -> None:
    async with running_board(replace(base, proxy_protocol=True)) as config:
        line = await proxied_guest(config.port, v2_header(None))
        line.close()


async def test_proxy_headers_are_refused_from_untrusted_peers(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    limits = replace(base, proxy_protocol=True, trusted_proxies=("10.0.0.0/8",))
    async with running_board(limits) as config:
        reader, writer = await raw(config.port)
        writer.write(v1_header(("203.0.113.7", 1), ("127.0.0.1", 23)))
        assert await read_all(reader) == b""
        writer.close()
    assert lines(edge_log, "event=refused", "reason=untrusted_proxy", "addr=127.0.0.1")
    assert not lines(edge_log, "addr=203.0.113.7")


async def test_a_missing_or_bad_proxy_header_is_refused(
    base: Config, edge_log: pytest.LogCaptureFixture
) -> None:
    async with running_board(replace(base, proxy_protocol=True, proxy_timeout=0.5)) as config:
        # A telnet client talking straight to the node, past the proxy.
        reader, writer = await raw(config.port)
        writer.write(bytes([IAC, WILL, 24]))
        assert await read_all(reader) == b""
        writer.close()
        # Nothing at all: cut at the header deadline.
        reader, writer = await raw(config.port)
        started = time.monotonic()
        assert await read_all(reader) == b""
        assert time.monotonic() - started < 2
        writer.close()
    assert lines(edge_log, "event=refused", "reason=proxy_header", "addr=127.0.0.1")
    assert lines(edge_log, "event=refused", "reason=proxy_timeout", "addr=127.0.0.1")
