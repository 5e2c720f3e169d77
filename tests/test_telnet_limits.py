"""The edge's limits in small: token buckets, admission counts, the structured log line, the
new configuration fields, and the telnet protocol's budgets over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from bbs.config import Config, load_config
from bbs.errors import UsageError
from bbs.session.link import Link, Negotiated
from bbs.telnet.limits import Admission, TokenBucket, count_commands, log_event
from bbs.telnet.server import MAX_VALUE, start_server
from bbs.terminal.caps import MAX_COLS, MAX_ROWS
from tests.telnet_client import BINARY, IAC, NAWS, SB, SE, Script, TelnetClient

IS = 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_runs_into_debt_and_says_how_long_to_wait() -> None:
    clock = FakeClock()
    bucket = TokenBucket(100, 200, clock)
    assert bucket.charge(150) == 0
    assert bucket.charge(100) == pytest.approx(0.5)  # 50 in debt at 100 a second
    clock.now += 0.5
    assert bucket.available() == pytest.approx(0)
    clock.now += 10
    assert bucket.available() == 200  # never more than the capacity


def test_admission_counts_and_releases() -> None:
    admission = Admission(max_sessions=3, max_per_address=2)
    assert admission.admit("a") == "" and admission.admit("a") == ""
    assert admission.admit("a") == "max_per_address"
    assert admission.admit("b") == ""
    assert admission.admit("c") == "max_sessions"
    admission.release("a")
    assert admission.admit("c") == ""
    for addr in ("a", "b", "c"):
        admission.release(addr)
    assert admission.total == 0 and admission.by_address == {}


@pytest.mark.parametrize(
    ("data", "commands"),
    [
        (b"hello", 0),
        (b"\xff\xf1" * 10, 10),  # IAC NOP
        (b"\xff\xff" * 10, 0),  # data 0xFF, doubled
        (b"a\xff\xffb\xff\xfb\x01", 1),  # data 0xFF then IAC WILL ECHO
        (b"\xff\xff\xff\xf6", 1),  # data 0xFF then IAC AYT
    ],
)
def test_commands_are_counted_per_chunk(data: bytes, commands: int) -> None:
    assert count_commands(data) == commands


def test_the_log_line_is_one_line_of_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bbs.edge")
    log_event("refused", "max_per_address", addr="1.2.3.4 event=forged\nx", node=3, extra="a b")
    (record,) = caplog.records
    message = record.getMessage()
    assert "\n" not in message
    fields = dict(part.split("=", 1) for part in message.split(" "))
    assert fields == {
        "event": "refused",
        "reason": "max_per_address",
        "addr": "1.2.3.4_event=forged_x",
        "node": "3",
        "extra": "a_b",
    }


def test_config_fields_from_the_environment() -> None:
    config = load_config(
        environ={
            "BBS_PROXY_PROTOCOL": "true",
            "BBS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
            "BBS_MAX_SESSIONS": "50",
            "BBS_MAX_PER_ADDRESS": "3",
            "BBS_LOGIN_GRACE": "30",
            "BBS_MAX_SUBNEGOTIATION": "2048",
            "BBS_INPUT_BYTES_PER_SECOND": "100000",
            "BBS_INPUT_COMMANDS_PER_SECOND": "300",
            "BBS_OUTPUT_HIGH_WATER": "32768",
            "BBS_DRAIN_TIMEOUT": "20",
        }
    )
    assert config.proxy_protocol is True
    assert config.trusted_proxies == ("10.0.0.0/8", "192.168.1.1")
    assert (config.max_sessions, config.max_per_address, config.login_grace) == (50, 3, 30.0)
    assert config.max_subnegotiation == 2048 and config.output_high_water == 32768
    defaults = Config()
    assert defaults.proxy_protocol is False
    assert defaults.trusted_proxies == ("127.0.0.1/32", "::1/128")
    assert (defaults.max_sessions, defaults.max_per_address) == (200, 10)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BBS_PROXY_PROTOCOL": "maybe"}, "proxy_protocol must be true or false"),
        ({"BBS_TRUSTED_PROXIES": "10.0.0.0/8,nowhere"}, "'nowhere' is not an address"),
        ({"BBS_MAX_SESSIONS": "0"}, "max_sessions must be greater than 0"),
        ({"BBS_MAX_SUBNEGOTIATION": "10"}, "max_subnegotiation must be at least 64"),
    ],
)
def test_bad_limits_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        load_config(environ=environ)


def test_trusted_proxies_from_toml(tmp_path: Any) -> None:
    file = tmp_path / "bbs.toml"
    file.write_text('[bbs]\nproxy_protocol = true\ntrusted_proxies = ["10.9.0.0/16"]\n')
    config = load_config(str(file), environ={})
    assert config.proxy_protocol and config.trusted_proxies == ("10.9.0.0/16",)


# ---------------------------------------------------------------- over sockets


class Shell:
    """Notes what negotiation learned; then reads (or not) everything the caller sends."""

    def __init__(self, read: bool = True) -> None:
        self.read = read
        self.seen: asyncio.Queue[Negotiated] = asyncio.Queue()
        self.received = bytearray()
        self.done = asyncio.Event()

    async def __call__(self, link: Link) -> None:
        await self.seen.put(link.negotiated())
        if not self.read:
            await asyncio.sleep(30)
        while data := await link.read(65536):
            self.received += data
        self.done.set()


Serve = Callable[..., Any]


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Wait, at most `seconds`, for `condition` to hold."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), seconds)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[Any] = []

    async def start(shell: Shell, **limits: Any) -> tuple[int, Any]:
        config = replace(Config(), **limits)
        srv = await start_server("127.0.0.1", 0, shell, 0.5, config=config, node="t")
        servers.append(srv)
        return srv.sockets[0].getsockname()[1], srv

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


async def test_naws_is_clamped(serve: Serve) -> None:
    shell = Shell()
    port, srv = await serve(shell)
    client = await TelnetClient.connect(port, Script(cols=65535, rows=65535))
    try:
        info = await asyncio.wait_for(shell.seen.get(), 5)
        assert (info.cols, info.rows) == (MAX_COLS, MAX_ROWS)
        client.send(bytes([IAC, SB, NAWS, 0, 0, 0, 0, IAC, SE]))
        protocol = srv.clients[0]
        # A 0x0 window is taken as the 80x24 default.
        await until(
            lambda: (protocol.get_extra_info("cols"), protocol.get_extra_info("rows")) == (80, 24)
        )
    finally:
        client.close()


async def test_ttype_with_escapes_is_cleaned_and_a_64k_one_closes_the_line(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bbs.edge")
    shell = Shell()
    port, _ = await serve(shell)
    hostile = "xterm\x1b]52;c;ZXZpbA==\x07\x1b[2J" + "y" * 1000
    client = await TelnetClient.connect(port, Script(ttypes=[hostile]))
    try:
        info = await asyncio.wait_for(shell.seen.get(), 5)
        (name,) = info.terminal_types
        assert "\x1b" not in name and "\x07" not in name and len(name) <= MAX_VALUE
    finally:
        client.close()
    client = await TelnetClient.connect(port, Script(ttypes=["x" * 65536]))
    try:
        with contextlib.suppress(ConnectionError):
            await client.closed(5)
    finally:
        client.close()
    assert any("reason=subnegotiation_too_long" in r.getMessage() for r in caplog.records)


async def test_a_64k_environ_value_closes_the_line(serve: Serve) -> None:
    port, _ = await serve(Shell())
    client = await TelnetClient.connect(port, Script(environ={"USER": "\x1b[2J" * 16384}))
    try:
        with contextlib.suppress(ConnectionError):
            await client.closed(5)
    finally:
        client.close()


async def test_unsolicited_mccp3_is_never_inflated(serve: Serve) -> None:
    shell = Shell()
    port, srv = await serve(shell)
    client = await TelnetClient.connect(port, Script())
    try:
        await asyncio.wait_for(shell.seen.get(), 5)
        compressed = zlib.compress(b"A" * 1_000_000)
        client.send(bytes([IAC, SB, 87, IAC, SE]) + compressed.replace(b"\xff", b"\xff\xff"))
        await until(lambda: len(shell.received) >= len(compressed))
        protocol = srv.clients[0]
        assert not protocol.writer.mccp3_active
        # What came after is taken as it is: compressed bytes, never a million 'A's.
        assert bytes(shell.received) == compressed
    finally:
        client.close()


async def binary_client(port: int, shell: Shell) -> TelnetClient:
    client = await TelnetClient.connect(port, Script())
    await asyncio.wait_for(shell.seen.get(), 5)
    deadline = time.monotonic() + 5
    while not ((BINARY in _agreed(client, 253)) and (BINARY in _agreed(client, 251))):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    return client


def _agreed(client: TelnetClient, verb: int) -> set[int]:
    return {option for v, option in client.commands if v == verb}


async def upload(client: TelnetClient, shell: Shell, data: bytes) -> float:
    """Send `data` IAC-doubled, as a telnet client does during a transfer; seconds taken."""
    started = time.monotonic()
    client.send(data.replace(b"\xff", b"\xff\xff"))
    deadline = started + 20
    while len(shell.received) < len(data):
        assert time.monotonic() < deadline, f"{len(shell.received)} of {len(data)} bytes came"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_binary_upload_keeps_its_speed_and_its_bytes(serve: Serve) -> None:
    shell = Shell()
    port, _ = await serve(shell)
    client = await binary_client(port, shell)
    try:
        data = os.urandom(3 * 1024 * 1024)
        elapsed = await upload(client, shell, data)
        assert bytes(shell.received) == data
        # The default budget (4 MiB a second, 4 MiB saved) leaves this well above 300 KB/s.
        assert len(data) / elapsed > 300_000
    finally:
        client.close()


async def test_the_byte_budget_slows_a_fast_sender(serve: Serve) -> None:
    shell = Shell()
    port, _ = await serve(shell, input_bytes_per_second=64 * 1024)
    client = await binary_client(port, shell)
    try:
        data = b"z" * (256 * 1024)
        elapsed = await upload(client, shell, data)
        # 64 KiB at once, then 192 KiB at 64 KiB a second: about three seconds.
        assert elapsed > 2.0
        assert bytes(shell.received) == data
    finally:
        client.close()


async def test_a_caller_nobody_reads_is_not_buffered_without_bound(serve: Serve) -> None:
    shell = Shell(read=False)
    port, srv = await serve(shell, input_bytes_per_second=64 * 1024 * 1024)
    client = await binary_client(port, shell)
    try:
        chunk = b"q" * 65536
        for _ in range(160):  # 10 MiB that nobody reads
            client.send(chunk)
            try:
                await asyncio.wait_for(client.writer.drain(), 0.05)
            except TimeoutError:
                break
        protocol = srv.clients[0]
        await until(protocol.reading_held)
        # telnetlib3's reader pauses the transport past twice its 64 KiB limit.
        assert len(protocol.reader._buffer) <= 2 * 65536 + 256 * 1024
    finally:
        client.close()
