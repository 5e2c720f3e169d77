"""What the caller sees: rendered output fed to a terminal emulator (pyte)."""

from __future__ import annotations

import pyte
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.encoding import encode
from bbs.terminal.render import render, render_lines
from tests.test_render import markups

SCREEN = """{title}Index d'aide
{h}Services télématiques{/}
  {k}1{/}  Numéros d'appel
┌──────┐
│ boîte│
╚══════╝
{hr}
{center}Lotus
"""


def show(caps: Caps, markup: str, rows: int = 24) -> pyte.Screen:
    """A terminal of the session's size after receiving the rendered markup as bytes."""
    screen = pyte.Screen(caps.cols, rows)
    data = encode(render(markup, caps), caps)
    if caps.wire_encoding is Encoding.UTF8:
        pyte.ByteStream(screen).feed(data)
    else:
        # An 8-bit terminal: one byte, one character, and charset designations obeyed.
        stream = pyte.ByteStream(screen)
        stream.use_utf8 = False
        text = data.decode("cp437") if caps.wire_encoding is Encoding.CP437 else None
        if text is None:
            stream.feed(data)
        else:
            pyte.Stream(screen).feed(text)
    return screen


def test_ansi_utf8_screen() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8, cols=40)
    screen = show(caps, SCREEN)
    rows = screen.display
    assert rows[0].rstrip() == " " * 13 + "Index d'aide"
    assert all(screen.buffer[0][x].bg == "blue" for x in range(39))
    assert screen.buffer[0][39].bg == "default"
    assert rows[1].startswith("Services télématiques")
    heading = screen.buffer[1][0]
    assert (heading.fg, heading.bold) == ("cyan", True)
    assert rows[2].startswith("  1  Numéros d'appel")
    hotkey = screen.buffer[2][2]
    assert (hotkey.data, hotkey.fg, hotkey.bold) == ("1", "white", True)
    assert screen.buffer[2][5].fg == "default"
    assert rows[3:6] == [r.ljust(40) for r in ("┌──────┐", "│ boîte│", "╚══════╝")]
    assert rows[6] == "─" * 39 + " "
    assert rows[7].rstrip() == " " * 17 + "Lotus"
    assert (screen.cursor.y, screen.cursor.x) == (8, 0)


def test_ansi_cp437_screen() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.CP437, cols=40)
    rows = show(caps, SCREEN).display
    assert rows[1].startswith("Services télématiques")
    assert rows[3:6] == [r.ljust(40) for r in ("┌──────┐", "│ boîte│", "╚══════╝")]
    assert rows[6] == "─" * 39 + " "


def test_ansi_ascii_screen() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.ASCII, cols=40)
    rows = show(caps, SCREEN).display
    assert rows[1].startswith("Services telematiques")
    assert rows[3:6] == [r.ljust(40) for r in ("+------+", "| boite|", "+======+")]


@pytest.mark.parametrize("encoding", [Encoding.LATIN1, Encoding.ASCII])
def test_vt100_screen(encoding: Encoding) -> None:
    caps = Caps(tier=Tier.VT100, encoding=encoding, cols=40)
    screen = show(caps, SCREEN)
    rows = screen.display
    assert rows[0].rstrip() == " " * 13 + "Index d'aide"
    assert all(screen.buffer[0][x].reverse for x in range(39))
    assert screen.buffer[1][0].bold
    assert screen.buffer[1][0].fg == "default"
    assert not screen.buffer[1][25].bold
    assert screen.buffer[2][2].bold
    # DEC Special Graphics shows as line drawing; double lines as single ones.
    assert rows[3:6] == [
        r.ljust(40)
        for r in ("┌──────┐", "│ boîte│" if encoding is Encoding.LATIN1 else "│ boite│", "└──────┘")
    ]
    assert rows[6] == "─" * 39 + " "
    assert rows[7].rstrip() == " " * 17 + "Lotus"
    assert screen.g0_charset == pyte.charsets.LAT1_MAP


def test_dumb_screen() -> None:
    caps = Caps(tier=Tier.DUMB, encoding=Encoding.ASCII, cols=40)
    rows = show(caps, SCREEN).display
    assert [row.rstrip() for row in rows[:10]] == [
        " " * 13 + "Index d'aide",
        " " * 13 + "============",
        "Services telematiques",
        "  [1]  Numeros d'appel",
        "+------+",
        "| boite|",
        "+======+",
        "-" * 39,
        " " * 17 + "Lotus",
        "",
    ]


@settings(max_examples=60, deadline=None)
@example("\n\u0300x", Tier.ANSI, Encoding.UTF8, 20)
@given(
    markups(),
    st.sampled_from([Tier.ANSI, Tier.VT100, Tier.DUMB]),
    st.sampled_from([Encoding.UTF8, Encoding.CP437, Encoding.LATIN1]),
    st.sampled_from([20, 40, 80]),
)
def test_no_line_ever_wraps_on_the_terminal(
    markup: str, tier: Tier, encoding: Encoding, cols: int
) -> None:
    caps = Caps(tier=tier, encoding=encoding, cols=cols)
    lines = render_lines(markup, caps)
    screen = show(caps, markup, rows=len(lines) + 2)
    # Each rendered line lands on its own row: the terminal never wrapped one itself.
    expected_row = len(lines) if markup.endswith("\n") else max(len(lines) - 1, 0)
    assert screen.cursor.y == expected_row
    for row in range(len(lines)):
        assert screen.buffer[row][cols - 1].data == " "
        assert screen.buffer[row][cols - 1].bg == "default"
