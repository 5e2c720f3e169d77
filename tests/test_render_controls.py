"""Terminal controls per tier, and parsing cursor position reports."""

from __future__ import annotations

import pyte
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.controls import CPR_REQUEST, Controls, parse_cursor_position
from bbs.terminal.encoding import encode

ANSI = Controls(Caps(tier=Tier.ANSI, encoding=Encoding.CP437))
VT100 = Controls(Caps(tier=Tier.VT100, encoding=Encoding.LATIN1))
DUMB = Controls(Caps(tier=Tier.DUMB, cols=20))


def test_escape_tiers() -> None:
    for controls in (ANSI, VT100):
        assert controls.clear() == "\x1b[0m\x1b[H\x1b[2J"
        assert controls.home() == "\x1b[H"
        assert controls.cursor_position_request() == CPR_REQUEST == "\x1b[6n"
        assert controls.erase_line() == "\x1b[2K\r"
        assert controls.bell() == "\x07"
        assert controls.backspace_erase() == "\b \b"
    assert ANSI.reset() == "\x1b[0m"
    assert VT100.reset() == "\x1b[0m\x1b(B"


def test_plain_text_tier_never_gets_an_escape() -> None:
    outputs = [
        DUMB.clear(),
        DUMB.home(),
        DUMB.cursor_position_request(),
        DUMB.erase_line(),
        DUMB.reset(),
    ]
    assert all("\x1b" not in text for text in outputs)
    assert DUMB.clear() == "\r\n\r\n"
    assert DUMB.erase_line() == "\r" + " " * 19 + "\r"
    assert DUMB.cursor_position_request() == ""
    assert DUMB.reset() == ""
    assert DUMB.backspace_erase() == "\b \b"


def test_controls_on_a_terminal() -> None:
    screen = pyte.Screen(20, 4)
    stream = pyte.ByteStream(screen)
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8, cols=20)
    controls = Controls(caps)
    stream.feed(b"\x1b[41mhello\r\nworld")
    stream.feed(encode(controls.erase_line(), caps))
    assert screen.display[1] == " " * 20
    assert (screen.cursor.y, screen.cursor.x) == (1, 0)
    stream.feed(b"ab" + encode(controls.backspace_erase(), caps))
    assert screen.display[1].startswith("a ") and screen.cursor.x == 1
    stream.feed(encode(controls.clear(), caps))
    assert screen.display == [" " * 20] * 4
    assert screen.buffer[0][0].bg == "default"
    assert (screen.cursor.y, screen.cursor.x) == (0, 0)


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (b"\x1b[12;40R", (12, 40)),
        ("\x1b[1;1R", (1, 1)),
        (b"garbage\x1b[5\x1b[24;80R", (24, 80)),
        (b"\x1b[2;3R\x1b[4;5R", (4, 5)),
        (b"\x9b7;9R", (7, 9)),
        (b"\x1b[;5R", (1, 5)),
        (b"\x1b[0;0R", (1, 1)),
        (b"\x1b[R", (1, 1)),
        (b"\x1b[12345;1R", None),
        (b"\x1b[12;40", None),
        (b"12;40R", None),
        (b"", None),
        (b"\x1b[\xd9\xa3;4R", None),
    ],
)
def test_parse_cursor_position(data: bytes | str, position: tuple[int, int] | None) -> None:
    assert parse_cursor_position(data) == position
    assert ANSI.parse_cursor_position(data) == position


@given(
    st.binary(),
    st.integers(1, 9999),
    st.integers(1, 9999),
    st.binary().filter(lambda b: b"R" not in b),
)
def test_a_report_is_found_after_any_garbage(
    before: bytes, row: int, col: int, after: bytes
) -> None:
    data = before + f"\x1b[{row};{col}R".encode() + after
    assert parse_cursor_position(data) == (row, col)
    assert parse_cursor_position(data.decode("latin-1")) == (row, col)


@given(st.binary().filter(lambda b: b"R" not in b))
def test_no_report_no_position(data: bytes) -> None:
    assert parse_cursor_position(data) is None
