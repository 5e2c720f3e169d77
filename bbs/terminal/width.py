"""How many terminal columns text takes: wide East Asian characters two, marks none."""

from __future__ import annotations

from functools import lru_cache

from wcwidth import wcwidth

TAB_STOP = 8
"""Tabs in text advance to the next multiple of this many columns."""


@lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    """Columns one character takes on a Unicode terminal: 0, 1 or 2.

    Measured by `wcwidth`, as prompt_toolkit measures what the line editors show, so
    a screen and the editor under it agree; controls (-1 there) take nothing.
    """
    if ch.isascii():
        return 1 if ch.isprintable() else 0
    return max(wcwidth(ch), 0)


def text_width(text: str) -> int:
    """Columns `text` takes (no line breaks or tabs expected; controls count for nothing)."""
    if text.isascii() and text.isprintable():
        return len(text)
    return sum(char_width(ch) for ch in text)


def expand_tabs(text: str, column: int = 0) -> str:
    """`text` with tabs turned into spaces, as if it started at `column`."""
    if "\t" not in text:
        return text
    out: list[str] = []
    for piece in text.split("\t")[:-1]:
        out.append(piece)
        column += text_width(piece)
        pad = TAB_STOP - column % TAB_STOP
        out.append(" " * pad)
        column += pad
    out.append(text.rsplit("\t", 1)[1])
    return "".join(out)


def wrap_words(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken between words (a word longer
    than a line is split); at least one line."""
    width = max(width, 1)
    lines: list[str] = []
    line = ""
    for word in text.split():
        while text_width(word) > width:
            if line:
                lines.append(line)
                line = ""
            cut, used = 0, 0
            while cut < len(word) and used + char_width(word[cut]) <= width:
                used += char_width(word[cut])
                cut += 1
            cut = max(cut, 1)
            lines.append(word[:cut])
            word = word[cut:]
        if not word:
            continue
        if line and text_width(line) + 1 + text_width(word) <= width:
            line += " " + word
        elif line:
            lines.append(line)
            line = word
        else:
            line = word
    if line or not lines:
        lines.append(line)
    return lines
