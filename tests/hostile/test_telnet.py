"""Attacks on the telnet layer of a live node, while five guests keep typing.

Every case runs inside `Node.watch`, which checks what the issue asks of all of them: the
guests' keystroke p99 under 250 ms, memory bounded, no traceback anywhere, nothing written.
Each case then checks what is particular to it: the attacker dropped (and the drop logged
as one structured line), or served with what it sent made harmless.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import zlib
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from tests.e2e.story import plain
from tests.hostile.harness import (
    CLOSE_WITHIN,
    Node,
    Raw,
    dropped,
    live_node,
    through_pager,
    to_index,
    utf8_terminal,
    wait_after,
)
from tests.telnet_client import (
    IAC,
    NAWS,
    SB,
    SE,
    TTYPE,
    WILL,
    WONT,
    Script,
    TelnetClient,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(90)]

NOP, AYT, DO, DONT = 241, 246, 253, 254
LINEMODE, SLC = 34, 3
MCCP2, MCCP3 = 86, 87
MB = 1024 * 1024
TM = 6


async def until(condition: Callable[[], bool], timeout: float, why: str) -> None:
    """Wait until `condition()` holds; fail with `why` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, why
        await asyncio.sleep(0.02)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    async with live_node(tmp_path_factory.mktemp("telnet")) as running:
        yield running


def iac(*codes: int) -> bytes:
    return bytes([IAC, *codes])


async def served(client: TelnetClient, timeout: float = 10.0) -> bytes:
    """The attacker still gets the board: the welcome, then the name prompt."""
    await client.wait_for(b"Appuyez sur Entr", timeout)
    client.type("\r")
    return await client.wait_for(b"Votre nom :", timeout)


async def served_or_dropped(node: Node, client: TelnetClient, addr: str, since: int) -> bool:
    """Either outcome is right for an over-long value; True when the attacker was served."""
    try:
        await served(client)
    except AssertionError:
        await dropped(node, client, addr, since)
        return False
    return True


# ------------------------------------------------------------------ sub-negotiation


@pytest.mark.parametrize("body", ["junk", "iac-pairs"])
async def test_subnegotiation_without_end(node: Node, body: str) -> None:
    """IAC SB TTYPE IS and then 2 MiB with no IAC SE: the board must not keep buffering it."""
    addr = node.address()
    filler = b"A" * 65536 if body == "junk" else iac(IAC) * 32768
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        await attacker.send(iac(SB, TTYPE, 0))
        await attacker.flood(filler, 2 * MB, 8.0)
        await dropped(node, attacker, addr, seen.log_from)


@pytest.mark.parametrize("option", [MCCP2, MCCP3])
async def test_unsolicited_compression_and_a_bomb(node: Node, option: int) -> None:
    """WILL MCCP, an unsolicited start, then 64 MiB of zeros deflated to ~64 KB."""
    addr = node.address()
    # Built before the watch: compressing 64 MiB here would stall the loop, not the board.
    bomb = zlib.compress(bytes(64 * MB), 9)
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        await attacker.send(iac(WILL, option) + iac(DO, option))
        await attacker.send(iac(SB, option, IAC, SE) + bomb.replace(b"\xff", b"\xff\xff"))

        def refused_now() -> bool:
            return iac(DONT, option) in attacker.data or iac(WONT, option) in attacker.data

        await until(
            lambda: refused_now() or attacker.closed,
            10,
            "compression was neither refused nor the line dropped",
        )
        refused = refused_now()
        assert refused or attacker.closed, "compression was neither refused nor the line dropped"
        assert iac(DO, option) not in attacker.data and iac(WILL, option) not in attacker.data
        if attacker.closed:
            await dropped(node, attacker, addr, seen.log_from)


