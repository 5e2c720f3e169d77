"""XMODEM, XMODEM/CRC and XMODEM-1K, sending and receiving, over a `Channel`.

API::

    await xmodem_send(channel, source, *, one_k=False, progress=None) -> int
    await xmodem_receive(channel, sink, *, crc=True) -> int

`source` is a `Path` or `bytes`; `progress(n)` is called with the bytes confirmed so far.
Both return the number of data bytes carried; both take `timing=` (see
`bbs.transfer.blocks.Timing`), which the board leaves at the spec's values.

How the protocol is run here (Forsberg's "XMODEM/YMODEM Protocol Reference", 1985):

- The receiver drives. `xmodem_receive` asks with C (CRC-16) and, if three Cs go
  unanswered, falls back to NAK (the 8-bit checksum) as the spec's handshake says;
  `crc=False` asks with NAK from the start. It asks again every 10 s, 10 times.
- The sender waits up to 60 s for that first C or NAK; it answers C with CRC blocks and
  NAK with checksum blocks, and takes a later C as a NAK until the first ACK.
- Every block and the final EOT are tried 10 times (10 s each) before giving up. A
  damaged block is NAKed once the line has gone quiet; a repeat of the last good block
  (its ACK was lost) is ACKed again and dropped; any other block number means the two
  sides are out of step and the transfer is cancelled.
- End of file: the sender resends EOT until it is ACKed; the receiver ACKs the first
  EOT, as lrzsz does. (The spec's rb NAKs the first EOT to guard against a line hit
  that looks like one. A telnet line has no line hits, but it has lag: a sender that
  timed out and repeated a block reads the ACK of the repeat as the ACK of its next
  transmission, and such a sender takes the NAK's follow-up ACK for its EOT's and
  leaves, so the NAK-first receiver would wait for a second EOT that never comes.)
- Cancelling: two CANs in a row from the peer raise `Cancelled`. When we give up, we
  send five CANs and five backspaces (`CANCEL_SEQUENCE`) and raise `TransferError`.
- XMODEM-1K (`one_k=True`, CRC only, as the spec recommends: a checksum receiver gets
  128-byte blocks) sends 1024-byte STX blocks; the tail of the file goes in 128-byte
  SOH blocks (a single STX block if more than 896 bytes are left), as lrzsz does.
- Padding: the last block is filled with SUB (0x1A). XMODEM carries no length, so the
  receiver cannot tell padding from data: `xmodem_receive` keeps every byte it is sent,
  as lrzsz's `rx` does. A file of n bytes sent by `xmodem_send` (or `sx`, `sx -k`)
  arrives as n bytes plus SUB up to the next multiple of 128, with or without 1K
  blocks given the tail rule above; a file of 0 bytes sends no block at all and
  arrives empty. YMODEM carries the length and restores files exactly.
- The receiver commits the sink only after the EOT handshake and aborts it on any
  failure, including task cancellation (which also sends our CAN sequence). XMODEM
  cannot resume: received data is written from the start whatever `Sink.offset` says.
- Each call reads the channel through its own buffer; bytes the peer sends after the
  transfer's last exchange (a repeated EOT, a stray key) may be read and dropped.

`BlockSender`, `BlockReceiver`, `send_stream` and `receive_stream` are the building
blocks YMODEM layers its batch on (`bbs.transfer.ymodem`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from bbs.transfer.blocks import (
    ACK,
    CAN,
    CRC_REQUEST,
    DEFAULT_TIMING,
    EOT,
    G_REQUEST,
    LONG,
    NAK,
    SHORT,
    SOH,
    STX,
    BlockError,
    Reader,
    Timing,
    body_length,
    build_block,
    cancelling_on_failure,
    ends_in_cancel,
    pad,
    parse_block,
)
from bbs.transfer.channel import Cancelled, Channel, Sink, TransferError

Progress = Callable[[int], None]

CRC_TRIES_BEFORE_CHECKSUM = 3
"""Unanswered Cs before `xmodem_receive` falls back to NAK (checksum mode)."""

POLL_EVERY = 32
"""YMODEM-G: blocks streamed between looks at the line for the receiver's CANs."""


def _cancelled() -> Cancelled:
    return Cancelled("the other side cancelled the transfer")


# --- sending -------------------------------------------------------------------------


