"""XMODEM when things go wrong: cancels, damaged lines, silent peers, refusing sinks."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bbs.transfer.blocks import (
    ACK,
    CANCEL_SEQUENCE,
    EOT,
    NAK,
    Reader,
    Timing,
    build_block,
    pad,
)
from bbs.transfer.channel import Cancelled, TransferError
from bbs.transfer.xmodem import xmodem_receive, xmodem_send
from tests.transfer.peers import ProcessChannel, every_byte, finished, lrzsz
from tests.transfer.test_xmodem_support import FAST, FileSink, line, padded


def corrupt_blocks(which: Callable[[int], bool]) -> Callable[[bytes], bytes]:
    """A line that flips a data byte in the blocks (writes of 100+ bytes) `which` picks."""
    count = 0

    def mangle(data: bytes) -> bytes:
        nonlocal count
        if len(data) < 100:
            return data
        count += 1
        if not which(count):
            return data
        damaged = bytearray(data)
        damaged[50] ^= 0x01
        return bytes(damaged)

    return mangle


def drop_ack(number: int) -> Callable[[bytes], bytes]:
    """A line that loses the `number`th ACK."""
    count = 0

    def mangle(data: bytes) -> bytes:
        nonlocal count
        if data == bytes([ACK]):
            count += 1
            if count == number:
                return b""
        return data

    return mangle


class Interrupting:
    """A channel to an lrzsz process that interrupts it (SIGINT: it sends CANs and
    exits) once `after` bytes have come from it."""

    def __init__(self, channel: ProcessChannel, after: int) -> None:
        self.channel = channel
        self.after = after
        self.seen = 0

    async def read(self, n: int, timeout: float) -> bytes:
        data = await self.channel.read(n, timeout)
        self.seen += len(data)
        if self.after >= 0 and self.seen > self.after:
            self.after = -1
            self.channel.process.send_signal(signal.SIGINT)
        return data

    def write(self, data: bytes) -> None:
        self.channel.write(data)

    async def drain(self) -> None:
        await self.channel.drain()


async def both(send: Awaitable[object], receive: Awaitable[object]) -> list[object]:
    """Run both sides; their results or exceptions, in that order."""
    results = await asyncio.wait_for(asyncio.gather(send, receive, return_exceptions=True), 60)
    return list(results)


# --- the peer cancels ----------------------------------------------------------------


async def test_sx_cancelling_midway_cancels_our_receive(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(every_byte(1 << 20))
    sink = FileSink(tmp_path / "got.bin")
    async with lrzsz("sx", "big.bin", cwd=tmp_path) as channel:
        with pytest.raises(Cancelled):
            await asyncio.wait_for(xmodem_receive(Interrupting(channel, 50_000), sink), 30)
        code, err = await finished(channel)
    assert code != 0, err
    assert sink.state == "aborted"
    assert not (tmp_path / "got.bin").exists()
    assert not sink.part.exists()


async def test_rx_cancelling_midway_cancels_our_send(tmp_path: Path) -> None:
    async with lrzsz("rx", "-c", "got.bin", cwd=tmp_path) as channel:

        async def interrupt() -> None:
            await asyncio.sleep(0.2)
            channel.process.send_signal(signal.SIGINT)

        interrupter = asyncio.create_task(interrupt())
        with pytest.raises(Cancelled):
            await asyncio.wait_for(xmodem_send(channel, every_byte(10 << 20)), 30)
        await asyncio.wait_for(interrupter, 5)
        code, err = await finished(channel)
    assert code != 0, err


async def test_a_cancel_between_blocks_is_obeyed() -> None:
    """A scripted sender: two good blocks, then CAN CAN."""
    ours, theirs = line()
    sink = _MemorySink()

    async def sender() -> None:
        reader = Reader(theirs)
        assert await reader.byte(5) == ord("C")
        for number in (1, 2):
            theirs.write(build_block(number, pad(b"x", 128), crc=True))
            assert await reader.byte(5) == ACK
        theirs.write(b"\x18\x18")

    results = await both(sender(), xmodem_receive(ours, sink, timing=FAST))
    assert results[0] is None
    assert isinstance(results[1], Cancelled)
    assert sink.state == "aborted"


async def test_a_receiver_cancel_stops_our_send() -> None:
    ours, theirs = line()

    async def receiver() -> None:
        reader = Reader(theirs)
        theirs.write(b"C")
        await reader.exact(133, 5)
        theirs.write(bytes([ACK]))
        await reader.exact(133, 5)
        theirs.write(CANCEL_SEQUENCE)

    results = await both(xmodem_send(ours, every_byte(5000), timing=FAST), receiver())
    assert isinstance(results[0], Cancelled)


# --- a damaged line ------------------------------------------------------------------


async def test_bad_crc_forever_gives_up_after_ten_tries() -> None:
    sender_end, receiver_end = line(mangle_a=corrupt_blocks(lambda n: True))
    sink = _MemorySink()
    results = await both(
        xmodem_send(sender_end, every_byte(1000), timing=FAST),
        xmodem_receive(receiver_end, sink, timing=FAST),
    )
    assert isinstance(results[1], TransferError)
    assert not isinstance(results[1], Cancelled)
    assert "gave up after 10 tries" in str(results[1])
    assert sink.state == "aborted"
    # The receiver's CAN sequence reaches the sender, which stops too.
    assert isinstance(results[0], Cancelled)


async def test_a_sender_gives_up_on_a_receiver_that_only_naks() -> None:
    ours, theirs = line()
    heard = bytearray()

    async def receiver() -> None:
        reader = Reader(theirs)
        theirs.write(b"C")
        while True:
            try:
                data = await reader.exact(1, 5)
            except TransferError:
                return
            heard.extend(data)
            if data[0] == 0x01:
                heard.extend(await reader.exact(132, 5))
                theirs.write(bytes([NAK]))
            if heard.endswith(CANCEL_SEQUENCE):
                return

    results = await both(xmodem_send(ours, every_byte(300), timing=FAST), receiver())
    assert isinstance(results[0], TransferError)
    assert "not acknowledged after 10 tries" in str(results[0])
    assert heard.count(build_block(1, every_byte(128), crc=True)) == 10
    assert heard.endswith(CANCEL_SEQUENCE)


async def test_a_line_hit_is_repaired() -> None:
    sender_end, receiver_end = line(mangle_a=corrupt_blocks(lambda n: n == 3))
    sink = _MemorySink()
    data = every_byte(1000)
    sent, got = await both(
        xmodem_send(sender_end, data, timing=FAST),
        xmodem_receive(receiver_end, sink, timing=FAST),
    )
    assert sent == 1000
    assert got == 1024
    assert sink.state == "committed"
    assert bytes(sink.data) == padded(data)


@pytest.mark.parametrize("lost", [1, 3, 6])
async def test_a_lost_ack_repeats_the_block_once(lost: int) -> None:
    """The sender times out and sends the block again; the receiver ACKs the repeat
    and keeps one copy. ACK 6 is the EOT's: the receiver has its file, and the sender,
    left without an answer to its EOT, gives up (XMODEM cannot tell it any better)."""
    sender_end, receiver_end = line(mangle_b=drop_ack(lost))
    sink = _MemorySink()
    data = every_byte(5000)  # 5 blocks of 1K (the last padded), then EOT
    sent, got = await both(
        xmodem_send(sender_end, data, one_k=True, timing=FAST),
        xmodem_receive(receiver_end, sink, timing=FAST),
    )
    if lost == 6:
        assert isinstance(sent, TransferError)
        assert "end of file was not acknowledged" in str(sent)
    else:
        assert sent == 5000
    assert got == 5120
    assert bytes(sink.data) == padded(data)
    assert sink.state == "committed"


async def test_a_block_out_of_step_cancels() -> None:
    ours, theirs = line()
    sink = _MemorySink()
    heard = bytearray()

    async def sender() -> None:
        reader = Reader(theirs)
        assert await reader.byte(5) == ord("C")
        theirs.write(build_block(1, pad(b"a", 128), crc=True))
        assert await reader.byte(5) == ACK
        theirs.write(build_block(3, pad(b"c", 128), crc=True))
        heard.extend(await reader.exact(len(CANCEL_SEQUENCE), 5))

    results = await both(sender(), xmodem_receive(ours, sink, timing=FAST))
    assert isinstance(results[1], TransferError)
    assert "out of step" in str(results[1])
    assert bytes(heard) == CANCEL_SEQUENCE
    assert sink.state == "aborted"


async def test_a_checksum_only_sender_gets_asked_with_nak_after_three_cs() -> None:
    """The spec's handshake: C unanswered three times, then NAK and checksum blocks."""
    ours, theirs = line()
    sink = _MemorySink()
    asked = bytearray()

    async def old_sender() -> None:
        reader = Reader(theirs)
        while (byte := await reader.byte(10)) != NAK:
            asked.append(byte)
        theirs.write(build_block(1, pad(b"old", 128), crc=False))
        assert await reader.byte(5) == ACK
        theirs.write(bytes([EOT]))
        assert await reader.byte(5) == ACK

    timing = Timing(reply=0.2, char=0.5, purge=0.05)
    results = await both(old_sender(), xmodem_receive(ours, sink, timing=timing))
    assert results == [None, 128]
    assert bytes(asked) == b"CCC"
    assert bytes(sink.data) == pad(b"old", 128)


