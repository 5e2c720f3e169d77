"""The board's telnet server: telnetlib3 with our option policy, and the thin shell seam."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import telnetlib3
from telnetlib3.stream_reader import TelnetReader, TelnetReaderUnicode
from telnetlib3.stream_writer import TelnetWriter, TelnetWriterUnicode
from telnetlib3.telopt import (
    BINARY,
    CHARSET,
    DO,
    DONT,
    LINEMODE,
    LOGOUT,
    MCCP2_COMPRESS,
    MCCP3_COMPRESS,
    NAWS,
    NEW_ENVIRON,
    STATUS,
    TM,
    TSPEED,
    TTYPE,
    WILL,
    WONT,
    XDISPLOC,
)

from bbs.config import Config
from bbs.session.link import Link, Negotiated
from bbs.telnet.limits import MESSAGES, Admission, TokenBucket, count_commands, log_event
from bbs.telnet.proxy import Header, ProxyError, ProxyParser, Trusted
from bbs.terminal.caps import clamp_size

log = logging.getLogger(__name__)

MAX_VALUE = 64
"""Longest TTYPE or NEW-ENVIRON value kept; longer ones are cut (they are only ever hints)."""
MAX_ENVIRON = 32
"""Most NEW-ENVIRON variables kept from one client."""
MAX_TTYPES = 8
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FLOOD_SLICE = 256
"""Bytes of a command flood interpreted at a time (at most 128 commands)."""
_BYTES_SLICE = 16384
"""Bytes of held input interpreted at a time when they carry few commands."""
_IAC, _SB, _SE = 255, 250, 240
_SB_OPTIONS = frozenset({TTYPE, NAWS, NEW_ENVIRON, TSPEED, CHARSET, XDISPLOC})
"""Sub-negotiations the board has a use for; any other is dropped before telnetlib3,
which interprets sub-negotiation bytes one at a time in Python, ever sees it."""
MAX_UNWANTED_SUBNEGOTIATIONS = 32
"""Sub-negotiations of options not in use a connection may send before it is closed."""
_OPTION_VERBS = frozenset({251, 252, 253, 254})
"""WILL, WONT, DO, DONT: the commands followed by an option byte."""
_REFUSED_OPTIONS = (STATUS, LINEMODE)
"""STATUS serves nobody and makes the server write whatever a client asks for; LINEMODE
would bring SLC tables to parse and answer while the board reads a key at a time."""


def _subnegotiation_end(data: bytes, pos: int) -> tuple[int, int]:
    """Where the sub-negotiation running at `pos` ends: (index of its closing IAC or -1,
    end of the body seen so far). Doubled IACs are data; a lone IAC at the very end waits
    for the byte after it."""
    scan = pos
    n = len(data)
    while True:
        at = data.find(255, scan)
        if at < 0:
            return -1, n
        if at + 1 >= n:
            return -1, at
        if data[at + 1] == _IAC:
            scan = at + 2
            continue
        return at, at


def clean_value(value: object) -> str:
    """A client-supplied string made harmless: control characters removed, length capped."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub("", text)[:MAX_VALUE]


class Edge:
    """One node's connection edge: its limits, who is connected, and how it names itself."""

    def __init__(self, config: Config, node: str = "-") -> None:
        self.config = config
        self.node = node
        self.admission = Admission(config.max_sessions, config.max_per_address)
        self.trusted = Trusted(config.trusted_proxies)


