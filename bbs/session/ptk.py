"""prompt_toolkit line editing over a caller's connection: history, Tab completion, a cap.

Each call builds one prompt_toolkit Application for the time of the edit, over an input
fed by the session (no file descriptor) and an output written through it, and drops it
when the line is done. An edit in progress holds about 200 KiB (a PromptSession kept
open held 500-800 KiB); once the call returns, nothing of it is left.

The input is the session's key events turned into prompt_toolkit's key presses: one
parser (bbs/session/keys.py) reads what callers type. prompt_toolkit is configured and
subclassed, never patched.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import signal
import threading
import time
import types
from collections.abc import Callable, Coroutine, Generator, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, TextIO, cast

from prompt_toolkit.application import Application, create_app_session, get_app, in_terminal
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.data_structures import Size
from prompt_toolkit.formatted_text import ANSI, to_formatted_text
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.input.ansi_escape_sequences import ANSI_SEQUENCES
from prompt_toolkit.input.typeahead import get_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import Layout, Window
from prompt_toolkit.layout.controls import BufferControl
from prompt_toolkit.layout.processors import BeforeInput
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.output.vt100 import Vt100_Output
from prompt_toolkit.utils import get_cwidth

from bbs.directory.text import fold
from bbs.session.keys import Control, Event, Key
from bbs.session.session import Hangup, Session
from bbs.terminal.caps import Tier
from bbs.terminal.encoding import encode
from bbs.terminal.render import render

__all__ = ["Edit", "LineApp", "completions", "key_press", "prompt_line", "typeahead_slot"]

_ESC = "\x1b"
_KEYS_AT_ONCE = 64
"""Keys given to prompt_toolkit per event-loop turn."""
_BACKLOG = 256
"""Keys waiting for prompt_toolkit beyond which the session stops reading the socket."""
_INTERRUPTED = "\x03"
"""What an edit ended by ^C returns inside this module (the caller gets "")."""
TOO_LONG = KeyPress(Keys.F24, "")
"""Stands in the key stream where the caller typed more than the prompt takes."""


# ----------------------------------------------------------------- completion


def _fold(text: str) -> str:
    """Text as compared for completion: no case, no accents, hyphens and apostrophes as spaces."""
    return fold(text.replace("-", " ").replace("'", " ").replace("’", " "))


def completions(words: Sequence[str], typed: str) -> list[str]:
    """The words that start with `typed`, ignoring case and accents ("etats" -> "États-Unis")."""
    prefix = _fold(typed.lstrip())
    return [word for word in words if _fold(word).startswith(prefix)]


def _common_prefix(words: Sequence[str]) -> str:
    """The longest start all `words` share once folded, spelled as in the first one."""
    first = words[0]
    end = 0
    while end < len(first) and all(
        len(w) > end and _fold(w[end]) == _fold(first[end]) for w in words[1:]
    ):
        end += 1
    return first[:end]


def _columns(words: Sequence[str], width: int, height: int) -> list[str]:
    """`words` in columns down then across, like readline, in at most `height` lines."""
    cell = min(width, max(get_cwidth(w) for w in words) + 2)
    across = max(1, width // cell)
    down = math.ceil(len(words) / across)
    shown = words
    if down > height:
        # The list must not scroll the prompt off an 80x24 screen: show the start and a count.
        down = max(1, height - 1)
        shown = words[: down * across]
    lines = []
    for row in range(down):
        cells = [shown[i] for i in range(row, len(shown), down)]
        line = "".join(w + " " * (cell - get_cwidth(w)) for w in cells[:-1]) + cells[-1]
        lines.append(line.rstrip())
    if len(shown) < len(words):
        lines.append(f"... (+{len(words) - len(shown)})")
    return lines


# ----------------------------------------------------------------- input


_NAMED: dict[Key, KeyPress] = {
    Key.ENTER: KeyPress(Keys.ControlM, "\r"),
    Key.ERASE: KeyPress(Keys.ControlH, "\x7f"),
    Key.TAB: KeyPress(Keys.ControlI, "\t"),
    Key.INTERRUPT: KeyPress(Keys.ControlC, "\x03"),
    Key.EOF: KeyPress(Keys.ControlD, "\x04"),
    Key.KILL_LINE: KeyPress(Keys.ControlU, "\x15"),
    Key.KILL_END: KeyPress(Keys.ControlK, "\x0b"),
    Key.KILL_WORD: KeyPress(Keys.ControlW, "\x17"),
    Key.ESCAPE: KeyPress(Keys.Escape, _ESC),
    Key.UP: KeyPress(Keys.Up, "\x1b[A"),
    Key.DOWN: KeyPress(Keys.Down, "\x1b[B"),
    Key.RIGHT: KeyPress(Keys.Right, "\x1b[C"),
    Key.LEFT: KeyPress(Keys.Left, "\x1b[D"),
    Key.HOME: KeyPress(Keys.Home, "\x1b[H"),
    Key.END: KeyPress(Keys.End, "\x1b[F"),
    Key.DELETE: KeyPress(Keys.Delete, "\x1b[3~"),
    Key.PAGE_UP: KeyPress(Keys.PageUp, "\x1b[5~"),
    Key.PAGE_DOWN: KeyPress(Keys.PageDown, "\x1b[6~"),
    Key.TOO_LONG: TOO_LONG,
}
"""The session's named keys as prompt_toolkit's key presses."""
_CONTROLS: dict[str, KeyPress] = {
    ch: KeyPress(key, ch)
    for ch, key in ANSI_SEQUENCES.items()
    if len(ch) == 1 and "\x00" < ch < " " and isinstance(key, Keys)
}
"""Control characters as prompt_toolkit's key presses (^A is Keys.ControlA ...)."""
_EVENTS: dict[Keys | str, Event] = {press.key: key for key, press in _NAMED.items()}
"""Key presses prompt_toolkit left unused, as the session's events again."""