# --- nobody there --------------------------------------------------------------------


async def test_no_sender() -> None:
    ours, theirs = line()
    sink = _MemorySink()
    timing = Timing(reply=0.05, purge=0.01)
    with pytest.raises(TransferError, match="gave up after 10 tries"):
        await asyncio.wait_for(xmodem_receive(ours, sink, timing=timing), 10)
    assert sink.state == "aborted"
    # Ten requests (C three times, then NAK), then our cancel.
    assert await theirs.read(100, 1) == b"CCC" + bytes([NAK]) * 7 + CANCEL_SEQUENCE


async def test_no_receiver() -> None:
    ours, _theirs = line()
    with pytest.raises(TransferError, match="no receiver"):
        await asyncio.wait_for(xmodem_send(ours, b"data", timing=Timing(start=0.2)), 10)


async def test_a_hang_up_is_an_error() -> None:
    ours, theirs = line()
    sink = _MemorySink()
    theirs.close()
    with pytest.raises(TransferError, match="connection closed"):
        await asyncio.wait_for(xmodem_receive(ours, sink, timing=FAST), 10)
    assert sink.state == "aborted"


async def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    ours, _theirs = line()
    with pytest.raises(TransferError, match="cannot read"):
        await asyncio.wait_for(xmodem_send(ours, tmp_path / "nothing", timing=FAST), 10)


