"""Block framing: what is built parses back, and damage is always noticed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.transfer.blocks import (
    SOH,
    STX,
    BlockError,
    body_length,
    build_block,
    ends_in_cancel,
    pad,
    parse_block,
)
from bbs.transfer.xmodem import payloads

data_blocks = st.one_of(
    st.binary(min_size=128, max_size=128), st.binary(min_size=1024, max_size=1024)
)


@given(st.integers(min_value=0, max_value=10_000), data_blocks, st.booleans())
def test_block_round_trip(number: int, data: bytes, crc: bool) -> None:
    block = build_block(number, data, crc=crc)
    kind = block[0]
    assert kind == (SOH if len(data) == 128 else STX)
    assert len(block) == 1 + body_length(kind, crc=crc)
    assert parse_block(kind, block[1:], crc=crc) == (number & 0xFF, data)


@given(
    st.integers(min_value=0, max_value=255),
    data_blocks,
    st.booleans(),
    st.data(),
)
def test_a_damaged_byte_is_noticed(
    number: int, data: bytes, crc: bool, draw: st.DataObject
) -> None:
    """Any change to one byte (number, complement, data or check) is refused: the
    complement pairs with the number, and both checks catch any single-byte error."""
    body = bytearray(build_block(number, data, crc=crc)[1:])
    where = draw.draw(st.integers(min_value=0, max_value=len(body) - 1))
    change = draw.draw(st.integers(min_value=1, max_value=255))
    body[where] ^= change
    with pytest.raises(BlockError):
        parse_block(SOH if len(data) == 128 else STX, bytes(body), crc=crc)


@given(data_blocks, st.integers(min_value=0, max_value=255))
def test_crc_catches_what_the_checksum_cannot(data: bytes, number: int) -> None:
    """0x80 added to two bytes leaves the 8-bit sum as it was; the CRC sees it."""
    damaged = bytearray(data)
    damaged[0] ^= 0x80
    damaged[1] ^= 0x80
    kind = SOH if len(data) == 128 else STX
    summed = build_block(number, data, crc=False)[1:]
    forged = summed[:2] + bytes(damaged) + summed[2 + len(data) :]
    assert parse_block(kind, forged, crc=False) == (number, bytes(damaged))
    body = build_block(number, data, crc=True)[1:]
    forged = body[:2] + bytes(damaged) + body[2 + len(data) :]
    with pytest.raises(BlockError):
        parse_block(kind, forged, crc=True)


def test_wrong_lengths_and_starts_are_refused() -> None:
    block = build_block(1, bytes(128), crc=True)
    with pytest.raises(BlockError):
        parse_block(SOH, block[1:-1], crc=True)
    with pytest.raises(BlockError):
        parse_block(STX, block[1:], crc=True)
    with pytest.raises(BlockError):
        parse_block(0x41, block[1:], crc=True)
    with pytest.raises(ValueError):
        build_block(1, bytes(100), crc=True)
    with pytest.raises(ValueError):
        pad(bytes(129), 128)


def test_known_block() -> None:
    """Block 1 of "abc" with CRC, worked out by hand from the spec's layout."""
    data = pad(b"abc", 128)
    assert data == b"abc" + b"\x1a" * 125
    block = build_block(1, data, crc=True)
    assert block[:6] == b"\x01\x01\xfeabc"
    assert len(block) == 133
    assert build_block(256, data, crc=False)[1:3] == b"\x00\xff"
    assert build_block(1, data, crc=False)[-1] == sum(data) & 0xFF


@given(st.integers(min_value=0, max_value=5000), st.booleans())
def test_payloads_cover_the_file_and_pad_below_128(size: int, one_k: bool) -> None:
    import io

    data = bytes(i & 0xFF for i in range(size))
    blocks = list(payloads(io.BytesIO(data), None, one_k=one_k))
    joined = b"".join(block for block, _ in blocks)
    assert joined[:size] == data
    assert set(joined[size:]) <= {0x1A}
    assert len(joined) - size == -size % 128  # never more than 127 bytes of padding
    assert sum(length for _, length in blocks) == size
    assert all(len(block) in (128, 1024) for block, _ in blocks)
    if not one_k:
        assert all(len(block) == 128 for block, _ in blocks)
    # A limit cuts the file short.
    cut = list(payloads(io.BytesIO(data), size // 2, one_k=one_k))
    assert sum(length for _, length in cut) == size // 2


def test_cancel_sequences() -> None:
    assert ends_in_cancel(b"junk\x18\x18")
    assert ends_in_cancel(b"\x18\x18\x18\x18\x18\x08\x08\x08\x08\x08")
    assert not ends_in_cancel(b"\x18")
    assert not ends_in_cancel(b"\x18\x18x")
