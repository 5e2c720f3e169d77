"""The test decoder itself, on byte streams written from the specification by hand."""

from __future__ import annotations

from tests.minitel.screen import Screen


def test_clear_address_and_accents() -> None:
    screen = Screen()
    screen.feed(b"\x0c\x1f\x43\x45soci\x19\x42et\x19\x42e \x19\x41a \x19\x4bc \x19\x43\x69")
    assert screen.text(3) == "    société à ç î"
    assert not screen.unknown


def test_status_row_and_return() -> None:
    screen = Screen()
    screen.feed(b"\x0c\x1f\x45\x41abc\x1f\x40\x41STATUS\x18\x0ad")
    assert screen.text(0) == "STATUS"
    # LF on row 0 goes back to where the cursor was before.
    assert screen.text(5) == "abcd"


def test_repetition_and_mosaic() -> None:
    screen = Screen()
    screen.feed(b"\x0c-\x12\x44\x0e\x7f\x12\x42\x0fA")
    assert screen.text(1) == "-----███A"
    assert screen.rows[1][5].mosaic == 0x3F
    assert screen.rows[1][8].mosaic is None


def test_page_mode_wraps_and_roll_mode_scrolls() -> None:
    page = Screen()
    page.feed(b"\x0cfirst" + b"\r\n" * 24 + b"again")
    assert page.text(1) == "again"
    rolling = Screen()
    rolling.feed(b"\x1b\x3a\x69\x43\x0cfirst" + b"\r\n" * 24 + b"last")
    assert rolling.text(24) == "last"
    assert rolling.find("first") is None
    assert rolling.text(23) == ""


def test_double_height_takes_the_row_above() -> None:
    screen = Screen()
    screen.feed(b"\x0c\x1f\x43\x41\x1b\x4dTITLE\x1b\x4c ok")
    assert screen.rows[3][0].double == "bottom"
    assert screen.rows[2][0].double == "top"
    assert screen.text(3) == "TITLE ok"
    assert screen.rows[3][6].double == ""


def test_attributes_and_forty_columns() -> None:
    screen = Screen()
    screen.feed(b"\x0c\x1b\x46cyan\x1b\x47 \x1b\x5dinv\x1b\x5c" + b"x" * 40)
    assert screen.rows[1][0].fg == 6 and screen.rows[1][4].fg == 7
    assert screen.rows[1][5].inverse and not screen.rows[1][8].inverse
    # The 40th column ends a row: the rest goes on the next one.
    assert screen.text(2).startswith("x" * 8)
