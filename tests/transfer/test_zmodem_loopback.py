"""ZMODEM with ourselves at both ends (in memory), and against scripted peers that
misbehave: remote commands, CAN storms, silence, hang-ups, full sinks."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from bbs.transfer.channel import Cancelled, OutFile, TransferError
from bbs.transfer.zmodem import AUTO_START, zmodem_receive, zmodem_send
from bbs.transfer.zmodem_frames import (
    CANCEL,
    CANFC32,
    CANFDX,
    CANOVIO,
    ZBIN,
    ZBIN32,
    ZCBIN,
    ZHEX,
    End,
    Frame,
    Header,
    encode_hex,
)
from tests.transfer.peers import every_byte, sha256
from tests.transfer.test_zmodem_support import Folder, MemoryChannel, Noise, Peer, channel_pair

T = TypeVar("T")
LIMIT = 60
MTIME = 800_000_000


def _file(root: Path, name: str, size: int) -> OutFile:
    path = root / name
    path.write_bytes(every_byte(size))
    os.utime(path, (MTIME, MTIME))
    return OutFile(name, path)


async def _both(
    send: Callable[[MemoryChannel], Awaitable[T]],
    receive: Callable[[MemoryChannel], Awaitable[list[str]]],
    limit: int = 256 * 1024,
) -> tuple[T | BaseException, list[str] | BaseException]:
    a, b = channel_pair(limit)
    async with asyncio.timeout(LIMIT):
        sent, got = await asyncio.gather(send(a), receive(b), return_exceptions=True)
    return sent, got


@pytest.fixture
def out(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def into(tmp_path: Path) -> Path:
    path = tmp_path / "in"
    path.mkdir()
    return path


async def test_batch_to_ourselves(out: Path, into: Path) -> None:
    sizes = [0, 1, 127, 128, 1023, 1024, 1025, 1 << 20]
    files = [_file(out, f"f{s}.bin", s) for s in sizes]
    folder = Folder(into)
    sent, got = await _both(
        lambda ch: zmodem_send(ch, files), lambda ch: zmodem_receive(ch, folder)
    )
    assert sent == got == [f.name for f in files]
    assert folder.offers == [(f.name, f.size, MTIME) for f in files]
    for f in files:
        assert sha256(into / f.name) == sha256(f.path)


async def test_resume_from_what_the_receiver_holds(out: Path, into: Path) -> None:
    """The receiving sink already holds the first N bytes: only the rest is sent."""
    whole = _file(out, "big.bin", 1 << 20)
    half = 400_000
    (into / "big.bin").write_bytes(whole.path.read_bytes()[:half])
    folder = Folder(into, resume=True)
    a, b = channel_pair()
    async with asyncio.timeout(LIMIT):
        sent, got = await asyncio.gather(zmodem_send(a, [whole]), zmodem_receive(b, folder))
    assert sent == got == ["big.bin"]
    assert folder.sinks["big.bin"].offset == half
    assert sha256(into / "big.bin") == sha256(whole.path)
    assert len(a.written) < (whole.size - half) * 1.1


async def test_receiver_with_a_small_buffer_gets_segments(out: Path, into: Path) -> None:
    """A receiver that announces a 4 KiB buffer: a ZCRCW (and a wait) every 4 KiB."""
    file = _file(out, "seg.bin", 100_000)
    a, b = channel_pair()
    async with asyncio.timeout(LIMIT):
        sent, got = await asyncio.gather(
            zmodem_send(a, [file]), zmodem_receive(b, Folder(into), buffer_size=4096)
        )
    assert sent == got == ["seg.bin"]
    assert sha256(into / "seg.bin") == sha256(file.path)
    waits = a.written.count(b"\x18k")  # ZDLE ZCRCW: nothing else on the wire looks like it
    assert waits >= 100_000 // 4096


@pytest.mark.parametrize(("window", "subpacket"), [(0, 1024), (16384, 256), (1 << 20, 8192)])
async def test_windows_and_subpacket_lengths(
    out: Path, into: Path, window: int, subpacket: int
) -> None:
    file = _file(out, "w.bin", 300_000)
    sent, got = await _both(
        lambda ch: zmodem_send(ch, [file], window=window, subpacket=subpacket),
        lambda ch: zmodem_receive(ch, Folder(into)),
    )
    assert sent == got == ["w.bin"]
    assert sha256(into / "w.bin") == sha256(file.path)


async def test_skipped_file_is_not_delivered(out: Path, into: Path) -> None:
    files = [_file(out, n, 5000) for n in ("a", "b", "c")]
    sent, got = await _both(
        lambda ch: zmodem_send(ch, files),
        lambda ch: zmodem_receive(ch, Folder(into, skip=frozenset({"b"}))),
    )
    assert sent == got == ["a", "c"]
    assert sorted(os.listdir(into)) == ["a", "c"]


async def test_unreadable_file_is_left_out(out: Path, into: Path) -> None:
    files = [_file(out, "a", 10), OutFile("gone", out / "gone"), _file(out, "c", 10)]
    sent, got = await _both(
        lambda ch: zmodem_send(ch, files), lambda ch: zmodem_receive(ch, Folder(into))
    )
    assert sent == got == ["a", "c"]


@pytest.mark.parametrize("every", [20_000, 2_000])
@pytest.mark.parametrize("seed", [1, 2])
async def test_noisy_line_both_ways(out: Path, into: Path, every: int, seed: int) -> None:
    """Bytes damaged or dropped both ways: ZRPOS brings the sender back, files arrive whole."""
    files = [_file(out, "one.bin", 300_000), _file(out, "two.bin", 1025)]
    a, b = channel_pair()
    forward, back = Noise(every, seed), Noise(every, seed + 100)
    a.tap, b.tap = forward, back
    async with asyncio.timeout(LIMIT):
        sent, got = await asyncio.gather(
            zmodem_send(a, files, timeout=2), zmodem_receive(b, Folder(into), timeout=2)
        )
    assert sent == got == ["one.bin", "two.bin"]
    assert forward.hits > 0
    for f in files:
        assert sha256(into / f.name) == sha256(f.path)


# --- hostile and broken peers -----------------------------------------------------------


def _zrinit() -> bytes:
    return encode_hex(Header.flagged(Frame.ZRINIT, CANFDX | CANOVIO | CANFC32))


async def _offer(peer: Peer, name: str, size: int) -> None:
    """As a sender: wait for ZRINIT, offer a file."""
    await peer.expect(Frame.ZRINIT)
    info = f"{name}\0{size} {MTIME:o} 100644\0".encode()
    peer.send(
        peer.enc.header(Header.flagged(Frame.ZFILE, ZCBIN)) + peer.enc.subpacket(info, End.ZCRCW)
    )


@pytest.mark.parametrize("how", ["zcommand", "zrqinit-zcommand", "zcommand-mid-file"])
async def test_remote_commands_are_refused(tmp_path: Path, into: Path, how: str) -> None:
    marker = tmp_path / "ran"
    command = f"!touch {marker}\0".encode()
    a, b = channel_pair()
    peer = Peer(a)
    folder = Folder(into)

    async def hostile() -> None:
        if how == "zrqinit-zcommand":  # what `sz -c` starts with
            peer.send(b"rz\r" + encode_hex(Header.flagged(Frame.ZRQINIT, Frame.ZCOMMAND)))
            return
        if how == "zcommand":
            await peer.expect(Frame.ZRINIT)
        else:
            await _offer(peer, "x.bin", 100_000)
            await peer.expect(Frame.ZRPOS)
            peer.send(
                peer.enc.header(Header.at(Frame.ZDATA, 0)) + peer.enc.data(b"x" * 3000, End.ZCRCE)
            )
        peer.send(peer.enc.header(Header(Frame.ZCOMMAND)) + peer.enc.subpacket(command, End.ZCRCW))

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(hostile(), zmodem_receive(b, folder), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], TransferError) and "refused" in str(results[1])
    assert b.written.endswith(CANCEL)
    assert not marker.exists()
    if how == "zcommand-mid-file":
        assert folder.sinks["x.bin"].state == "aborted"
        assert not (into / "x.bin").exists()
    else:
        assert folder.offers == []


async def test_can_storm_cancels_an_upload(into: Path) -> None:
    a, b = channel_pair()
    peer = Peer(a)
    folder = Folder(into)

    async def sender() -> None:
        await _offer(peer, "x.bin", 1 << 20)
        await peer.expect(Frame.ZRPOS)
        peer.send(
            peer.enc.header(Header.at(Frame.ZDATA, 0)) + peer.enc.data(b"y" * 20_000, End.ZCRCG)
        )
        peer.send(CANCEL)

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(sender(), zmodem_receive(b, folder), return_exceptions=True)
    assert isinstance(results[1], Cancelled)
    assert folder.sinks["x.bin"].state == "aborted"
    assert not (into / "x.bin").exists()


async def test_can_storm_cancels_a_download(out: Path) -> None:
    a, b = channel_pair()
    peer = Peer(b)

    async def receiver() -> None:
        await peer.expect(Frame.ZRQINIT)
        peer.send(_zrinit())
        await peer.expect(Frame.ZFILE)
        peer.send(encode_hex(Header.at(Frame.ZRPOS, 0)))
        await peer.bytes_in(100_000)
        peer.send(b"\x18" * 10)  # a caller pressing Ctrl-X

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(
            receiver(), zmodem_send(a, [_file(out, "big", 4 << 20)]), return_exceptions=True
        )
    assert results[0] is None
    assert isinstance(results[1], Cancelled)


async def test_receiver_abort_header_cancels_a_download(out: Path) -> None:
    a, b = channel_pair()
    peer = Peer(b)

    async def receiver() -> None:
        await peer.expect(Frame.ZRQINIT)
        peer.send(_zrinit())
        await peer.expect(Frame.ZFILE)
        peer.send(encode_hex(Header(Frame.ZABORT)))

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(
            receiver(), zmodem_send(a, [_file(out, "f", 10)]), return_exceptions=True
        )
    assert isinstance(results[1], Cancelled)


async def test_download_starts_with_the_auto_start_bytes(out: Path) -> None:
    a, b = channel_pair()
    peer = Peer(b)

    async def receiver() -> None:
        await peer.expect(Frame.ZRQINIT)
        peer.send(encode_hex(Header(Frame.ZFIN)))  # declines: nothing to do here

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(
            receiver(), zmodem_send(a, [_file(out, "f", 10)]), return_exceptions=True
        )
    assert a.written.startswith(AUTO_START)
    assert isinstance(results[1], Cancelled)


async def _elapsed(coro: Awaitable[T]) -> tuple[T | BaseException, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        async with asyncio.timeout(LIMIT):
            result: T | BaseException = await coro
    except (TransferError, TimeoutError) as e:
        result = e
    return result, loop.time() - start


async def test_nobody_answers_a_download(out: Path) -> None:
    a, _ = channel_pair()
    result, took = await _elapsed(zmodem_send(a, [_file(out, "f", 10)], timeout=0.2, retries=2))
    assert isinstance(result, TransferError) and "no ZMODEM receiver" in str(result)
    assert 0.5 < took < 2
    assert a.written.endswith(CANCEL)


async def test_nobody_starts_an_upload(into: Path) -> None:
    _, b = channel_pair()
    result, took = await _elapsed(zmodem_receive(b, Folder(into), timeout=0.2, retries=2))
    assert isinstance(result, TransferError) and "no ZMODEM sender" in str(result)
    assert 0.5 < took < 2


async def test_sender_goes_quiet_in_the_middle(into: Path) -> None:
    a, b = channel_pair()
    peer = Peer(a)
    folder = Folder(into)

    async def sender() -> None:
        await _offer(peer, "x.bin", 1 << 20)
        await peer.expect(Frame.ZRPOS)
        peer.send(
            peer.enc.header(Header.at(Frame.ZDATA, 0)) + peer.enc.data(b"z" * 5000, End.ZCRCG)
        )

    async def receiver() -> tuple[list[str] | BaseException, float]:
        return await _elapsed(zmodem_receive(b, folder, timeout=0.4, retries=2))

    async with asyncio.timeout(LIMIT):
        _, (result, took) = await asyncio.gather(sender(), receiver())
    assert isinstance(result, TransferError) and "stopped sending" in str(result)
    assert took < 3
    assert folder.sinks["x.bin"].state == "aborted"


async def test_receiver_goes_quiet_in_the_middle(out: Path) -> None:
    """A receiver that takes the start of a file, then neither answers nor reads."""
    a, b = channel_pair(limit=64 * 1024)
    peer = Peer(b)

    async def receiver() -> None:
        await peer.expect(Frame.ZRQINIT)
        peer.send(_zrinit())
        await peer.expect(Frame.ZFILE)
        peer.send(encode_hex(Header.at(Frame.ZRPOS, 0)))

    async with asyncio.timeout(LIMIT):
        _, (result, took) = await asyncio.gather(
            receiver(),
            _elapsed(zmodem_send(a, [_file(out, "big", 4 << 20)], timeout=0.3, retries=2)),
        )
    assert isinstance(result, TransferError)
    assert took < 3
    assert a.written.endswith(CANCEL)


async def test_hang_up_in_the_middle(out: Path, into: Path) -> None:
    file = _file(out, "big", 4 << 20)
    a, b = channel_pair()
    folder = Folder(into)

    async def cut() -> None:
        while len(a.written) < 500_000:
            await asyncio.sleep(0.001)
        a.hang_up()

    async with asyncio.timeout(LIMIT):
        results = await asyncio.gather(
            zmodem_send(a, [file], timeout=1, retries=1),
            zmodem_receive(b, folder, timeout=1, retries=1),
            cut(),
            return_exceptions=True,
        )
    assert isinstance(results[0], TransferError), results[0]
    assert isinstance(results[1], TransferError), results[1]
    assert folder.sinks["big"].state == "aborted"


async def test_full_sink_cancels_both_ends(out: Path, into: Path) -> None:
    file = _file(out, "big", 1 << 20)
    folder = Folder(into, cap=200_000)
    sent, got = await _both(
        lambda ch: zmodem_send(ch, [file]), lambda ch: zmodem_receive(ch, folder)
    )
    assert isinstance(got, TransferError) and "larger than" in str(got)
    assert isinstance(sent, Cancelled)
    assert folder.sinks["big"].state == "aborted"
    assert not (into / "big").exists()


# --- receivers with fewer capabilities --------------------------------------------------


async def _scripted_receiver(
    peer: Peer, flags: int, buffer: int
) -> tuple[bytes, list[int], list[int]]:
    """A plain receiver for one file: announces `flags` and `buffer`, answers every
    ZCRCQ/ZCRCW, checks each ZDATA offset; the file's bytes, how subpackets ended, and
    how much data came between the sender's waits (ZCRCW)."""
    await peer.expect(Frame.ZRQINIT)
    peer.send(encode_hex(Header(Frame.ZCHALLENGE, b"\x01\x02\x03\x04")))
    ack = await peer.expect(Frame.ZACK)
    assert ack.data == b"\x01\x02\x03\x04"  # the challenge echoed
    peer.send(encode_hex(Header(Frame.ZRINIT, bytes([buffer & 0xFF, buffer >> 8, 0, flags]))))
    await peer.expect(Frame.ZFILE)
    await peer.subpacket()
    peer.send(encode_hex(Header.at(Frame.ZRPOS, 0)))
    data = bytearray()
    ends: list[int] = []
    runs = [0]
    while True:
        header = await peer.header()
        if header.type == Frame.ZEOF:
            assert header.position == len(data)
            break
        assert header.type == Frame.ZDATA and header.position == len(data)
        while True:
            piece = await peer.subpacket()
            data += piece
            runs[-1] += len(piece)
            ends.append(peer.last_end)
            if peer.last_end == End.ZCRCW:
                runs.append(0)
            if peer.last_end in (End.ZCRCQ, End.ZCRCW):
                peer.send(encode_hex(Header.at(Frame.ZACK, len(data))))
            if peer.last_end in (End.ZCRCE, End.ZCRCW):
                break
    peer.send(_zrinit())
    await peer.expect(Frame.ZFIN)
    peer.send(encode_hex(Header(Frame.ZFIN)))
    return bytes(data), ends, runs


