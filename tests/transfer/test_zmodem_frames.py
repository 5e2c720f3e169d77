"""ZMODEM framing, byte level: escaping, headers, data subpackets, damage detection."""

from __future__ import annotations

import binascii
import re
import zlib

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bbs.transfer.zmodem_frames import (
    AUTO_START,
    CANCEL,
    ZBIN,
    ZBIN32,
    ZHEX,
    Deframer,
    Encoder,
    End,
    Frame,
    Garbled,
    Header,
    encode_binary,
    encode_hex,
    escape,
    unescape,
)

SPECIAL = bytes(
    [0x00, 0x0D, 0x10, 0x11, 0x13, 0x18, 0x40, 0x7F, 0x8D, 0x90, 0x91, 0x93, 0xC0, 0xFF]
)
FLOW = bytes([0x11, 0x13, 0x91, 0x93])

# Data heavy in the bytes and pairs that matter (escapes, '@' then CR, flow control,
# ZDLE runs), between random stretches.
TOKENS = [b"@\r", b"@\x8d", b"\xc0\r", b"\xc0\x8d", b"\x18", b"\x18\x18", b"\r\r"]
tricky = st.binary(max_size=3000) | st.lists(
    st.sampled_from(TOKENS)
    | st.sampled_from([bytes([b]) for b in SPECIAL])
    | st.binary(max_size=40),
    max_size=80,
).map(b"".join)

headers = st.builds(
    Header,
    st.sampled_from(list(Frame)) | st.integers(0, 255),
    st.binary(min_size=4, max_size=4)
    | st.sampled_from([bytes(4), b"\x18\x18\x18\x18", b"\x11\x13\x91\x93"]),
)


def test_auto_start_is_what_terminals_watch_for() -> None:
    assert AUTO_START == b"rz\r**\x18B00000000000000\r\x8a\x11"
    assert CANCEL == b"\x18" * 8 + b"\x08" * 10


def test_hex_header_layout() -> None:
    # ZRPOS at 0x12345678: type 09, P0..P3 = 78 56 34 12, then the CRC-16, in lower-case hex.
    wire = encode_hex(Header.at(Frame.ZRPOS, 0x12345678))
    crc = binascii.crc_hqx(bytes([9, 0x78, 0x56, 0x34, 0x12]), 0)
    assert wire == b"**\x18B0978563412" + f"{crc:04x}".encode() + b"\r\x8a\x11"
    assert encode_hex(Header(Frame.ZACK)).endswith(b"\r\x8a")  # no XON after ZACK...
    assert encode_hex(Header(Frame.ZFIN)).endswith(b"\r\x8a")  # ...nor after ZFIN


def test_flags_sit_where_the_spec_puts_them() -> None:
    header = Header.flagged(Frame.ZRINIT, f0=0x23, f1=0x01)
    assert header.data == bytes([0, 0, 0x01, 0x23]) and header.f0 == 0x23 and header.f1 == 0x01
    assert Header.at(Frame.ZDATA, 1025).data == bytes([1, 4, 0, 0])


def _check_escaped(
    wire: bytes, *, controls: bool, after_at: bool = False, frame_ends: bool = False
) -> None:
    """What must hold of anything escaped: ZDLE only starts escapes (or frame ends),
    nothing a link might eat goes out raw, no CR right after an '@' (Telenet's escape
    is CR @ CR)."""
    raw, escaped = [], []
    i = 0
    while i < len(wire):
        if wire[i] == 0x18:
            escaped.append(wire[i + 1])
            i += 2
        else:
            raw.append(wire[i])
            i += 1
    assert not set(raw) & {0x10, 0x11, 0x13, 0x18, 0x90, 0x91, 0x93}
    assert all(b & 0x60 == 0x40 or (frame_ends and b in b"hijk") for b in escaped)
    if controls:
        assert all(b & 0x60 for b in raw)
    previous = 0x40 if after_at else 0
    for byte in wire:
        assert not (byte in (0x0D, 0x8D) and previous in (0x40, 0xC0))
        previous = byte


@given(tricky, st.booleans(), st.booleans())
def test_escape_round_trip(data: bytes, controls: bool, after_at: bool) -> None:
    wire = escape(data, controls=controls, after_at=after_at)
    assert unescape(wire) == data
    _check_escaped(wire, controls=controls, after_at=after_at)


@given(tricky, st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(list(FLOW))), max_size=20))
def test_unescape_ignores_flow_control_slipped_in(
    data: bytes, inserts: list[tuple[int, int]]
) -> None:
    wire = bytearray(escape(data))
    for at, byte in inserts:
        wire.insert(at % (len(wire) + 1), byte)  # anywhere, even between ZDLE and its byte
    assert unescape(bytes(wire)) == data


@pytest.mark.parametrize("bad", [b"\x18", b"ab\x18", b"\x18\x18", b"\x18h", b"\x18\x01"])
def test_unescape_refuses_bad_escapes(bad: bytes) -> None:
    with pytest.raises(Garbled):
        unescape(bad)