def key_press(event: Event) -> KeyPress | None:
    """The prompt_toolkit key press for one of the session's input events, if it has one."""
    if isinstance(event, str):
        return KeyPress(event, event)
    if isinstance(event, Key):
        return _NAMED.get(event)
    if isinstance(event, Control):
        return _CONTROLS.get(event.char)
    return None


def session_event(press: KeyPress) -> Event | None:
    """A key press prompt_toolkit did not use, as the session's input event again."""
    if press.key in _EVENTS:
        return _EVENTS[press.key]
    if isinstance(press.key, str) and len(press.key) == 1 and press.key.isprintable():
        return press.key
    return None


class _CallerInput(Input):
    """prompt_toolkit input fed with the session's key events: no file descriptor, and no
    parser of its own (the session's is the only one)."""

    def __init__(self, typeahead_key: str) -> None:
        self._keys: list[KeyPress] = []
        self._typeahead_key = typeahead_key
        self._ready: Callable[[], None] | None = None
        self._wakeup: asyncio.Handle | None = None
        self._room = asyncio.Event()
        self._room.set()
        self.last_input = time.monotonic()
        """When the caller last typed something, for the idle timeout."""

    def feed(self, events: list[Event]) -> None:
        """The session's sink for diverted input."""
        self.last_input = time.monotonic()
        for event in events:
            press = key_press(event)
            if press is not None:
                self._keys.append(press)
        self._wake()

    def overflow(self) -> None:
        """The caller typed more than the prompt takes (the session's guard saw it)."""
        self._keys.append(TOO_LONG)
        self._wake()

    async def room(self) -> None:
        """Return once prompt_toolkit has worked through most of the keys given to it."""
        while len(self._keys) > _BACKLOG:
            self._room.clear()
            await self._room.wait()

    def leftover(self, unprocessed: Sequence[KeyPress]) -> list[Event]:
        """Keys typed ahead and not used: prompt_toolkit's unprocessed keys, then ours."""
        keys = [*unprocessed, *self._keys]
        self._keys.clear()
        self._room.set()
        return [e for e in map(session_event, keys) if e is not None]

    def _wake(self) -> None:
        # Keys are read from a loop callback, not inside the session's read loop: a key
        # binding that fails must not take the caller's input pump down with it.
        if self._ready is not None and self._keys and self._wakeup is None:
            self._wakeup = asyncio.get_running_loop().call_soon(self._deliver)

    def _deliver(self) -> None:
        self._wakeup = None
        if self._ready is not None:
            self._ready()

    def fileno(self) -> int:
        raise NotImplementedError("a caller's input has no file descriptor")

    def typeahead_hash(self) -> str:
        return self._typeahead_key

    def read_keys(self) -> list[KeyPress]:
        # A paste is handed over a slice at a time: prompt_toolkit processes what it is
        # given in one go, and thousands of keys would stall every other caller.
        keys, self._keys = self._keys[:_KEYS_AT_ONCE], self._keys[_KEYS_AT_ONCE:]
        if len(self._keys) <= _BACKLOG:
            self._room.set()
        self._wake()
        return keys

    def flush_keys(self) -> list[KeyPress]:
        # A lone ESC is told from a sequence by the session's parser, before it gets here.
        return []

    @property
    def closed(self) -> bool:
        # A hang-up ends the edit with Hangup, never with prompt_toolkit's EOFError.
        return False

    def raw_mode(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def cooked_mode(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def attach(self, input_ready_callback: Callable[[], None]) -> AbstractContextManager[None]:
        return self._attached(input_ready_callback)

    def detach(self) -> AbstractContextManager[None]:
        return self._attached(None)

    @contextlib.contextmanager
    def _attached(self, ready: Callable[[], None] | None) -> Generator[None, None, None]:
        previous, self._ready = self._ready, ready
        try:
            self._wake()
            yield
        finally:
            self._ready = previous
            if self._wakeup is not None:
                self._wakeup.cancel()
                self._wakeup = None
            self._wake()


_free_slots: list[int] = []
_slot_numbers = itertools.count()


@contextlib.contextmanager
def typeahead_slot() -> Iterator[str]:
    """A typeahead key no running edit uses.

    prompt_toolkit keeps typeahead in a process-wide dict that never forgets a key: a
    fresh key per call would leak one entry per edited line, so keys are reused.
    """
    slot = _free_slots.pop() if _free_slots else next(_slot_numbers)
    try:
        yield f"lotus-bbs-{slot}"
    finally:
        _free_slots.append(slot)


# ----------------------------------------------------------------- output


class _Wire:
    """The stdout of Vt100_Output: text to the caller's bytes, sent in order through the session."""

    def __init__(self, session: Session, failed: Callable[[BaseException], None]) -> None:
        self._session = session
        self._failed = failed
        self._chunks: list[bytes] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def encoding(self) -> str:
        return self._session.caps.wire_encoding.value

    def write(self, data: str) -> None:
        if data:
            text = data.replace("\r\n", "\n").replace("\n", "\r\n")
            self._chunks.append(encode(text, self._session.caps))

    def flush(self) -> None:
        if self._chunks and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        # One sender at a time through write_raw keeps prompt_toolkit's output in order,
        # paced at the session's speed and never interleaved with other session output.
        try:
            while self._chunks:
                data = b"".join(self._chunks)
                self._chunks.clear()
                await self._session.write_raw(data)
        except (Hangup, ConnectionError) as exc:
            self._chunks.clear()
            self._failed(exc)

    async def settle(self) -> None:
        """Wait until everything written so far has been handed to the link."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


class _CallerOutput(Vt100_Output):
    """VT100 output without the private modes ANSI-BBS terminals print as garbage."""

    def enable_bracketed_paste(self) -> None:
        pass

    def disable_bracketed_paste(self) -> None:
        pass

    def reset_cursor_key_mode(self) -> None:
        pass

    def hide_cursor(self) -> None:
        pass

    def show_cursor(self) -> None:
        pass

    def disable_autowrap(self) -> None:
        # Needless: the reported width leaves the last column unused, so nothing wraps.
        pass

    def enable_autowrap(self) -> None:
        pass

    def set_title(self, title: str) -> None:
        pass

    def ask_for_cpr(self) -> None:
        pass


# ----------------------------------------------------------------- editing


def _trim(buffer: Buffer) -> None:
    """Keep a line within its cap whatever changed it (yank, history, completion)."""
    if isinstance(buffer, _LineBuffer):
        if len(buffer.text) > buffer.max_len:
            buffer.text = buffer.text[: buffer.max_len]
        elif len(buffer.text) < buffer.max_len:
            buffer.rang = False


class _LineBuffer(Buffer):
    """The edited line, with the words Tab may complete and the longest it may grow."""

    def __init__(self, words: Sequence[str], history: Sequence[str], max_len: int) -> None:
        self.words = words
        self.max_len = max_len
        self.rang = False
        """Whether the bell has rung for the line being full: once is enough for a paste."""
        super().__init__(
            history=InMemoryHistory(history),
            multiline=False,
            complete_while_typing=False,
            on_text_changed=_trim,
        )

    def insert_text(
        self,
        data: str,
        overwrite: bool = False,
        move_cursor: bool = True,
        fire_event: bool = True,
    ) -> None:
        # Control characters (^Z, quoted inserts) must not reach the board as data.
        data = "".join(ch for ch in data if ch.isprintable())
        replaced = len(self.text[self.cursor_position :][: len(data)]) if overwrite else 0
        room = self.max_len - len(self.text) + replaced
        if len(data) > room:
            data = data[: max(room, 0)]
            if not self.rang:
                self.rang = True
                get_app().output.bell()
        if data:
            super().insert_text(data, overwrite, move_cursor, fire_event)


def _key_bindings() -> KeyBindings:
    """The bindings every edit shares, on top of prompt_toolkit's Emacs defaults."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _accept(event: KeyPressEvent) -> None:
        event.app.exit(result=event.current_buffer.text)

    @bindings.add("c-c")
    def _cancel(event: KeyPressEvent) -> None:
        event.app.exit(result=_INTERRUPTED)

    @bindings.add(Keys.F24)
    def _too_long(event: KeyPressEvent) -> None:
        # Refused, not cut: the caller is told and types the line again.
        event.current_buffer.reset()
        app = event.app
        if isinstance(app, LineApp) and app.on_too_long is not None:
            app.create_background_task(app.on_too_long())

    @bindings.add("tab")
    def _complete(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if not isinstance(buffer, _LineBuffer):
            return
        typed = buffer.document.text_before_cursor.lstrip()
        found = completions(buffer.words, typed)
        if not found:
            event.app.output.bell()
            return
        common = found[0] if len(found) == 1 else _common_prefix(found)
        if len(found) == 1 or len(_fold(common)) > len(_fold(typed)):
            buffer.delete_before_cursor(len(typed))
            buffer.insert_text(common)
        else:
            event.app.create_background_task(_show_choices(event.app, found))

    return bindings


async def _show_choices(app: Application[str], words: Sequence[str]) -> None:
    """The possible completions listed under the prompt, then the prompt again below them.

    Readline's way rather than a drop-down menu: it works on any terminal that scrolls,
    needs no rows reserved under the prompt and costs no redraws at modem speed.
    """
    size = app.output.get_size()
    lines = _columns(words, size.columns, size.rows - 2)
    async with in_terminal(render_cli_done=True):
        app.print_text(to_formatted_text("\n".join(lines) + "\n"))


_BINDINGS = _key_bindings()


def _constructor_sharing_defaults() -> Callable[..., None]:
    """prompt_toolkit's own Application constructor, run where its two loaders of default
    key bindings hand out one set built here.

    Application() builds its own copy of the Emacs/Vi defaults and page-navigation
    bindings (about 250 KiB, more than the rest of an edit) although they keep no per-app
    state. The copy of the constructor sees other loaders; nothing else in the process
    does, and a prompt_toolkit that loads them otherwise keeps its own constructor.
    """
    init = Application.__init__
    names = dict(init.__globals__)
    loaders = ("load_key_bindings", "load_page_navigation_bindings")
    if not all(callable(names.get(name)) for name in loaders):
        return init
    for name in loaders:
        built = names[name]()
        names[name] = lambda built=built: built
    shared = types.FunctionType(
        init.__code__, names, init.__name__, init.__defaults__, init.__closure__
    )
    shared.__kwdefaults__ = init.__kwdefaults__
    return shared


_construct = _constructor_sharing_defaults()


class LineApp(Application[str]):
    """A prompt_toolkit application editing one caller's line; all share one set of
    default key bindings."""

    def __init__(
        self, on_too_long: Callable[[], Coroutine[Any, Any, None]] | None = None, **options: Any
    ) -> None:
        self.on_too_long = on_too_long
        """Tells the caller their line was refused for its length."""
        _construct(self, **options)


def _no_window() -> None:
    """SIGWINCH: callers' windows change through NAWS, never through the server's tty."""


def _quiet_winch() -> None:
    """Put a neutral SIGWINCH handler in place before an edit's app installs its own.

    prompt_toolkit hooks SIGWINCH for each running app and puts "the previous" handler
    back when it ends; edits overlap, so without this an app that has finished could be
    put back and kept alive by the loop. Each app now restores the neutral handler.
    """
    if not hasattr(signal, "SIGWINCH") or threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGWINCH, _no_window)


class Edit:
    """One line being edited: the app, its input and output, and the session's clock."""

    def __init__(self, session: Session, typeahead_key: str) -> None:
        self.session = session
        self.input = _CallerInput(typeahead_key)
        self.wire = _Wire(session, self.fail)
        depth = ColorDepth.DEPTH_4_BIT if session.caps.tier is Tier.ANSI else ColorDepth.DEPTH_1_BIT
        self.output = _CallerOutput(
            cast(TextIO, self.wire), self.size, default_color_depth=depth, enable_cpr=False
        )
        self.app: Application[str] | None = None
        self.failure: Hangup | None = None

    def divert(self, limit: int | None = None) -> None:
        """Take the session's input for this edit, at most `limit` characters in a row."""
        self.session.divert_input(
            self.input.feed,
            on_resize=self.resized,
            on_end=self.ended,
            on_overflow=self.input.overflow,
            room=self.input.room,
            limit=limit,
        )

    def size(self) -> Size:
        """The window as prompt_toolkit sees it: one column short, so it never autowraps."""
        caps = self.session.caps
        return Size(rows=caps.rows, columns=max(caps.cols - 1, 1))

    def fail(self, exc: BaseException) -> None:
        """End the edit with `exc` (as a Hangup), now or as soon as the app runs."""
        if self.failure is None:
            self.failure = exc if isinstance(exc, Hangup) else Hangup("hangup")
        app = self.app
        if app is not None and app.is_running and not app.is_done:
            app.exit(exception=self.failure)

    def ended(self, reason: str) -> None:
        """The session was ended or the caller hung up."""
        self.fail(Hangup(reason))

    def resized(self) -> None:
        """The caller's window changed: draw the prompt again at the new width."""
        app = self.app
        if app is not None and app.is_running and not app.is_done:
            app.renderer.erase(leave_alternate_screen=False)
            app.invalidate()

    def start_watch(self) -> None:
        """Start the idle watch in the app; a hang-up reported before the app ran ends it now.

        Run as the app's `pre_run`, just before it hooks SIGWINCH."""
        _quiet_winch()
        if self.failure is not None:
            self.fail(self.failure)
        elif self.app is not None:
            self.app.create_background_task(self.watch())

    async def watch(self) -> None:
        """End the edit on idle timeout, warning a minute before as the plain editor does."""
        settings = self.session.settings
        warn_at = settings.idle_timeout - settings.idle_warning
        warned = False
        while True:
            idle = time.monotonic() - self.input.last_input
            if idle >= settings.idle_timeout:
                self.fail(Hangup("idle"))
                return
            if idle < warn_at:
                warned = False
            elif not warned:
                warned = True
                await self.say("\n{warn}" + self.session.text("board.idle_warning") + "{/}\n")
            wait = (settings.idle_timeout if warned else warn_at) - idle
            await asyncio.sleep(max(wait, 0.01))

    async def say(self, markup: str) -> None:
        """Print a board message above the prompt, which is then drawn again under it."""
        try:
            async with in_terminal():
                await self.wire.settle()
                await self.session.send(markup, remember=False)
        except Hangup as exc:
            self.fail(exc)


async def prompt_line(
    session: Session, prompt: str, words: Sequence[str], history: Sequence[str]
) -> str:
    """A line typed at `prompt` (markup), "" on ^C; Tab completes `words`, Up/Down walk `history`.

    `history` runs oldest first. Raises Hangup when the caller hangs up, the session is
    ended, or nothing is typed for the idle timeout. A dumb terminal, or one that echoes
    by itself, gets the plain editor instead.
    """
    if not session.caps.tier.ansi or not session.server_echo:
        return await session.read_line(prompt)
    session.interrupted = False
    if session.ending:
        raise Hangup(session.ending)
    if session.link.is_closing():
        raise Hangup("hangup")
    text = render(prompt, session.caps).removesuffix("\n").removesuffix("\r")
    head, _, last = text.rpartition("\n")
    fragments = to_formatted_text(ANSI(last.replace("\r", "")))
    with typeahead_slot() as slot:
        edit = Edit(session, slot)
        # Hang-ups and window changes reach the edit through the session: it reads no events.
        edit.divert()
        unprocessed: list[KeyPress] = []
        try:
            if head:
                await session.write_raw(encode(head + "\n", session.caps))
            with create_app_session(input=edit.input, output=edit.output):
                limit = session.settings.max_line
                edit.app = LineApp(
                    on_too_long=lambda: edit.say(
                        "\n{warn}" + session.text("board.too_long", max=limit) + "{/}\n"
                    ),
                    layout=Layout(
                        Window(
                            BufferControl(
                                _LineBuffer(words, history, session.settings.max_line),
                                input_processors=[BeforeInput(fragments)],
                            ),
                            wrap_lines=True,
                            dont_extend_height=True,
                        )
                    ),
                    key_bindings=_BINDINGS,
                    color_depth=edit.output.default_color_depth,
                    include_default_pygments_style=False,
                    terminal_size_polling_interval=None,
                    # Keys come a packet at a time, so there is nothing to gain by
                    # postponing a redraw, and a postponed one keeps the app alive.
                    max_render_postpone_time=None,
                    input=edit.input,
                    output=edit.output,
                )
                try:
                    # The loop's exception handler, SIGINT and slow-callback setting are the
                    # server's: overlapping edits would save and restore them out of order.
                    line = await edit.app.run_async(
                        pre_run=edit.start_watch,
                        set_exception_handler=False,
                        handle_sigint=False,
                        slow_callback_duration=asyncio.get_running_loop().slow_callback_duration,
                    )
                finally:
                    unprocessed = get_typeahead(edit.input)
        except Hangup as end:
            if end.reason == "idle":
                await edit.wire.settle()
                await session.send("\n{warn}" + session.text("board.idle_disconnect") + "{/}\n")
            raise
        finally:
            session.resume_input(edit.input.leftover(unprocessed))
            edit.app = None
            await edit.wire.settle()
    session.acknowledge()
    session.interrupted = line == _INTERRUPTED
    return "" if session.interrupted else line