# --- our side stops ------------------------------------------------------------------


async def test_a_full_sink_cancels_the_sender(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(every_byte(100_000))
    sink = FileSink(tmp_path / "got.bin", cap=10_000)
    async with lrzsz("sx", "big.bin", cwd=tmp_path) as channel:
        with pytest.raises(TransferError, match="limit"):
            await asyncio.wait_for(xmodem_receive(channel, sink), 30)
        code, err = await finished(channel)
    assert code != 0, err
    assert sink.state == "aborted"
    assert not (tmp_path / "got.bin").exists()


async def test_cancelling_our_task_aborts_and_tells_the_peer() -> None:
    ours, theirs = line()
    sink = _MemorySink()
    task = asyncio.create_task(xmodem_receive(ours, sink, timing=FAST))
    reader = Reader(theirs)
    assert await reader.byte(5) == ord("C")
    theirs.write(build_block(1, pad(b"a", 128), crc=True))
    assert await reader.byte(5) == ACK
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert sink.state == "aborted"
    assert await reader.exact(len(CANCEL_SEQUENCE), 1) == CANCEL_SEQUENCE


class _MemorySink:
    def __init__(self) -> None:
        self.offset = 0
        self.data = bytearray()
        self.state = "open"

    def write(self, data: bytes) -> None:
        self.data.extend(data)

    def commit(self) -> None:
        self.state = "committed"

    def abort(self) -> None:
        self.state = "aborted"


async def test_a_disk_error_becomes_a_transfer_error() -> None:
    class FullDisk(_MemorySink):
        def write(self, data: bytes) -> None:
            raise OSError(28, "No space left on device")

    ours, theirs = line()
    sink = FullDisk()
    results = await both(
        xmodem_send(theirs, every_byte(1000), timing=FAST),
        xmodem_receive(ours, sink, timing=FAST),
    )
    assert isinstance(results[0], Cancelled)
    assert isinstance(results[1], TransferError)
    assert str(results[1]) == "file error: No space left on device"
    assert sink.state == "aborted"
