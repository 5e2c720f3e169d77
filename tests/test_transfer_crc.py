"""Checksums against the published check values of each algorithm."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bbs.transfer.crc import checksum8, crc16, crc32


def test_check_values() -> None:
    assert crc16(b"123456789") == 0x31C3
    assert crc32(b"123456789") == 0xCBF43926
    assert checksum8(b"\xff\x02") == 0x01


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2000))
def test_crc16_continues_across_pieces(data: bytes, cut: int) -> None:
    cut = cut % (len(data) + 1)
    assert crc16(data[cut:], crc16(data[:cut])) == crc16(data)
    assert crc16(data) == _slow_crc16(data)


def _slow_crc16(data: bytes) -> int:
    """CRC-16/XMODEM bit by bit, straight from its definition."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
