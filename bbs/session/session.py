"""One Session per connection: it owns the caller's terminal, input, output, language and clock."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from bbs.accounts.model import GUEST, NO_PREFS, Caller, Prefs
from bbs.menus.strings import Strings
from bbs.session.inbox import Inbox
from bbs.session.keys import Control, CursorReport, Event, Key, KeyParser, Resize
from bbs.session.lineedit import LineEditor, width
from bbs.session.link import Link
from bbs.terminal.caps import Caps, Encoding, Tier, clamp_size
from bbs.terminal.controls import Controls
from bbs.terminal.detect import Detection
from bbs.terminal.encoding import decoder, encode
from bbs.terminal.render import render
from bbs.terminal.width import char_width, text_width

log = logging.getLogger(__name__)


class Hangup(Exception):
    """The session is over: the caller hung up, idled out, said goodbye or the node stops."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Per-node settings every session follows."""

    idle_timeout: float = 900.0
    idle_warning: float = 60.0
    max_line: int = 256
    drain_timeout: float = 60.0
    """Seconds a caller may stop reading before the board hangs up on them."""
    input_queue: int = 512
    """Events buffered before the board stops reading from the caller (back-pressure)."""


HISTORY = 20
"""Lines a session remembers for Up/Down at its prompts."""
_CONTROL_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[A-Za-z]|\([0B])")
_SCREEN_MEMORY = 64
"""Markup blocks kept since the last clear, to redraw the screen when the window changes."""
_ESC_WAIT = 0.08

LEFTOVER_GRACE = 2.0
"""Seconds after a file transfer during which input that can only be the terminal's
protocol leftovers (a late "OO", CANs, a repeated header) is dropped rather than read as
keys. Nothing waits for it: the first byte a person could have typed ends it."""
_PROTOCOL_BYTES = frozenset(b"\x18\x04\x06\x15")  # CAN/ZDLE, EOT, ACK, NAK
_CLOSING_BYTES = frozenset(b"O\x11\x13\r\n\x8a\x8d\x00")  # "OO", XON/XOFF, line ends


_SHARED_MIN = 200
"""Screens at least this long are kept once for all sessions (see `_shared`)."""
_SHARED_MOST = 256
_shared_screens: dict[str, str] = {}


def _shared(markup: str) -> str:
    """One object for equal screens in every session's memory of its screen: the same
    menu drawn for a thousand callers is built a thousand times, kept once."""
    if len(markup) < _SHARED_MIN:
        return markup
    kept = _shared_screens.get(markup)
    if kept is not None:
        return kept
    if len(_shared_screens) >= _SHARED_MOST:
        _shared_screens.clear()
    _shared_screens[markup] = markup
    return markup


def is_leftover(data: bytes) -> bool:
    """Whether bytes arriving just after a transfer are the terminal's protocol tail."""
    return not _PROTOCOL_BYTES.isdisjoint(data) or _CLOSING_BYTES.issuperset(data)


"""Seconds after a lone ESC before it counts as the Escape key rather than a sequence start."""


_PRINTABLE = "[^\\x00-\\x1f\\x7f]"
_CONTROLS = "[\\x00-\\x1f\\x7f]"
_CONTROL = re.compile(_CONTROLS)
_PRINTABLE_CHAR = re.compile(_PRINTABLE)
CONTROL_RUN = 512
"""Control keys in a row (no printable character between) beyond which the rest of the
run is dropped: no one types that many; a flood of them costs a key binding each."""


@functools.lru_cache(maxsize=32)
def _runs(chars: str, limit: int) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """For a class of characters: its run at the start, a run longer than `limit`, and
    its run at the end of a text."""
    return (
        re.compile(chars + "*"),
        re.compile(chars + "{" + str(limit + 1) + "}"),
        re.compile(chars + "*\\Z"),
    )


