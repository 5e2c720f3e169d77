"""The Videotex tier as a Minitel shows it: the board's renderer and encoder, read back by
the test decoder."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bbs.session.keys import Key, KeyParser
from bbs.terminal.caps import MINITEL_CAPS, Encoding
from bbs.terminal.controls import Controls
from bbs.terminal.encoding import decode, encode
from bbs.terminal.render import render
from tests.minitel.screen import Screen, pixels

ROOT = Path(__file__).resolve().parents[2]
CAPS = MINITEL_CAPS

FONT = {
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
}
"""The banner's letters, 5x7, drawn at twice that size."""


def shown(markup: str) -> Screen:
    screen = Screen()
    screen.feed(encode(Controls(CAPS).clear() + render(markup, CAPS), CAPS))
    assert not screen.unknown, screen.unknown
    return screen


def test_the_welcome_banner_spells_lotus_in_mosaic() -> None:
    art = (ROOT / "menus" / "art" / "welcome.minitel").read_text(encoding="utf-8")
    screen = shown(art)
    bitmap = pixels(screen, range(1, 6))
    lit = [x for line in bitmap for x, c in enumerate(line) if c == "#"]
    left = min(lit)
    # Skip the blank pixel row on top; then every letter, two pixels for one, two apart.
    for number, letter in enumerate("LOTUS"):
        for y, row in enumerate(FONT[letter]):
            for x, dot in enumerate(row):
                for dy in range(2):
                    for dx in range(2):
                        got = bitmap[1 + y * 2 + dy][left + number * 12 + x * 2 + dx]
                        assert got == dot, (letter, x, y, "\n".join(bitmap))
    title = screen.find("3616 LOTUSTEL")
    assert title is not None
    cell = screen.rows[title][screen.text(title).index("3616")]
    assert cell.double in ("top", "bottom") and cell.inverse
    assert screen.text(0).startswith("3616 LOTUSTEL")
    assert screen.find("Services télématiques") is not None
    assert screen.find("Français / English / Deutsch") is not None


def test_accents_go_as_ss2_sequences() -> None:
    data = encode(render("Société à Noël, façade, être, où\n", CAPS), CAPS)
    assert data.startswith(b"Soci\x19\x42et\x19\x42e \x19\x41a No\x19\x48el")
    screen = Screen()
    screen.feed(data)
    assert screen.text(1) == "Société à Noël, façade, être, où"


def test_capitals_lose_their_accent_and_the_rest_is_transliterated() -> None:
    screen = shown("ÉCRAN « Lotus » 1-2-3™ £5 œuvre\n")
    assert screen.find('ECRAN " Lotus " 1-2-3TM £5 œuvre') is not None


def test_lines_fit_forty_columns_and_styles_become_attributes() -> None:
    text = "{h}Index d'aide{/} " + "mot " * 30 + "\n{k}1{/}  Programmes automatisés\n"
    screen = shown(text)
    for number in range(1, 25):
        assert len(screen.text(number)) <= 39
    row = screen.find("Index d'aide")
    assert row is not None and screen.rows[row][0].fg == 6  # cyan: a light grey
    key = screen.find("1  Programmes")
    assert key is not None and screen.rows[key][0].inverse
    assert not screen.rows[key][1].inverse


def test_a_rule_is_one_mosaic_line_sent_with_repetition() -> None:
    data = encode(render("{hr}\n", CAPS), CAPS)
    assert b"\x0e" in data and b"\x12" in data and len(data) < 20
    screen = Screen()
    screen.feed(data)
    assert all(cell.mosaic == 0x0C for cell in screen.rows[1][:39])


@given(st.text(alphabet="abcdeéèêàçùôîïëüABCÉ ,.:;!?'-0123456789œ€", max_size=60))
def test_what_the_decoder_reads_is_the_text_folded_for_a_minitel(text: str) -> None:
    screen = Screen()
    screen.feed(encode(text, CAPS))
    assert not screen.unknown
    expected = text.replace("É", "E").replace("€", "EUR")
    assert "".join(c.char for row in screen.rows[1:3] for c in row).rstrip() == expected.rstrip()


def test_function_keys_are_the_board_keys() -> None:
    typed = b"ab\x13Gc\x13A\x13H\x13B\x13F\x13D\x13E\x13C\x19\x42e"
    events = KeyParser().feed(decode(typed, Encoding.VIDEOTEX))
    events += KeyParser().flush()
    assert events == [
        "a",
        "b",
        Key.ERASE,
        "c",
        Key.ENTER,
        Key.PAGE_DOWN,
        Key.PAGE_UP,
        Key.MENU,
        Key.HELP,
        Key.KILL_LINE,
        Key.REDRAW,
        "é",
    ]