def _decode_header(wire: bytes, cut: int) -> tuple[Header, int]:
    frames = Deframer()
    frames.feed(wire[:cut])
    got = frames.header()
    if got is None:
        frames.feed(wire[cut:])
        got = frames.header()
    assert got is not None
    return got


@given(
    headers, st.sampled_from(["hex", "bin16", "bin32"]), st.binary(max_size=50), st.integers(0, 60)
)
def test_header_round_trip(header: Header, form: str, noise: bytes, cut: int) -> None:
    assume(b"\x18" * 5 not in noise)
    if form == "hex":
        wire, kind = encode_hex(header), ZHEX
    else:
        wire, kind = (
            encode_binary(header, crc32=form == "bin32"),
            ZBIN32 if form == "bin32" else ZBIN,
        )
    noise = noise.replace(b"*", b"").replace(b"\xaa", b"")  # line noise before it
    assert _decode_header(noise + wire, cut) == (header, kind)


@given(headers, st.booleans())
def test_headers_escape_for_escctl_peers(header: Header, crc32: bool) -> None:
    wire = encode_binary(header, crc32=crc32, controls=True)
    _check_escaped(wire[3:], controls=True)
    assert _decode_header(wire, 0)[0] == header


def _deframe(wire: bytes, crc32: bool, cuts: list[int]) -> list[tuple[bytes, int]]:
    """Feed `wire` in pieces, taking subpackets as they complete (until a ZCRCE/W)."""
    frames = Deframer()
    got: list[tuple[bytes, int]] = []
    points = sorted({c % (len(wire) + 1) for c in cuts} | {len(wire)})
    start = 0
    for point in points:
        frames.feed(wire[start:point])
        start = point
        while (sub := frames.subpacket(crc32)) is not None:
            got.append((sub.data, sub.end))
    assert not frames.buf
    return got


@settings(max_examples=150)
@given(
    tricky,
    st.sampled_from(list(End)),
    st.booleans(),
    st.booleans(),
    st.sampled_from([32, 100, 1024, 8192]),
    st.lists(st.integers(0, 10**6), max_size=8),
)
# A subpacket ending in '@' whose CRC starts with a CR (an escape check once read them
# as neighbours across the end mark).
@example(
    b"@\r\xfb\xfd\r\xc0\r\x15\xc0\r\x00\x00\xd5\xc0\r\xc0\xfb\xa7W\xc0\r\x18\x18\x00@\x00",
    End.ZCRCE,
    False,
    False,
    32,
    [],
)
def test_subpacket_framing_round_trip(
    data: bytes, end: End, crc32: bool, controls: bool, size: int, cuts: list[int]
) -> None:
    encoder = Encoder(crc32=crc32, controls=controls)
    wire = encoder.data(data, end, size)
    # Between frame ends: an '@' just before a ZDLE end mark and a CR just after it are
    # not neighbours on the wire, so each stretch is checked on its own.
    for stretch in re.split(rb"\x18[hijk]", wire):
        _check_escaped(stretch, controls=controls)
    got = _deframe(wire, crc32, cuts)
    assert b"".join(d for d, _ in got) == data
    assert [e for _, e in got] == [End.ZCRCG] * (len(got) - 1) + [end]
    assert all(len(d) <= size for d, _ in got)


@pytest.mark.parametrize("crc32", [False, True])
def test_subpacket_crc(crc32: bool) -> None:
    """The CRC covers the data and the frame end: CRC-32 as zlib computes it, least
    significant byte first; CRC-16/XMODEM most significant first."""
    one = Encoder(crc32=crc32).subpacket(b"abc", End.ZCRCW)
    if crc32:
        assert one == b"abc\x18k" + escape(zlib.crc32(b"abck").to_bytes(4, "little"))
    else:
        assert one == b"abc\x18k" + escape(binascii.crc_hqx(b"abck", 0).to_bytes(2, "big"))


@given(st.lists(tricky, min_size=1, max_size=5), st.booleans())
def test_single_subpackets_and_headers_in_sequence(chunks: list[bytes], crc32: bool) -> None:
    encoder = Encoder(crc32=crc32)
    wire = b"".join(
        encoder.header(Header.at(Frame.ZDATA, i)) + encoder.subpacket(chunk, End.ZCRCE)
        for i, chunk in enumerate(chunks)
    )
    # The rules hold across pieces too: a CR opening data after a header or CRC that
    # ended in '@' is escaped.
    _check_escaped(wire, controls=False, frame_ends=True)  # (ZDLE A/C: header starts)
    frames = Deframer()
    frames.feed(wire)
    for i, chunk in enumerate(chunks):
        got = frames.header()
        assert got == (Header.at(Frame.ZDATA, i), ZBIN32 if crc32 else ZBIN)
        assert frames.subpacket(crc32) == (chunk, End.ZCRCE)


