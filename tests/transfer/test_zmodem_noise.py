"""ZMODEM against lrzsz over a damaging line: a relay between our side and the lrzsz
process replaces or drops about one byte in 20 000, both ways. The transfer either
recovers (ZRPOS, resend) with every file intact, or fails with TransferError; it never
hangs. lrzsz runs with `-t 30` (3 s timeouts) and we with 3 s, to keep recoveries short.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from bbs.transfer.channel import Cancelled, OutFile, TransferError
from bbs.transfer.zmodem import zmodem_receive, zmodem_send
from tests.transfer.peers import ProcessChannel, every_byte, finished, lrzsz, sha256
from tests.transfer.test_zmodem_support import Folder, Noise, NoisyChannel

SIZES = [1025, 1 << 20, 127]
SEEDS = [1, 2, 3, 4]
EVERY = 20_000
LIMIT = 60  # seconds for one noisy transfer, end to end


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    root.mkdir()
    for size in SIZES:
        (root / f"n{size}.bin").write_bytes(every_byte(size))
    return root


def _intact(library: Path, folder: Path) -> bool:
    return all(
        (folder / f"n{s}.bin").exists()
        and sha256(folder / f"n{s}.bin") == sha256(library / f"n{s}.bin")
        for s in SIZES
    )


def _fresh(path: Path) -> Path:
    path.mkdir()
    return path


async def test_noisy_downloads_to_rz(library: Path, tmp_path: Path) -> None:
    recovered = 0
    for seed in SEEDS:
        dest = _fresh(tmp_path / f"seed{seed}")
        out, back = Noise(EVERY, seed), Noise(EVERY, seed + 1000)
        files = [OutFile(f"n{s}.bin", library / f"n{s}.bin") for s in SIZES]
        async with asyncio.timeout(LIMIT), lrzsz("rz", "-y", "-q", "-t", "30", cwd=dest) as channel:
            try:
                names = await zmodem_send(NoisyChannel(channel, out, back), files, timeout=3)
            except TransferError:
                names = []  # a clean failure is allowed; a hang or a wrong file is not
            await finished(channel)
        if not names:
            continue
        assert out.hits > 0
        assert names == [f.name for f in files]
        assert _intact(library, dest)
        recovered += 1
    assert recovered >= len(SEEDS) - 1


async def test_noisy_uploads_from_sz(library: Path, tmp_path: Path) -> None:
    recovered = 0
    names_sent = [f"n{s}.bin" for s in SIZES]
    for seed in SEEDS:
        folder = Folder(_fresh(tmp_path / f"seed{seed}"))
        out, back = Noise(EVERY, seed), Noise(EVERY, seed + 1000)
        async with (
            asyncio.timeout(LIMIT),
            lrzsz("sz", "-q", "-t", "30", *names_sent, cwd=library) as channel,
        ):
            try:
                names = await zmodem_receive(NoisyChannel(channel, out, back), folder, timeout=3)
            except TransferError:
                names = []
            await finished(channel)
        if not names:
            assert all(sink.state != "open" for sink in folder.sinks.values())
            continue
        assert back.hits > 0
        assert names == names_sent
        assert _intact(library, folder.root)
        assert all(sink.state == "committed" for sink in folder.sinks.values())
        recovered += 1
    assert recovered >= len(SEEDS) - 1


class _Storm:
    """Passes bytes through, then after `after` bytes slips in a burst of CANs."""

    def __init__(self, after: int) -> None:
        self.left = after

    def __call__(self, data: bytes) -> bytes:
        if self.left < 0 or self.left >= len(data):
            self.left -= len(data) if self.left >= 0 else 0
            return data
        cut, self.left = self.left, -1
        return data[:cut] + b"\x18" * 8 + b"\x08" * 10 + data[cut:]


def _clean(data: bytes) -> bytes:
    return data


async def test_can_storm_from_sz_mid_upload(library: Path, tmp_path: Path) -> None:
    folder = Folder(_fresh(tmp_path / "in"))
    async with (
        asyncio.timeout(LIMIT),
        lrzsz("sz", "-q", "-t", "20", "n1048576.bin", cwd=library) as channel,
    ):
        with pytest.raises(Cancelled):
            await zmodem_receive(NoisyChannel(channel, _clean, _Storm(300_000)), folder)
        await _wind_down(channel)
    assert folder.sinks["n1048576.bin"].state == "aborted"
    assert not (folder.root / "n1048576.bin").exists()


async def _wind_down(channel: ProcessChannel) -> None:
    """End an lrzsz sender we stopped listening to: its input closed, its output read
    to the end (it may be stuck writing into a full pipe), then its exit."""
    with contextlib.suppress(Exception):
        channel._stdin.close()
        while await channel.read(1 << 16, 5):
            pass
    await finished(channel)


class _StormOnceSent:
    """CANs from the receiver once `after` bytes have gone out to it."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.sent = 0
        self.done = False

    def outbound(self, data: bytes) -> bytes:
        self.sent += len(data)
        return data

    def inbound(self, data: bytes) -> bytes:
        if self.done or self.sent < self.after:
            return data
        self.done = True
        return b"\x18" * 8 + b"\x08" * 10 + data


async def test_can_storm_from_rz_mid_download(library: Path, tmp_path: Path) -> None:
    dest = _fresh(tmp_path / "out")
    big = library / "n1048576.bin"
    storm = _StormOnceSent(300_000)
    async with asyncio.timeout(LIMIT), lrzsz("rz", "-y", "-q", "-t", "20", cwd=dest) as channel:
        # The CANs come in with rz's answers (ZACKs, one per 4 KiB) while the file streams.
        with pytest.raises(Cancelled):
            await zmodem_send(
                NoisyChannel(channel, storm.outbound, storm.inbound),
                [OutFile(big.name, big)],
                window=16384,
            )
        await finished(channel)
    assert storm.done