class LineGuard:
    """Bounds what a caller types without an Enter, before any key is parsed.

    A run of more printable characters than the prompt takes, or of more control keys
    than anyone types, is refused where it crosses the bound (a None in the output marks
    the place) and the rest of the run is dropped, at the speed of `re`: a paste of
    megabytes costs no key parsing and no memory. A printable run ends with its line
    end, which goes with it (the refused line's own Enter).
    """

    __slots__ = ("_after_cr", "controls", "dropping", "limit", "run")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.run = 0
        """Printable characters typed in a row so far."""
        self.controls = 0
        """Control keys typed in a row so far."""
        self.dropping = ""
        """The run being dropped: "printable", "control", or "" when none is."""
        self._after_cr = False

    def feed(self, text: str) -> list[str | None]:
        """`text` cut where a run overflows (None marks each overflow), drops removed."""
        out: list[str | None] = []
        while text:
            if self._after_cr:
                self._after_cr = False
                if text[0] in "\n\x00":
                    text = text[1:]
                    continue
            if self.dropping:
                text = self._drop(text)
                continue
            cut_printable = self._overflow(text, _PRINTABLE, self.run, self.limit)
            cut_control = self._overflow(text, _CONTROLS, self.controls, CONTROL_RUN)
            if cut_printable is None and cut_control is None:
                self.run = self._tail(text, _PRINTABLE, self.run, self.limit)
                self.controls = self._tail(text, _CONTROLS, self.controls, CONTROL_RUN)
                out.append(text)
                return out
            if cut_control is None or (cut_printable is not None and cut_printable < cut_control):
                assert cut_printable is not None
                cut, self.dropping = cut_printable, "printable"
            else:
                cut, self.dropping = cut_control, "control"
            if cut:
                out.append(text[:cut])
            out.append(None)
            text = text[cut:]
        return out

    def _drop(self, text: str) -> str:
        """What is left of `text` once the run being dropped is over ("" if it goes on)."""
        if self.dropping == "control":
            end = _PRINTABLE_CHAR.search(text)
            if end is None:
                return ""
            self.dropping = ""
            self.controls = 0
            return text[end.start() :]
        # A printable run ends at the next control: a line end goes with it; any other
        # (^C, Escape, ^Z) still does its work.
        end = _CONTROL.search(text)
        if end is None:
            return ""
        self.dropping = ""
        self.run = 0
        if end.group() in "\r\n":
            self._after_cr = end.group() == "\r"
            return text[end.end() :]
        return text[end.start() :]

    @staticmethod
    def _overflow(text: str, chars: str, run: int, limit: int) -> int | None:
        """Where a run of `chars` first grows past `limit` in `text`, if it does."""
        lead_re, long_re, _ = _runs(chars, limit)
        lead = lead_re.match(text)
        assert lead is not None
        if run + lead.end() > limit:
            return limit - run
        found = long_re.search(text, lead.end())
        return None if found is None else found.start() + limit

    @staticmethod
    def _tail(text: str, chars: str, run: int, limit: int) -> int:
        """The run of `chars` going on at the end of `text` (carried over from `run`)."""
        lead_re, _, tail_re = _runs(chars, limit)
        lead = lead_re.match(text)
        assert lead is not None
        if lead.end() == len(text):
            return run + lead.end()
        tail = tail_re.search(text)
        return len(text) - tail.start() if tail else 0


class _Wake:
    """Put in the input queue by `notify`: wakes a caller waiting at an empty prompt."""


_WAKE = _Wake()
Notice = str | Callable[[], Awaitable[None]]
"""Markup to show between prompts, or an action to run there (a sysop chat breaking in)."""