class BlockSender:
    """The sending half of the block exchange over one channel."""

    def __init__(self, channel: Channel, reader: Reader, timing: Timing) -> None:
        self.channel = channel
        self.reader = reader
        self.timing = timing
        self.crc = True
        self.stream = False  # YMODEM-G: no ACK awaited per block
        self.acked = False  # an ACK has come since the last start request
        self._since_poll = 0

    async def wait_start(self, *, allow_g: bool) -> int:
        """Wait for the receiver's request (C, NAK, or G if allowed) and take its mode."""
        deadline = time.monotonic() + self.timing.start
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransferError(
                    f"no receiver: nothing asked for the file within {self.timing.start:g} s"
                )
            try:
                byte = await self.reader.byte(left)
            except TimeoutError:
                continue
            if byte == CAN:
                await self._check_cancel()
            elif byte in (CRC_REQUEST, NAK) or (allow_g and byte == G_REQUEST):
                self.crc = byte != NAK
                self.stream = byte == G_REQUEST
                self.acked = False
                return byte

    async def _check_cancel(self) -> None:
        """After a CAN: a second one straight after means the receiver cancelled."""
        try:
            byte = await self.reader.byte(self.timing.char)
        except TimeoutError:
            return
        if byte == CAN:
            raise _cancelled()
        self.reader.unread(bytes([byte]))

    async def _reply(self) -> int | None:
        """ACK or NAK from the receiver (a C before the first ACK counts as NAK); None
        when nothing valid came in time."""
        deadline = time.monotonic() + self.timing.reply
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                byte = await self.reader.byte(left)
            except TimeoutError:
                return None
            if byte == ACK:
                self.acked = True
                return ACK
            if byte == NAK or (byte == CRC_REQUEST and not self.acked):
                return NAK
            if byte == CAN:
                await self._check_cancel()

    async def send_block(self, number: int, data: bytes) -> None:
        """Send one block until it is ACKed (streaming: just send it)."""
        block = build_block(number, data, crc=self.crc)
        if self.stream:
            self.channel.write(block)
            await self.channel.drain()
            self._since_poll += 1
            if self._since_poll >= POLL_EVERY:
                self._since_poll = 0
                heard = await self.reader.poll()
                if bytes([CAN, CAN]) in heard:
                    raise _cancelled()
            return
        for _ in range(self.timing.retries):
            self.reader.discard()  # stale replies must not answer this block
            self.channel.write(block)
            await self.channel.drain()
            if await self._reply() == ACK:
                return
        raise TransferError(
            f"block {number} was not acknowledged after {self.timing.retries} tries"
        )

    async def send_eot(self) -> None:
        """End the file: EOT until the receiver ACKs it."""
        for _ in range(self.timing.retries):
            if not self.stream:
                self.reader.discard()
            self.channel.write(bytes([EOT]))
            await self.channel.drain()
            if await self._reply() == ACK:
                return
        raise TransferError(f"end of file was not acknowledged after {self.timing.retries} tries")


def payloads(source: BinaryIO, limit: int | None, *, one_k: bool) -> Iterator[tuple[bytes, int]]:
    """The data blocks of `source` (at most `limit` bytes): (padded block, data bytes).

    With `one_k`, full 1024-byte blocks; a tail of 896 bytes or less goes in 128-byte
    blocks, so no file grows by more than 127 bytes of padding.
    """
    left = limit
    size = LONG if one_k else SHORT
    while left is None or left > 0:
        want = size if left is None else min(size, left)
        data = source.read(want)
        if not data:
            return
        if left is not None:
            left -= len(data)
        if len(data) == size or len(data) > LONG - SHORT:
            yield pad(data, size), len(data)
            continue
        for start in range(0, len(data), SHORT):
            piece = data[start : start + SHORT]
            yield pad(piece, SHORT), len(piece)


async def send_stream(
    sender: BlockSender,
    source: BinaryIO,
    limit: int | None,
    *,
    one_k: bool,
    progress: Progress | None,
) -> int:
    """Send a file's data blocks (numbered from 1) and its EOT; the data bytes sent."""
    done = 0
    number = 1
    for block, length in payloads(source, limit, one_k=one_k and sender.crc):
        await sender.send_block(number, block)
        number += 1
        done += length
        if progress is not None:
            progress(done)
    await sender.send_eot()
    return done


async def xmodem_send(
    channel: Channel,
    source: Path | bytes,
    *,
    one_k: bool = False,
    progress: Progress | None = None,
    timing: Timing = DEFAULT_TIMING,
) -> int:
    """Send one file by XMODEM (checksum or CRC, as the receiver asks); bytes sent."""
    stream: BinaryIO
    if isinstance(source, bytes):
        stream = BytesIO(source)
    else:
        try:
            stream = source.open("rb")
        except OSError as e:
            raise TransferError(f"cannot read {source.name}: {e.strerror}") from e
    reader = Reader(channel)
    sender = BlockSender(channel, reader, timing)
    with stream:
        async with cancelling_on_failure(channel):
            await sender.wait_start(allow_g=False)
            return await send_stream(sender, stream, None, one_k=one_k, progress=progress)


# --- receiving -----------------------------------------------------------------------


