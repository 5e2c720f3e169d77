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
"""

from __future__ import annotations


class MarkupError(ValueError):
    """Markup that the renderer cannot understand: a programming or data error."""


def escape(text: str) -> str:
    """Text made safe to embed in markup: braces doubled, so no tag can be injected."""
    return text.replace("{", "{{").replace("}", "}}")
