"""The hostile-input suite's harness: a live node with small limits, well-behaved callers who
keep typing while an attack runs, and the checks every attack must pass.

The node runs in the test's own event loop (`running_board`), so its log records, memory
and database are all in reach. The well-behaved callers are guests at the index, each from
its own loopback address (127.0.0.2-6), typing one key at a time and timing the echo; each
attacker gets an address of its own (127.0.0.10 and up) so that per-address limits never
mix one case with another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import running_board
from tests.telnet_client import Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]

P99_LIMIT = 0.25
"""Seconds: the issue's bound on the well-behaved callers' keystroke p99 during an attack."""
MEMORY_LIMIT = 40 * 1024 * 1024
"""Bytes the node's process may grow by during one attack (50 MB floods included)."""
CLOSE_WITHIN = 10.0
"""Seconds an attacker the board should drop may stay connected after the attack."""
CALLERS = 5

LIMITS: dict[str, Any] = {
    # Small limits so that every protection trips quickly. Names follow the issue; a field
    # the node does not have yet is left out (and `Node.missing_limits` says which).
    "max_sessions": 60,
    "max_per_address": 8,
    "login_grace": 6.0,
    "max_subnegotiation": 4096,
    "input_bytes_per_second": 256 * 1024,
    "input_commands_per_second": 2000,
    "flood_timeout": 1.0,
    "output_high_water": 64 * 1024,
    "drain_timeout": 3.0,
    "idle_timeout": 300.0,
    "max_line": 256,
}

WATCHED_TABLES = (
    "account",
    "contract",
    "contract_contact",
    "licence",
    "incident",
    "incident_event",
    "incident_attachment",
    "forum_thread",
    "forum_post",
)
"""Tables an attack must never add to (sign-in throttling and last callers may change)."""


def config_for(base: Config, **limits: Any) -> tuple[Config, list[str]]:
    """`base` with every limit the Config knows set; the names it does not know yet."""
    known = {f.name for f in fields(Config)}
    wanted = {**LIMITS, **limits}
    usable = {k: v for k, v in wanted.items() if k in known}
    return replace(base, **usable), sorted(set(wanted) - known)


async def prepared_database(folder: Path) -> str:
    """A migrated SQLite database in `folder` with the board's data loaded."""
    url = f"sqlite:///{folder / 'bbs.db'}"
    await upgrade(url)
    await load_dir(url, ROOT / "data")
    return url


def base_config(folder: Path, url: str) -> Config:
    return replace(
        Config(),
        db=url,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        probe_timeout=0.3,
        connect_maxwait=1.0,
        shutdown_grace=0.1,
        upload_dir=str(folder / "uploads"),
        upload_max_bytes=256 * 1024,
        upload_min_free_bytes=1024,
    )


# ------------------------------------------------------------------ connections


async def connect(
    port: int, addr: str, script: Script | None = None, *, nodelay: bool = False
) -> TelnetClient:
    """A scripted telnet client bound to source address `addr`."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(addr, 0)), 5
    )
    if nodelay:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return TelnetClient(reader, writer, script or Script(ttypes=["dumb"], rows=60))


async def to_index(client: TelnetClient, timeout: float = 10.0) -> None:
    """Take a fresh connection past the welcome screen, signed in as a guest."""
    await client.wait_for(b"Appuyez sur Entree", timeout)
    client.type("\r")
    await client.wait_for(b"Votre nom :", timeout)
    client.type("INVITE\r")
    await client.wait_for(b"Votre choix (", timeout)


async def wait_after(
    client: TelnetClient, needle: bytes, since: int, timeout: float = 10.0
) -> None:
    """Wait until `needle` arrives after offset `since` of the client's data."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while client.data.find(needle, since) < 0:
        if loop.time() > deadline or client._task.done():
            raise AssertionError(
                f"{needle!r} never came; got {bytes(client.data[since:])[-400:]!r}"
            )
        await asyncio.sleep(0.01)


