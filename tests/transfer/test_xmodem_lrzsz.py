"""XMODEM against lrzsz over pipes: our sender with `rx`, our receiver with `sx`.

lrzsz options: `rx -c FILE` asks for CRC-16 (C), `rx FILE` for the checksum (NAK);
`sx FILE` answers either, `sx -k FILE` sends 1K blocks. `rx` keeps the padding, as
XMODEM must, so every received file is the original plus SUB up to a multiple of 128.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bbs.transfer.xmodem import xmodem_receive, xmodem_send
from tests.transfer.peers import every_byte, finished, lrzsz, sha256
from tests.transfer.test_xmodem_support import FileSink, padded

SIZES = [0, 1, 127, 128, 1023, 1024, 1025, 1 << 20, 10 << 20]
MODES = ["checksum", "crc", "crc-1k"]


def _seconds(size: int) -> float:
    return 30 + size / 100_000


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES)
async def test_send_to_rx(tmp_path: Path, size: int, mode: str) -> None:
    data = every_byte(size)
    args = ["-c"] if mode != "checksum" else []
    started = time.monotonic()
    async with lrzsz("rx", *args, "got.bin", cwd=tmp_path) as channel:
        sent = await asyncio.wait_for(
            xmodem_send(channel, data, one_k=mode.endswith("1k")), _seconds(size)
        )
        code, err = await finished(channel)
    print(f"us -> rx {mode} {size} bytes: {time.monotonic() - started:.2f} s")
    assert code == 0, err
    assert sent == size
    assert (tmp_path / "got.bin").read_bytes() == padded(data)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES)
async def test_receive_from_sx(tmp_path: Path, size: int, mode: str) -> None:
    source = tmp_path / "out" / "source.bin"
    source.parent.mkdir()
    source.write_bytes(every_byte(size))
    target = tmp_path / "got.bin"
    sink = FileSink(target)
    args = ["-k"] if mode.endswith("1k") else []
    started = time.monotonic()
    async with lrzsz("sx", *args, "source.bin", cwd=source.parent) as channel:
        count = await asyncio.wait_for(
            xmodem_receive(channel, sink, crc=mode != "checksum"), _seconds(size)
        )
        code, err = await finished(channel)
    print(f"sx -> us {mode} {size} bytes: {time.monotonic() - started:.2f} s")
    assert code == 0, err
    assert sink.state == "committed"
    expected = padded(every_byte(size))
    assert count == len(expected)
    assert sha256(target) == sha256_of(expected)


def sha256_of(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
