"""SAUCE records of ANSI art, and art drawn for each kind of session."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pyte
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.encoding import encode
from bbs.terminal.sauce import (
    FLAG_ICE_COLOUR,
    RECORD_SIZE,
    Sauce,
    render_art,
    split_sauce,
    with_sauce,
)

ART_DIR = Path(__file__).resolve().parent.parent / "menus" / "art"

ART = (
    b"\x1b[0;1;33;44m\xc9\xcd\xcd\xbb\x1b[0m\r\n"
    b"\x1b[1;36m\xba\x1b[2Ct\x82\x1b[0m \x03\x0f\x07\r\n"
    b"\x1b[0m"
)


def cp437_text(max_size: int) -> st.SearchStrategy[str]:
    """Field text as a SAUCE file can hold it: CP437, no NUL, no trailing spaces."""
    return st.text(
        alphabet=st.characters(codec="cp437", min_codepoint=0x20, exclude_characters="\x7f"),
        max_size=max_size,
    ).map(str.rstrip)


sauces = st.builds(
    Sauce,
    title=cp437_text(35),
    author=cp437_text(20),
    group=cp437_text(20),
    date=st.one_of(
        st.just(""), st.dates().map(lambda d: d.strftime("%Y%m%d")).filter(lambda s: len(s) == 8)
    ),
    datatype=st.integers(0, 255),
    filetype=st.integers(0, 255),
    tinfo1=st.integers(0, 0xFFFF),
    tinfo2=st.integers(0, 0xFFFF),
    tinfo3=st.integers(0, 0xFFFF),
    tinfo4=st.integers(0, 0xFFFF),
    flags=st.integers(0, 255),
    tinfos=cp437_text(22),
    comments=st.lists(cp437_text(64), max_size=5).map(tuple),
)


@given(st.binary(), sauces)
def test_sauce_round_trip(art: bytes, sauce: Sauce) -> None:
    art, _ = split_sauce(art)
    data = with_sauce(art, sauce)
    assert split_sauce(data) == (art, replace(sauce, file_size=len(art)))


def test_layout() -> None:
    sauce = Sauce(title="Lotus", author="moi", date="19950601", tinfo2=20, comments=("un",))
    data = with_sauce(b"ART", sauce)
    assert data.startswith(b"ART\x1a" + b"COMNT" + b"un" + b" " * 62)
    record = data[-RECORD_SIZE:]
    assert len(data) == 3 + 1 + 5 + 64 + RECORD_SIZE
    assert record[:7] == b"SAUCE00"
    assert record[7:42] == b"Lotus".ljust(35)
    assert record[82:90] == b"19950601"
    assert record[90:94] == (3).to_bytes(4, "little")
    assert record[94:96] == b"\x01\x01"
    assert record[96:98] == (80).to_bytes(2, "little")
    assert record[98:100] == (20).to_bytes(2, "little")
    assert record[104] == 1
    assert record[106:128] == b"\x00" * 22


def test_with_sauce_replaces_an_old_record() -> None:
    once = with_sauce(b"ART", Sauce(title="old", comments=("x", "y")))
    twice = with_sauce(once, Sauce(title="new"))
    assert twice == with_sauce(b"ART", Sauce(title="new"))


def test_text_fields_are_cut_to_fit_and_transliterated() -> None:
    _, sauce = split_sauce(with_sauce(b"", Sauce(title="T" * 50, author="Zoë €")))
    assert sauce is not None
    assert sauce.title == "T" * 35
    assert sauce.author == "Zoë EUR"


@pytest.mark.parametrize(
    "sauce",
    [Sauce(date="1995-06-01"), Sauce(tinfo1=70000), Sauce(comments=("x",) * 256)],
)
def test_bad_records_are_refused(sauce: Sauce) -> None:
    with pytest.raises(ValueError, match="SAUCE"):
        with_sauce(b"", sauce)


def test_files_without_a_record() -> None:
    assert split_sauce(b"") == (b"", None)
    assert split_sauce(b"short\x1a") == (b"short\x1a", None)
    assert split_sauce(b"x" * 200) == (b"x" * 200, None)


def test_a_missing_comment_block_is_tolerated() -> None:
    data = bytearray(with_sauce(b"ART", Sauce()))
    data[-RECORD_SIZE + 104] = 3
    art, sauce = split_sauce(bytes(data))
    assert art == b"ART"
    assert sauce is not None and sauce.comments == ()


def test_records_written_with_nul_padding_read_the_same() -> None:
    data = bytearray(with_sauce(b"ART", Sauce(title="Lotus")))
    start = len(data) - RECORD_SIZE + 7
    data[start : start + 35] = b"Lotus".ljust(35, b"\x00")
    _, sauce = split_sauce(bytes(data))
    assert sauce is not None and sauce.title == "Lotus"


def test_properties() -> None:
    sauce = Sauce(tinfo1=0, tinfo2=25, flags=FLAG_ICE_COLOUR, date="19950601")
    assert (sauce.width, sauce.lines, sauce.ice_colour) == (80, 25, True)
    assert sauce.day == date(1995, 6, 1)
    assert Sauce(date="").day is None
    assert Sauce(date="19951399").day is None


@pytest.mark.parametrize("name", ["welcome", "index"])
def test_the_boards_art_files(name: str) -> None:
    data = (ART_DIR / f"{name}.ans").read_bytes()
    art, sauce = split_sauce(data)
    assert sauce is not None
    assert sauce.datatype == 1 and sauce.filetype == 1
    assert sauce.file_size == len(art)
    assert with_sauce(art, sauce) == data
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.CP437)
    assert encode(render_art(data, caps), caps) == art


# ----------------------------------------------------------------- drawing


def test_cp437_sessions_get_the_art_byte_for_byte() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.CP437)
    assert encode(render_art(with_sauce(ART, Sauce(title="test", tinfo2=3)), caps), caps) == ART
    assert encode(render_art(ART, caps), caps) == ART


def test_utf8_sessions_get_the_same_picture() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
    text = render_art(with_sauce(ART, Sauce()), caps)
    assert text == ("\x1b[0;1;33;44m╔══╗\x1b[0m\r\n\x1b[1;36m║\x1b[2Cté\x1b[0m ♥☼•\r\n\x1b[0m")
    screen = pyte.Screen(10, 3)
    pyte.ByteStream(screen).feed(encode(text, caps))
    assert screen.display[:2] == ["╔══╗      ", "║  té ♥☼• "]
    assert screen.buffer[0][0].bg == "blue"


def test_latin1_and_ascii_sessions_get_a_transliterated_picture() -> None:
    for encoding in (Encoding.LATIN1, Encoding.ASCII):
        caps = Caps(tier=Tier.ANSI, encoding=encoding)
        data = encode(render_art(ART, caps), caps)
        assert data.startswith(b"\x1b[0;1;33;44m+==+\x1b[0m\r\n")
        assert not any(byte < 0x20 and byte not in b"\x1b\r\n" for byte in data)


@pytest.mark.parametrize(
    ("tier", "top", "side"), [(Tier.VT100, "┌──┐", "│"), (Tier.DUMB, "+==+", "|")]
)
def test_other_tiers_get_plain_text(tier: Tier, top: str, side: str) -> None:
    caps = Caps(tier=tier, encoding=Encoding.LATIN1, cols=40)
    text = render_art(with_sauce(ART, Sauce()), caps)
    screen = pyte.Screen(40, 4)
    stream = pyte.ByteStream(screen)
    stream.use_utf8 = False
    stream.feed(encode(text, caps))
    # Colours gone, the cursor move kept as spaces, glyphs Latin-1 lacks as "?".
    assert [row.rstrip() for row in screen.display[:3]] == [top, side + "  té ??·", ""]
    assert all(not screen.buffer[0][x].bold for x in range(4))
    if tier is Tier.DUMB:
        assert "\x1b" not in text


def test_art_relying_on_the_terminal_wrapping_is_cut_at_its_width() -> None:
    art = b"A" * 100 + b"\r\n"
    text = render_art(with_sauce(art, Sauce(tinfo1=50)), Caps(tier=Tier.DUMB, cols=80))
    assert text == "A" * 50 + "\r\n" + "A" * 50 + "\r\n"


def test_art_stops_at_the_eof_byte() -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.CP437)
    assert render_art(b"shown\x1ahidden", caps) == "shown"
