"""Hostile round two, telnet protocol work: sub-negotiations and STATUS requests kept
under the byte and command budgets, on a node with the default budgets (4 MiB/s, 1 000
commands/s per line) at the rates the attacks were measured at. Five guests keep typing."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.hostile.harness import Node, dropped, live_node
from tests.telnet_client import IAC, SB, SE, WILL

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

DO, STATUS, LINEMODE, SLC, NEW_ENVIRON = 253, 5, 34, 3, 39


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    budgets = {
        "input_bytes_per_second": 4 * 1024 * 1024,
        "input_commands_per_second": 1000,
        "max_per_address": 10,
    }
    async with live_node(tmp_path_factory.mktemp("protocol"), **budgets) as running:
        yield running


def iac(*codes: int) -> bytes:
    return bytes([IAC, *codes])


# ------------------------------------------------------------------ 2. sub-negotiations


def slc_table(triplets: int) -> bytes:
    body = bytes([LINEMODE, SLC]) + bytes([3, 2, 3]) * triplets
    return iac(SB) + body + iac(SE)


def environ_is(size: int) -> bytes:
    pairs = b"".join(b"\x00V%03d\x01" % n + b"x" * 20 for n in range(size // 27))
    return iac(SB, NEW_ENVIRON, 0) + pairs + iac(SE)


@pytest.mark.parametrize(
    ("name", "opening", "frame"),
    [
        ("linemode-slc", b"", slc_table(1300)),
        ("linemode-slc-agreed", iac(WILL, LINEMODE), slc_table(1300)),
        ("new-environ-is", iac(WILL, NEW_ENVIRON), environ_is(4000)),
    ],
    ids=["linemode-slc", "linemode-slc-agreed", "new-environ-is"],
)
async def test_subnegotiations_under_the_byte_budgets(
    node: Node, name: str, opening: bytes, frame: bytes
) -> None:
    """About 4 KB sub-negotiations 400 times a second (1.6 MB/s, 800 commands/s, under both
    per-line budgets): slowed, then cut with a log line, and the neighbours unharmed."""
    addr = node.address()
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        if opening:
            await attacker.send(opening)
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline and not attacker.closed:
            burst = frame * 40
            if not await attacker.send(burst, 1.0):
                break
            await asyncio.sleep(0.1)  # 400 frames a second
        await dropped(node, attacker, addr, seen.log_from)


# ------------------------------------------------------------------ 3. STATUS


def status_opening() -> bytes:
    # All but LOGOUT (18), which rightly ends the call at once.
    everything = b"".join(iac(WILL, opt) + iac(DO, opt) for opt in range(0, 50) if opt != 18)
    return iac(DO, STATUS) + everything


async def test_status_requests_from_many_lines(node: Node) -> None:
    """DO STATUS, WILL and DO for every option, then STATUS SEND 300 times a second from
    ten lines of one address: never answered with the option table, every line closed."""
    addr = node.address()
    async with node.watch() as seen:
        lines = [await node.raw(addr) for _ in range(10)]
        for line in lines:
            await line.send(status_opening())
        send = iac(SB, STATUS, 1) + iac(SE)
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline and not all(line.closed for line in lines):
            for line in lines:
                await line.send(send * 30, 1.0)
            await asyncio.sleep(0.1)
        for line in lines:
            assert iac(SB, STATUS, 0) not in line.data, "the board sent its STATUS table"
            await dropped(node, line, addr, seen.log_from)


async def test_status_requests_from_a_line_that_never_reads(node: Node) -> None:
    """The same from ten lines that never read what the board writes: nothing piles up."""
    addr = node.address()
    async with node.watch() as seen:
        await asyncio.gather(*(_silent_line(node, addr) for _ in range(10)))
        for _ in range(100):
            if len(_logged(node, addr, seen.log_from)) >= 10:
                break
            await asyncio.sleep(0.05)
        assert len(_logged(node, addr, seen.log_from)) >= 10, "lines neither cut nor logged"


def _logged(node: Node, addr: str, since: int) -> list[str]:
    return [x for x in node.records.lines(since) if "event=" in x and f"addr={addr} " in x]


async def _silent_line(node: Node, addr: str) -> None:
    """One line sending the STATUS attack and never reading."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((addr, 0))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", node.port))
    try:
        await loop.sock_sendall(sock, status_opening())
        send = (iac(SB, STATUS, 1) + iac(SE)) * 30
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(loop.sock_sendall(sock, send), 1.0)
            except (ConnectionError, OSError, TimeoutError):
                break
            await asyncio.sleep(0.1)
    finally:
        sock.close()