@pytest.mark.parametrize(
    ("flags", "buffer", "expect"),
    [
        (CANFDX | CANOVIO, 0, "crc16"),
        (CANOVIO | CANFC32, 0, "no-fdx"),
        (CANFDX | CANFC32, 0, "no-ovio"),
        (CANFDX | CANOVIO | CANFC32, 2048, "buffer"),
    ],
    ids=["crc16", "half-duplex", "no-overlapped-io", "2k-buffer"],
)
async def test_receivers_with_fewer_capabilities(
    out: Path, flags: int, buffer: int, expect: str
) -> None:
    file = _file(out, "f.bin", 40_000)
    a, b = channel_pair()
    peer = Peer(b, crc32=bool(flags & CANFC32))
    async with asyncio.timeout(LIMIT):
        (data, ends, runs), sent = await asyncio.gather(
            _scripted_receiver(peer, flags, buffer), zmodem_send(a, [file], window=16384)
        )
    assert sent == ["f.bin"]
    assert data == file.path.read_bytes()
    binary = [k for k in peer.kinds if k != ZHEX]
    assert binary and all(k == (ZBIN32 if flags & CANFC32 else ZBIN) for k in binary)
    # Half duplex: no ZCRCQ, a wait at each window; no overlapped I/O: a wait at each
    # subpacket's worth; a buffer: a wait before it would overflow.
    most = {"no-fdx": 16384, "no-ovio": 1024, "buffer": 2048}.get(expect)
    if most is not None:
        assert max(runs) <= most and len(runs) > 40_000 // most
    if expect == "no-fdx":
        assert End.ZCRCQ not in ends