@pytest.mark.parametrize(
    ("name", "chunk"),
    [
        ("IAC NOP", iac(NOP) * 32768),
        ("IAC AYT", iac(AYT) * 32768),
        ("garbage", bytes(range(32, 127)) * 690),
    ],
)
async def test_50_mb_flood(node: Node, name: str, chunk: bytes) -> None:
    """50 MB as fast as loopback takes it: the per-connection budget must cut it off."""
    addr = node.address()
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        started = time.monotonic()
        sent = await attacker.flood(chunk, 50 * MB, 10.0)
        took = time.monotonic() - started
        assert attacker.closed or sent < 50 * MB, (
            f"{name}: all {sent / MB:.0f} MB of the flood were taken in {took:.1f} s "
            "without the board cutting the line"
        )
        await dropped(node, attacker, addr, seen.log_from)
        # AYT must not become an amplifier: the board answers far less than it was sent.
        assert len(attacker.data) < max(4096, sent // 100)


# ------------------------------------------------------------------ values volunteered


INJECTED = {
    "USER": "-f root",
    "LD_PRELOAD": "/tmp/evil.so",
    "LOGNAME": "root",
    "SHELL": "/bin/sh -i",
    "TERM": "xterm\x1b]0;PWNED\x07",
    "DISPLAY": "\x1b[2J\x1b]52;c;SGFja2Vk\x07:0",
    "LANG": "fr_FR.UTF-8\x1bP+q\x1b\\",
}


async def test_new_environ_injection(node: Node) -> None:
    """The 2026 inetutils bypass and friends: none signs anyone in, none is logged raw."""
    addr = node.address()
    async with node.watch() as seen:
        attacker = await node.client(Script(ttypes=["vt100"], rows=60, environ=INJECTED), addr)
        got = await served(attacker)
        assert b"]0;PWNED" not in got and b"52;c;" not in got
        attacker.type("\r")  # an empty name: the board must still ask, not sign in as root
        for _ in range(100):
            if attacker.data.count(b"Votre nom :") >= 2:
                break
            await asyncio.sleep(0.05)
        assert attacker.data.count(b"Votre nom :") >= 2, bytes(attacker.data[-300:])
        lines = node.records.lines(seen.log_from)
        mine = [x for x in lines if addr in x]
        assert not any("signed in" in x for x in mine), mine
        assert not any(re.search(r"[\x00-\x1f\x7f-\x9f]", x) for x in lines), [
            x for x in lines if re.search(r"[\x00-\x1f\x7f-\x9f]", x)
        ]


@pytest.mark.parametrize(
    ("ttype", "environ"),
    [
        ("xterm\x1b]0;PWNED\x07\x1b[2J\x9b21t", {}),
        ("A" * 65536, {}),
        ("vt100", {"PWNED": "\x1bP1$r\x1b\\" + "B" * 65536}),
        ("vt100", {"C" * 65536: "x"}),
    ],
    ids=["ttype-escapes", "ttype-64k", "environ-value-64k", "environ-name-64k"],
)
async def test_long_and_hostile_values(node: Node, ttype: str, environ: dict[str, str]) -> None:
    """Cut, cleaned, or the line dropped for an over-long sub-negotiation: never echoed raw."""
    addr = node.address()
    async with node.watch() as seen:
        attacker = await node.client(Script(ttypes=[ttype], rows=60, environ=environ), addr)
        if await served_or_dropped(node, attacker, addr, seen.log_from):
            data = bytes(attacker.data)
            assert b"PWNED" not in data and b"AAAAAAAAAAAAAAAAAAAA" not in data
            assert b"\x9b" not in data and b"\x1bP" not in data
        lines = node.records.lines(seen.log_from)
        assert all(len(x) < 2048 for x in lines), "a 64 KiB value reached the log"
        assert not any("\x1b" in x for x in lines)


@pytest.mark.parametrize(
    "naws",
    [
        bytes([0, 0, 0, 0]),
        bytes([255, 255, 255, 255, 255, 255, 255, 255]),  # 65535 x 65535, IAC doubled
        bytes([0, 80]),
        bytes([0]),
        bytes(64),
    ],
    ids=["0x0", "65535x65535", "truncated-2", "truncated-1", "too-long"],
)
async def test_naws_extremes(node: Node, naws: bytes) -> None:
    """Window sizes out of range or malformed: clamped, and the caller's screens still work."""
    addr = node.address()
    async with node.watch():
        attacker = await node.client(Script(ttypes=["vt100"], cols=80, rows=24), addr)
        await served(attacker)
        attacker.send(iac(SB, NAWS) + naws + iac(SE))
        attacker.type("INVITE\r")
        await through_pager(attacker, b"Votre choix (")
        before = len(attacker.data)
        attacker.type("GO ANNUAIRE\r")
        await through_pager(attacker, b"Recherche :")
        attacker.type("belgique\r")
        await through_pager(attacker, b"Situation au")
        text = plain(bytes(attacker.data[before:]), "latin-1")
        widest = max(len(line) for line in text.splitlines())
        assert widest <= 255, f"a line of {widest} columns after NAWS {naws.hex()}"


async def test_linemode_slc_flood(node: Node) -> None:
    """5 000 SLC triplets in one LINEMODE sub-negotiation: ignored or dropped, never grown."""
    addr = node.address()
    triplets = bytes([1, 2, 3]) * 5000
    async with node.watch() as seen:
        attacker = await node.client(Script(ttypes=["vt100"], rows=60), addr)
        attacker.send(iac(WILL, LINEMODE))
        attacker.send(iac(SB, LINEMODE, SLC) + triplets + iac(SE))
        await served_or_dropped(node, attacker, addr, seen.log_from)


async def test_will_wont_ping_pong(node: Node) -> None:
    """WILL/WONT flipped 20 000 times: the board must damp the loop (RFC 1143), not answer
    every flip, or drop the line."""
    addr = node.address()
    burst = b"".join(iac(WILL, opt) + iac(WONT, opt) for opt in (1, 3, 24, 31, 0)) * 400
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        for _ in range(10):
            if not await attacker.send(burst):
                break
            await asyncio.sleep(0.02)
        # A timing mark last: once it is answered, every flip before it has been read.
        await attacker.send(iac(DO, TM))
        await until(
            lambda: iac(WILL, TM) in attacker.data or attacker.closed,
            30,
            "the timing mark after the flips was never answered",
        )
        commands = attacker.data.count(bytes([IAC]))
        if attacker.closed:
            await dropped(node, attacker, addr, seen.log_from)
        assert commands < 2000, (
            f"the board answered {commands} commands to {attacker.sent // 3} flips"
        )


async def test_commands_before_anything_else(node: Node) -> None:
    """Every verb for every option, and NOP/AYT/GA/DM/EC/EL, before the first byte of data."""
    addr = node.address()
    # Not LOGOUT (18): DO LOGOUT asks the board to hang up, which it rightly does.
    options = [o for o in range(256) if o != 18]
    burst = b"".join(iac(v, o) for v in (DO, DONT, WILL, WONT) for o in options)
    burst += b"".join(iac(c) for c in (NOP, AYT, 249, 242, 247, 248))
    async with node.watch() as seen:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", node.port, local_addr=(addr, 0)), 5
        )
        writer.write(burst.replace(bytes([IAC, IAC]), b""))
        attacker = TelnetClient(reader, writer, Script(ttypes=["vt100"], rows=60))
        node.attackers.append(attacker)
        if await served_or_dropped(node, attacker, addr, seen.log_from):
            attacker.type("INVITE\r")
            await through_pager(attacker, b"Votre choix (")