async def through_pager(client: TelnetClient, needle: bytes, timeout: float = 10.0) -> bytes:
    """Wait for `needle`, pressing Enter at every "-- Suite" page prompt on the way."""
    start = len(client.data)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    pages = start
    while needle not in client.data[start:]:
        more = client.data.find(b"-- Suite", pages)
        if more >= 0:
            pages = more + 1
            client.type("\r")
            continue
        if loop.time() > deadline or client._task.done():
            raise AssertionError(f"{needle!r} never came; got {bytes(client.data)[-400:]!r}")
        await asyncio.sleep(0.02)
    return bytes(client.data)


def utf8_terminal(client: TelnetClient) -> TelnetClient:
    """Make `client` answer cursor-position requests as a UTF-8 terminal would (a pyte
    screen renders what it receives), so the board's detection chooses UTF-8."""
    import codecs

    import pyte

    screen = pyte.Screen(80, 60)
    stream = pyte.Stream(screen)
    stream.use_utf8 = True
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    screen.write_process_input = lambda text: client.send(text.encode("ascii"))

    def sink(data: bytes) -> None:
        client.data += data
        stream.feed(decoder.decode(data))

    client.sink = sink
    return client


class Raw:
    """An attacker's bare TCP connection: it never answers negotiation, it records what
    comes back and when the board hung up."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.data = bytearray()
        self.closed_at: float | None = None
        self.sent = 0
        self._task = asyncio.create_task(self._pump())

    @classmethod
    async def open(cls, port: int, addr: str, *, nodelay: bool = False) -> Raw:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(addr, 0)), 5
        )
        if nodelay:
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def _pump(self) -> None:
        try:
            while chunk := await self.reader.read(65536):
                self.data += chunk
        except (ConnectionError, OSError):
            pass
        self.closed_at = time.monotonic()

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    async def send(self, data: bytes, drain_timeout: float = 5.0) -> bool:
        """Write `data`; False once the board has closed the line (or stopped reading)."""
        if self.closed or self.writer.is_closing():
            return False
        try:
            self.writer.write(data)
            await asyncio.wait_for(self.writer.drain(), drain_timeout)
        except (ConnectionError, OSError, TimeoutError):
            return False
        self.sent += len(data)
        return True

    async def flood(self, chunk: bytes, total: int, seconds: float) -> int:
        """Send `chunk` over and over until `total` bytes, `seconds` or the board hangs up."""
        deadline = time.monotonic() + seconds
        start = self.sent
        while self.sent - start < total and time.monotonic() < deadline:
            if not await self.send(chunk, max(0.1, deadline - time.monotonic())):
                break
        return self.sent - start

    async def wait_closed(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        return self.closed

    def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(Exception):
            self.writer.close()


# ------------------------------------------------------------------ the callers who behave


@dataclass
class Typist:
    """One well-behaved caller at the index, typing a key and timing the board's echo."""

    client: TelnetClient
    latencies: list[tuple[float, float]] = field(default_factory=list)
    """(when the key was sent, seconds until the echo), monotonic clock."""
    failures: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    stopped: bool = False

    async def keystroke(self, key: str) -> float:
        before = len(self.client.data)
        start = time.monotonic()
        self.client.type(key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while len(self.client.data) == before:
            if loop.time() > deadline or self.client._task.done():
                raise TimeoutError(f"no echo of {key!r} within 5 s")
            self.client._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.client._more.wait(), 0.5)
        return time.monotonic() - start

    async def run(self) -> None:
        while not self.stopped:
            for key in ("x", "\x7f"):
                sent = time.monotonic()
                try:
                    self.latencies.append((sent, await self.keystroke(key)))
                except TimeoutError as e:
                    self.failures.append(str(e))
                    self.latencies.append((sent, 5.0))
                    if self.client._task.done():
                        return
            await asyncio.sleep(0.02)


def p99(samples: list[float]) -> float:
    if not samples:
        return float("inf")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def rss() -> int:
    """This process's resident set size in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


class Records(logging.Handler):
    """Every log record of the node, kept for the checks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, since: int = 0) -> list[str]:
        return [r.getMessage() for r in self.records[since:]]