async def test_flow_control_bytes_on_the_line_cost_nothing(out: Path, into: Path) -> None:
    """XON/XOFF (either parity) slipped in by the line, even between ZDLE and the byte
    it escapes, are ignored: nothing is resent."""
    file = _file(out, "f.bin", 200_000)
    a, b = channel_pair()
    flow = b"\x11\x13\x91\x93"

    def sprinkle(data: bytes) -> bytes:
        return b"".join(data[i : i + 97] + flow[i % 4 : i % 4 + 1] for i in range(0, len(data), 97))

    a.tap = b.tap = sprinkle
    async with asyncio.timeout(LIMIT):
        sent, got = await asyncio.gather(zmodem_send(a, [file]), zmodem_receive(b, Folder(into)))
    assert sent == got == ["f.bin"]
    assert sha256(into / "f.bin") == sha256(file.path)
    assert len(a.written) < file.size * 1.05 + 2048  # one pass: no rewinds


@pytest.mark.parametrize("then", ["hangs-up", "goes-quiet"])
async def test_receiver_gone_after_the_last_file_is_still_a_delivery(out: Path, then: str) -> None:
    """All files confirmed, then no ZFIN answer: the download still succeeded."""
    file = _file(out, "f.bin", 3000)
    a, b = channel_pair()
    peer = Peer(b)

    async def receiver() -> None:
        await peer.expect(Frame.ZRQINIT)
        peer.send(_zrinit())
        await peer.expect(Frame.ZFILE)
        peer.send(encode_hex(Header.at(Frame.ZRPOS, 0)))
        await peer.expect(Frame.ZEOF)
        peer.send(_zrinit())
        if then == "hangs-up":
            b.hang_up()

    async with asyncio.timeout(LIMIT):
        _, sent = await asyncio.gather(receiver(), zmodem_send(a, [file], timeout=0.2))
    assert sent == ["f.bin"]
