"""Multi-line text entry (incident descriptions, replies, forum posts).

Two editors share one entry point, `edit_text`:

* the line editor, as BBS message editors had it in 1995: numbered lines, word wrap
  while typing, a line with a single "." to save and slash commands (/L, /E n, /D n,
  /I n, /A, /?). Every terminal can use it; a dumb terminal gets nothing else.
* a full-screen prompt_toolkit editor for ANSI and VT-100 terminals with room for it,
  built from the adapters of `bbs.session.ptk`.

Both return the text with "\\n" between lines, free of control characters and within
the caller's limits, or None when the caller abandoned it (an empty text counts as
abandoned).
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prompt_toolkit.application import create_app_session, get_app_or_none
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.input.typeahead import get_typeahead
from prompt_toolkit.key_binding import KeyBindings, KeyPress, KeyPressEvent
from prompt_toolkit.key_binding.key_processor import KeyProcessor
from prompt_toolkit.keys import Keys
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import BufferControl, FormattedTextControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.styles import Style

from bbs.directory.text import fold
from bbs.numbers import parse_number
from bbs.session.keys import Key, Resize
from bbs.session.pager import page
from bbs.session.ptk import Edit, LineApp, typeahead_slot
from bbs.session.session import Hangup, Session
from bbs.terminal.caps import Tier
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import TAB, clean, user_markup

__all__ = ["edit_text", "parse_command", "split_text"]

_COMMAND = re.compile(r"/\s*([saledi?h])(\s*)(\S*)\s*", re.IGNORECASE)
_NUMBERED = frozenset("EDI")
_COMMAND_ROOM = 8
"""Characters a line may always take, so that a full text still accepts commands."""
_PROMPT_WIDTH = 5
"""Columns taken by a line prompt such as "  1: "."""


# ----------------------------------------------------------------- pure helpers


@dataclass(frozen=True, slots=True)
class Command:
    """An editor command typed alone on a line: its letter and line number, if any."""

    letter: str
    number: int | None = None
    bad_number: bool = False
    """A number was required and what followed the letter was not one."""


def parse_command(line: str) -> Command | None:
    """The command a typed line is, or None when it is text ("." saves, like /S)."""
    stripped = line.strip()
    if stripped == ".":
        return Command("S")
    match = _COMMAND.fullmatch(stripped)
    if match is None:
        return None
    letter = match.group(1).upper()
    letter = "?" if letter == "H" else letter
    space, argument = match.group(2), match.group(3)
    number = parse_number(argument) if letter in _NUMBERED else None
    if number is not None:
        return Command(letter, number)
    if argument and not space:
        # "/Suite", "/etc/hosts": text that happens to start with a command letter.
        return None
    if letter not in _NUMBERED:
        return None if argument else Command(letter)
    return Command(letter, bad_number=True)


def split_text(text: str, max_lines: int, max_chars: int) -> list[str]:
    """`text` (caller-written, maybe pasted) as clean lines within the limits."""
    # Beyond what clean() drops: format, private and unassigned characters, which no
    # terminal of the period shows and the line editor never takes from the keyboard.
    text = "".join(ch for ch in clean(text, multiline=True) if ch == "\n" or ch.isprintable())
    if not text:
        return []
    lines = text.split("\n")
    kept: list[str] = []
    used = 0
    for line in lines[:max_lines]:
        room = max_chars - used - (1 if kept else 0)
        if room < 0 or (room == 0 and kept):
            break
        kept.append(line[:room])
        used += len(kept[-1]) + (1 if len(kept) > 1 else 0)
    return kept


def finish(lines: list[str]) -> str | None:
    """The saved text: trailing spaces and blank lines dropped; None when nothing is left."""
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return text if text.strip() else None


def wrap_line(line: str, width: int) -> list[str]:
    """A line cut at word boundaries into pieces of at most `width` characters."""
    if len(line) <= width:
        return [line]
    return textwrap.wrap(
        line, width, replace_whitespace=False, drop_whitespace=True, break_on_hyphens=False
    ) or [""]


def _length(lines: list[str]) -> int:
    """Characters of the text the lines make, newlines included."""
    return sum(len(line) for line in lines) + max(len(lines) - 1, 0)


# ----------------------------------------------------------------- typing one line


@dataclass(slots=True)
class _Typed:
    """One line as typed: the text, what word wrap carried over, how it ended."""

    text: str
    carry: str = ""
    interrupted: bool = False
    overflowed: bool = False
    """Characters were refused because the text was full."""


async def _type_line(
    session: Session, prompt: str, *, start: str, width: int, room: int, wrap: bool
) -> _Typed:
    """A line read at `prompt`, `start` already typed.

    Past `width`, with `wrap`, the word being typed moves to the next line (returned as
    `carry`); without it the line stops growing. Past `room` (what the text may still
    take) nothing more is taken.
    """
    buffer = list(start[:room])
    overflowed = len(start) > room
    await session.send(prompt, remember=False)
    await session.echo("".join(buffer))
    bell = session.controls.bell()
    while True:
        event = await session.read_event()
        if isinstance(event, Key):
            if event is Key.TAB:
                chars = TAB
            elif event is Key.ENTER:
                await session.send("\n", remember=False)
                return _Typed("".join(buffer), overflowed=overflowed)
            elif event is Key.INTERRUPT:
                await session.send("\n", remember=False)
                return _Typed("".join(buffer), interrupted=True)
            elif event is Key.ERASE:
                if buffer:
                    buffer.pop()
                    await session.echo(session.controls.backspace_erase())
                continue
            elif event is Key.KILL_LINE:
                await session.echo(session.controls.backspace_erase() * len(buffer))
                buffer.clear()
                continue
            else:
                continue
        elif isinstance(event, Resize):
            # The board does not own the screen here: the line is simply shown again.
            await session.send("\n" + prompt, remember=False)
            await session.echo("".join(buffer))
            continue
        elif isinstance(event, str):
            chars = event
        else:
            continue
        for ch in clean(chars):
            if len(buffer) >= room:
                overflowed = True
                await session.echo(bell)
                break
            if len(buffer) < width:
                buffer.append(ch)
                await session.echo(ch)
                continue
            if not wrap:
                await session.echo(bell)
                break
            if ch == " ":
                await session.send("\n", remember=False)
                return _Typed("".join(buffer), overflowed=overflowed)
            text = "".join(buffer)
            cut = text.rfind(" ")
            if cut <= 0:
                await session.send("\n", remember=False)
                return _Typed(text, carry=ch, overflowed=overflowed)
            word = text[cut + 1 :]
            await session.echo(session.controls.backspace_erase() * len(word))
            await session.send("\n", remember=False)
            return _Typed(text[:cut].rstrip(), carry=word + ch, overflowed=overflowed)


# ----------------------------------------------------------------- the line editor


@dataclass
class _LineEditor:
    """The text of a line-editor session and the commands that change it."""

    session: Session
    max_lines: int
    max_chars: int
    lines: list[str] = field(default_factory=list)
    inserting: int | None = None
    """Where typed lines go while /I is in force (an index into `lines`)."""

    async def say(self, style: str, key: str, **values: object) -> None:
        """One board message on its own line."""
        text = escape(self.session.text(key, **values)) if values else self.session.text(key)
        await self.session.send("{" + style + "}" + text + "{/}\n", remember=False)

    @property
    def width(self) -> int:
        """Characters a typed line may hold before word wrap."""
        caps = self.session.caps
        return max(min(caps.cols - 1 - _PROMPT_WIDTH, self.session.settings.max_line), 10)

    def room(self, replacing: int | None = None) -> int:
        """Characters one more line (or line `replacing`, re-typed) may hold."""
        lines = self.lines
        if replacing is not None:
            lines = lines[:replacing] + lines[replacing + 1 :]
        return max(self.max_chars - _length(lines) - (1 if lines else 0), 0)

    def prompt(self, number: int) -> str:
        """The numbered prompt of line `number` (1-based)."""
        return "{dim}" + f"{number:>{_PROMPT_WIDTH - 2}}: " + "{/}"

    async def run(self) -> str | None:
        """Read lines and commands until the caller saves or abandons the text."""
        session = self.session
        intro = session.text("editor.intro") + "\n"
        intro += escape(session.text("editor.limits", lines=self.max_lines, chars=self.max_chars))
        await session.send(intro + "\n", remember=False)
        if self.lines:
            await self.list()
        # Word wrap redraws what the caller typed: only possible when the board echoes.
        wrap = session.server_echo
        carry = ""
        while True:
            at = len(self.lines) if self.inserting is None else self.inserting
            typed = await _type_line(
                session,
                self.prompt(at + 1),
                start=carry,
                width=self.width if wrap else session.settings.max_line,
                # Room for a command even when the text is full: "." must still save.
                room=max(self.room(), _COMMAND_ROOM),
                wrap=wrap,
            )
            carry = typed.carry
            if typed.interrupted:
                if await self.abandon():
                    return None
                continue
            command = None if carry else parse_command(typed.text)
            if command is not None:
                done, result = await self.command(command)
                if done:
                    return result
                continue
            if self.inserting is not None and not typed.text and not carry:
                self.inserting = None
                await self.say("dim", "editor.insert_done")
                continue
            pieces = [typed.text] if wrap else wrap_line(typed.text, self.width)
            if not await self.add(at, pieces, typed.overflowed):
                carry = ""

    async def add(self, at: int, pieces: list[str], overflowed: bool) -> bool:
        """Put typed lines in at index `at`; False (and a message) when the text is full."""
        for piece in pieces:
            if len(self.lines) >= self.max_lines:
                await self.say("warn", "editor.too_many_lines", lines=self.max_lines)
                return False
            left = self.max_chars - _length(self.lines) - (1 if self.lines else 0)
            if left < 0:
                overflowed = True
                break
            overflowed = overflowed or len(piece) > left
            self.lines.insert(at, piece[:left])
            at += 1
            if self.inserting is not None:
                self.inserting = at
            if overflowed:
                break
        if overflowed:
            await self.say("warn", "editor.too_many_chars", chars=self.max_chars)
        return not overflowed

    async def command(self, command: Command) -> tuple[bool, str | None]:
        """Carry out one command; (True, result) when the editor is done."""
        letter = command.letter
        if letter == "S":
            text = finish(self.lines)
            if text is None:
                await self.say("warn", "editor.empty")
                return True, None
            await self.say("ok", "editor.saved", lines=text.count("\n") + 1, chars=len(text))
            return True, text
        if letter == "A":
            return (True, None) if await self.abandon() else (False, None)
        if letter == "L":
            await self.list()
            return False, None
        if letter == "?":
            await self.session.send(self.session.text("editor.help") + "\n", remember=False)
            return False, None
        number = command.number
        if number is None:
            await self.say("warn", "editor.need_number", command="/" + letter)
            return False, None
        count = len(self.lines)
        top = count + 1 if letter == "I" else count
        if not 1 <= number <= top:
            await self.say("warn", "editor.no_line", number=number, count=count)
            return False, None
        index = number - 1
        if letter == "D":
            del self.lines[index]
            if self.inserting is not None and index < self.inserting:
                self.inserting -= 1
            await self.say("dim", "editor.deleted", number=number)
        elif letter == "I":
            if len(self.lines) >= self.max_lines:
                await self.say("warn", "editor.too_many_lines", lines=self.max_lines)
            else:
                self.inserting = None if index == count else index
                await self.say("dim", "editor.inserting", number=number)
        else:
            await self.edit(index)
        return False, None

    async def edit(self, index: int) -> None:
        """Type line `index` again, starting from what it holds."""
        await self.say("dim", "editor.edit_line", number=index + 1)
        typed = await _type_line(
            self.session,
            self.prompt(index + 1),
            start=self.lines[index],
            width=max(self.width, len(self.lines[index])),
            room=self.room(replacing=index),
            wrap=False,
        )
        if not typed.interrupted:
            self.lines[index] = typed.text

    async def list(self) -> None:
        """The text so far, numbered, a screenful at a time."""
        if not self.lines:
            await self.say("dim", "editor.empty")
            return
        shown = "\n".join(
            self.prompt(number) + user_markup(line)
            for number, line in enumerate(self.lines, start=1)
        )
        await page(self.session, shown)

    async def abandon(self) -> bool:
        """Ask before throwing the text away (nothing to ask when there is none)."""
        if not any(line.strip() for line in self.lines):
            await self.say("dim", "editor.aborted")
            return True
        answer = await self.session.read_line(
            "{warn}" + self.session.text("editor.confirm_abort") + "{/} ", max_len=3
        )
        yes = {fold(self.session.text("board.yes_key")), "o", "y", "j"}
        if fold(answer.strip())[:1] in yes:
            await self.say("dim", "editor.aborted")
            return True
        await self.say("dim", "editor.kept")
        return False


async def line_editor(
    session: Session, *, title: str, initial: str, max_lines: int, max_chars: int
) -> str | None:
    """The numbered-line editor, usable on every terminal."""
    if title:
        await session.send("{title}" + user_markup(title) + "\n", remember=False)
    editor = _LineEditor(session, max_lines, max_chars, split_text(initial, max_lines, max_chars))
    return await editor.run()


# ----------------------------------------------------------------- the full-screen editor

SCREEN_MIN_COLS = 40
SCREEN_MIN_ROWS = 12
"""The smallest window the full-screen editor is offered on."""


def screen_possible(session: Session) -> bool:
    """Whether this caller gets the full-screen editor rather than the line editor."""
    caps = session.caps
    return (
        caps.tier.ansi
        and session.server_echo
        and caps.cols >= SCREEN_MIN_COLS
        and caps.rows >= SCREEN_MIN_ROWS
    )


class _TextBuffer(Buffer):
    """The text being written: printable characters and newlines only, within the limits."""

    def __init__(self, initial: str, max_lines: int, max_chars: int) -> None:
        self.max_lines = max_lines
        self.max_chars = max_chars
        self.full = False
        """A key was refused for the limits since the last change that fitted."""
        super().__init__(
            document=Document(initial, len(initial)),
            multiline=True,
            on_text_changed=self._changed,
        )

    def insert_text(
        self,
        data: str,
        overwrite: bool = False,
        move_cursor: bool = True,
        fire_event: bool = True,
    ) -> None:
        data = "".join(
            TAB if ch == "\t" else ch for ch in data if ch == "\n" or ch == "\t" or ch.isprintable()
        )
        replaced = self.text[self.cursor_position :][: len(data)] if overwrite else ""
        room = self.max_chars - len(self.text) + len(replaced)
        lines_left = self.max_lines - 1 - self.text.count("\n") + replaced.count("\n")
        kept: list[str] = []
        for ch in data:
            if len(kept) >= room or (ch == "\n" and lines_left <= 0):
                self.refuse()
                break
            lines_left -= ch == "\n"
            kept.append(ch)
        if kept:
            super().insert_text("".join(kept), overwrite, move_cursor, fire_event)

    def refuse(self) -> None:
        """Ring once and say the limit is reached, until the text changes again."""
        if not self.full:
            self.full = True
            _ring(self)

    def _changed(self, _: Buffer) -> None:
        # Yank, undo and the like bypass insert_text: they are cut back to the limits too.
        text = self.text
        if len(text) > self.max_chars or text.count("\n") >= self.max_lines:
            self.text = "\n".join(split_text(text, self.max_lines, self.max_chars))
            self.refuse()


def _ring(buffer: Buffer) -> None:
    """The bell, when an app is running (not while the buffer is being built)."""
    app = get_app_or_none()
    if app is not None and app.is_running:
        app.output.bell()


class _TextApp(LineApp):
    """The full-screen editor of one caller: the buffer and what its status line says."""

    def __init__(self, buffer: _TextBuffer, **options: Any) -> None:
        self.text_buffer = buffer
        self.confirming = False
        """^C was pressed once on a text that is not empty: a second ^C abandons it."""
        self.keys_since_confirm = 0
        self.cancelled = False
        super().__init__(**options)
        self.key_processor.after_key_press += self._after_key

    def _after_key(self, _: KeyProcessor) -> None:
        self.keys_since_confirm += 1
        if self.keys_since_confirm > 1:
            self.confirming = False

    def arm_confirm(self) -> None:
        """Ask for a second ^C before abandoning."""
        self.confirming = True
        self.keys_since_confirm = 0


def _screen_bindings() -> KeyBindings:
    """Keys of the full-screen editor, shared by every caller using it."""
    bindings = KeyBindings()

    @bindings.add("enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @bindings.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text(TAB)

    @bindings.add(Keys.F24)
    def _too_long(event: KeyPressEvent) -> None:
        # More in a row than the text may hold: the rest of that paste was dropped.
        buffer = event.current_buffer
        if isinstance(buffer, _TextBuffer):
            buffer.refuse()

    @bindings.add("c-z")
    @bindings.add("escape", "enter")
    def _save(event: KeyPressEvent) -> None:
        event.app.exit(result=event.current_buffer.text)

    @bindings.add("c-c")
    def _cancel(event: KeyPressEvent) -> None:
        app = event.app
        if not isinstance(app, _TextApp):
            return
        if app.confirming or not event.current_buffer.text.strip():
            app.cancelled = True
            app.exit(result="")
        else:
            app.arm_confirm()

    return bindings


_SCREEN_BINDINGS = _screen_bindings()
_STYLES = {
    Tier.ANSI: Style.from_dict(
        {"bar": "bg:ansiblue ansiwhite bold", "warn": "bg:ansired ansiwhite bold"}
    ),
    Tier.VT100: Style.from_dict({"bar": "reverse", "warn": "reverse bold"}),
}


def _title_bar(session: Session, title: str) -> Callable[[], StyleAndTextTuples]:
    """The top line: the title, padded across the screen."""
    shown = clean(title)

    def fragments() -> StyleAndTextTuples:
        width = max(session.caps.cols - 1, 1)
        return [("class:bar", (" " + shown)[:width].ljust(width))]

    return fragments


def _status_bar(
    session: Session, app: Callable[[], _TextApp | None]
) -> Callable[[], StyleAndTextTuples]:
    """The bottom line: the keys, where the cursor is, and any warning."""

    def fragments() -> StyleAndTextTuples:
        width = max(session.caps.cols - 1, 1)
        current = app()
        if current is None:
            return [("class:bar", " " * width)]
        buffer = current.text_buffer
        if current.confirming:
            return [
                ("class:warn", (" " + session.text("editor.screen_confirm"))[:width].ljust(width))
            ]
        if buffer.full:
            text = session.text(
                "editor.screen_full", lines=buffer.max_lines, chars=buffer.max_chars
            )
            return [("class:warn", (" " + text)[:width].ljust(width))]
        document = buffer.document
        where = session.text(
            "editor.screen_position",
            line=document.cursor_position_row + 1,
            lines=document.line_count,
            chars=len(buffer.text),
            max_chars=buffer.max_chars,
        )
        keys = " " + session.text("editor.screen_keys")
        gap = max(width - len(keys) - len(where) - 1, 1)
        return [("class:bar", (keys + " " * gap + where + " ")[:width].ljust(width))]

    return fragments


PARAGRAPH_MAX = 2048
"""Characters typed or pasted without an Enter that the full-screen editor takes: a long
paragraph, soft-wrapped; a longer run is refused (prompt_toolkit lays out a line as a
whole at every redraw, and a paste of megabytes on one line would cost it dearly)."""


async def screen_editor(
    session: Session, *, title: str, initial: str, max_lines: int, max_chars: int
) -> str | None:
    """The prompt_toolkit editor: the whole window, soft wrap, a title and a status line."""
    buffer = _TextBuffer("\n".join(split_text(initial, max_lines, max_chars)), max_lines, max_chars)
    await session.clear()
    with typeahead_slot() as slot:
        edit = Edit(session, slot)
        edit.divert(limit=min(max_chars, PARAGRAPH_MAX))
        unused: list[KeyPress] = []
        app: _TextApp | None = None
        try:
            with create_app_session(input=edit.input, output=edit.output):
                app = _TextApp(
                    buffer,
                    layout=Layout(
                        HSplit(
                            [
                                Window(FormattedTextControl(_title_bar(session, title)), height=1),
                                Window(
                                    BufferControl(buffer),
                                    wrap_lines=True,
                                    # Title and status lines, and the last row left free so
                                    # that nothing is ever written where it would scroll.
                                    height=lambda: Dimension.exact(max(session.caps.rows - 3, 1)),
                                ),
                                Window(
                                    FormattedTextControl(_status_bar(session, lambda: app)),
                                    height=1,
                                ),
                            ]
                        ),
                        focused_element=buffer,
                    ),
                    key_bindings=_SCREEN_BINDINGS,
                    style=_STYLES.get(session.caps.tier, _STYLES[Tier.VT100]),
                    color_depth=edit.output.default_color_depth,
                    include_default_pygments_style=False,
                    terminal_size_polling_interval=None,
                    max_render_postpone_time=None,
                    # Erasing costs a few bytes where a final redraw would resend the screen.
                    erase_when_done=True,
                    input=edit.input,
                    output=edit.output,
                )
                edit.app = app
                loop = asyncio.get_running_loop()
                try:
                    text = await app.run_async(
                        pre_run=edit.start_watch,
                        set_exception_handler=False,
                        handle_sigint=False,
                        slow_callback_duration=loop.slow_callback_duration,
                    )
                finally:
                    unused = get_typeahead(edit.input)
        except Hangup as end:
            if end.reason == "idle":
                await edit.wire.settle()
                await session.send("\n{warn}" + session.text("board.idle_disconnect") + "{/}\n")
            raise
        finally:
            session.resume_input(edit.input.leftover(unused))
            edit.app = None
            await edit.wire.settle()
    # The caller typed all along what the editor drew: nothing there is left unread.
    session.acknowledge()
    await session.clear()
    if app.cancelled:
        await session.send("{dim}" + session.text("editor.aborted") + "{/}\n", remember=False)
        return None
    saved = finish(split_text(text, max_lines, max_chars))
    if saved is None:
        await session.send("{warn}" + session.text("editor.empty") + "{/}\n", remember=False)
        return None
    done = session.text("editor.saved", lines=saved.count("\n") + 1, chars=len(saved))
    await session.send("{ok}" + escape(done) + "{/}\n", remember=False)
    return saved


# ----------------------------------------------------------------- entry point


async def edit_text(
    session: Session,
    *,
    title: str = "",
    initial: str = "",
    max_lines: int = 200,
    max_chars: int = 20000,
) -> str | None:
    """Text typed by the caller, at most `max_lines` lines and `max_chars` characters.

    Returns None when the caller abandoned it or saved nothing. The text holds no
    control character but "\\n". Raises Hangup like any other read.
    """
    max_lines = max(max_lines, 1)
    max_chars = max(max_chars, 1)
    if screen_possible(session):
        return await screen_editor(
            session, title=title, initial=initial, max_lines=max_lines, max_chars=max_chars
        )
    return await line_editor(
        session, title=title, initial=initial, max_lines=max_lines, max_chars=max_chars
    )
