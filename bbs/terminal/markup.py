"""The board's text markup: what screens write instead of escape sequences.

Markup is Unicode text, one screen line per source line ("\\n"). The renderer
(`bbs.terminal.render`) turns it into ANSI colour, VT-100 mono or plain ASCII.

Inline styles, closed by ``{/}`` (innermost first), may nest:

    {h}    heading            {k}    hotkey              {em}  emphasis
    {dim}  secondary text     {ok}   good news (open)    {warn} caution (closed)
    {err}  error message      {link} a link to another rubrique or a command

``{{`` and ``}}`` are literal braces; `escape()` makes any text (user input, data)
safe to embed. An unknown tag is a programming error (`MarkupError`).

Block directives stand alone on their line:

    {hr}          a horizontal rule across the screen
    {title}Text   a title bar (reverse video / colour bar; ASCII: text over "====")
    {center}Text  the line centred on the screen width

Box-drawing characters (U+2500 block: ─ │ ┌ ┐ └ ┘ ├ ┤ ┬ ┴ ┼ ═ ║ ╔ ╗ ╚ ╝ ╠ ╣ ╦ ╩ ╬)
may appear in text; each tier draws them its own way (CP437, DEC special graphics,
or + - |).

Wrapping: each line is word-wrapped to the screen width minus one column;
continuation lines keep the leading spaces of the line they continue.

Details the renderer relies on:

* A style may stay open across source lines; every screen line starts its styles
  afresh and resets them at its end. A style still open at the end, a ``{/}`` with
  nothing open, a lone ``{`` or ``}`` and text after ``{hr}`` are all `MarkupError`s.
* Block directives may follow style tags (``{h}{center}Text{/}``) but no text.
* Write hotkeys bare, ``{k}1{/}  Label``: plain-text terminals show them as ``[1]``,
  the others highlight them, so brackets in the markup would show twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import fold_text
from bbs.terminal.width import expand_tabs, text_width


class MarkupError(ValueError):
    """Markup that the renderer cannot understand: a programming or data error."""


class Style(StrEnum):
    """An inline style, by its tag name."""

    H = "h"
    K = "k"
    EM = "em"
    DIM = "dim"
    OK = "ok"
    WARN = "warn"
    ERR = "err"
    LINK = "link"


class Block(StrEnum):
    """What a source line is: text, or one of the block directives."""

    TEXT = "text"
    HR = "hr"
    TITLE = "title"
    CENTER = "center"


@dataclass(frozen=True, slots=True)
class Run:
    """Text in one combination of styles (outermost first)."""

    text: str
    styles: tuple[Style, ...] = ()


@dataclass(frozen=True, slots=True)
class Line:
    """One source line: its block kind and its styled runs (none for a rule)."""

    block: Block = Block.TEXT
    runs: tuple[Run, ...] = ()

    @property
    def text(self) -> str:
        """The line's plain text."""
        return "".join(run.text for run in self.runs)


def escape(text: str) -> str:
    """Text made safe to embed in markup: braces doubled, so no tag can be injected."""
    return text.replace("{", "{{").replace("}", "}}")


_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|\n|[^{}\n]+")
_STYLES = {style.value: style for style in Style}
_BLOCKS = {block.value: block for block in Block if block is not Block.TEXT}
_CLOSE = "/"


class _Builder:
    """Collects the lines of one markup text while its tokens are read."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.number = 1
        self.block = Block.TEXT
        self.runs: list[Run] = []
        self.stack: list[Style] = []

    def fail(self, message: str) -> MarkupError:
        return MarkupError(f"line {self.number}: {message}")

    def text(self, text: str) -> None:
        if self.block is Block.HR:
            if text.strip(" \t"):
                raise self.fail("{hr} must stand alone on its line")
            return
        styles = tuple(self.stack)
        if self.runs and self.runs[-1].styles == styles:
            self.runs[-1] = Run(self.runs[-1].text + text, styles)
        else:
            self.runs.append(Run(text, styles))

    def tag(self, name: str) -> None:
        if name == _CLOSE:
            if not self.stack:
                raise self.fail("{/} with no style open")
            self.stack.pop()
        elif name in _STYLES:
            self.stack.append(_STYLES[name])
        elif name in _BLOCKS:
            if self.runs or self.block is not Block.TEXT:
                raise self.fail(f"{{{name}}} must start its line")
            self.block = _BLOCKS[name]
        else:
            raise self.fail(f"unknown markup tag {{{name}}}")

    def end_line(self) -> None:
        self.lines.append(Line(self.block, tuple(self.runs)))
        self.block = Block.TEXT
        self.runs = []
        self.number += 1

    def finish(self) -> tuple[Line, ...]:
        self.end_line()
        if self.stack:
            self.number -= 1
            raise self.fail(f"{{{self.stack[-1]}}} is never closed with {{/}}")
        return tuple(self.lines)


@lru_cache(maxsize=1024)
def parse(markup: str) -> tuple[Line, ...]:
    """The lines of `markup` (one per "\\n"-separated source line); raises MarkupError."""
    builder = _Builder()
    for match in _TOKEN.finditer(markup):
        token = match.group()
        name = match.group(1)
        if name is not None:
            builder.tag(name)
        elif token == "\n":
            builder.end_line()
        elif token == "{{":
            builder.text("{")
        elif token == "}}":
            builder.text("}")
        elif token in ("{", "}"):
            raise builder.fail(f"lone {token!r}: write {token * 2!r} for a literal brace")
        else:
            builder.text(token)
    return builder.finish()


def strip(markup: str) -> str:
    """The plain text of `markup`: tags gone, braces literal, rules as empty lines."""
    return "\n".join(line.text for line in parse(markup))


def visible_width(markup_line: str) -> int:
    """Columns the text of a markup line takes on a Unicode terminal (widest line if several).

    Tier-independent: a plain-text terminal adds two columns per hotkey (``[K]``), and
    7-bit sessions may spell some characters longer (… → ...); for the exact width on a
    given session use `bbs.terminal.render.display_width`.
    """
    widest = 0
    for line in parse(markup_line):
        text = expand_tabs(fold_text(line.text, Encoding.UTF8))
        widest = max(widest, text_width(text))
    return widest