# ------------------------------------------------------------------ framing


class Trickle(TelnetClient):
    """A client that delivers everything it sends one byte per TCP segment."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.out: asyncio.Queue[bytes] = asyncio.Queue()
        self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sender = asyncio.create_task(self._send_bytes())

    def send(self, data: bytes) -> None:
        self.out.put_nowait(data)

    def type(self, text: str, encoding: str = "utf-8") -> None:
        self.send(text.encode(encoding).replace(b"\xff", b"\xff\xff"))

    async def _send_bytes(self) -> None:
        while True:
            data = await self.out.get()
            for i in range(len(data)):
                self.writer.write(data[i : i + 1])
                await self.writer.drain()
                await asyncio.sleep(0.002)

    def close(self) -> None:
        self._sender.cancel()
        super().close()


_CLOCK = re.compile(r"\d\d:\d\d")


def answer(client: TelnetClient, since: int) -> str:
    """The directory's answer in the transcript since `since`, clock times masked."""
    text = plain(bytes(client.data[since:]), "latin-1")
    body = text[text.find("Belgique") :]
    return _CLOCK.sub("HH:MM", body[: body.find("Recherche :")])


async def session_answer(client: TelnetClient) -> tuple[str, str]:
    """The detection banner and the answer to 'belgique' a whole session ends on."""
    await served(client, 20)
    banner = plain(bytes(client.data), "latin-1").strip().splitlines()[0]
    client.type("INVITE\r")
    await client.wait_for(b"Votre choix (", 20)
    client.type("GO ANNUAIRE\r")
    await client.wait_for(b"Recherche :", 20)
    since = len(client.data)
    client.type("belgique\r\n")
    await wait_after(client, b"Situation au", since, 20)
    await wait_after(client, b"Recherche :", since + client.data[since:].find(b"Situation au"), 20)
    return banner, answer(client, since)


async def test_every_byte_its_own_packet(node: Node) -> None:
    """A whole session (negotiation answers included) delivered one byte at a time reaches the
    same screens as the same session in whole packets."""
    script = Script(ttypes=["vt100"], cols=80, rows=60, environ={"LANG": "fr"})
    async with node.watch(min_seconds=1.0):
        whole = await node.client(script)
        expected = await session_answer(whole)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", node.port, local_addr=(node.address(), 0)), 5
        )
        trickle = Trickle(reader, writer, script)
        node.attackers.append(trickle)
        assert await session_answer(trickle) == expected