class BoardWriter(TelnetWriter):
    """telnetlib3's option interpreter, damped (RFC 1143) and without compression.

    A request that would not change an option's state gets no answer, a refusal is said
    once per option, and a client that keeps flipping one option is marked abusive (the
    protocol hangs up on it between two slices of input).
    """

    max_option_changes = 32
    abusive = ""
    """Why the client must be disconnected, once it is; "" while it behaves."""

    def _change(self, opt: bytes) -> bool:
        """Count one change of `opt`; False once the client is flipping it in a loop."""
        if self.abusive:
            return False
        buckets: dict[bytes, TokenBucket] | None = getattr(self, "_option_buckets", None)
        if buckets is None:
            buckets = {}
            self._option_buckets = buckets
        bucket = buckets.get(opt)
        if bucket is None:
            bucket = buckets[opt] = TokenBucket(_OPTION_REFILL, self.max_option_changes)
        if bucket.charge(1) > 0:
            self.abusive = "negotiation_loop"
            return False
        return True

    def _refused(self, kind: str) -> set[bytes]:
        refused: set[bytes] | None = getattr(self, kind, None)
        if refused is None:
            refused = set()
            setattr(self, kind, refused)
        return refused

    def handle_will(self, opt: bytes) -> None:
        """WILL: answered only when it changes something, refused once."""
        if opt in _UNDAMPED:
            super().handle_will(opt)
            return
        if self.remote_option.enabled(opt):
            return
        refused = self._refused("_refused_will")
        # A request already refused is not a change: no answer, and only the command budget
        # counts it.
        if opt in refused or not self._change(opt):
            return
        super().handle_will(opt)
        if not self.remote_option.enabled(opt):
            refused.add(opt)

    def handle_wont(self, opt: bytes) -> None:
        """WONT: state changes are counted; a WONT for an option already off is ignored."""
        if opt in _UNDAMPED or self.pending_option.enabled(DO + opt):
            super().handle_wont(opt)
            return
        if not self.remote_option.enabled(opt) or not self._change(opt):
            return
        super().handle_wont(opt)

    def handle_do(self, opt: bytes) -> bool:
        """DO: answered only when it changes something, refused once."""
        if opt in _UNDAMPED:
            return bool(super().handle_do(opt))
        if self.local_option.enabled(opt):
            return True
        refused = self._refused("_refused_do")
        if opt in refused or not self._change(opt):
            return False
        agreed = bool(super().handle_do(opt))
        if not agreed:
            refused.add(opt)
        return agreed

    def handle_dont(self, opt: bytes) -> None:
        """DONT: state changes are counted; a DONT for an option already off is ignored."""
        if opt in _UNDAMPED or self.pending_option.enabled(WILL + opt):
            super().handle_dont(opt)
            return
        if self.local_option.enabled(opt) and self._change(opt):
            super().handle_dont(opt)

    def handle_subnegotiation(self, buf: collections.deque[bytes]) -> None:
        """Sub-negotiations, except a compression start: nothing a client sends is inflated."""
        if buf and buf[0] in (MCCP2_COMPRESS, MCCP3_COMPRESS):
            log.debug("unsolicited compression start ignored")
            return
        super().handle_subnegotiation(buf)


_UNDAMPED = {TM, LOGOUT}
"""Options whose every request means something (a timing mark, a logout)."""
_OPTION_REFILL = 2.0
"""Changes of one option a second a client earns back."""


class _ReaderFlow(asyncio.ReadTransport):
    """Stands for the transport towards telnetlib3's reader, so that its back-pressure and
    the edge's budget pause and resume reading through one set of reasons."""

    def __init__(self, protocol: BoardTelnetServer) -> None:
        super().__init__()
        self._owner = protocol

    def pause_reading(self) -> None:
        self._owner.pause("reader")

    def resume_reading(self) -> None:
        self._owner.resume("reader")

    def is_reading(self) -> bool:
        return not self._owner.reading_held()


TRANSFER_BYTES_FACTOR = 16
"""How much faster than `input_bytes_per_second` a caller may send during a transfer."""


