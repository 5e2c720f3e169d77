"""YMODEM receivers facing senders that lie, send garbage, or are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bbs.transfer.blocks import Reader, pad
from bbs.transfer.channel import Cancelled, OutFile, TransferError
from bbs.transfer.xmodem import BlockSender
from bbs.transfer.ymodem import Header, encode_header, ymodem_receive, ymodem_send
from tests.transfer.peers import every_byte, finished, lrzsz, sha256
from tests.transfer.test_xmodem_failures import both
from tests.transfer.test_xmodem_support import FAST, FolderIncoming, MemoryChannel, line


async def scripted_sender(channel: MemoryChannel, header: bytes, blocks: list[bytes]) -> None:
    """A YMODEM sender that sends exactly the header block and data blocks given."""
    sender = BlockSender(channel, Reader(channel), FAST)
    await sender.wait_start(allow_g=True)
    await sender.send_block(0, header)
    await sender.wait_start(allow_g=True)
    for number, block in enumerate(blocks, start=1):
        await sender.send_block(number, block)
    await sender.send_eot()
    await sender.wait_start(allow_g=True)
    await sender.send_block(0, encode_header(None))


async def test_a_sender_going_past_its_size_is_refused(tmp_path: Path) -> None:
    incoming = FolderIncoming(tmp_path)
    ours, theirs = line()
    header = encode_header(Header("liar.bin", 1024))
    blocks = [every_byte(1024)] * 3  # announces 1 KB, sends 3
    sent, got = await both(
        scripted_sender(theirs, header, blocks),
        ymodem_receive(ours, incoming, timing=FAST),
    )
    assert isinstance(got, TransferError)
    assert "went past the 1024 bytes it announced" in str(got)
    assert isinstance(sent, Cancelled)
    assert [s.state for s in incoming.sinks] == ["aborted"]
    assert list(tmp_path.iterdir()) == []


async def test_padding_past_the_size_is_dropped(tmp_path: Path) -> None:
    """The last block's padding, and even a whole block of it, never reach the file."""
    incoming = FolderIncoming(tmp_path)
    ours, theirs = line()
    data = every_byte(1000)
    header = encode_header(Header("exact.bin", 1000))
    blocks = [pad(data, 1024), pad(b"", 128)]
    sent, got = await both(
        scripted_sender(theirs, header, blocks),
        ymodem_receive(ours, incoming, timing=FAST),
    )
    assert sent is None
    assert got == ["exact.bin"]
    assert (tmp_path / "exact.bin").read_bytes() == data


async def test_a_file_short_of_its_size_is_kept_as_sent(tmp_path: Path) -> None:
    incoming = FolderIncoming(tmp_path)
    ours, theirs = line()
    header = encode_header(Header("short.bin", 5000))
    sent, got = await both(
        scripted_sender(theirs, header, [every_byte(1024)]),
        ymodem_receive(ours, incoming, timing=FAST),
    )
    assert sent is None
    assert got == ["short.bin"]
    assert (tmp_path / "short.bin").read_bytes() == every_byte(1024)


async def test_without_a_size_the_padding_stays(tmp_path: Path) -> None:
    incoming = FolderIncoming(tmp_path)
    ours, theirs = line()
    header = encode_header(Header("nosize.bin"))
    sent, got = await both(
        scripted_sender(theirs, header, [pad(b"abc", 128)]),
        ymodem_receive(ours, incoming, timing=FAST),
    )
    assert sent is None
    assert got == ["nosize.bin"]
    assert incoming.announced == [("nosize.bin", None, None)]
    assert (tmp_path / "nosize.bin").read_bytes() == pad(b"abc", 128)


@pytest.mark.parametrize(
    "header",
    [b"no-nul" * 21 + b"xx", pad(b"a.bin\x00-12", 128), pad(b"a.bin\x00twelve", 128)],
    ids=["no NUL", "negative size", "size not a number"],
)
async def test_a_garbage_header_cancels(tmp_path: Path, header: bytes) -> None:
    header = header.replace(b"\x1a", b"\x00")
    incoming = FolderIncoming(tmp_path)
    ours, theirs = line()
    sent, got = await both(
        scripted_sender(theirs, header, []), ymodem_receive(ours, incoming, timing=FAST)
    )
    assert isinstance(got, TransferError)
    assert "bad YMODEM file header" in str(got)
    assert isinstance(sent, Cancelled)
    assert incoming.announced == []


def _files(folder: Path, sizes: dict[str, int]) -> list[OutFile]:
    folder.mkdir()
    for name, size in sizes.items():
        (folder / name).write_bytes(every_byte(size))
    return [OutFile(name, folder / name) for name in sizes]


async def test_a_refused_file_is_thrown_away_and_the_batch_goes_on(tmp_path: Path) -> None:
    files = _files(tmp_path / "out", {"a.bin": 3000, "b.bin": 70_000, "c.bin": 10})
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox, refuse=frozenset({"b.bin"}))
    ours, theirs = line()
    sent, names = await both(ymodem_send(theirs, files), ymodem_receive(ours, incoming))
    assert sent == 73_010
    assert names == ["a.bin", "c.bin"]
    assert [a[0] for a in incoming.announced] == ["a.bin", "b.bin", "c.bin"]
    assert sorted(p.name for p in inbox.iterdir()) == ["a.bin", "c.bin"]
    assert sha256(inbox / "c.bin") == sha256(files[2].path)


async def test_a_refused_file_without_a_size_cancels(tmp_path: Path) -> None:
    incoming = FolderIncoming(tmp_path, refuse=frozenset({"x"}))
    ours, theirs = line()
    sent, got = await both(
        scripted_sender(theirs, encode_header(Header("x")), [pad(b"x", 128)]),
        ymodem_receive(ours, incoming, timing=FAST),
    )
    assert isinstance(got, TransferError) and "refused" in str(got)
    assert isinstance(sent, Cancelled)


async def test_a_full_sink_cancels_sb_and_keeps_the_files_before(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "small.bin").write_bytes(every_byte(1000))
    (out / "big.bin").write_bytes(every_byte(100_000))
    inbox = tmp_path / "in"
    inbox.mkdir()
    incoming = FolderIncoming(inbox, cap=10_000)
    async with lrzsz("sb", "-k", "small.bin", "big.bin", cwd=out) as channel:
        with pytest.raises(TransferError, match="limit"):
            await asyncio.wait_for(ymodem_receive(channel, incoming), 30)
        code, err = await finished(channel)
    assert code != 0, err
    assert [s.state for s in incoming.sinks] == ["committed", "aborted"]
    assert sorted(p.name for p in inbox.iterdir()) == ["small.bin"]


async def test_a_missing_file_cancels_the_batch(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    async with lrzsz("rb", cwd=inbox) as channel:
        with pytest.raises(TransferError, match=r"cannot read gone\.bin"):
            await asyncio.wait_for(
                ymodem_send(channel, [OutFile("gone.bin", tmp_path / "gone.bin")]), 30
            )
        code, err = await finished(channel)
    assert code != 0, err
    assert list(inbox.iterdir()) == []
