"""The checksums the transfer protocols use: 8-bit sum, CRC-16/XMODEM and CRC-32."""

from __future__ import annotations

import binascii
import zlib


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/XMODEM (polynomial 0x1021, initial 0, no reflection), continuing from `crc`."""
    # binascii's CRC-CCITT is exactly this one, computed in C: transfers run it on every block.
    return binascii.crc_hqx(data, crc)


def crc32(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32 as ZMODEM uses it (the IEEE polynomial, as zlib computes it)."""
    return zlib.crc32(data, crc) & 0xFFFFFFFF


def checksum8(data: bytes | bytearray | memoryview) -> int:
    """The original XMODEM checksum: the sum of the bytes, modulo 256."""
    return sum(data) & 0xFF