class BlockReceiver:
    """The receiving half of the block exchange over one channel.

    `request` is what we send to ask for the first block of a phase (C, NAK or G), and
    again on each timeout or error until that block has come; NAK is sent after that.
    """

    def __init__(
        self,
        channel: Channel,
        reader: Reader,
        timing: Timing,
        *,
        request: int,
        stream: bool = False,
        fallback: bool = False,
    ) -> None:
        self.channel = channel
        self.reader = reader
        self.timing = timing
        self.request = request
        self.crc = request != NAK
        self.stream = stream
        self.fallback = fallback  # C unanswered three times: ask for checksum blocks
        self.started = False
        self._asked = 0

    async def send(self, byte: int) -> None:
        self.channel.write(bytes([byte]))
        await self.channel.drain()

    async def begin(self) -> None:
        """Ask for the first block of a new phase (a file's data, a YMODEM header)."""
        self.started = False
        self._asked = 1
        await self.send(self.request)

    async def _trouble(self, errors: int, reason: str, *, purge: bool) -> int:
        """Recover from a timeout or damaged block: wait for quiet, then NAK (or ask
        again). Raises once the tries are used up, or at once while streaming."""
        if self.stream and self.started:
            raise TransferError(f"YMODEM-G transfer failed ({reason}); -G cannot retry")
        errors += 1
        if errors >= self.timing.retries:
            raise TransferError(f"gave up after {self.timing.retries} tries: {reason}")
        if purge:
            dropped = await self.reader.purge(self.timing.purge, self.timing.reply)
            if ends_in_cancel(dropped):
                raise _cancelled()
        if self.started:
            await self.send(NAK)
            return errors
        if (
            self.fallback
            and self.request == CRC_REQUEST
            and self._asked >= CRC_TRIES_BEFORE_CHECKSUM
        ):
            self.request = NAK
            self.crc = False
        self._asked += 1
        await self.send(self.request)
        return errors

    async def next(self, expected: int, *, repeats: bool = True) -> bytes | None:
        """The data of block `expected` (modulo 256), or None at a confirmed EOT.

        A repeat of the block before (if `repeats`) is ACKed again and skipped. The
        caller ACKs the block it gets (unless streaming) and the EOT.
        """
        errors = 0
        while True:
            try:
                kind = await self.reader.byte(self.timing.reply)
            except TimeoutError:
                errors = await self._trouble(errors, "the sender went silent", purge=False)
                continue
            if kind in (SOH, STX):
                body = b""
                try:
                    length = body_length(kind, crc=self.crc)
                    body = await self.reader.exact(length, self.timing.char)
                    number, data = parse_block(kind, body, crc=self.crc)
                except TimeoutError:
                    errors = await self._trouble(errors, "a block was cut short", purge=True)
                    continue
                except BlockError as e:
                    if ends_in_cancel(body):
                        raise _cancelled() from None
                    errors = await self._trouble(errors, str(e), purge=True)
                    continue
                if number == expected & 0xFF:
                    self.started = True
                    return data
                if repeats and number == (expected - 1) & 0xFF:
                    if self.stream:
                        raise TransferError(f"YMODEM-G: block {number} came twice")
                    errors += 1
                    if errors >= self.timing.retries:
                        raise TransferError(f"block {number} repeated {errors} times")
                    await self.send(ACK)
                    if not self.started:
                        await self.send(self.request)
                    continue
                raise TransferError(
                    f"block {number} came when {expected & 0xFF} was due: out of step"
                )
            if kind == EOT:
                return None
            if kind == CAN:
                try:
                    after = await self.reader.byte(self.timing.char)
                except TimeoutError:
                    continue
                if after == CAN:
                    raise _cancelled()
                self.reader.unread(bytes([after]))
                continue
            reason = f"0x{kind:02x} where a block should start"
            errors = await self._trouble(errors, reason, purge=True)


async def receive_stream(receiver: BlockReceiver, write: Callable[[bytes], None]) -> int:
    """Receive a file's data blocks (from 1) through the EOT handshake; data bytes taken.

    Asks for the first block itself. `write` gets each new block's data before it is
    ACKed, so a sink that refuses (TransferError) stops the transfer before the ACK.
    """
    await receiver.begin()
    count = 0
    number = 1
    while True:
        data = await receiver.next(number)
        if data is None:
            await receiver.send(ACK)
            return count
        write(data)
        count += len(data)
        number += 1
        if not receiver.stream:
            await receiver.send(ACK)


async def xmodem_receive(
    channel: Channel,
    sink: Sink,
    *,
    crc: bool = True,
    timing: Timing = DEFAULT_TIMING,
) -> int:
    """Receive one file by XMODEM into `sink` (kept only once complete); bytes received,
    padding included (XMODEM cannot tell it from data)."""
    reader = Reader(channel)
    receiver = BlockReceiver(
        channel, reader, timing, request=CRC_REQUEST if crc else NAK, fallback=crc
    )
    try:
        async with cancelling_on_failure(channel):
            count = await receive_stream(receiver, sink.write)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    return count