async def test_every_two_way_split(node: Node) -> None:
    """A search line and a NAWS report cut in two at every byte boundary: same answer each time."""
    async with node.watch(min_seconds=1.0):
        client = await node.client(Script(ttypes=["vt100"], cols=80, rows=60), nodelay=True)
        await served(client)
        client.type("INVITE\r")
        await client.wait_for(b"Votre choix (")
        client.type("GO ANNUAIRE\r")
        await client.wait_for(b"Recherche :")
        since = len(client.data)
        client.type("belgique\r\n")
        await client.wait_for(b"Situation au")
        await client.wait_for(b"Recherche :")
        expected = answer(client, since)
        naws = iac(SB, NAWS, 0, 80, 0, 60, IAC, SE)
        for message in (b"belgique\r\n", naws + b"belgique\r\n"):
            for cut in range(1, len(message)):
                since = len(client.data)
                client.send(message[:cut])
                await asyncio.sleep(0.01)
                client.send(message[cut:])
                await wait_after(client, b"Situation au", since)
                await wait_after(
                    client, b"Recherche :", since + client.data[since:].find(b"Situation au")
                )
                got = answer(client, since)
                assert got == expected, f"cut {cut} of {message!r} gave:\n{got}"
                assert b"Votre choix" not in client.data[since:], (
                    f"cut {cut} of {message!r}: the caller was sent back to the index "
                    "(the second half counted as another Enter)"
                )


# ------------------------------------------------------------------ input


@pytest.mark.parametrize(
    "junk",
    [
        b"\xc0\xaf",  # over-long '/'
        b"\xe0\x80\xaf",  # over-long, three bytes
        b"\xed\xa0\x80",  # a UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # past U+10FFFF
        b"\x80\x80\xbf",  # lone continuation bytes
        b"\xe2\x82",  # cut short
        b"\xf8\x88\x80\x80\x80",  # five-byte form
        b"\xff\xff\xfe",  # 0xFF (doubled for telnet) then 0xFE
    ],
)
async def test_invalid_utf8(node: Node, junk: bytes) -> None:
    """Bytes no UTF-8 decoder accepts, at a prompt and in a search: a clear answer each time."""
    async with node.watch():
        script = Script(ttypes=["xterm"], rows=60, environ={"LANG": "fr_FR.UTF-8"})
        client = utf8_terminal(await node.client(script))
        await served(client)
        assert b"utf-8" in client.data.lower(), "detection did not choose UTF-8"
        client.type("INVITE\r")
        await client.wait_for(b"Votre choix (")
        since = len(client.data)
        client.send(junk + b"\r")
        await wait_after(client, b"Votre choix (", since)
        client.type("GO ANNUAIRE\r")
        await wait_after(client, b"Recherche :", since)
        since = len(client.data)
        client.send(b"bel" + junk + b"gique\r")
        await wait_after(client, b"Recherche :", since)


async def test_one_mebibyte_line(node: Node) -> None:
    """1 MiB without a line end at the index: the line is refused with a message (or the
    caller cut off); the board never echoes it all back."""
    addr = node.address()
    async with node.watch() as seen:
        client = await node.client(Script(ttypes=["vt100"], rows=60), addr)
        await served(client)
        client.type("INVITE\r")
        await client.wait_for(b"Votre choix (")
        before = len(client.data)
        for _ in range(16):
            client.send(b"A" * 65536)
            await client.writer.drain()
        client.send(b"\r")
        try:
            await client.wait_for(b"Saisie trop longue", 10)
            client.type("GO ANNUAIRE\r")
            await client.wait_for(b"Recherche :", 10)
        except AssertionError:
            await dropped(node, client, addr, seen.log_from)
        assert len(client.data) - before < 64 * 1024, "the board echoed most of the 1 MiB line"


async def test_slowloris_before_sign_in(node: Node) -> None:
    """One byte every half second before signing in: the grace period must still end it."""
    addr = node.address()
    grace = float(getattr(node.config, "login_grace", 0) or 6.0)
    async with node.watch() as seen:
        attacker = await node.raw(addr)
        deadline = time.monotonic() + grace + 4.0
        while time.monotonic() < deadline and not attacker.closed:
            await attacker.send(b"a")
            await asyncio.sleep(0.5)
        assert attacker.closed, (
            f"still connected {grace + 4:.0f} s after connecting, trickling one byte per "
            f"0.5 s (grace period {grace:.0f} s)"
        )
        await dropped(node, attacker, addr, seen.log_from)


