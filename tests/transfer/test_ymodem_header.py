"""YMODEM block 0: the header encodes and parses back; garbage is refused."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bbs.transfer.ymodem import Header, HeaderError, encode_header, parse_header

names = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=900
)
sizes = st.one_of(st.none(), st.integers(min_value=0, max_value=10**19))
times = st.one_of(st.none(), st.integers(min_value=1, max_value=2**40))
modes = st.one_of(st.none(), st.integers(min_value=0, max_value=0o177777))


@given(names, sizes, times, modes)
def test_header_round_trip(
    name: str, size: int | None, mtime: int | None, mode: int | None
) -> None:
    header = Header(name, size, mtime, mode)
    data = encode_header(header)
    assert len(data) in (128, 1024)
    got = parse_header(data)
    if size is None:  # the later fields cannot be sent without the size
        assert got == Header(name)
    else:
        assert got == header


def test_the_spec_example() -> None:
    """Figure 4 of the protocol reference: bbcsched.txt as sb sent it."""
    text = b"bbcsched.txt\x006347 3314742513 100644"
    data = text + bytes(128 - len(text))
    assert parse_header(data) == Header("bbcsched.txt", 6347, 0o3314742513, 0o100644)
    assert encode_header(Header("bbcsched.txt", 6347, 0o3314742513, 0o100644)) == data


def test_end_of_batch() -> None:
    assert encode_header(None) == bytes(128)
    assert parse_header(bytes(128)) is None
    assert parse_header(bytes(1024)) is None


def test_long_headers_take_a_1k_block() -> None:
    assert len(encode_header(Header("x" * 200, 5))) == 1024
    assert parse_header(encode_header(Header("x" * 1000, 5))) == Header("x" * 1000, 5)
    with pytest.raises(ValueError):
        encode_header(Header("x" * 1030, 5))
    with pytest.raises(ValueError):
        encode_header(Header("a\0b", 5))
    with pytest.raises(ValueError):
        encode_header(Header("", 5))


def test_fields_sent_by_other_programs() -> None:
    # lrzsz sends the serial number, files and bytes left after the mode.
    assert parse_header(b"a.txt\x00100 0 100644 0 3 300" + bytes(100)) == Header(
        "a.txt", 100, None, 0o100644
    )
    # Name alone; name and size; spaces after the size.
    assert parse_header(b"A.TXT" + bytes(123)) == Header("A.TXT")
    assert parse_header(b"A.TXT\x0012   " + bytes(116)) == Header("A.TXT", 12)
    # A date or mode that is not octal is ignored, the size is kept.
    assert parse_header(b"a\x0012 99x 8" + bytes(118)) == Header("a", 12)
    # A 1023-byte name fills a 1K block.
    assert parse_header(b"n" * 1023 + b"\0") == Header("n" * 1023)


@pytest.mark.parametrize(
    "data",
    [
        b"x" * 128,  # no NUL after the name
        b"a\x00-5" + bytes(124),  # negative size
        b"a\x0012ab" + bytes(121),  # size not a number
        b"a\x00" + b"9" * 21 + bytes(105),  # size too long to be real
        b"a\x000x10" + bytes(122),  # size not decimal
    ],
)
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(HeaderError):
        parse_header(data)


@given(st.binary(min_size=128, max_size=128))
def test_any_block_parses_or_is_refused(data: bytes) -> None:
    """Random bytes never crash the parser; what it accepts has a sane shape."""
    try:
        header = parse_header(data)
    except HeaderError:
        return
    if header is None:
        assert data[0] == 0
        return
    assert 0 < len(header.name.encode("latin-1")) <= 127
    assert "\0" not in header.name
    assert header.size is None or 0 <= header.size < 10**20


@given(st.binary(min_size=1, max_size=127).filter(lambda b: 0 not in b), st.binary(max_size=20))
def test_sizes_that_are_not_decimal_are_refused(name: bytes, size: bytes) -> None:
    assume(size.split() and not size.split()[0].isdigit())
    assume(0 not in size)
    data = (name + b"\0" + size)[:128]
    data += bytes(128 - len(data))
    info = data[len(name) + 1 :].split(b"\0", 1)[0].split()
    assume(info and not info[0].isdigit())
    with pytest.raises(HeaderError):
        parse_header(data)
