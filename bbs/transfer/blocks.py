"""XMODEM block framing and the line discipline XMODEM and YMODEM share.

A block on the wire is::

    SOH|STX  number  255-number  data[128|1024]  check

`check` is the 8-bit sum of the data (one byte) or its CRC-16/XMODEM (two bytes, high
byte first). SOH announces 128 data bytes, STX 1024. Block numbers count from 1 (0 is
YMODEM's file header) and wrap from 255 to 0.

Besides framing, this module holds what both protocols need around it: the control
characters, the `Timing` of the waits and retries, a buffered `Reader` over a `Channel`,
and `send_cancel`, our side of the CAN abort.

Everything here works on whole `bytes` blocks; checks run in C (`binascii.crc_hqx`, the
`sum` builtin), so the per-block cost does not grow with a Python loop over the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bbs.transfer.channel import Cancelled, Channel, TransferError
from bbs.transfer.crc import checksum8, crc16

SOH = 0x01
STX = 0x02
EOT = 0x04
ACK = 0x06
BS = 0x08
NAK = 0x15
CAN = 0x18
SUB = 0x1A  # CP/M end of file: what the last block is padded with
CRC_REQUEST = ord("C")
G_REQUEST = ord("G")

SHORT = 128
LONG = 1024

CANCEL_SEQUENCE = bytes([CAN] * 5 + [BS] * 5)
"""Our abort: five CANs (any two in a row abort the peer), then five backspaces that
erase them from the screen of a peer that had already left the protocol (YAM's custom)."""


class BlockError(Exception):
    """A block that arrived damaged: wrong length, bad complement or bad check."""


@dataclass(frozen=True, slots=True)
class Timing:
    """How long each side waits and how often it tries (the defaults are the spec's).

    Tests pass shorter ones; the board uses the defaults.
    """

    start: float = 60.0
    """Sender: wait for the receiver's C, NAK or G before a file (or its header)."""
    reply: float = 10.0
    """Sender: wait for ACK/NAK after a block or EOT. Receiver: wait for a block (and
    the interval of its C/NAK/G requests at the start)."""
    char: float = 3.0
    """Receiver: longest silence inside a block (the spec's 1 s, widened for networks)."""
    purge: float = 1.0
    """Receiver: the line must be quiet this long before a NAK is sent."""
    retries: int = 10
    """Tries per block (and per EOT, and start requests) before giving up."""


DEFAULT_TIMING = Timing()


def pad(data: bytes, size: int) -> bytes:
    """`data` filled up to `size` bytes with SUB, as the last block of a file is."""
    if len(data) > size:
        raise ValueError(f"{len(data)} bytes do not fit a {size}-byte block")
    return data + bytes([SUB]) * (size - len(data))


def build_block(number: int, data: bytes, *, crc: bool) -> bytes:
    """The wire form of block `number` (taken modulo 256) carrying `data` (128 or 1024)."""
    if len(data) == SHORT:
        kind = SOH
    elif len(data) == LONG:
        kind = STX
    else:
        raise ValueError(f"a block carries 128 or 1024 bytes, not {len(data)}")
    number &= 0xFF
    check = crc16(data).to_bytes(2, "big") if crc else bytes([checksum8(data)])
    return bytes([kind, number, 0xFF - number]) + data + check


def body_length(kind: int, *, crc: bool) -> int:
    """Bytes that follow the SOH or STX: number, complement, data and check."""
    return 2 + (SHORT if kind == SOH else LONG) + (2 if crc else 1)


def parse_block(kind: int, body: bytes, *, crc: bool) -> tuple[int, bytes]:
    """Block number and data from the bytes after SOH/STX; BlockError if damaged."""
    if kind not in (SOH, STX):
        raise BlockError(f"0x{kind:02x} does not start a block")
    size = SHORT if kind == SOH else LONG
    if len(body) != body_length(kind, crc=crc):
        raise BlockError(f"{len(body)} bytes after the block start, expected {2 + size}+check")
    number, complement = body[0], body[1]
    if number ^ complement != 0xFF:
        raise BlockError(f"block number {number} and its complement {complement} disagree")
    data = body[2 : 2 + size]
    check = body[2 + size :]
    if crc:
        if crc16(data) != int.from_bytes(check, "big"):
            raise BlockError(f"CRC error in block {number}")
    elif checksum8(data) != check[0]:
        raise BlockError(f"checksum error in block {number}")
    return number, data


def ends_in_cancel(data: bytes) -> bool:
    """Whether `data` ends with the peer's abort: two or more CANs, maybe backspaces after."""
    return data.rstrip(bytes([BS])).endswith(bytes([CAN, CAN]))


class Reader:
    """Buffered reads from a channel, with the timeouts the protocols are written in.

    A closed connection raises TransferError, or Cancelled when the last bytes the peer
    sent were its CAN sequence.
    """

    CHUNK = 65536

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._buffer = b""
        self._pos = 0

    def buffered(self) -> int:
        return len(self._buffer) - self._pos

    def discard(self) -> None:
        """Forget what has arrived but not been read (stale replies before a new block)."""
        self._buffer = b""
        self._pos = 0

    def unread(self, data: bytes) -> None:
        """Put bytes back in front of the buffer."""
        self._buffer = data + self._buffer[self._pos :]
        self._pos = 0

    async def _fill(self, timeout: float, seen: bytes = b"") -> None:
        chunk = await self._channel.read(self.CHUNK, max(timeout, 0.0))
        if not chunk:
            if ends_in_cancel(seen):
                raise Cancelled("the other side cancelled the transfer")
            raise TransferError("the connection closed during the transfer")
        if self._pos == len(self._buffer):
            self._buffer, self._pos = chunk, 0
        else:
            self._buffer = self._buffer[self._pos :] + chunk
            self._pos = 0

    async def byte(self, timeout: float) -> int:
        """The next byte; TimeoutError if none comes within `timeout` seconds."""
        if self._pos == len(self._buffer):
            # The tail of the last chunk tells a closed line from a cancelled one.
            await self._fill(timeout, self._buffer[-8:])
        value = self._buffer[self._pos]
        self._pos += 1
        return value

    async def exact(self, n: int, timeout: float) -> bytes:
        """Exactly `n` bytes; TimeoutError if the line is silent for `timeout` meanwhile."""
        if self.buffered() >= n:
            data = self._buffer[self._pos : self._pos + n]
            self._pos += n
            return data
        parts = [self._buffer[self._pos :]]
        have = len(parts[0])
        self.discard()
        try:
            while have < n:
                await self._fill(timeout, parts[-1])
                need = n - have
                piece = self._buffer[:need]
                self._pos = len(piece)
                parts.append(piece)
                have += len(piece)
        except TimeoutError:
            self.unread(b"".join(parts))
            raise
        return b"".join(parts)

    async def poll(self) -> bytes:
        """Whatever has already arrived (waiting a millisecond at most); b"" if nothing."""
        if not self.buffered():
            with contextlib.suppress(TimeoutError):
                await self._fill(0.001)
        data = self._buffer[self._pos :]
        self.discard()
        return data

    async def purge(self, quiet: float, limit: float) -> bytes:
        """Read and drop bytes until the line has been silent for `quiet` seconds.

        Gives up waiting after `limit` seconds of continuous noise. Returns what was
        dropped (for the caller to spot a CAN sequence in it).
        """
        dropped = [self._buffer[self._pos :]]
        self.discard()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                await self._fill(quiet, dropped[-1])
            except TimeoutError:
                break
            dropped.append(self._buffer)
            self.discard()
        return b"".join(dropped)


async def send_cancel(channel: Channel) -> None:
    """Tell the peer we abort (CAN sequence); never fails and never hangs."""
    with contextlib.suppress(Exception):
        channel.write(CANCEL_SEQUENCE)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(channel.drain(), 5.0)


def cancel_now(channel: Channel) -> None:
    """Queue the CAN sequence without waiting (when our own task is being cancelled)."""
    with contextlib.suppress(Exception):
        channel.write(CANCEL_SEQUENCE)


@contextlib.asynccontextmanager
async def cancelling_on_failure(channel: Channel) -> AsyncIterator[None]:
    """Run a transfer; if it fails on our side, tell the peer with the CAN sequence.

    The peer's own cancel (Cancelled) is not answered. A cancelled task queues the CAN
    sequence without waiting and lets the cancellation go on. A file error on our side
    (disk full, unreadable file) becomes a TransferError with its one-line reason.
    """
    try:
        yield
    except Cancelled:
        raise
    except asyncio.CancelledError:
        cancel_now(channel)
        raise
    except OSError as e:
        await send_cancel(channel)
        raise TransferError(f"file error: {e.strerror or e}") from e
    except Exception:
        await send_cancel(channel)
        raise