async def test_caller_who_stops_reading(node: Node) -> None:
    """A caller asks for listing after listing and never reads: the high-water mark and the
    drain timeout must hang up on them without holding the others."""
    addr = node.address()
    async with node.watch() as seen:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((addr, 0))
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", node.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        client = TelnetClient(reader, writer, Script(ttypes=["dumb"], rows=60))
        node.attackers.append(client)
        await to_index(client)
        client.type("GO ANNUAIRE\r")
        await client.wait_for(b"Recherche :")
        client._task.cancel()  # stop reading from here on
        stalled = Raw.__new__(Raw)
        stalled.reader, stalled.writer, stalled.data = reader, writer, bytearray()
        stalled.closed_at, stalled.sent = None, 0
        started = time.monotonic()
        # Until the board stops reading: a fixed number of searches may all be answered
        # within the buffers (keys of a search typed ahead page through the one before).
        while time.monotonic() - started < 30:
            if not await stalled.send(b"belgique\r", 1.0) and time.monotonic() - started > 2:
                break
        drain = float(getattr(node.config, "drain_timeout", 0) or 3.0)
        # The board logs the hang-up; it shows as a reset or EOF once we read again.
        await until(
            lambda: bool(node.refusal_logged(addr, seen.log_from)),
            drain + 3.0 + CLOSE_WITHIN,
            f"the line that stopped reading was not cut {drain + 3 + CLOSE_WITHIN:.0f} s on",
        )
        reader_task = asyncio.create_task(_read_to_end(reader))
        done = await asyncio.wait_for(reader_task, CLOSE_WITHIN)
        assert done, (
            f"the line that stopped reading was still open {drain + 3 + CLOSE_WITHIN:.0f} s "
            "after it filled its buffers"
        )
        line = node.refusal_logged(addr, seen.log_from)
        assert line, f"no structured line for the stalled caller: {node.records.lines()[-5:]}"


async def _read_to_end(reader: asyncio.StreamReader) -> bool:
    try:
        while await reader.read(1 << 20):
            pass
    except (ConnectionError, OSError):
        pass
    return True


# ------------------------------------------------------------------ connections


async def test_hundred_connections_from_one_address(node: Node) -> None:
    """100 lines from one address: past the per-address limit each gets a clear message and
    is closed; the ones within it are served."""
    addr = node.address()
    async with node.watch(min_seconds=1.0) as seen:
        lines = await asyncio.gather(*(node.raw(addr) for _ in range(100)))
        limit = int(getattr(node.config, "max_per_address", 0) or 8)
        await until(
            lambda: sum(x.closed for x in lines) >= 100 - limit,
            CLOSE_WITHIN + 3.0,
            f"more than {limit} of 100 lines from {addr} still open",
        )
        closed = [x for x in lines if x.closed]
        assert len(closed) >= 100 - limit, (
            f"{100 - len(closed)} of 100 lines from {addr} still open (limit {limit})"
        )
        silent = [x for x in closed if not _text(x.data)]
        assert not silent, f"{len(silent)} refused lines were closed without a word"
        assert node.refusal_logged(addr, seen.log_from), "the refusals were not logged"


async def test_sessions_per_node(node: Node) -> None:
    """More callers than the node takes, each from its own address: the last ones refused."""
    limit = int(getattr(node.config, "max_sessions", 0) or 60)
    count = limit + 5
    async with node.watch(min_seconds=1.0) as seen:
        addrs = [f"127.0.{1 + i // 200}.{10 + i % 200}" for i in range(count)]
        lines = await asyncio.gather(*(node.raw(a) for a in addrs))
        await until(
            lambda: sum(x.closed for x in lines) >= count - limit + len(node.typists),
            CLOSE_WITHIN + 3.0,
            f"more than {limit} of {count} lines still open",
        )
        closed = [x for x in lines if x.closed]
        assert len(closed) >= count - limit + len(node.typists), (
            f"{count - len(closed)} of {count} lines still open with a node limit of {limit}"
        )
        assert any(node.refusal_logged(a, seen.log_from) for a in addrs)
        silent = [x for x in closed if not _text(x.data)]
        assert not silent, f"{len(silent)} refused lines were closed without a word"


def _text(data: bytearray) -> bytes:
    """The in-band letters of what a raw line received (telnet commands dropped)."""
    stripped = re.sub(rb"\xff\xfa.*?\xff\xf0|\xff[\xfb-\xfe].|\xff.", b"", bytes(data), flags=re.S)
    return bytes(b for b in stripped if 0x41 <= b <= 0x7A)