class Session:
    """A caller's connection: terminal capabilities, language, input events and paced output.

    Screens call `send` with markup and `read_line`/`read_event` for input; they never
    see bytes or escape sequences.
    """

    def __init__(
        self,
        link: Link,
        strings: Strings,
        settings: SessionSettings,
        *,
        caps: Caps | None = None,
        lang: str = "fr",
        node: int = 0,
    ) -> None:
        self.link = link
        self.strings = strings
        self.settings = settings
        self.caps = caps or Caps()
        self.lang = lang
        self.node = node
        self.hotkeys = False
        """Single-key menu choices instead of a word ended with Enter."""
        self.protocol = "Z"
        """The caller's default transfer protocol letter (X, C, 1K, Y, G or Z)."""
        self.tagged: list[int] = []
        """Documents tagged for one batch download."""
        self.where = ""
        """The menu or area the caller is in, for logs and "who is online"."""
        self.caller: Caller = GUEST
        """Who is signed in on this line (a guest until sign-in)."""
        self.chosen: Prefs = NO_PREFS
        """What the caller chose on this call (language, terminal settings): kept with
        their account once signed in, and winning over what it held."""
        self.detected = ""
        """How the terminal was identified, in English (the log)."""
        self.detection: Detection | None = None
        """The same, for the settings screen in the caller's language."""
        self.server_echo = True
        """Whether the board echoes typed characters (the client agreed to WILL ECHO)."""
        self.interrupted = False
        """Whether the last line read was ended by ^C (it reads as "", like a bare Enter)."""
        self.history: list[str] = []
        """Lines typed at prompts (never a password), for Up and Down; the last
        `HISTORY` (a list: an empty deque costs 0.75 KiB per caller)."""
        self._after_notice: Callable[[], Awaitable[None]] | None = None
        self._parser = KeyParser()
        self._decoder = decoder(self.caps.wire_encoding)
        self._events: Inbox[Event | Hangup | _Wake] = Inbox(settings.input_queue)
        # Lists, not deques: they hold a few items now and then, and an empty deque
        # costs 0.75 KiB per caller.
        self._pending: list[Event | Hangup | _Wake] = []
        self._notices: list[Notice] = []
        self._on_wake: Callable[[], Awaitable[None]] | None = None
        self.connected_at = time.monotonic()
        """When the caller connected (monotonic seconds), for "who is online"."""
        self._screen: deque[str] = deque(maxlen=_SCREEN_MEMORY)
        self._last_input = time.monotonic()
        self._warned = False
        self._pump: asyncio.Task[None] | None = None
        self._closing: str = ""
        self._divert: Callable[[list[Event]], None] | None = None
        self._divert_resize: Callable[[], None] | None = None
        self._divert_end: Callable[[str], None] | None = None
        self._divert_overflow: Callable[[], None] | None = None
        self._divert_room: Callable[[], Awaitable[None]] | None = None
        self._guard = LineGuard(settings.max_line)
        self._raw: asyncio.Queue[bytes] | None = None
        self._leftovers_until = 0.0
        self._write_lock = asyncio.Lock()
        self._deferring = False
        self.rows_used = 0
        """Rows the pager has filled since the caller last pressed a key (or a clear)."""
        self._written = 0
        """Writes of text so far; `_acknowledged` is how many the caller had seen when
        they last pressed a key."""
        self._acknowledged = 0
        self._unsent = bytearray()
        self._flusher: asyncio.Handle | None = None
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How pacing waits; tests replace it to count the delays instead of waiting."""
        link.on_resize(self._on_resize)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start reading the caller's input in the background."""
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        """Stop reading and hang up."""
        self.flush()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        self.link.close()

    def end(self, reason: str) -> None:
        """Ask the session to end at its next input wait (shutdown, sysop, ...)."""
        self._closing = reason
        if self._divert_end is not None:
            self._divert_end(reason)
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(Hangup(reason))

    @property
    def ending(self) -> str:
        """Why the session is ending, or "" while it runs."""
        return self._closing

    async def _read_loop(self) -> None:
        data = b""
        try:
            while True:
                if not data:
                    data = await self.link.read(65536 if self._raw is not None else 4096)
                    if not data:
                        break
                if self._raw is not None:
                    self._last_input = time.monotonic()
                    # A bounded queue: a fast uploader waits for the receiver, not our memory.
                    await self._raw.put(data)
                    data = b""
                    continue
                if self._leftovers_until:
                    if time.monotonic() < self._leftovers_until and is_leftover(data):
                        data = b""
                        continue
                    self._leftovers_until = 0.0
                text = self._decoder.decode(data)
                data = b""
                if self._divert is not None:
                    # Typing into a diverted editor is activity: the idle clock must see it.
                    self._last_input = time.monotonic()
                    self._warned = False
                for piece in self._guard.feed(text):
                    if piece is None:
                        await self._overflow()
                    else:
                        await self._dispatch(self._parser.feed(piece))
                if self._parser.pending:
                    # A lone ESC is the Escape key unless the rest of a sequence follows.
                    try:
                        data = await asyncio.wait_for(self.link.read(4096), _ESC_WAIT)
                    except TimeoutError:
                        await self._dispatch(self._parser.flush())
                    else:
                        if not data:
                            break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        if self._divert_end is not None:
            self._divert_end("hangup")
        if self._raw is not None:
            await self._raw.put(b"")
        await self._events.put(Hangup("hangup"))

    async def _overflow(self) -> None:
        """More typed in a row than the line takes: the editor is told, or a read sees it."""
        if self._divert is not None:
            if self._divert_overflow is not None:
                self._divert_overflow()
            await self._wait_for_room()
        else:
            await self._events.put(Key.TOO_LONG)

    async def _dispatch(self, events: list[Event]) -> None:
        """Events to the diverted editor, waiting while it has a backlog, or to the queue."""
        sink = self._divert
        if sink is None:
            for event in events:
                await self._events.put(event)
            return
        if events:
            sink(events)
        await self._wait_for_room()

    async def _wait_for_room(self) -> None:
        room = self._divert_room
        if room is not None:
            # Back-pressure: while the editor has keys to work through, the socket is not
            # read, so a paste waits in the network instead of in memory.
            await room()

    # ----------------------------------------------------------------- terminal

    def set_caps(self, caps: Caps) -> None:
        """Adopt new terminal capabilities (detection, settings screen, window change)."""
        if caps.wire_encoding != self.caps.wire_encoding:
            self._decoder = decoder(caps.wire_encoding)
        self.caps = caps

    def divert_input(
        self,
        sink: Callable[[list[Event]], None] | None,
        *,
        on_resize: Callable[[], None] | None = None,
        on_end: Callable[[str], None] | None = None,
        on_overflow: Callable[[], None] | None = None,
        room: Callable[[], Awaitable[None]] | None = None,
        limit: int | None = None,
    ) -> None:
        """Send key events to `sink` instead of the queue read by `read_event` (editors).

        While diverted, control characters without a named key come as `Control` events
        too. `on_resize()` follows a window change (already in `caps`); `on_end(reason)` a
        hang-up or `end()`, which an editor reading no events would otherwise never see.
        More than `limit` printable characters in a row (the session's `max_line` by
        default) call `on_overflow()` instead of reaching `sink`, and input is dropped up
        to the next line end; `room()` is awaited after each piece of input (back-pressure).
        """
        self._divert = sink
        self._divert_resize = on_resize if sink is not None else None
        self._divert_end = on_end if sink is not None else None
        self._divert_overflow = on_overflow if sink is not None else None
        self._divert_room = room if sink is not None else None
        self._parser.controls = sink is not None
        self._guard.limit = (
            (limit or self.settings.max_line) if sink is not None else (self.settings.max_line)
        )
        if sink is None:
            return
        # Keys typed before the editor started are its input, not the next menu's.
        typed = self._take_typed_ahead()
        if typed:
            sink(typed)
        if on_end is not None:
            if self._closing:
                on_end(self._closing)
            elif self._pump is not None and self._pump.done():
                on_end("hangup")

    def _take_typed_ahead(self) -> list[Event]:
        """Unread key events; window changes, reports and ends stay queued."""
        events: list[Event | Hangup | _Wake] = [*self._pending]
        self._pending.clear()
        while not self._events.empty():
            events.append(self._events.get_nowait())
        keys: list[Event] = []
        for event in events:
            if isinstance(event, (str, Key, Control)):
                keys.append(event)
            else:
                with contextlib.suppress(asyncio.QueueFull):
                    self._events.put_nowait(event)
        return keys

    def resume_input(self, typed_ahead: Iterable[Event] = ()) -> None:
        """End a diversion; `typed_ahead`, key events the editor did not use, are read first."""
        self.divert_input(None)
        self._pending.extend(e for e in typed_ahead if not isinstance(e, Control))

    @property
    def in_transfer(self) -> bool:
        """Whether the line is a raw channel for a file transfer right now."""
        return self._raw is not None

    def divert_bytes(self, queue: asyncio.Queue[bytes] | None) -> None:
        """Hand raw input bytes to `queue` (file transfers) instead of decoding them; b"" = EOF."""
        ended = self._raw is not None and queue is None
        self._raw = queue
        self._leftovers_until = time.monotonic() + LEFTOVER_GRACE if ended else 0.0
        if queue is not None and self._pump is not None and self._pump.done():
            queue.put_nowait(b"")

    def _on_resize(self, cols: int, rows: int) -> None:
        cols, rows = clamp_size(cols, rows)
        if (cols, rows) == (self.caps.cols, self.caps.rows):
            return
        self.set_caps(self.caps.with_(cols=cols, rows=rows))
        if self._divert_resize is not None:
            self._divert_resize()
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(Resize(cols, rows))

    @property
    def controls(self) -> Controls:
        """Terminal controls for the current capabilities."""
        return Controls(self.caps)

    def text(self, key: str, /, **values: object) -> str:
        """A localised string in the session's language."""
        return self.strings.get(key, self.lang, **values)

    def line_text(self, key: str, short: str, /, **values: object) -> str:
        """A one-line string that must not wrap (a footer, a pause): string `key` on
        screens of 80 columns and more, `short` below, cut to the screen as a last resort.
        A Minitel gets `key`_minitel when there is one (it names the Minitel's keys)."""
        cols = self.caps.cols
        if self.caps.tier is Tier.VIDEOTEX and f"{key}_minitel" in self.strings:
            key = short = f"{key}_minitel"
        text = self.text(key if cols >= 80 else short, **values)
        if text_width(text) < cols:
            return text
        kept: list[str] = []
        room = cols - 1
        for ch in text:
            room -= char_width(ch)
            if room < 0:
                break
            kept.append(ch)
        return "".join(kept)

    # ----------------------------------------------------------------- output

    def remember(self, markup: str) -> None:
        """Note markup as being on screen (for a redraw) without sending it."""
        self._screen.append(_shared(markup))

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Inside, what is sent waits for the next prompt and is shown just above it:
        notices said before a screen is drawn (sign-in news) would be wiped by it."""
        outer, self._deferring = self._deferring, True
        try:
            yield
        finally:
            self._deferring = outer

    async def send(self, markup: str, *, remember: bool = True) -> None:
        """Render markup for this terminal and send it, paced at the session's speed."""
        if self._deferring:
            self._notices.append(markup)
            return
        if remember:
            self._screen.append(_shared(markup))
        await self.write_raw(encode(render(markup, self.caps), self.caps))

    @property
    def unread(self) -> bool:
        """Whether text was written since the caller last pressed a key: a notice that
        clearing the screen now would wipe before it is read."""
        return self._written > self._acknowledged

    def acknowledge(self) -> None:
        """The caller has seen what is on the screen (they answered a prompt under it)."""
        self._acknowledged = self._written
        self.rows_used = 0

    async def clear(self) -> None:
        """Clear the screen and forget what was on it; text the caller has not seen yet
        (written since their last key) stays until they press one."""
        if self.unread and not self.link.is_closing():
            await self.pause()
        self.rows_used = 0
        self._screen.clear()
        await self.write_raw(encode(self.controls.clear(), self.caps), content=False)

    async def redraw(self) -> None:
        """Draw again what is on the screen, reflowed to the current window size."""
        blocks = list(self._screen)
        await self.write_raw(encode(self.controls.clear(), self.caps), content=False)
        for block in blocks:
            await self.write_raw(encode(render(block, self.caps), self.caps))

    async def echo(self, text: str) -> None:
        """Echo typed characters when the board, not the terminal, echoes."""
        if self.server_echo and text:
            await self.write_raw(encode(text, self.caps), content=False)

    async def write_raw(self, data: bytes, *, content: bool = True) -> None:
        """Bytes to the caller, paced like a modem at `caps.baud` (10 bits a character).

        `content` False marks terminal housekeeping (echo, erasing, probes), which is
        nothing for the caller to read. Unpaced, what a screen writes before it next
        lets the loop run goes out as one send (a welcome, a menu and its prompt: one
        packet, one system call), at the loop's next turn; `flush` sends it at once,
        before anything that bypasses the session (raw transfer bytes, telnet commands,
        hanging up).
        """
        if self.link.is_closing() or not data:
            return
        if content:
            self._written += 1
        if not self.caps.baud and not self._write_lock.locked():
            if self._unsent:
                self._unsent += data  # the transport has had nothing new since the last drain
                return
            self._unsent += data
            self._flusher = asyncio.get_running_loop().call_soon(self.flush)
            await self._drain()
            return
        async with self._write_lock:
            self.flush()
            baud = self.caps.baud
            if not baud:
                self.link.write(data)
                await self._drain()
                return
            per_second = baud / 10
            chunk = max(1, int(per_second / 20))
            for start in range(0, len(data), chunk):
                if self.link.is_closing():
                    return
                piece = data[start : start + chunk]
                self.link.write(piece)
                await self._drain()
                await self.sleep(len(piece) / per_second)

    def flush(self) -> None:
        """Send what `write_raw` holds for the loop's next turn, now."""
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        if self._unsent:
            data = bytes(self._unsent)
            self._unsent.clear()
            if not self.link.is_closing():
                self.link.write(data)

    async def _drain(self) -> None:
        try:
            # A timeout scope, not wait_for: no task per screen write.
            async with asyncio.timeout(self.settings.drain_timeout):
                await self.link.drain()
        except TimeoutError:
            log.warning("%s: caller stopped reading, hanging up", self.link.peer)
            self.link.close()
            raise Hangup("stalled") from None
        except ConnectionError:
            raise Hangup("hangup") from None

    # ----------------------------------------------------------------- input

    def idle_for(self) -> float:
        """Seconds since the caller last typed something."""
        return time.monotonic() - self._last_input

    async def read_event(self, timeout: float | None = None) -> Event | None:
        """The next input event, or None after `timeout` seconds; enforces the idle timeout.

        Raises Hangup when the caller hangs up, idles out or the session is ended.
        """
        while self._pending and isinstance(self._pending[0], _Wake):
            # A wake-up set aside by the Enter check: the notices themselves are queued.
            self._pending.pop(0)
            self._wake()
        if self._pending:
            pending = self._pending.pop(0)
            if isinstance(pending, Hangup):
                self._pending.insert(0, pending)
                raise pending
            assert not isinstance(pending, _Wake)
            if not isinstance(pending, (CursorReport, Resize)):
                self.acknowledge()
            return pending
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            idle_left = self.settings.idle_timeout - self.idle_for()
            warn_left = idle_left - self.settings.idle_warning
            wait = idle_left if self._warned else warn_left
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
            try:
                if not self._events.empty():
                    # Typed-ahead keys: no timer, no task, nothing for the collector.
                    item = self._events.get_nowait()
                else:
                    async with asyncio.timeout(max(wait, 0)):
                        item = await self._events.get()
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                if self._warned and self.idle_for() >= self.settings.idle_timeout:
                    await self.send("\n{warn}" + self.text("board.idle_disconnect") + "{/}\n")
                    raise Hangup("idle") from None
                if not self._warned and self.idle_for() >= (
                    self.settings.idle_timeout - self.settings.idle_warning
                ):
                    self._warned = True
                    await self.send("\n{warn}" + self.text("board.idle_warning") + "{/}\n")
                    if self._after_notice is not None:
                        await self._after_notice()
                continue
            if isinstance(item, _Wake):
                if self._on_wake is not None:
                    await self._on_wake()
                continue
            if isinstance(item, Hangup):
                # Keep the marker so every later read ends the same way.
                with contextlib.suppress(asyncio.QueueFull):
                    self._events.put_nowait(item)
                raise item
            if not isinstance(item, (CursorReport, Resize)):
                self._last_input = time.monotonic()
                self._warned = False
                self.acknowledge()
            return item

    def drop_queued_enter(self) -> None:
        """Forget an Enter typed right after a hotkey, out of habit: it must not act twice."""
        if self._pending:
            if self._pending[0] is Key.ENTER:
                self._pending.pop(0)
            return
        if not self._events.empty():
            first = self._events.get_nowait()
            if first is not Key.ENTER:
                self._pending.append(first)

    def _queued(self) -> list[Event | Hangup | _Wake]:
        """Everything typed ahead and not read yet, in order (moved where it can be seen)."""
        while not self._events.empty():
            self._pending.append(self._events.get_nowait())
        return self._pending

    def typed_ahead(self) -> bool:
        """Whether a character is already waiting behind the key being read."""
        return any(isinstance(event, str) for event in self._queued())

    def discard_typed_ahead(self) -> None:
        """Forget keys typed before a question was shown: they must not answer it."""
        kept = [e for e in self._queued() if not isinstance(e, (str, Key))]
        self._pending.clear()
        self._pending.extend(kept)

    def push_back(self, events: Iterable[Event]) -> None:
        """Put events back in front of the input, to be read again."""
        self._pending[:0] = list(events)

    async def read_line(
        self,
        prompt: str = "",
        *,
        max_len: int | None = None,
        instant: Callable[[str], bool] | None = None,
        secret: bool = False,
        keys: Mapping[Key, str] | None = None,
    ) -> str:
        """A line typed by the caller, ended with Enter.

        Editing: Backspace, Delete, Left/Right (^B ^F), Home/End (^A ^E), ^U the line,
        ^K to its end, ^W a word, Up/Down (^P ^N) the lines typed before in the session
        (never a password), across wrapped rows; a plain-text terminal has Backspace, ^U
        and ^W. `instant(ch)` makes a first character return at once (menu hotkeys). The
        prompt and the line so far are drawn again after a window change, a message or
        ^L. `keys` makes a named key pressed on an empty line return its word (a Minitel's
        SOMMAIRE at a menu); elsewhere that key leaves the question as ^C does.
        """
        limit = self.settings.max_line
        field = min(max_len or limit, limit)
        buffer: list[str] = []
        self.interrupted = False
        await self.deliver_notices()
        if prompt:
            await self.send(prompt, remember=False)

        editor = self._editor(prompt, buffer, limit, secret)

        async def woken() -> None:
            if not self._notices:
                return
            if buffer and not self.controls.can_move:
                return  # a plain-text line in progress cannot be drawn again: it waits
            await self.write_raw(encode(editor.wipe(), self.caps), content=False)
            await self.deliver_notices()
            await self._edited(editor.redraw(0))

        outer, self._on_wake = self._on_wake, woken
        outer_notice = self._after_notice
        try:
            line = await self._read_line(prompt, editor, instant, field, keys or {})
        finally:
            self._on_wake = outer
            self._after_notice = outer_notice
        self.acknowledge()
        return line

    def _editor(self, prompt: str, buffer: list[str], limit: int, secret: bool) -> LineEditor:
        """The line editor for a prompt: its last rendered line and width, the history."""
        last = render(prompt, self.caps).rpartition("\n")[2].replace("\r", "") if prompt else ""
        editor = LineEditor(
            self.controls,
            last,
            width(_CONTROL_SEQUENCE.sub("", last)),
            limit,
            secret=secret,
            history=() if secret else tuple(self.history),
        )
        editor.chars = buffer
        return editor

    async def _edited(self, out: str) -> None:
        """What the line editor drew, when the board (not the terminal) echoes."""
        if out and self.server_echo:
            await self.write_raw(encode(out, self.caps), content=False)

    async def _read_line(
        self,
        prompt: str,
        editor: LineEditor,
        instant: Callable[[str], bool] | None,
        field: int,
        keys: Mapping[Key, str],
    ) -> str:
        buffer, limit, secret = editor.chars, editor.limit, editor.secret

        async def after_notice() -> None:
            # The cursor is at the start of a fresh row under the message.
            await self._edited(editor.redraw(0))

        self._after_notice = after_notice
        while True:
            event = await self.read_event()
            if isinstance(event, Key) and event in keys and not buffer:
                await self.send("\n", remember=False)
                return keys[event]
            if isinstance(event, str):
                # A hotkey is a key typed alone: with more already behind it ("GO FAX"
                # typed ahead), it starts a word.
                if not buffer and instant is not None and instant(event) and not self.typed_ahead():
                    await self.echo(event)
                    await self.send("\n", remember=False)
                    self.drop_queued_enter()
                    return event
                await self._edited(editor.key(event))
            elif event is Key.ENTER:
                await self._edited(editor.key(Key.END))
                await self.send("\n", remember=False)
                line = editor.text
                if len(buffer) <= field:
                    if line.strip() and not secret and line not in self.history:
                        self.history.append(line)
                        del self.history[:-HISTORY]
                    return line
                # Refused, not cut: the caller is told the field's size and types the
                # line again (kept in the history: Up brings it back to shorten).
                if not secret and line not in self.history:
                    self.history.append(line)
                buffer.clear()
                editor.cursor = 0
                editor.history = () if secret else tuple(self.history)
                await self.send(
                    "{warn}" + self.text("board.field_too_long", max=field) + "{/}\n",
                    remember=False,
                )
                if prompt:
                    await self.send(prompt, remember=False)
            elif event is Key.INTERRUPT or event is Key.MENU:
                # A Minitel's SOMMAIRE leaves a question as ^C does: "" is "never mind".
                await self.send("\n", remember=False)
                self.interrupted = True
                return ""
            elif event is Key.TOO_LONG:
                buffer.clear()
                editor.cursor = 0
                await self.send(
                    "\n{warn}" + self.text("board.too_long", max=limit) + "{/}\n", remember=False
                )
                if prompt:
                    await self.send(prompt, remember=False)
            elif isinstance(event, Resize) or event is Key.REDRAW:
                await self.redraw()
                if prompt:
                    await self.send(prompt, remember=False)
                editor.resized(self.controls)
                await self.echo("*" * len(buffer) if secret else "".join(buffer))
            elif isinstance(event, Key):
                await self._edited(editor.key(event))

    # ----------------------------------------------------------------- notices

    def notify(self, markup: str) -> None:
        """Show `markup` between prompts: at once when the caller waits at an empty
        prompt, else at their next prompt (never inside a line being typed)."""
        self._notices.append(markup)
        self._wake()

    def break_in(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` in this session's own task where a notice would be shown."""
        self._notices.append(action)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._events.put_nowait(_WAKE)

    async def deliver_notices(self) -> bool:
        """Show queued notices and run queued break-ins now; True when there were any."""
        delivered = False
        while self._notices:
            notice = self._notices.pop(0)
            delivered = True
            if isinstance(notice, str):
                await self.send(notice, remember=False)
            else:
                await notice()
        return delivered

    async def pause(self) -> None:
        """Wait for a key before going on: "Appuyez sur Entrée".

        Enter, space and the editing keys are taken; any other character is the start of
        what the caller types next (typed ahead, as callers do), so it is given back to
        the next prompt rather than lost.
        """
        await self.send(
            "{dim}" + self.line_text("board.press_enter", "board.press_enter_short") + "{/}",
            remember=False,
        )
        while True:
            event = await self.read_event()
            if isinstance(event, (str, Key)):
                break
        if isinstance(event, str) and event != " ":
            self.push_back([event])
        await self.write_raw(b"\r\n", content=False)

    async def cursor_position(self, timeout: float) -> CursorReport | None:
        """Ask the terminal where its cursor is; None when it does not answer in time."""
        await self.write_raw(
            encode(self.controls.cursor_position_request(), self.caps), content=False
        )
        deadline = time.monotonic() + timeout
        kept: list[Event] = []
        try:
            while (left := deadline - time.monotonic()) > 0:
                event = await self.read_event(left)
                if event is None:
                    break
                if isinstance(event, CursorReport):
                    return event
                kept.append(event)
            return None
        finally:
            self.push_back(kept)

    def rebuild_decoder(self) -> None:
        """Start input decoding afresh (after the encoding changed mid-line)."""
        self._decoder = decoder(self.caps.wire_encoding)

    @property
    def encoding(self) -> Encoding:
        """The encoding on the wire."""
        return self.caps.wire_encoding
