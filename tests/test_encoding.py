"""Per-session encodings: bytes out with transliteration, text in, never an exception."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.encoding import (
    BoxMode,
    decode,
    decoder,
    encode,
    encode_as,
    fold_text,
    transliterate,
)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        (Encoding.CP437, b"\x82"),
        (Encoding.UTF8, b"\xc3\xa9"),
        (Encoding.LATIN1, b"\xe9"),
        (Encoding.ASCII, b"e"),
    ],
)
def test_e_acute_on_the_wire(encoding: Encoding, expected: bytes) -> None:
    assert encode("é", Caps(tier=Tier.ANSI, encoding=encoding)) == expected


@pytest.mark.parametrize("encoding", [e for e in Encoding if e is not Encoding.VIDEOTEX])
def test_seven_bit_forces_ascii(encoding: Encoding) -> None:
    caps = Caps(tier=Tier.ANSI, encoding=encoding, eight_bit=False)
    assert encode("Numéro ─ «ça»", caps) == b'Numero - "ca"'


def test_videotex_is_seven_bit_already() -> None:
    caps = Caps(tier=Tier.VIDEOTEX, encoding=Encoding.VIDEOTEX, eight_bit=False)
    assert encode("Numéro", caps) == b"Num\x19\x42ero"


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("é è ê ë É È", "e e e e E E"),
        ("ç Ç à ô î ù", "c C a o i u"),
        ("ß ü Ü ö ä", "ss u U o a"),
        ("« Bonjour »", '" Bonjour "'),
        ("N° 5, 20°", "No 5, 20o"),
        ("l’équipe ‘x’ “y”", "l'equipe 'x' \"y\""),
        ("a – b — c", "a - b - c"),
        ("Lotus® Notes™ ©", "Lotus(R) NotesTM (C)"),
        ("œuvre Œ æ", "oeuvre OE ae"),
        ("10 €, 5 £", "10 EUR, 5 GBP"),
        ("attendez…", "attendez..."),
        ("ﬁn", "fin"),
        ("─│┌┐└┘├┤┬┴┼", "-|+++++++++"),
        ("═║╔╗╚╝╠╣╦╩╬", "=|+++++++++"),
        ("━┃┏╭╌", "-|++-"),
        ("日本", "??"),
    ],
)
def test_ascii_transliteration(text: str, ascii: str) -> None:
    assert encode_as(text, Encoding.ASCII) == ascii.encode("ascii")
    assert transliterate(text, Encoding.ASCII) == ascii


@pytest.mark.parametrize(
    ("text", "latin1"),
    [
        ("é ç ß ü « » ° ®", "é ç ß ü « » ° ®"),
        ("l’été", "l'été"),
        ("œuf", "oeuf"),
        ("5 €", "5 EUR"),
        ("…", "..."),
        ("•", "·"),
        ("┌─┐ ╔═╗", "+-+ +=+"),
    ],
)
def test_latin1_transliteration(text: str, latin1: str) -> None:
    assert encode_as(text, Encoding.LATIN1) == latin1.encode("latin-1")


def test_cp437_box_drawing_bytes() -> None:
    assert encode_as("─│┌┐└┘├┤┬┴┼", Encoding.CP437) == bytes.fromhex("c4b3dabfc0d9c3b4c2c1c5")
    assert encode_as("═║╔╗╚╝╠╣╦╩╬", Encoding.CP437) == bytes.fromhex("cdbac9bbc8bcccb9cbcace")
    assert encode_as("░▒▓█▄▀", Encoding.CP437) == bytes.fromhex("b0b1b2dbdcdf")


def test_cp437_draws_heavy_and_round_lines_light() -> None:
    assert encode_as("━┃┏╭╯", Encoding.CP437) == encode_as("─│┌┌┘", Encoding.CP437)


def test_cp437_keeps_what_it_has_and_folds_the_rest() -> None:
    assert encode_as("ÉÇüßñ£·°", Encoding.CP437) == bytes.fromhex("9080819aa49cfaf8").replace(
        b"\x9a", b"\xe1"
    )
    assert encode_as("À Ê ’ € œ •", Encoding.CP437) == b"A E ' EUR oe \xf9"


@pytest.mark.parametrize("encoding", list(Encoding))
def test_escape_sequences_pass_through_unchanged(encoding: Encoding) -> None:
    text = "\x1b[0;1;36mé\x1b[0m\x1b(0lqqk\x1b(B\x1b[6n\x07\b \b\r\n"
    data = encode_as(text, encoding)
    for sequence in (b"\x1b[0;1;36m", b"\x1b[0m", b"\x1b(0lqqk\x1b(B", b"\x1b[6n\x07\b \b\r\n"):
        assert sequence in data


@pytest.mark.parametrize("encoding", list(Encoding))
@given(text=st.text())
def test_encoding_never_raises(encoding: Encoding, text: str) -> None:
    data = encode_as(text, encoding)
    if encoding is Encoding.ASCII:
        assert data.isascii()
    if encoding is Encoding.LATIN1:
        assert not any(0x80 <= byte <= 0x9F for byte in data)
    if encoding is Encoding.UTF8:
        decoded = data.decode("utf-8")
        assert not any(0x80 <= ord(ch) <= 0x9F for ch in decoded)
    if encoding is Encoding.VIDEOTEX:
        # A 7-bit code; runs of a character go as REP, so ASCII text may come out shorter.
        assert data.isascii()
    elif text.isascii():
        assert data == text.encode("ascii")


@given(text=st.text(alphabet=st.characters(codec="cp437")))
def test_cp437_text_encodes_like_the_codec(text: str) -> None:
    assert encode_as(text, Encoding.CP437) == text.encode("cp437")


def test_lone_surrogates_and_c1_controls_become_question_marks() -> None:
    assert encode_as("a\ud800b\x9bc", Encoding.UTF8) == b"a?b?c"
    assert encode_as("\x9b", Encoding.LATIN1) == b"?"


@pytest.mark.parametrize("encoding", list(Encoding))
@given(data=st.binary(), cut=st.integers(min_value=0))
def test_decoders_never_raise_and_are_incremental(
    encoding: Encoding, data: bytes, cut: int
) -> None:
    cut = cut % (len(data) + 1)
    whole = decode(data, encoding)
    reader = decoder(encoding)
    pieces = reader.decode(data[:cut]) + reader.decode(data[cut:], final=True)
    assert pieces == whole
    assert isinstance(reader, codecs.IncrementalDecoder)


def test_decoders() -> None:
    assert decode(b"\x82t\x82", Encoding.CP437) == "été"
    assert decode(b"\xc3\xa9t\xc3\xa9", Encoding.UTF8) == "été"
    assert decode(b"\xe9t\xe9", Encoding.LATIN1) == "été"
    assert decode(b"\xe9t\xe9", Encoding.ASCII) == "été"
    assert decode(b"a\xffb", Encoding.UTF8) == "a\ufffdb"
    assert len(decode(bytes(range(256)), Encoding.CP437)) == 256


def test_utf8_decoder_waits_for_the_rest_of_a_character() -> None:
    reader = decoder(Encoding.UTF8)
    assert reader.decode(b"\xc3") == ""
    assert reader.decode(b"\xa9") == "é"


def test_fold_text_makes_controls_harmless() -> None:
    assert fold_text("a\x1b[31mb\r\x07", Encoding.UTF8) == "a\ufffd[31mb\ufffd"
    assert fold_text("a\x1b[31mb\x9b", Encoding.CP437) == "a?[31mb?"
    assert fold_text("x\u202ey\u200bz\u2028", Encoding.UTF8) == "xyz "
    assert fold_text("\tkept", Encoding.ASCII) == "\tkept"


def test_fold_text_box_modes() -> None:
    assert fold_text("┌═┐", Encoding.UTF8, BoxMode.CHARSET) == "┌═┐"
    assert fold_text("┌═┐", Encoding.UTF8, BoxMode.ASCII) == "+=+"
    assert fold_text("┌═┐╱", Encoding.LATIN1, BoxMode.DEC) == "┌═┐/"
    assert fold_text("┌═┐", Encoding.LATIN1, BoxMode.CHARSET) == "+=+"
