"""ZMODEM against lrzsz over pipes: our sender to `rz`, `sz` to our receiver.

lrzsz options used: `rz -y` (overwrite, keep the sent names, write into its working
folder), `-q` (no progress on stderr, which the harness only reads at the end), `-e`
(ask for all control characters escaped), `-r` (resume a partial file); `sz -q`, `-e`
(escape controls, which also makes it send ZSINIT as a hex header), `-8` (8 KiB
subpackets), `-w N` (window: ZCRCQ/ZACK), `-o` (CRC-16), `-r` (resume), `-c` (ask the
receiver to run a command).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bbs.transfer.channel import OutFile, TransferError
from bbs.transfer.zmodem import zmodem_receive, zmodem_send
from bbs.transfer.zmodem_frames import CANCEL
from tests.transfer.peers import every_byte, finished, lrzsz, sha256
from tests.transfer.test_zmodem_support import Folder

SIZES = [0, 1, 127, 128, 1023, 1024, 1025, 1 << 20, 10 << 20]
SMALL = [0, 1025, 1 << 20]
MTIME = 800_000_000  # 1995, octal in the ZFILE header
LIMIT = 90  # seconds for any one transfer, end to end


def _name(size: int) -> str:
    return f"note{size}.bin"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files of every size asked for, each cycling through all 256 byte values."""
    root = tmp_path_factory.mktemp("library")
    for size in SIZES:
        path = root / _name(size)
        path.write_bytes(every_byte(size))
        os.utime(path, (MTIME, MTIME))
    return root


def _files(library: Path, sizes: list[int]) -> list[OutFile]:
    return [OutFile(_name(s), library / _name(s)) for s in sizes]


def _same(a: Path, b: Path) -> bool:
    return a.exists() and a.stat().st_size == b.stat().st_size and sha256(a) == sha256(b)


async def _download(
    library: Path,
    dest: Path,
    sizes: list[int],
    *rz_args: str,
    subpacket: int = 1024,
    window: int = 512 * 1024,
) -> tuple[list[str], int, str]:
    async with asyncio.timeout(LIMIT), lrzsz("rz", "-q", *rz_args, cwd=dest) as channel:
        names = await zmodem_send(
            channel, _files(library, sizes), subpacket=subpacket, window=window
        )
        code, err = await finished(channel)
    return names, code, err


async def _upload(
    library: Path, folder: Folder, sizes: list[int], *sz_args: str
) -> tuple[list[str], int, str]:
    names_sent = [_name(s) for s in sizes]
    async with (
        asyncio.timeout(LIMIT),
        lrzsz("sz", "-q", *sz_args, *names_sent, cwd=library) as channel,
    ):
        names = await zmodem_receive(channel, folder)
        code, err = await finished(channel)
    return names, code, err


async def test_download_batch_to_rz(library: Path, tmp_path: Path) -> None:
    names, code, err = await _download(library, tmp_path, SIZES, "-y")
    assert (code, names) == (0, [_name(s) for s in SIZES]), err
    for size in SIZES:
        got = tmp_path / _name(size)
        assert _same(got, library / _name(size)), size
        assert int(got.stat().st_mtime) == MTIME


async def test_upload_batch_from_sz(library: Path, tmp_path: Path) -> None:
    folder = Folder(tmp_path)
    names, code, err = await _upload(library, folder, SIZES)
    assert (code, names) == (0, [_name(s) for s in SIZES]), err
    assert folder.offers == [(_name(s), s, MTIME) for s in SIZES]
    for size in SIZES:
        assert _same(tmp_path / _name(size), library / _name(size)), size
        assert folder.sinks[_name(size)].state == "committed"


@pytest.mark.parametrize(
    "sz_args",
    [["-e"], ["-8"], ["-w", "16384"], ["-o"], ["-e", "-o", "-w", "4096"]],
    ids=["escape-controls", "8k-subpackets", "window", "crc16", "all"],
)
async def test_upload_sz_variants(library: Path, tmp_path: Path, sz_args: list[str]) -> None:
    names, code, err = await _upload(library, Folder(tmp_path), SMALL, *sz_args)
    assert (code, names) == (0, [_name(s) for s in SMALL]), err
    for size in SMALL:
        assert _same(tmp_path / _name(size), library / _name(size)), size


@pytest.mark.parametrize(
    ("rz_args", "options"),
    [
        (["-e"], {}),
        ([], {"subpacket": 8192}),
        ([], {"subpacket": 64}),
        ([], {"window": 8192}),
        ([], {"window": 0}),
    ],
    ids=["rz-escape-controls", "8k-subpackets", "small-subpackets", "small-window", "no-window"],
)
async def test_download_variants(
    library: Path, tmp_path: Path, rz_args: list[str], options: dict[str, int]
) -> None:
    names, code, err = await _download(library, tmp_path, SMALL, "-y", *rz_args, **options)
    assert (code, names) == (0, [_name(s) for s in SMALL]), err
    for size in SMALL:
        assert _same(tmp_path / _name(size), library / _name(size)), size