class BoardTelnetServer(telnetlib3.TelnetServer):
    """telnetlib3's server with the board's policy.

    It asks for BINARY both ways, ECHO and SGA (character at a time), TTYPE (cycled to
    collect the whole list), NAWS, TSPEED and NEW-ENVIRON; it refuses compression; it
    cleans every value a client volunteers before anyone can read it; and it enforces the
    edge's limits (input budget, sub-negotiation length, negotiation loops, sign-in grace).
    """

    edge: Edge | None = None
    """The node's limits; None runs with the defaults (tests that build the class directly)."""
    address = "?"
    """The caller's address as counted (the PROXY header's source when there is one)."""
    deadline: float | None = None
    """Loop time by which sign-in must be over."""
    proxied: tuple[tuple[str, int], tuple[str, int]] | None = None
    """(caller, proxy) when a PROXY header named a caller other than the peer."""
    forget: Callable[[BoardTelnetServer], None] | None = None
    """Called once when the connection ends (the server's list of callers)."""
    environ: dict[str, str]
    """The NEW-ENVIRON variables the client sent, cleaned (never any that telnetlib3 sets)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Wire the option policy and the limits into a new connection."""
        # Our own handle on the line: telnetlib3 keeps its own privately.
        self._line: asyncio.BaseTransport | None = transport
        self._ttypes_seen = 0
        self.environ = {}
        super().connection_made(transport)
        self._resize_callbacks: list[Callable[[int, int], None]] = []
        edge = self.edge or Edge(Config())
        self._limits = edge
        self._read_holds: set[str] = set()
        self._held = bytearray()
        self._flood_since = 0.0
        self._resume_handle: asyncio.TimerHandle | None = None
        self._grace: asyncio.TimerHandle | None = None
        self._released = False
        self._ended = False
        config = edge.config
        self._bytes = TokenBucket(config.input_bytes_per_second, config.input_bytes_per_second)
        self._byte_rate = config.input_bytes_per_second
        rate = config.input_commands_per_second
        self._commands = TokenBucket(rate, rate)
        sb_rate = config.subnegotiation_bytes_per_second
        self._sb_bytes = TokenBucket(sb_rate, max(4 * sb_rate, 2 * config.max_subnegotiation))
        self._unwanted = 0
        self._sb_frame: bytearray | None = None
        """The sub-negotiation being received (from its IAC SB), or None outside one."""
        self._carry = b""
        """The start of a command cut by the end of a chunk, kept for the next one."""
        self._stall: asyncio.TimerHandle | None = None
        assert self.writer is not None and self.reader is not None
        if isinstance(self.writer, BoardWriter):
            self.writer.max_option_changes = config.max_option_changes
        # MCCP makes the server inflate whatever a client sends: a bomb, for no benefit here.
        self.writer.always_dont.update({MCCP2_COMPRESS, MCCP3_COMPRESS, *_REFUSED_OPTIONS})
        self.writer.always_wont.update(_REFUSED_OPTIONS)
        # The board parses keys itself; telnetlib3's SLC scan costs a Python loop per byte.
        self.writer.slc_simulated = False
        self.reader.set_transport(_ReaderFlow(self))
        if isinstance(transport, asyncio.WriteTransport):
            with contextlib.suppress(NotImplementedError):
                transport.set_write_buffer_limits(
                    high=config.output_high_water, low=config.output_high_water // 4
                )
        if self.address == "?":
            peer = transport.get_extra_info("peername") or ("?", 0)
            self.address = str(peer[0])
        loop = asyncio.get_running_loop()
        deadline = self.deadline if self.deadline is not None else loop.time() + config.login_grace
        self._grace = loop.call_at(deadline, self._grace_over)

    # ------------------------------------------------------------ limits

    def signed_in(self) -> None:
        """Sign-in is over: the grace deadline no longer applies."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def _grace_over(self) -> None:
        self._grace = None
        self.hang_up("login_grace", MESSAGES["login_grace"])

    def hang_up(self, reason: str, message: str = "") -> None:
        """Disconnect for cause: one log line, an optional last line, then close."""
        if self._ended:
            return
        self._ended = True
        log_event("disconnected", reason, addr=self.address, node=self._limits.node)
        transport = self._line
        if isinstance(transport, asyncio.WriteTransport) and not transport.is_closing() and message:
            transport.write(b"\r\n" + message.encode("ascii") + b"\r\n")
        self._held.clear()
        if self.writer is not None:
            self.writer.close()
        elif transport is not None:
            transport.close()

    def reading_held(self) -> bool:
        """Whether anything holds reading from the caller back."""
        return bool(self._read_holds)

    def pause(self, reason: str) -> None:
        """Stop reading from the caller for `reason` (budget or reader back-pressure)."""
        if not self._read_holds and isinstance(self._line, asyncio.ReadTransport):
            with contextlib.suppress(RuntimeError):
                self._line.pause_reading()
        self._read_holds.add(reason)

    def resume(self, reason: str) -> None:
        """`reason` no longer holds reading back; reading resumes when nothing else does."""
        if reason not in self._read_holds:
            return
        self._read_holds.discard(reason)
        line = self._line
        if not self._read_holds and not self._ended and isinstance(line, asyncio.ReadTransport):
            with contextlib.suppress(RuntimeError):
                line.resume_reading()

    def _wait(self, seconds: float) -> None:
        """Pause reading for `seconds` (over budget), then carry on with what is held."""
        self.pause("budget")
        loop = asyncio.get_running_loop()
        when = loop.time() + max(seconds, 0.005)
        if self._resume_handle is not None:
            if self._resume_handle.when() >= when:
                return
            self._resume_handle.cancel()
        self._resume_handle = loop.call_at(when, self._wake)

    def _wake(self) -> None:
        self._resume_handle = None
        if self._ended:
            return
        if self._held:
            self._release_held()
            if self._held or self._ended:
                return
        self.resume("budget")

    def transfer_mode(self, on: bool) -> None:
        """During a file transfer the byte budget is `TRANSFER_BYTES_FACTOR` times larger:
        an upload is the one time a caller rightly sends megabytes a second. Commands keep
        their budget, so an IAC flood stays throttled."""
        rate = self._byte_rate * (TRANSFER_BYTES_FACTOR if on else 1)
        self._bytes.rate = rate
        self._bytes.capacity = rate

    def data_received(self, data: bytes) -> None:
        """Charge the input budget (per chunk, not per byte), then interpret the bytes."""
        if self._ended or not data:
            return
        if self._held:
            # A chunk the transport delivered before the pause took effect.
            self._held += data
            return
        commands = count_commands(data)
        if len(data) > self._bytes.available() or (
            commands and commands > self._commands.available()
        ):
            self._held += data
            self._release_held()
            return
        self._bytes.charge(len(data))
        if commands:
            self._commands.charge(commands)
        self._flood_since = 0.0
        rest = self._feed(data)
        if self._sb_bytes.available() < 0 and not self._ended:
            self._held += rest
            self._over_subnegotiation_budget()

    def _release_held(self) -> None:
        """Interpret held input a slice at a time, as far as both budgets allow."""
        while self._held and not self._ended:
            piece = bytes(self._held[:_BYTES_SLICE])
            commands = count_commands(piece)
            if commands > _FLOOD_SLICE // 2:
                piece = piece[:_FLOOD_SLICE]
                commands = count_commands(piece)
            need_bytes = min(len(piece), self._bytes.capacity) - self._bytes.available()
            need_commands = 0.0
            if commands:
                need_commands = min(commands, self._commands.capacity) - self._commands.available()
            if need_commands > 0:
                # Only a command flood is cut in the end; a fast upload is merely slowed.
                now = asyncio.get_running_loop().time()
                if not self._flood_since:
                    self._flood_since = now
                elif now - self._flood_since > self._limits.config.flood_timeout:
                    self.hang_up("flood", MESSAGES["flood"])
                    return
            if need_bytes > 0 or need_commands > 0:
                self._wait(max(need_bytes / self._bytes.rate, need_commands / self._commands.rate))
                return
            self._bytes.charge(len(piece))
            self._commands.charge(commands)
            del self._held[: len(piece)]
            rest = self._feed(piece)
            if self._sb_bytes.available() < 0:
                self._held[0:0] = rest
                self._over_subnegotiation_budget()
                return

    def held_bytes(self) -> int:
        """Input received but not yet interpreted: held back by a budget, or the unfinished
        sub-negotiation or command."""
        frame = len(self._sb_frame) if self._sb_frame is not None else 0
        return len(self._held) + len(self._carry) + frame

    def _over_subnegotiation_budget(self) -> None:
        """Sub-negotiation bytes came faster than their budget: read again once it has
        refilled, and cut a client that stays over it for `flood_timeout`."""
        if self._ended:
            return
        now = asyncio.get_running_loop().time()
        if not self._flood_since:
            self._flood_since = now
        elif now - self._flood_since > self._limits.config.flood_timeout:
            self.hang_up("subnegotiation_flood", MESSAGES["flood"])
            return
        self._wait(-self._sb_bytes.available() / self._sb_bytes.rate)

    def _feed(self, data: bytes) -> bytes:
        """Hand bytes to telnetlib3; what is left when the sub-negotiation budget ran out
        (to be read once it has refilled).

        Sub-negotiations are cut out here, with `bytes.find`, and charged to a budget of
        their own: telnetlib3 reads them a byte at a time in Python, so a client could buy
        much of the node's time for few bytes. Only those of options in use reach it.
        """
        if self.writer is None:
            return b""
        if self._carry:
            data, self._carry = self._carry + data, b""
        if self._sb_frame is None and 255 not in data:
            self._handover(data)
            return b""
        n = len(data)
        pos = plain = 0
        limit = self._limits.config.max_subnegotiation
        while pos < n and not self._ended:
            frame = self._sb_frame
            if frame is None:
                at = data.find(255, pos)
                if at < 0:
                    break
                verb = data[at + 1] if at + 1 < n else -1
                if verb < 0 or (verb in _OPTION_VERBS and at + 2 >= n):
                    # A command cut in two by the chunk's end: finish it with the next one.
                    self._handover(data[plain:at])
                    self._carry = data[at:]
                    return b""
                if verb != _SB:
                    pos = at + (3 if verb in _OPTION_VERBS else 2)
                    continue
                self._handover(data[plain:at])
                self._sb_frame = bytearray(b"\xff\xfa")
                pos = plain = at + 2
                continue
            end, stop = _subnegotiation_end(data, pos)
            frame += data[pos:stop]
            self._sb_bytes.charge(stop - pos)
            if len(frame) > limit + 2:
                self.hang_up("subnegotiation_too_long")
                return b""
            if end < 0:
                self._carry = data[stop:]
                return b""
            self._sb_frame = None
            if data[end + 1] == _SE:
                pos = plain = end + 2
                self._subnegotiation(bytes(frame + b"\xff\xf0"))
            else:
                # IAC and a command inside a sub-negotiation: the frame is broken off and
                # the command read as one.
                pos = plain = end
            if self._sb_bytes.available() < 0:
                return data[pos:]
        if self._sb_frame is None:
            self._handover(data[plain:])
        return b""

    def _handover(self, data: bytes) -> None:
        """In-band bytes and commands (no sub-negotiation) to telnetlib3, checked after."""
        writer = self.writer
        if not data or writer is None or self._ended:
            return
        super().data_received(data)
        if isinstance(writer, BoardWriter) and writer.abusive:
            self.hang_up(writer.abusive)

    def _subnegotiation(self, frame: bytes) -> None:
        """A whole IAC SB ... IAC SE: to telnetlib3 when its option is in use, else dropped."""
        option = frame[2:3]
        writer = self.writer
        if writer is None:
            return
        if option in _SB_OPTIONS and (
            writer.remote_option.enabled(option)
            or writer.local_option.enabled(option)
            or writer.pending_option.enabled(DO + option)
            or writer.pending_option.enabled(WILL + option)
        ):
            self._handover(frame)
        else:
            # A client that keeps sending them (STATUS SEND, LINEMODE SLC tables) is
            # probing or flooding: no terminal sends more than a stray one or two.
            self._unwanted += 1
            if self._unwanted > MAX_UNWANTED_SUBNEGOTIATIONS:
                self.hang_up("unwanted_subnegotiation")

    # ------------------------------------------------------------ output

    def pause_writing(self) -> None:
        """The caller stopped reading what the board writes (negotiation replies included):
        stop reading from them too, and hang up if it lasts `drain_timeout`."""
        super().pause_writing()
        self.pause("output")
        if self._stall is None and not self._ended:
            loop = asyncio.get_running_loop()
            self._stall = loop.call_later(self._limits.config.drain_timeout, self._stalled)

    def resume_writing(self) -> None:
        """The caller reads again."""
        super().resume_writing()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        self.resume("output")

    def _stalled(self) -> None:
        self._stall = None
        self.hang_up("stalled")

    def connection_lost(self, exc: Exception | None) -> None:
        """Release the connection's place in the node's counts, once."""
        if not self._released:
            self._released = True
            self._ended = True
            self._limits.admission.release(self.address)
            for handle in (self._grace, self._resume_handle, self._stall):
                if handle is not None:
                    handle.cancel()
            if self.forget is not None:
                self.forget(self)
        super().connection_lost(exc)
        self._line = None

    # ------------------------------------------------------------ options

    def begin_advanced_negotiation(self) -> None:
        """Ask for the client's line speed too (TSPEED), besides telnetlib3's set."""
        super().begin_advanced_negotiation()
        if self.writer is not None:
            self.writer.iac(DO, TSPEED)

    def on_ttype(self, ttype: str) -> None:
        """Record one TTYPE answer, cleaned."""
        self._ttypes_seen += 1
        if self._ttypes_seen > MAX_TTYPES:
            return
        super().on_ttype(clean_value(ttype))

    def on_environ(self, mapping: dict[str, str]) -> None:
        """Record NEW-ENVIRON values, cleaned and capped; they never log anyone in."""
        cleaned: dict[str, str] = {}
        for key, value in list(mapping.items())[:MAX_ENVIRON]:
            name = clean_value(key).upper()
            if name and not name.startswith(("TTYPE", "PEER", "SSL")):
                cleaned[name] = clean_value(value)
        # Keys telnetlib3 itself sets must not be overridden by a client's environment.
        for reserved in ("TERM", "COLS", "ROWS", "CHARSET", "TIMEOUT", "TSPEED"):
            cleaned.pop(reserved, None)
        self.environ.update((k, v) for k, v in cleaned.items() if v)
        super().on_environ(cleaned)

    def on_tspeed(self, rx: str, tx: str) -> None:
        """Record the client's reported line speed."""
        super().on_tspeed(clean_value(rx)[:12], clean_value(tx)[:12])

    def on_naws(self, rows: int, cols: int) -> None:
        """Record the window size (clamped) and tell the session, which reflows its screen."""
        cols, rows = clamp_size(cols, rows)
        super().on_naws(rows, cols)
        for callback in getattr(self, "_resize_callbacks", ()):
            callback(cols, rows)

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Call `callback(cols, rows)` after each window-size change."""
        self._resize_callbacks.append(callback)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """telnetlib3's connection facts, with the caller a PROXY header named as peer."""
        if self.proxied is not None and name in ("peername", "proxied_by"):
            return self.proxied[0] if name == "peername" else self.proxied[1]
        return super().get_extra_info(name, default)

    def disconnect(self) -> None:
        """Close the line at once (the server is shutting down)."""
        if self._line is not None and not self._line.is_closing():
            self._line.close()


