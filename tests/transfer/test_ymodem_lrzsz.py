"""YMODEM against lrzsz over pipes: `sb` to our receiver, our sender to `rb`.

lrzsz options: `sb FILE...` sends a batch in 128-byte blocks, `sb -k FILE...` in 1K
blocks (the tail in 128); it streams when the receiver asks with G, so `sb` also
covers YMODEM-G into us.
`rb` receives into its working folder (a fresh tmp_path, so no `-y` is needed).
`rb` never asks with G: our YMODEM-G sender is tested against our own receiver
(test_ymodem_g.py).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bbs.transfer.channel import OutFile
from bbs.transfer.ymodem import ymodem_receive, ymodem_send
from tests.transfer.peers import every_byte, finished, lrzsz, sha256
from tests.transfer.test_xmodem_support import FolderIncoming

SIZES = [0, 1, 127, 128, 1023, 1024, 1025, 1 << 20, 10 << 20]
MTIME = 500_000_000  # 1985-11-05: a date a 1990s board would have had


def _sources(folder: Path, sizes: list[int]) -> list[Path]:
    folder.mkdir()
    paths = []
    for size in sizes:
        path = folder / f"note{size}.bin"
        path.write_bytes(every_byte(size))
        os.utime(path, (MTIME, MTIME + size))
        paths.append(path)
    return paths


def _seconds(total: int) -> float:
    return 30 + total / 200_000


@pytest.mark.timeout(300)
@pytest.mark.parametrize("blocks", [[], ["-k"]], ids=["128", "1k"])
@pytest.mark.parametrize("g", [False, True], ids=["ymodem", "ymodem-g"])
@pytest.mark.parametrize("size", SIZES)
async def test_receive_from_sb(tmp_path: Path, size: int, g: bool, blocks: list[str]) -> None:
    sources = _sources(tmp_path / "out", [size])
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox)
    started = time.monotonic()
    names_sent = [p.name for p in sources]
    async with lrzsz("sb", *blocks, *names_sent, cwd=sources[0].parent) as channel:
        names = await asyncio.wait_for(ymodem_receive(channel, incoming, g=g), _seconds(size))
        code, err = await finished(channel)
    took = time.monotonic() - started
    print(f"sb {' '.join(blocks)} -> us{' (G)' if g else ''} {size} bytes: {took:.2f} s")
    assert code == 0, err
    assert names == [sources[0].name]
    assert incoming.announced == [(sources[0].name, size, MTIME + size)]
    assert sha256(inbox / sources[0].name) == sha256(sources[0])


@pytest.mark.parametrize("g", [False, True], ids=["ymodem", "ymodem-g"])
async def test_batch_from_sb(tmp_path: Path, g: bool) -> None:
    """Eight files in one batch, sent with 1K blocks."""
    sizes = [0, 1, 127, 128, 1023, 1024, 1025, 70_000]
    sources = _sources(tmp_path / "out", sizes)
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox)
    async with lrzsz("sb", "-k", *(p.name for p in sources), cwd=sources[0].parent) as channel:
        names = await asyncio.wait_for(ymodem_receive(channel, incoming, g=g), 60)
        code, err = await finished(channel)
    assert code == 0, err
    assert names == [p.name for p in sources]
    for path in sources:
        assert sha256(inbox / path.name) == sha256(path)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(names)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", SIZES)
async def test_send_to_rb(tmp_path: Path, size: int) -> None:
    sources = _sources(tmp_path / "out", [size])
    inbox = tmp_path / "in"
    inbox.mkdir()
    files = [OutFile(p.name, p) for p in sources]
    started = time.monotonic()
    async with lrzsz("rb", cwd=inbox) as channel:
        sent = await asyncio.wait_for(ymodem_send(channel, files), _seconds(size))
        code, err = await finished(channel)
    print(f"us -> rb {size} bytes: {time.monotonic() - started:.2f} s")
    assert code == 0, err
    assert sent == size
    got = inbox / sources[0].name
    assert sha256(got) == sha256(sources[0])
    assert int(got.stat().st_mtime) == MTIME + size


async def test_batch_to_rb(tmp_path: Path) -> None:
    sizes = [0, 1, 127, 128, 1023, 1024, 1025, 70_000]
    sources = _sources(tmp_path / "out", sizes)
    inbox = tmp_path / "in"
    inbox.mkdir()
    files = [OutFile(p.name, p) for p in sources]
    async with lrzsz("rb", cwd=inbox) as channel:
        sent = await asyncio.wait_for(ymodem_send(channel, files), 60)
        code, err = await finished(channel)
    assert code == 0, err
    assert sent == sum(sizes)
    assert sorted(p.name for p in inbox.iterdir()) == sorted(p.name for p in sources)
    for path in sources:
        assert sha256(inbox / path.name) == sha256(path)
