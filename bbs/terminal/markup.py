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


_DELIMITER = re.compile(r"(\{[^{}]*\}|\{\{|\}\}|[{}])")
_STYLES = {style.value: style for style in Style}
_BLOCKS = {block.value: block for block in Block if block is not Block.TEXT}
_LITERAL = {"{{": "{", "}}": "}"}


def _fail(number: int, message: str) -> MarkupError:
    return MarkupError(f"line {number}: {message}")


@lru_cache(maxsize=1024)
def parse(markup: str) -> tuple[Line, ...]:
    """The lines of `markup` (one per "\\n"-separated source line); raises MarkupError."""
    lines: list[Line] = []
    stack: list[Style] = []
    styles: tuple[Style, ...] = ()
    number = 0
    for number, source in enumerate(markup.split("\n"), start=1):
        if "{" not in source and "}" not in source:
            lines.append(Line(Block.TEXT, (Run(source, styles),) if source else ()))
            continue
        block = Block.TEXT
        texts: list[str] = []
        looks: list[tuple[Style, ...]] = []
        # re.split alternates text and delimiters: odd indexes are delimiters.
        for index, part in enumerate(_DELIMITER.split(source)):
            if not part:
                continue
            if index % 2 == 0 or part in _LITERAL:
                text = _LITERAL.get(part, part)
                if block is Block.HR:
                    if text.strip():
                        raise _fail(number, "{hr} must stand alone on its line")
                elif looks and looks[-1] == styles:
                    texts[-1] += text
                else:
                    texts.append(text)
                    looks.append(styles)
                continue
            name = part[1:-1]
            if part in ("{", "}"):
                raise _fail(number, f"lone {part!r}: write {part * 2!r} for a literal brace")
            if name == "/":
                if not stack:
                    raise _fail(number, "{/} with no style open")
                stack.pop()
                styles = tuple(stack)
            elif name in _STYLES:
                stack.append(_STYLES[name])
                styles = tuple(stack)
            elif name in _BLOCKS:
                if texts or block is not Block.TEXT:
                    raise _fail(number, f"{{{name}}} must start its line")
                block = _BLOCKS[name]
            else:
                raise _fail(number, f"unknown markup tag {{{name}}}")
        runs = tuple(Run(text, look) for text, look in zip(texts, looks, strict=True))
        lines.append(Line(block, runs))
    if stack:
        raise _fail(number, f"{{{stack[-1]}}} is never closed with {{/}}")
    return tuple(lines)


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