class TelnetLink:
    """A Session's view of one telnet connection."""

    def __init__(self, reader: TelnetReader, writer: TelnetWriter) -> None:
        self._reader = reader
        self._writer = writer
        protocol = writer.protocol
        self._protocol = protocol if isinstance(protocol, BoardTelnetServer) else None
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"
        self.address = str(peer[0])
        """The caller's address alone (the PROXY header's source behind a proxy)."""

    def signed_in(self) -> None:
        """Sign-in is over: the pre-login grace deadline stops applying."""
        if self._protocol is not None:
            self._protocol.signed_in()

    def negotiated(self) -> Negotiated:
        """What negotiation learned, as of now."""
        w = self._writer
        names: list[str] = []
        for n in range(1, MAX_TTYPES + 1):
            value = w.get_extra_info(f"ttype{n}")
            if not value:
                break
            names.append(value.lower())
        term = w.get_extra_info("TERM")
        if term and not names:
            names.append(clean_value(term).lower())
        environ = dict(self._protocol.environ) if self._protocol is not None else {}
        if term:
            environ["TERM"] = clean_value(term)
        telnet = bool(
            any(v for _, v in w.remote_option.items()) or any(v for _, v in w.local_option.items())
        )
        return Negotiated(
            terminal_types=tuple(dict.fromkeys(names)),
            cols=int(w.get_extra_info("cols") or 0),
            rows=int(w.get_extra_info("rows") or 0),
            speed=str(w.get_extra_info("tspeed") or ""),
            environ=environ,
            telnet=telnet,
            binary_out=bool(w.outbinary),
            echo=bool(w.will_echo),
        )

    async def read(self, n: int) -> bytes:
        """In-band bytes from the caller (IAC commands already removed)."""
        data: bytes = await self._reader.read(n)
        return data

    def write(self, data: bytes) -> None:
        """Bytes to the caller; telnetlib3 doubles IAC."""
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait for the transport's buffer to drain below its high-water mark."""
        await self._writer.drain()

    def close(self) -> None:
        """Hang up."""
        if not self._writer.is_closing():
            self._writer.close()

    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return bool(self._writer.is_closing())

    async def set_binary(self, on: bool) -> bool:
        """Ask for BINARY both ways (or drop it); whether it was on both ways before."""
        w = self._writer
        before = bool(w.outbinary and w.inbinary)
        if on and not before:
            if not w.outbinary:
                w.iac(WILL, BINARY)
            if not w.inbinary:
                w.iac(DO, BINARY)
            for _ in range(40):
                if w.outbinary and w.inbinary:
                    break
                await asyncio.sleep(0.05)
        elif not on and before:
            w.iac(WONT, BINARY)
            w.iac(DONT, BINARY)
        return before

    def transfer_mode(self, on: bool) -> None:
        """Lift the inbound byte budget for an upload (see `BoardTelnetServer.transfer_mode`)."""
        if self._protocol is not None:
            self._protocol.transfer_mode(on)

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Register for window-size changes (NAWS)."""
        if self._protocol is not None:
            self._protocol.on_resize(callback)


class Gate(asyncio.Protocol):
    """The first protocol of every connection: reads the PROXY header when one is expected,
    counts the caller's address, then hands the connection to the telnet protocol."""

    def __init__(self, edge: Edge, make: Callable[[], BoardTelnetServer]) -> None:
        self._edge = edge
        self._make = make
        self._transport: asyncio.Transport | None = None
        self._parser: ProxyParser | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._peer = ("?", 0)
        self._deadline = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Check the peer; wait for the PROXY header or admit the caller at once."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername") or ("?", 0)
        self._peer = (str(peer[0]), int(peer[1]))
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self._edge.config.login_grace
        if not self._edge.config.proxy_protocol:
            self._admit(self._peer, b"")
            return
        if self._peer[0] not in self._edge.trusted:
            self._refuse("untrusted_proxy", self._peer[0])
            return
        self._parser = ProxyParser()
        self._timer = loop.call_later(self._edge.config.proxy_timeout, self._too_slow)

    def data_received(self, data: bytes) -> None:
        """Bytes before the hand-off: the PROXY header."""
        if self._parser is None:
            return
        result = self._parser.feed(data)
        if isinstance(result, Header):
            self._cancel()
            rest, self._parser = self._parser.rest, None
            self._admit(result.src or self._peer, rest)
        elif isinstance(result, ProxyError):
            self._cancel()
            self._parser = None
            self._refuse("proxy_header", self._peer[0], detail=result.reason)

    def _too_slow(self) -> None:
        self._timer = None
        self._parser = None
        self._refuse("proxy_timeout", self._peer[0])

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, reason: str, addr: str, message: str = "", **more: object) -> None:
        log_event("refused", reason, addr=addr, node=self._edge.node, **more)
        if self._transport is not None and not self._transport.is_closing():
            if message:
                self._transport.write(message.encode("ascii") + b"\r\n")
            self._transport.close()

    def _admit(self, peer: tuple[str, int], rest: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        reason = self._edge.admission.admit(peer[0])
        if reason:
            self._refuse(reason, peer[0], MESSAGES[reason])
            return
        protocol = self._make()
        protocol.address = peer[0]
        protocol.deadline = self._deadline
        if peer != self._peer:
            protocol.proxied = (peer, self._peer)
        transport.set_protocol(protocol)
        try:
            protocol.connection_made(transport)
        except Exception:
            self._edge.admission.release(peer[0])
            if protocol.forget is not None:
                protocol.forget(protocol)
            raise
        if rest:
            protocol.data_received(rest)

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection ended before the hand-off."""
        self._cancel()
        self._parser = None


Shell = Callable[[Link], Awaitable[None]]


class BoardServer:
    """A listening node: the socket, the callers connected to it and its edge."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.listener: asyncio.Server | None = None
        self._callers: dict[BoardTelnetServer, None] = {}

    @property
    def clients(self) -> list[BoardTelnetServer]:
        """The connections admitted and not yet ended, oldest first."""
        return list(self._callers)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets."""
        return tuple(self.listener.sockets) if self.listener is not None else ()

    def admitted(self, protocol: BoardTelnetServer) -> None:
        """Count a connection among the callers until it ends."""
        self._callers[protocol] = None
        protocol.forget = self._forget

    def _forget(self, protocol: BoardTelnetServer) -> None:
        self._callers.pop(protocol, None)

    def stop_listening(self) -> None:
        """Take no new callers; those connected stay."""
        if self.listener is not None:
            self.listener.close()

    def close(self) -> None:
        """Stop listening and close every caller's line."""
        self.stop_listening()
        for protocol in list(self._callers):
            protocol.disconnect()

    async def wait_closed(self) -> None:
        """Wait until the listening socket is closed."""
        if self.listener is not None:
            await self.listener.wait_closed()


async def start_server(
    host: str,
    port: int,
    shell: Shell,
    connect_maxwait: float,
    *,
    config: Config | None = None,
    node: str = "-",
) -> BoardServer:
    """Listen for callers; each admitted connection runs `shell` with its TelnetLink.

    The limits come from `config` (defaults when None); `node` names this node in the
    structured log lines.
    """
    edge = Edge(config or Config(), node)
    server = BoardServer(edge)

    async def telnet_shell(
        reader: TelnetReader | TelnetReaderUnicode, writer: TelnetWriter | TelnetWriterUnicode
    ) -> None:
        # encoding=False: telnetlib3 hands over its bytes reader and writer.
        assert not isinstance(reader, TelnetReaderUnicode)
        assert not isinstance(writer, TelnetWriterUnicode)
        link = TelnetLink(reader, writer)
        try:
            await shell(link)
        except Exception:
            log.exception("session %s failed", link.peer)
        finally:
            link.close()

    def make() -> BoardTelnetServer:
        protocol = BoardTelnetServer(
            shell=telnet_shell,
            encoding=False,
            connect_maxwait=connect_maxwait,
            timeout=0,
            compression=False,
            writer_factory=BoardWriter,
        )
        protocol.edge = edge
        server.admitted(protocol)
        return protocol

    loop = asyncio.get_running_loop()
    server.listener = await loop.create_server(lambda: Gate(edge, make), host, port)
    return server