@dataclass
class Outcome:
    """What an attack did, for the checks and for the report."""

    p99: float
    samples: int
    growth: int
    log_from: int
    seconds: float


class Node:
    """A live board node, its well-behaved callers and what the checks read."""

    def __init__(self, config: Config, missing: list[str], folder: Path) -> None:
        self.config = config
        self.missing_limits = missing
        self.folder = folder
        self.typists: list[Typist] = []
        self.records = Records()
        self._next_addr = 10
        self.attackers: list[TelnetClient | Raw] = []

    @property
    def port(self) -> int:
        return self.config.port

    @property
    def db_path(self) -> Path:
        return Path(self.config.db.removeprefix("sqlite:///"))

    def address(self) -> str:
        """A loopback address no other case of this node has used."""
        self._next_addr += 1
        assert self._next_addr < 255
        return f"127.0.0.{self._next_addr}"

    async def start_callers(self) -> None:
        for n in range(CALLERS):
            client = await connect(self.port, f"127.0.0.{n + 2}")
            await to_index(client)
            typist = Typist(client)
            typist.task = asyncio.create_task(typist.run())
            self.typists.append(typist)

    async def stop_callers(self) -> None:
        for typist in self.typists:
            typist.stopped = True
            task = typist.task
            # Python 3.11's wait_for can swallow a cancellation that races its timeout:
            # cancel until the task is really over.
            while task is not None and not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.5)
            typist.client.close()

    def counts(self) -> dict[str, int]:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as db:
            query = "SELECT count(*) FROM {}"
            return {t: db.execute(query.format(t)).fetchone()[0] for t in WATCHED_TABLES}

    def uploads(self) -> list[Path]:
        folder = Path(self.config.upload_dir)
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []

    async def raw(self, addr: str | None = None, *, nodelay: bool = False) -> Raw:
        attacker = await Raw.open(self.port, addr or self.address(), nodelay=nodelay)
        self.attackers.append(attacker)
        return attacker

    async def client(
        self, script: Script | None = None, addr: str | None = None, *, nodelay: bool = False
    ) -> TelnetClient:
        attacker = await connect(self.port, addr or self.address(), script, nodelay=nodelay)
        self.attackers.append(attacker)
        return attacker

    def release(self) -> None:
        for attacker in self.attackers:
            attacker.close()
        self.attackers.clear()

    @contextlib.asynccontextmanager
    async def watch(
        self,
        *,
        min_seconds: float = 0.5,
        allow: set[str] | frozenset[str] = frozenset(),
        allow_files: bool = False,
    ) -> AsyncIterator[Outcome]:
        """Run an attack inside: on leaving, check everything the issue asks of every case."""
        counts, files = self.counts(), self.uploads()
        for typist in self.typists:
            typist.latencies.clear()
            typist.failures.clear()
        log_from = len(self.records.records)
        base = rss()
        peak = [base]
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)

        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        outcome = Outcome(0.0, 0, 0, log_from, 0.0)
        try:
            yield outcome
            left = min_seconds - (time.monotonic() - started)
            if left > 0:
                await asyncio.sleep(left)
        finally:
            stop.set()
            await sampler
            heard = [bytes(a.data) for a in self.attackers]
            self.release()
        # A key sent before the watch began measures what ran before it, not the attack.
        samples = [s for t in self.typists for when, s in t.latencies if when >= started]
        outcome.p99 = p99(samples)
        outcome.samples = len(samples)
        outcome.growth = peak[0] - base
        outcome.seconds = time.monotonic() - started
        for got in heard:
            assert not _failure_shown(got), f"an attacker was shown a failure: {got[-300:]!r}"
        self.check(outcome, counts, None if allow_files else files, allow)

    def check(
        self,
        outcome: Outcome,
        counts: dict[str, int],
        files: list[Path] | None,
        allow: Iterable[str],
    ) -> None:
        dead = [i for i, t in enumerate(self.typists) if t.client._task.done()]
        assert not dead, f"well-behaved callers {dead} were disconnected during the attack"
        assert outcome.samples >= 5, f"only {outcome.samples} keystrokes measured"
        failures = [f for t in self.typists for f in t.failures]
        assert outcome.p99 < P99_LIMIT, (
            f"keystroke p99 {outcome.p99 * 1000:.0f} ms over {outcome.samples} keys "
            f"(limit {P99_LIMIT * 1000:.0f} ms) during a {outcome.seconds:.1f} s attack"
            + (f"; {len(failures)} keys unanswered" if failures else "")
        )
        assert outcome.growth < MEMORY_LIMIT, (
            f"the node grew by {outcome.growth / 2**20:.1f} MiB during the attack"
        )
        for typist in self.typists:
            assert not _failure_shown(bytes(typist.client.data)), "a caller was shown a failure"
        self.check_log(outcome.log_from)
        after = self.counts()
        for table in allow:
            counts.pop(table, None)
            after.pop(table, None)
        assert after == counts, f"the attack wrote rows it should not have: {counts} -> {after}"
        if files is not None:
            assert self.uploads() == files, "the attack left files in the upload area"

    def check_log(self, since: int) -> None:
        """No unhandled exception from the board or the event loop since `since`."""
        for record in self.records.records[since:]:
            if record.exc_info or (record.levelno >= logging.ERROR and record.name == "asyncio"):
                text = logging.Formatter().format(record)
                raise AssertionError(f"unhandled exception in the node's log:\n{text}")

    def refusal_logged(self, addr: str, since: int) -> str | None:
        """The structured line logged for `addr` since `since` (event=... addr=...), if any."""
        mine = re.compile(rf"\baddr={re.escape(addr)}(?![0-9])")
        for line in self.records.lines(since):
            if "event=" in line and "reason=" in line and mine.search(line):
                return line
        return None


