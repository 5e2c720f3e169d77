"""A minimal telnet client for the benchmark: one asyncio Protocol per simulated caller.

It negotiates like a plain "dumb" terminal so the board sends no probes:

- ``DO TTYPE`` -> ``WILL TTYPE``; every ``SB TTYPE SEND`` -> ``SB TTYPE IS "dumb"``.
- ``DO NAWS`` -> ``WILL NAWS`` then ``SB NAWS 80 x 24``.
- ``DO BINARY`` -> ``WILL BINARY``: telnetlib3 holds the shell back until BINARY is agreed
  both ways (or ``connect_maxwait`` runs out), so refusing it would add the whole maxwait to
  every connection. The benchmark only ever sends ASCII, so agreeing costs nothing.
- ``WILL ECHO`` / ``WILL SGA`` / ``WILL BINARY`` -> ``DO``.
- Everything else is refused (``WONT`` / ``DONT``), compression and NEW-ENVIRON included.

IAC sequences are stripped from the data stream (``IAC IAC`` becomes one 0xFF byte). What is
left accumulates in a buffer that `wait_for` searches for markers; the moment a marker is
seen (inside ``data_received``) is the moment a screen counts as complete.

For file transfers (bench/transfers.py) the in-band bytes can go to a `sink` instead of the
buffer, `send` doubles IAC on the way out, and `drain` waits while the socket's buffer is
full. Runs of plain data are copied whole (``bytes.find`` for the next IAC), so binary data
at tens of MB/s costs little.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

IAC = 255
DONT = 254
DO = 253
WONT = 252
WILL = 251
SB = 250
SE = 240

BINARY = 0
ECHO = 1
SGA = 3
TTYPE = 24
NAWS = 31

TTYPE_IS = 0
TTYPE_SEND = 1

WE_WILL = frozenset({TTYPE, NAWS, BINARY})
"""Options the client agrees to perform when the server asks (DO)."""
THEY_MAY = frozenset({ECHO, SGA, BINARY})
"""Options the client lets the server perform when it offers (WILL)."""

MAX_SB = 4096
"""Longest sub-negotiation kept; anything longer is dropped until IAC SE."""
MAX_BUFFER = 1 << 20
"""Screen bytes kept while nobody is waiting; older bytes are dropped beyond this."""

_DATA, _IAC, _OPT, _SB, _SB_IAC = range(5)


class WaitTimeout(Exception):
    """A marker (or a quiet spell) did not come in time."""


class Disconnected(Exception):
    """The server closed the connection."""


@dataclass(frozen=True, slots=True)
class Match:
    """Which marker was seen, and when (``time.perf_counter()`` inside ``data_received``)."""

    index: int
    at: float
    screen: bytes = b""
    """What was received up to the marker (after the previous match or discard)."""


def escape_iac(data: bytes) -> bytes:
    """In-band bytes for the wire: every 0xFF doubled."""
    return data.replace(b"\xff", b"\xff\xff")


class TelnetClient(asyncio.Protocol):
    """One caller's connection: negotiation answered, screen bytes buffered and searched."""

    def __init__(self, term: bytes = b"dumb", cols: int = 80, rows: int = 24) -> None:
        self.term = term
        self.cols = cols
        self.rows = rows
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.received = 0
        """Screen bytes received so far (IAC sequences excluded)."""
        self.last_data = 0.0
        """perf_counter() of the last screen bytes."""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._state = _DATA
        self._cmd = 0
        self._sb = bytearray()
        self._local: set[int] = set()
        self._remote: set[int] = set()
        self._markers: Sequence[bytes] = ()
        self._waiter: asyncio.Future[Match] | None = None
        self._scan_from = 0
        self._activity: asyncio.Event | None = None
        self.sink: Callable[[bytes], None] | None = None
        """When set, in-band bytes go here instead of the buffer (a transfer program)."""
        self._writable = asyncio.Event()
        self._writable.set()

    # ------------------------------------------------------------------ asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        self._writable.set()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(Disconnected("connection closed by the server"))
        if self._activity is not None:
            self._activity.set()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        before = len(self.buffer)
        if IAC not in data and self._state == _DATA:
            self.buffer += data
        else:
            self._parse(data)
        added = len(self.buffer) - before
        if not added:
            return
        self.received += added
        self.last_data = now
        if self.sink is not None:
            data = bytes(self.buffer)
            self.buffer.clear()
            self.sink(data)
            return
        if self._activity is not None:
            self._activity.set()
        if self._waiter is not None and not self._waiter.done():
            self._scan(now)
        elif len(self.buffer) > MAX_BUFFER:
            del self.buffer[: len(self.buffer) - MAX_BUFFER // 2]

    # ------------------------------------------------------------------ telnet

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def _parse(self, data: bytes) -> None:
        out = self.buffer
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _DATA:
                # Plain data up to the next IAC in one copy.
                j = data.find(IAC, i)
                if j < 0:
                    out += data[i:]
                    return
                out += data[i:j]
                self._state = _IAC
                i = j + 1
                continue
            byte = data[i]
            i += 1
            if state == _IAC:
                if byte == IAC:
                    out.append(IAC)
                    self._state = _DATA
                elif byte in (WILL, WONT, DO, DONT):
                    self._cmd = byte
                    self._state = _OPT
                elif byte == SB:
                    self._sb.clear()
                    self._state = _SB
                else:  # NOP, GA, AYT, ... carry nothing for us
                    self._state = _DATA
            elif state == _OPT:
                self._negotiate(self._cmd, byte)
                self._state = _DATA
            elif state == _SB:
                if byte == IAC:
                    self._state = _SB_IAC
                elif len(self._sb) < MAX_SB:
                    self._sb.append(byte)
            else:  # _SB_IAC
                if byte == SE:
                    self._subnegotiation(bytes(self._sb))
                    self._sb.clear()
                    self._state = _DATA
                elif byte == IAC:
                    if len(self._sb) < MAX_SB:
                        self._sb.append(IAC)
                    self._state = _SB
                else:  # malformed: give up on this sub-negotiation
                    self._sb.clear()
                    self._state = _DATA

    def _iac(self, *parts: int) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(bytes((IAC, *parts)))

    def _negotiate(self, cmd: int, opt: int) -> None:
        if cmd == DO:
            if opt in WE_WILL:
                if opt not in self._local:
                    self._local.add(opt)
                    self._iac(WILL, opt)
                    if opt == NAWS:
                        self._send_naws()
                elif opt == NAWS:
                    self._send_naws()
            else:
                self._iac(WONT, opt)
        elif cmd == DONT:
            if opt in self._local:
                self._local.discard(opt)
                self._iac(WONT, opt)
        elif cmd == WILL:
            if opt in THEY_MAY:
                if opt not in self._remote:
                    self._remote.add(opt)
                    self._iac(DO, opt)
            else:
                self._iac(DONT, opt)
        elif cmd == WONT and opt in self._remote:
            self._remote.discard(opt)
            self._iac(DONT, opt)

    def _send_naws(self) -> None:
        size = escape_iac(bytes((self.cols >> 8, self.cols & 255, self.rows >> 8, self.rows & 255)))
        self._iac(SB, NAWS, *size, IAC, SE)

    def _subnegotiation(self, body: bytes) -> None:
        if len(body) >= 2 and body[0] == TTYPE and body[1] == TTYPE_SEND:
            self._iac(SB, TTYPE, TTYPE_IS, *escape_iac(self.term), IAC, SE)

    # ------------------------------------------------------------------ caller side

    @property
    def agreed(self) -> tuple[frozenset[int], frozenset[int]]:
        """Options enabled (client performs, server performs)."""
        return frozenset(self._local), frozenset(self._remote)

    def send(self, data: bytes) -> float:
        """Send in-band bytes (IAC doubled); returns perf_counter() just before the write."""
        if self.transport is None or self.transport.is_closing():
            raise Disconnected("connection already closed")
        now = time.perf_counter()
        self.transport.write(escape_iac(data))
        return now

    async def drain(self) -> None:
        """Wait while the socket's send buffer is over its high-water mark."""
        await self._writable.wait()
        if self.transport is None or self.transport.is_closing():
            raise Disconnected("connection closed")

    def discard(self) -> None:
        """Forget the screen received so far: later waits look only at newer bytes."""
        self.buffer.clear()
        self._scan_from = 0

    def _scan(self, now: float) -> None:
        waiter = self._waiter
        assert waiter is not None
        longest = max(len(m) for m in self._markers)
        start = max(0, self._scan_from - longest + 1)
        best: tuple[int, int, int] | None = None  # (end, position, marker index)
        for i, marker in enumerate(self._markers):
            pos = self.buffer.find(marker, start)
            if pos >= 0 and (best is None or pos < best[1]):
                best = (pos + len(marker), pos, i)
        self._scan_from = len(self.buffer)
        if best is not None:
            screen = bytes(self.buffer[: best[1]])
            del self.buffer[: best[0]]
            self._scan_from = 0
            waiter.set_result(Match(best[2], now, screen))

    async def wait_for(self, markers: Sequence[bytes], timeout: float) -> Match:
        """Wait until one of `markers` is in the screen received (since the last match).

        The buffer up to the end of the first marker found is consumed. Raises WaitTimeout
        or Disconnected.
        """
        if not markers or not all(markers):
            raise ValueError("markers must be non-empty")
        self._markers = markers
        self._waiter = asyncio.get_running_loop().create_future()
        self._scan_from = 0
        self._scan(time.perf_counter())
        if not self._waiter.done() and self.closed.done():
            self._waiter.set_exception(Disconnected("connection closed by the server"))
        try:
            return await asyncio.wait_for(self._waiter, timeout)
        except TimeoutError:
            tail = bytes(self.buffer[-120:])
            raise WaitTimeout(
                f"no {[m.decode('latin-1') for m in markers]} within {timeout:g} s; "
                f"last screen bytes {tail!r}"
            ) from None
        finally:
            self._waiter = None

    async def wait_quiet(self, quiet: float, timeout: float, *, since: float) -> float:
        """Wait for output after `since` that then stops for `quiet` seconds.

        Returns perf_counter() of the last byte. Used when no marker is known.
        """
        self._activity = asyncio.Event()
        deadline = time.perf_counter() + timeout
        try:
            while True:
                now = time.perf_counter()
                if now >= deadline:
                    raise WaitTimeout(f"output did not settle within {timeout:g} s")
                if self.last_data > since and now - self.last_data >= quiet:
                    self.discard()
                    return self.last_data
                if self.closed.done():
                    raise Disconnected("connection closed by the server")
                self._activity.clear()
                wait = quiet - (now - self.last_data) if self.last_data > since else deadline - now
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._activity.wait(), max(0.001, min(wait, deadline - now))
                    )
        finally:
            self._activity = None

    def close(self) -> None:
        """Hang up."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def connect(
    host: str, port: int, timeout: float, *, term: bytes = b"dumb", cols: int = 80, rows: int = 24
) -> TelnetClient:
    """Open one caller's connection (TCP only; negotiation happens as the server asks)."""
    loop = asyncio.get_running_loop()
    try:
        _, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: TelnetClient(term, cols, rows), host, port), timeout
        )
    except TimeoutError:
        raise WaitTimeout(f"TCP connect to {host}:{port} took over {timeout:g} s") from None
    return protocol