@settings(max_examples=300, derandomize=True)
@given(tricky, st.booleans(), st.integers(0, 10**6), st.integers(1, 255), st.booleans())
def test_damage_is_detected(data: bytes, crc32: bool, where: int, flip: int, drop: bool) -> None:
    """One byte changed or lost: the subpacket is reported garbled (or incomplete),
    never handed over with different data. (Derandomized: a CRC-16 collision after a
    lost byte is possible in principle, one in 65536, so the examples stay fixed.)"""
    wire = bytearray(Encoder(crc32=crc32).subpacket(data, End.ZCRCW))
    at = where % len(wire)
    if drop:
        del wire[at]
    else:
        wire[at] ^= flip
    frames = Deframer()
    frames.feed(bytes(wire))
    try:
        got = frames.subpacket(crc32)
    except Garbled:
        return
    assert got is None


@settings(max_examples=300, derandomize=True)
@given(
    headers, st.sampled_from(["hex", "bin16", "bin32"]), st.integers(0, 100), st.integers(1, 255)
)
def test_damaged_headers_are_refused(header: Header, form: str, where: int, flip: int) -> None:
    if form == "hex":
        wire = bytearray(encode_hex(header)[:-3])  # without CR LF XON: damage there is harmless
    else:
        wire = bytearray(encode_binary(header, crc32=form == "bin32"))
    at = where % len(wire)
    wire[at] ^= flip
    frames = Deframer()
    frames.feed(bytes(wire))
    try:
        got = frames.header()
    except Garbled:
        return
    # A damaged padding byte or parity bit may still leave the same header; never another.
    assert got is None or got[0] == header


def test_five_cans_cancel_even_split_across_reads() -> None:
    frames = Deframer()
    frames.feed(b"data\x18\x18")
    assert not frames.cancelled
    frames.feed(b"\x11\x18\x18")  # an XON between does not hide them
    assert not frames.cancelled
    frames.feed(b"\x18\x08\x08")
    assert frames.cancelled


def test_escaped_zdle_is_not_a_cancel() -> None:
    frames = Deframer()
    frames.feed(escape(b"\x18" * 100))
    assert not frames.cancelled


def test_hex_header_then_data_with_the_crlf_late() -> None:
    """A hex header (ZSINIT from `sz -e`) followed by a subpacket, where the header's
    CR LF arrive with the subpacket rather than with the header."""
    encoder = Encoder()
    wire = encoder.hex(Header.flagged(Frame.ZSINIT, 0x40)) + encoder.subpacket(
        b"\r\nattn\0", End.ZCRCW
    )
    frames = Deframer()
    cut = wire.index(b"\r\x8a")
    frames.feed(wire[:cut])
    assert frames.header() == (Header.flagged(Frame.ZSINIT, 0x40), ZHEX)
    frames.feed(wire[cut:])
    assert frames.subpacket(False) == (b"\r\nattn\0", End.ZCRCW)


def test_overlong_subpacket_is_garbled() -> None:
    frames = Deframer()
    with pytest.raises(Garbled):
        frames.feed(b"x" * 40000)
        frames.subpacket(True)
    assert not frames.buf


@settings(max_examples=150)
@given(
    st.lists(tricky, min_size=1, max_size=4),
    st.booleans(),
    st.sampled_from([64, 1024]),
    st.lists(st.integers(0, 10**6), max_size=8),
)
def test_batches_of_subpackets_round_trip(
    chunks: list[bytes], crc32: bool, size: int, cuts: list[int]
) -> None:
    """Several frames, each ZDATA then subpackets ending ZCRCE, fed in arbitrary pieces
    and taken a batch at a time (the upload path)."""
    encoder = Encoder(crc32=crc32)
    wire = b"".join(
        encoder.header(Header.at(Frame.ZDATA, i)) + encoder.data(chunk, End.ZCRCE, size)
        for i, chunk in enumerate(chunks)
    )
    frames = Deframer()
    points = sorted({c % (len(wire) + 1) for c in cuts} | {len(wire)})
    got: list[bytes] = []
    in_frame = False
    start = 0
    for point in points:
        frames.feed(wire[start:point])
        start = point
        while True:
            if not in_frame:
                if frames.header() is None:
                    break
                in_frame, data = True, bytearray()
            batch = frames.subpackets(crc32)
            if not batch:
                break
            assert all(s.end == End.ZCRCG for s in batch[:-1])
            data += b"".join(s.data for s in batch)
            if batch[-1].end == End.ZCRCE:
                got.append(bytes(data))
                in_frame = False
    assert got == chunks


def test_a_bad_subpacket_after_good_ones_is_told_next_time() -> None:
    encoder = Encoder(crc32=True)
    wire = bytearray(encoder.data(b"a" * 3000, End.ZCRCE, 1024))
    second = wire.index(b"\x18i") + 6  # into the second subpacket's data
    wire[second] ^= 0x01
    frames = Deframer()
    frames.feed(bytes(wire))
    first = frames.subpackets(True)
    assert [len(s.data) for s in first] == [1024]
    with pytest.raises(Garbled):
        frames.subpackets(True)
    assert frames.subpackets(True) == [(b"a" * (3000 - 2048), End.ZCRCE)]