async def test_skipped_file_in_a_batch(library: Path, tmp_path: Path) -> None:
    """Our receiver declines one file (ZSKIP): sz goes on to the next, the rest arrive."""
    folder = Folder(tmp_path, skip=frozenset({_name(1 << 20)}))
    names, code, err = await _upload(library, folder, SMALL)
    assert names == [_name(0), _name(1025)]
    assert code == 0, err
    assert not (tmp_path / _name(1 << 20)).exists()
    assert [offer[0] for offer in folder.offers] == [_name(s) for s in SMALL]
    for size in (0, 1025):
        assert _same(tmp_path / _name(size), library / _name(size))


async def test_upload_resumes_where_our_copy_ends(library: Path, tmp_path: Path) -> None:
    """A half-received file (sink offset N): `sz -r` sends from N on, not from 0."""
    whole = library / _name(1 << 20)
    half = 300_000
    (tmp_path / whole.name).write_bytes(whole.read_bytes()[:half])
    folder = Folder(tmp_path, resume=True)
    wire = 0
    async with asyncio.timeout(LIMIT), lrzsz("sz", "-q", "-r", whole.name, cwd=library) as channel:
        read = channel.read

        async def count(n: int, timeout: float) -> bytes:
            nonlocal wire
            data = await read(n, timeout)
            wire += len(data)
            return data

        channel.read = count  # type: ignore[method-assign]
        names = await zmodem_receive(channel, folder)
        code, err = await finished(channel)
    assert (code, names) == (0, [whole.name]), err
    assert folder.sinks[whole.name].offset == half
    # What came over the line: the rest of the file (escaped), not all of it.
    rest = whole.stat().st_size - half
    assert rest < wire < rest * 1.1 + 4096
    assert _same(tmp_path / whole.name, whole)


async def test_download_resumes_where_rz_copy_ends(library: Path, tmp_path: Path) -> None:
    """`rz -r` already holds part of the file: it asks ZRPOS at (about) its length, and
    only the rest goes over the line."""
    whole = library / _name(1 << 20)
    half = 300_000
    (tmp_path / whole.name).write_bytes(whole.read_bytes()[:half])
    progress: list[int] = []
    wire = 0
    async with asyncio.timeout(LIMIT), lrzsz("rz", "-q", "-r", cwd=tmp_path) as channel:
        write = channel.write

        def count(data: bytes) -> None:
            nonlocal wire
            wire += len(data)
            write(data)

        channel.write = count  # type: ignore[method-assign]
        names = await zmodem_send(
            channel,
            [OutFile(whole.name, whole)],
            progress=lambda n, done, size: progress.append(done),
        )
        code, err = await finished(channel)
    assert (code, names) == (0, [whole.name]), err
    assert progress[-1] == whole.stat().st_size
    # What went over the line: the rest of the file (escaped), not all of it.
    rest = whole.stat().st_size - half
    assert rest < wire < rest * 1.1 + 4096
    assert _same(tmp_path / whole.name, whole)


async def test_sz_remote_command_is_refused(library: Path, tmp_path: Path) -> None:
    """`sz -c` asks the receiver to run a shell command: refused, nothing runs."""
    marker = tmp_path / "ran"
    folder = Folder(tmp_path)
    async with (
        asyncio.timeout(LIMIT),
        lrzsz("sz", "-q", "-c", f"touch {marker}", cwd=library) as channel,
    ):
        with pytest.raises(TransferError, match="refused"):
            await zmodem_receive(channel, folder)
        code, _ = await finished(channel)
    assert code != 0
    assert not marker.exists()
    assert folder.offers == []


async def test_our_abort_reaches_sz(library: Path, tmp_path: Path) -> None:
    """A sink that refuses more data (size cap): we cancel, sz stops, the sink is aborted."""
    folder = Folder(tmp_path, cap=100_000)
    channel_bytes: list[bytes] = []
    async with asyncio.timeout(LIMIT), lrzsz("sz", "-q", _name(1 << 20), cwd=library) as channel:
        write = channel.write

        def spy(data: bytes) -> None:
            channel_bytes.append(data)
            write(data)

        channel.write = spy  # type: ignore[method-assign]
        with pytest.raises(TransferError, match="larger than"):
            await zmodem_receive(channel, folder)
        code, _ = await finished(channel)
    assert code != 0
    assert channel_bytes[-1] == CANCEL
    assert folder.sinks[_name(1 << 20)].state == "aborted"
    assert not (tmp_path / _name(1 << 20)).exists()