def _failure_shown(data: bytes) -> bool:
    """Whether a caller's screen shows a traceback or the board's internal-error notice."""
    return any(
        text in data
        for text in (b"Traceback", b"Incident technique sur le serveur", b"Technical fault on")
    )


@contextlib.asynccontextmanager
async def live_node(folder: Path, **limits: Any) -> AsyncIterator[Node]:
    """A running node with small limits, its five typists started."""
    url = await prepared_database(folder)
    config, missing = config_for(base_config(folder, url), **limits)
    records = Records()
    root = logging.getLogger()
    saved = logging.getLogger("bbs").level
    logging.getLogger("bbs").setLevel(logging.INFO)
    root.addHandler(records)
    try:
        async with running_board(config) as running:
            node = Node(running, missing, folder)
            node.records = records
            await node.start_callers()
            try:
                yield node
            finally:
                await node.stop_callers()
                node.release()
    finally:
        root.removeHandler(records)
        logging.getLogger("bbs").setLevel(saved)


async def dropped(node: Node, attacker: Raw | TelnetClient, addr: str, since: int) -> None:
    """The board hung up on `attacker` within the bound and logged why, in one line."""
    if isinstance(attacker, Raw):
        closed = await attacker.wait_closed(CLOSE_WITHIN)
        got = bytes(attacker.data)
    else:
        try:
            await attacker.closed(CLOSE_WITHIN)
            closed = True
        except TimeoutError:
            closed = False
        except (ConnectionError, OSError):
            closed = True
        got = bytes(attacker.data)
    assert b"Traceback" not in got
    assert closed, (
        f"the attacker from {addr} was still connected {CLOSE_WITHIN:.0f} s after the attack "
        f"(last bytes it got: {got[-120:]!r})"
    )
    # Give the node's log a moment: the line may follow the close.
    for _ in range(20):
        if node.refusal_logged(addr, since):
            break
        await asyncio.sleep(0.05)
    line = node.refusal_logged(addr, since)
    related = [x for x in node.records.lines(since) if addr in x][-5:]
    assert line, (
        f"no structured 'event=... reason=... addr={addr}' line for the dropped attacker; "
        f"lines naming it: {related}"
    )


Attack = Callable[[Node], Awaitable[None]]
