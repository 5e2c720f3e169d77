"""ZMODEM file transfers: downloads to the caller (`zmodem_send`) and uploads from them
(`zmodem_receive`), over a `Channel`.

A download starts with `AUTO_START` ("rz", Enter, then a ZRQINIT header), which is what
SyncTERM and other terminals watch for to start their receiver on their own. Then, per
Forsberg's specification:

    sender                          receiver
    "rz\\r" ZRQINIT
                                    ZRINIT (capabilities, buffer size)
    ZFILE + file information
                                    ZRPOS (where to start: 0, or what it already has)
                                    ... or ZSKIP (not this one)
    ZDATA + data subpackets
                                    (ZACK to a ZCRCQ or ZCRCW subpacket;
                                     ZRPOS to go back after a garbled one)
    ZEOF
                                    ZRINIT
    ... the next file, then
    ZFIN
                                    ZFIN
    "OO"

Both sides read the line through a task that fills a `Deframer` as bytes arrive, so the
sender can look at what the receiver said between batches without ever blocking. Five
CANs in a row from the peer (its abort) raise `Cancelled`; a peer that stays quiet
raises `TransferError` once `retries` waits of `timeout` seconds have gone unanswered.
When this side gives up it sends the abort sequence (CAN x 8, backspace x 10) first.

Remote commands (ZCOMMAND) are refused, never run: the receiver aborts the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import zlib
from collections.abc import Callable, Sequence
from typing import BinaryIO

from bbs.numbers import parse_number
from bbs.transfer.channel import Cancelled, Channel, Incoming, OutFile, Sink, TransferError
from bbs.transfer.zmodem_frames import (
    AUTO_START,
    CANCEL,
    CANFC32,
    CANFDX,
    CANOVIO,
    ESCCTL,
    MAX_SUBPACKET,
    ZBIN32,
    ZCBIN,
    ZRQINIT_HEX,
    Deframer,
    Encoder,
    End,
    Frame,
    Garbled,
    Header,
    Subpacket,
    encode_hex,
)

__all__ = ["AUTO_START", "Progress", "zmodem_receive", "zmodem_send"]

Progress = Callable[[str, int, int | None], None]
"""Called as bytes go by: file name, bytes so far, file size (None when not known)."""

FILE_MODE = 0o100644
"""The mode a download announces: a plain file, readable by all (not the server's own)."""

RECEIVER_FLAGS = CANFDX | CANOVIO | CANFC32
"""What the receiver offers: full duplex, receives while writing, CRC-32."""

_READ = 1 << 16  # bytes asked of the channel at a time
_PUMP_WAIT = 30.0  # the reading task's wait per read (it just reads again)
_BATCH = 1 << 16  # file bytes escaped and written at a time
_SEND_HOLD = 1 << 16  # most bytes held from a receiver (it only sends short headers)
_RECV_HOLD = 1 << 20  # most bytes held from a sender before the reading task waits
_MAX_ERRORS = 20  # errors in a row (no progress in between) before giving up
_MIN_WINDOW = 16 * 1024  # the window never shrinks below this after errors
_SYNC_BYTES = 64  # data in the ZCRCW that follows a rewind
_STALE_GRACE = 2.0  # most seconds to wait for the real answer behind a stale header
_FIN_WAIT = 5.0  # seconds to wait for the end of the ZFIN/"OO" handshake
_ABORT_DRAIN = 5.0

_ABORTS = (Frame.ZABORT, Frame.ZFERR, Frame.ZCAN)


class _Wire:
    """The peer's side of the channel: a task reads it into a `Deframer` as bytes come,
    holding at most `hold` bytes (then it stops reading, so the peer is held back)."""

    def __init__(self, channel: Channel, hold: int) -> None:
        self.channel = channel
        self.frames = Deframer()
        self._hold = hold
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.gone: str | None = None
        """Why the line can give no more bytes (closed, failed), once it cannot."""
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def __aenter__(self) -> _Wire:
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, *exc: object) -> None:
        task = self._task
        if task is None:
            return
        self._stopping = True
        task.cancel()
        # asyncio.wait_for (3.11), which channels use for their read timeouts, swallows
        # a cancellation that lands as the read completes: cancel until it is gone.
        while not task.done():
            await asyncio.wait([task], timeout=0.05)
            task.cancel()

    async def _pump(self) -> None:
        frames = self.frames
        while not self._stopping:
            if len(frames.buf) >= self._hold:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                chunk = await self.channel.read(_READ, _PUMP_WAIT)
            except TimeoutError:
                continue
            except Exception as e:
                self.gone = f"the line failed ({e.__class__.__name__}: {e})"
                self._arrived.set()
                return
            if not chunk:
                self.gone = "the line closed"
                self._arrived.set()
                return
            frames.feed(chunk)
            self._arrived.set()

    def check(self) -> None:
        """Cancelled once the peer has sent its abort sequence."""
        if self.frames.cancelled:
            raise Cancelled("the other side cancelled the transfer")

    async def more(self, deadline: float) -> None:
        """Wait until more bytes are in: TimeoutError at `deadline` (loop time),
        TransferError when no more can come."""
        self.check()
        if len(self.frames.buf) < self._hold:
            self._room.set()
        if self.gone is not None:
            raise TransferError(self.gone)
        self._arrived.clear()
        async with asyncio.timeout_at(deadline):
            await self._arrived.wait()
        self.check()

    async def header(self, timeout: float) -> tuple[Header, int]:
        """The peer's next header and its kind; TimeoutError, Garbled."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self.check()
            got = self.frames.header()
            if got is not None:
                return got
            await self.more(deadline)

    async def subpacket(self, crc32: bool, timeout: float) -> Subpacket:
        """The peer's next data subpacket; TimeoutError, Garbled."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self.check()
            got = self.frames.subpacket(crc32)
            if got is not None:
                if len(self.frames.buf) < self._hold:
                    self._room.set()
                return got
            await self.more(deadline)

    async def subpackets(self, crc32: bool, timeout: float) -> list[Subpacket]:
        """The peer's next data subpackets, as many as are in (at least one, up to one
        that ends a ZCRCG run); TimeoutError, Garbled."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            self.check()
            got = self.frames.subpackets(crc32)
            if got:
                if len(self.frames.buf) < self._hold:
                    self._room.set()
                return got
            await self.more(deadline)

    def poll(self) -> Header | None:
        """A header the peer has already sent, if any (never waits); garbled ones and
        noise are dropped."""
        self.check()
        while True:
            try:
                got = self.frames.header()
            except Garbled:
                continue
            if got is None and self.gone is not None:
                raise TransferError(self.gone)
            return None if got is None else got[0]


async def _drain(channel: Channel, patience: float) -> None:
    """Wait for the line to take what was written: TransferError if it takes nothing
    for `patience` seconds (the peer stopped reading)."""
    try:
        async with asyncio.timeout(patience):
            await channel.drain()
    except TimeoutError:
        raise TransferError("the line stopped taking data") from None
    except OSError as e:  # ConnectionResetError and the like: the caller is gone
        raise TransferError(f"the line failed ({e.__class__.__name__})") from e


async def _abort(channel: Channel, timeout: float) -> None:
    """Tell the peer this side gives up (CAN x 8 and backspaces)."""
    with contextlib.suppress(Exception):
        channel.write(CANCEL)
        await asyncio.wait_for(channel.drain(), min(timeout, _ABORT_DRAIN))


# --- sending --------------------------------------------------------------------------


def _file_info(name: str, size: int, mtime: int, files_left: int, bytes_left: int) -> bytes:
    """ZFILE's data: name, NUL, then length, date (octal), mode (octal), serial number,
    files and bytes still to come, NUL (the YMODEM block 0 format, lrzsz's fields)."""
    fields = f"{size} {max(mtime, 0):o} {FILE_MODE:o} 0 {files_left} {bytes_left}"
    return name.replace("\0", "").encode("utf-8") + b"\0" + fields.encode("ascii") + b"\0"


def _file_crc(fh: BinaryIO, length: int) -> int:
    """CRC-32 of the first `length` bytes of a file (all of it for 0), for ZCRC."""
    here = fh.tell()
    fh.seek(0)
    crc = 0
    left = length if length > 0 else -1
    while left:
        chunk = fh.read(_BATCH if left < 0 else min(_BATCH, left))
        if not chunk:
            break
        crc = zlib.crc32(chunk, crc)
        if left > 0:
            left -= len(chunk)
    fh.seek(here)
    return crc


class _Sender:
    def __init__(
        self,
        channel: Channel,
        wire: _Wire,
        *,
        progress: Progress | None,
        timeout: float,
        retries: int,
        subpacket: int,
        window: int,
    ) -> None:
        self.channel = channel
        self.wire = wire
        self.progress = progress
        self.timeout = timeout
        self.retries = retries
        self.subpacket = subpacket
        self.window = window
        self.enc = Encoder()
        self.fdx = True
        self.segment = 0
        """Bytes the receiver can take before it must be waited for (0: no limit)."""
        self.timed_out = False
        self.resync: float | None = None
        """How long a rewind took to be confirmed, lately (stale data flushed, round
        trip): the measure of how long repeats of an old ZRPOS may keep coming."""

    async def send(self, data: bytes) -> None:
        self.channel.write(data)
        await self.drain()

    async def drain(self) -> None:
        await _drain(self.channel, self.timeout * (self.retries + 1))

    async def answer(self, timeout: float | None = None) -> Header | None:
        """The receiver's next header; None when none came in time (`timed_out`) or
        it was garbled."""
        self.timed_out = False
        try:
            header, _ = await self.wire.header(self.timeout if timeout is None else timeout)
        except TimeoutError:
            self.timed_out = True
            return None
        except Garbled:
            return None
        return header

    def missed(self, misses: int, what: str) -> int:
        misses += 1
        if misses > self.retries:
            raise TransferError(f"no answer from the receiver ({what})")
        return misses

    async def start(self, invite: bool) -> None:
        """Invite the receiver (ZRQINIT) until it says what it can do (ZRINIT)."""
        await self.send(AUTO_START if invite else ZRQINIT_HEX)
        misses = 0
        while True:
            header = await self.answer()
            if header is None:
                misses = self.missed(misses, "no ZMODEM receiver started")
                await self.send(ZRQINIT_HEX)
                continue
            kind = header.type
            if kind == Frame.ZRINIT:
                self._configure(header)
                return
            if kind == Frame.ZCHALLENGE:
                await self.send(self.enc.hex(Header(Frame.ZACK, header.data)))
            elif kind in (*_ABORTS, Frame.ZFIN):
                raise Cancelled("the receiver declined the download")
            elif kind != Frame.ZRQINIT:  # our own invitation echoed is not an answer
                misses = self.missed(misses, "no ZMODEM receiver started")
                await self.send(ZRQINIT_HEX)

    def _configure(self, zrinit: Header) -> None:
        flags = zrinit.f0
        self.enc = Encoder(crc32=bool(flags & CANFC32), controls=bool(flags & ESCCTL))
        self.fdx = bool(flags & CANFDX)
        buffer = zrinit.data[0] | zrinit.data[1] << 8
        if buffer:
            self.segment = buffer
        elif not flags & CANOVIO:
            self.segment = self.subpacket  # it cannot take data while it writes
        if self.segment:
            self.subpacket = min(self.subpacket, self.segment)

    async def send_file(self, file: OutFile, files_left: int, bytes_left: int) -> bool:
        """One file; whether the receiver took it (False: it skipped it, or it could not
        be opened)."""
        try:
            fh = open(file.path, "rb")  # noqa: SIM115 (closed below, after the stream)
        except OSError:
            return False
        with fh:
            try:
                status = os.fstat(fh.fileno())
                return await self._offer(
                    fh, file.name, status.st_size, int(status.st_mtime), files_left, bytes_left
                )
            except OSError as e:
                raise TransferError(f"cannot read {file.name}: {e.strerror}") from e

    async def _offer(
        self, fh: BinaryIO, name: str, size: int, mtime: int, files_left: int, bytes_left: int
    ) -> bool:
        info = _file_info(name, size, mtime, files_left, bytes_left)
        zfile = self.enc.header(Header.flagged(Frame.ZFILE, ZCBIN)) + self.enc.subpacket(
            info, End.ZCRCW
        )
        await self.send(zfile)
        misses = 0
        wait: float | None = None
        while True:
            header = await self.answer(wait)
            wait = None
            if header is None:
                misses = self.missed(misses, f"to the offer of {name}")
                await self.send(zfile)
                continue
            kind = header.type
            if kind == Frame.ZRPOS:
                return await _Outgoing(self, fh, name, size, min(header.position, size)).run()
            if kind == Frame.ZSKIP:
                return False
            if kind == Frame.ZRINIT:
                # Likely a second answer to the invitation, with the real one behind it;
                # if nothing follows soon, the offer was lost and goes again.
                wait = min(self.timeout, _STALE_GRACE)
            elif kind == Frame.ZCRC:
                crc = _file_crc(fh, header.position)
                await self.send(self.enc.header(Header.at(Frame.ZCRC, crc)))
            elif kind == Frame.ZNAK:
                misses = self.missed(misses, f"to the offer of {name}")
                await self.send(zfile)
            elif kind == Frame.ZCHALLENGE:
                await self.send(self.enc.hex(Header(Frame.ZACK, header.data)))
            elif kind in (*_ABORTS, Frame.ZFIN):
                raise Cancelled("the receiver aborted the download")

    async def finish(self) -> None:
        """ZFIN until the receiver answers ZFIN, then "OO". The files are delivered
        by now, so a receiver that does not answer is no failure."""
        zfin = self.enc.hex(Header(Frame.ZFIN))
        with contextlib.suppress(TransferError):
            await self.send(zfin)
            for _ in range(3):
                header = await self.answer(min(self.timeout, _FIN_WAIT))
                if header is None:
                    await self.send(zfin)
                elif header.type == Frame.ZFIN:
                    await self.send(b"OO")
                    return


class _Outgoing:
    """One file's data going out, from a start offset, until the receiver has it all.

    Flow: `window` bounds the bytes sent but not yet confirmed; in full duplex a ZCRCQ
    every quarter window asks for confirmations (ZACK) without stopping, otherwise a
    ZCRCW at the window's end waits for one. The window shrinks to a quarter at each
    error, bounding what is in flight (all of it stale once the receiver has asked to
    go back, and receivers give up after so much of it), and grows by an eighth at each
    confirmation until it is back to the one asked for: on a clean line it stays there,
    on a noisy one it settles near the distance between errors.
    """

    def __init__(self, sender: _Sender, fh: BinaryIO, name: str, size: int, start: int) -> None:
        self.s = sender
        self.fh = fh
        self.name = name
        self.size = size
        self.pos = start
        """The next byte to send."""
        self.acked = start
        """What the receiver has said it holds."""
        self.window = sender.window
        self.next_q = start + self._quarter()
        self.sync = False
        """After a rewind: a short ZCRCW goes first and is waited for, so the receiver
        is known to be back in step before data streams again."""
        self.header_due = True
        self.segment_left = 0
        self.errors = 0
        self.silence = 0
        self.rewound_at = 0.0
        fh.seek(start)

    def heard(self, header: Header | None) -> None:
        """Count the waits for the receiver that ended in silence, in a row."""
        if header is not None or not self.s.timed_out:
            self.silence = 0
            return
        self.silence += 1
        if self.silence > self.s.retries:
            raise TransferError(f"no answer from the receiver (while sending {self.name})")

    def _quarter(self) -> int:
        return max(self.window // 4, self.s.subpacket)

    def rewind(self, position: int) -> None:
        self.errors += 1
        if self.errors > _MAX_ERRORS:
            raise TransferError("too many errors on the line")
        position = max(0, min(position, self.size))
        self.fh.seek(position)
        self.pos = self.acked = position
        if self.window:
            self.window = max(_MIN_WINDOW, self.window // 4)
        self.next_q = position + self._quarter()
        self.sync = True
        self.header_due = True
        self.rewound_at = asyncio.get_running_loop().time()

    def confirmed(self, position: int) -> None:
        self.acked = position
        self.errors = 0
        if self.window:
            self.window = min(self.s.window, self.window + self.window // 8)

    def stale(self, position: int) -> bool:
        """Whether a ZRPOS was sent before the receiver saw our last rewind: it asks for
        data it has since confirmed, or again for where we already went back to (a
        receiver repeats ZRPOS while it skips the data that was in flight, and acting
        on each would start a new round of stale data)."""
        return position < self.acked or (self.sync and position == self.acked)

    async def react(self, header: Header) -> bool:
        """Act on what the receiver said while the file goes out; True if it skips it."""
        kind = header.type
        if kind == Frame.ZACK:
            if self.acked < header.position <= self.pos:
                self.confirmed(header.position)
        elif kind == Frame.ZRPOS:
            if not self.stale(header.position):
                self.rewind(header.position)
        elif kind == Frame.ZSKIP:
            return True
        elif kind in (*_ABORTS, Frame.ZFIN):
            raise Cancelled("the receiver aborted the download")
        elif kind == Frame.ZCHALLENGE:
            await self.s.send(self.s.enc.hex(Header(Frame.ZACK, header.data)))
        return False

    async def run(self) -> bool:
        s = self.s
        while True:
            end = await self._batch()
            if end == End.ZCRCE:
                done = await self._eof()
                if done is not None:
                    return done
            elif end == End.ZCRCW:
                if await self._await_ack():
                    return False
            else:
                while (header := s.wire.poll()) is not None:
                    if await self.react(header):
                        return False
                if await self._hold_for_window():
                    return False

    async def _batch(self) -> End:
        """Send the next batch of data (a ZDATA header first when due); how it ended."""
        s = self.s
        pieces = []
        if self.header_due:
            pieces.append(s.enc.header(Header.at(Frame.ZDATA, self.pos)))
            self.header_due = False
            self.segment_left = s.segment
        if self.sync:
            # A short ZCRCW: little for noise to hit, but not empty, so that a header
            # that lost a byte runs into data rather than into the frame end (which
            # rz takes for a fatal protocol error).
            data = self.fh.read(_SYNC_BYTES)
            end = End.ZCRCW
            if len(data) < _SYNC_BYTES:  # the end of the file: ZEOF's answer will do
                end = End.ZCRCE
                self.sync = False
            pieces.append(s.enc.data(data, end, s.subpacket))
            s.channel.write(b"".join(pieces))
            self.pos += len(data)
            await s.drain()
            return end
        limit = _BATCH
        if self.segment_left:
            limit = min(limit, self.segment_left)
        if self.window:
            if s.fdx:
                limit = min(limit, max(self.next_q - self.pos, 1))
            else:
                limit = min(limit, max(self.acked + self.window - self.pos, 1))
        data = self.fh.read(limit)
        n = len(data)
        after = self.pos + n
        if n < limit or after >= self.size:
            end = End.ZCRCE
        elif (self.segment_left and n >= self.segment_left) or (
            self.window and not s.fdx and after - self.acked >= self.window
        ):
            end = End.ZCRCW
        elif self.window and s.fdx and after >= self.next_q:
            end = End.ZCRCQ
            self.next_q = after + self._quarter()
        else:
            end = End.ZCRCG
        pieces.append(s.enc.data(data, end, s.subpacket))
        s.channel.write(b"".join(pieces))
        self.pos = after
        if self.segment_left:
            self.segment_left -= n
        await s.drain()
        await asyncio.sleep(0)  # let the reading task see what the receiver said
        if s.progress is not None:
            s.progress(self.name, self.pos, self.size)
        return end

    async def _await_ack(self) -> bool:
        """After a ZCRCW: wait for the receiver to confirm (or to ask for a rewind).
        True if it skips the file."""
        s = self.s
        loop = asyncio.get_running_loop()
        grace: float | None = None
        while True:
            header = await s.answer(None if grace is None else max(0.0, grace - loop.time()))
            if header is None:
                if grace is None:
                    self.heard(header)
                # The data or the confirmation was lost: resend, the receiver will say.
                self.rewind(self.acked)
                return False
            self.heard(header)
            if header.type == Frame.ZRPOS and self.stale(header.position):
                # Most likely a repeat sent before our rewind got there, with the
                # confirmation behind it; if none comes soon (counted from the first
                # repeat: receivers repeat while they wait), it was not.
                if grace is None:
                    patience = _STALE_GRACE if s.resync is None else 3 * s.resync
                    grace = loop.time() + min(s.timeout, _STALE_GRACE, max(0.05, patience))
                continue
            if header.type == Frame.ZACK and header.position == self.pos:
                if self.sync:
                    self.acked = self.pos
                    self.sync = False
                    self.errors = 0  # back in step, and a little further: progress
                    took = loop.time() - self.rewound_at
                    s.resync = took if s.resync is None else (3 * s.resync + took) / 4
                else:
                    self.confirmed(self.pos)
                self.header_due = True
                return False
            if await self.react(header):
                return True
            if self.header_due:  # rewound
                return False

    async def _hold_for_window(self) -> bool:
        """While more than a window is unconfirmed, wait for ZACKs. True if skipped."""
        s = self.s
        while (
            self.window and s.fdx and not self.header_due and self.pos - self.acked >= self.window
        ):
            header = await s.answer()
            self.heard(header)
            if header is None:
                await s.send(s.enc.data(b"", End.ZCRCQ))  # ask again where it is
                continue
            if await self.react(header):
                return True
        return False

    async def _eof(self) -> bool | None:
        """ZEOF until the receiver confirms the file (True) or skips it (False); None
        when it asked for a rewind instead."""
        s = self.s
        zeof = s.enc.header(Header.at(Frame.ZEOF, self.pos))
        await s.send(zeof)
        nak = 0
        while True:
            header = await s.answer()
            self.heard(header)
            if header is None or header.type == Frame.ZNAK:
                if header is not None:
                    nak = s.missed(nak, f"at the end of {self.name}")
                await s.send(zeof)
                continue
            if header.type == Frame.ZRINIT:
                return True
            if header.type == Frame.ZACK:
                continue
            if await self.react(header):
                return False
            if self.header_due:
                return None


async def zmodem_send(
    channel: Channel,
    files: Sequence[OutFile],
    *,
    progress: Progress | None = None,
    timeout: float = 10.0,
    retries: int = 5,
    subpacket: int = 1024,
    window: int = 512 * 1024,
    invite: bool = True,
) -> list[str]:
    """Send `files` to the peer's ZMODEM receiver; the names of those it took.

    A file the receiver skips (ZSKIP), or that cannot be opened, is left out of the
    answer. `invite` sends `AUTO_START` first (leave it on unless that was just printed).
    `subpacket` is the data subpacket length (1024 is the most the specification
    allows); `window` bounds the data sent but not yet confirmed (ZCRCQ/ZACK), 0 for
    none. Raises Cancelled if the receiver aborts, TransferError if it stops answering
    (`retries` waits of `timeout` seconds) or the line fails.
    """
    if not 32 <= subpacket <= MAX_SUBPACKET:
        raise ValueError(f"subpacket length {subpacket} is not in 32..{MAX_SUBPACKET}")
    async with _Wire(channel, _SEND_HOLD) as wire:
        sender = _Sender(
            channel,
            wire,
            progress=progress,
            timeout=timeout,
            retries=retries,
            subpacket=subpacket,
            window=window,
        )
        try:
            await sender.start(invite)
            sizes = [_size(f) for f in files]
            left = sum(sizes)
            delivered = []
            for i, file in enumerate(files):
                if await sender.send_file(file, len(files) - i, left):
                    delivered.append(file.name)
                left -= sizes[i]
            await sender.finish()
            return delivered
        except Cancelled:
            raise
        except TransferError:
            await _abort(channel, timeout)
            raise
        except BaseException:
            channel.write(CANCEL)
            raise


def _size(file: OutFile) -> int:
    try:
        return file.size
    except OSError:
        return 0


# --- receiving ------------------------------------------------------------------------


def _parse_info(data: bytes) -> tuple[str, int | None, int | None]:
    """Name, length and date from ZFILE's data (fields after the name are optional)."""
    raw_name, _, rest = data.partition(b"\0")
    try:
        name = raw_name.decode("utf-8")
    except UnicodeDecodeError:
        name = raw_name.decode("latin-1")
    fields = rest.partition(b"\0")[0].split()
    # Bounded before conversion: a size of thousands of digits is nonsense, not a number
    # for `int` to chew on (or refuse with an exception).
    size = parse_number(fields[0], max_digits=20) if fields else None
    mtime = None
    if len(fields) > 1 and len(fields[1]) <= 22:
        with contextlib.suppress(ValueError):
            mtime = int(fields[1], 8) or None
    return name, size, mtime


class _Refused(TransferError):
    pass


class _Receiver:
    def __init__(
        self,
        channel: Channel,
        wire: _Wire,
        incoming: Incoming,
        *,
        progress: Progress | None,
        timeout: float,
        retries: int,
        buffer_size: int,
    ) -> None:
        self.channel = channel
        self.wire = wire
        self.incoming = incoming
        self.progress = progress
        self.timeout = timeout
        self.retries = retries
        self.nudge = timeout / 2
        """While data is due, a ZRPOS goes again after this long without any: sooner
        than a sender waiting for our answer (with the same timeout) gives up."""
        data = bytes([buffer_size & 0xFF, buffer_size >> 8 & 0xFF, 0, RECEIVER_FLAGS])
        self.zrinit = encode_hex(Header(Frame.ZRINIT, data))
        self.attn = b""
        self.last = b""

    async def send(self, data: bytes) -> None:
        """Send a header (or Attn and a header), remembered in case the sender asks
        again (ZNAK: it got it garbled)."""
        self.last = data
        self.channel.write(data)
        await _drain(self.channel, self.timeout * (self.retries + 1))

    async def send_header(self, header: Header) -> None:
        await self.send(encode_hex(header))

    def refuse(self) -> TransferError:
        return _Refused("the sender asked to run a command on the board: refused")

    async def run(self) -> list[str]:
        received: list[str] = []
        await self.send(self.zrinit)
        misses = 0
        while True:
            try:
                header, kind = await self.wire.header(self.timeout)
            except (TimeoutError, Garbled):
                misses += 1
                if misses > self.retries:
                    raise TransferError("no ZMODEM sender started") from None
                await self.send(self.zrinit)
                continue
            frame = header.type
            if frame == Frame.ZRQINIT:
                if header.f0 == Frame.ZCOMMAND:
                    raise self.refuse()
                await self.send(self.zrinit)
            elif frame == Frame.ZFILE:
                name = await self._file(kind)
                if name is not None:
                    received.append(name)
                misses = 0
            elif frame == Frame.ZSINIT:
                await self._sinit(kind)
            elif frame == Frame.ZFIN:
                await self._fin()
                return received
            elif frame == Frame.ZCOMMAND:
                raise self.refuse()
            elif frame == Frame.ZFREECNT:
                await self.send_header(Header.at(Frame.ZACK, 0))
            elif frame in _ABORTS:
                raise Cancelled("the sender aborted the upload")
            elif frame == Frame.ZEOF:
                await self.send(self.zrinit)  # it missed our confirmation of the last file
            elif frame == Frame.ZNAK:
                await self.send(self.last)

    async def _sinit(self, kind: int) -> None:
        """ZSINIT: the sender's Attn string (sent before each ZRPOS) and escaping wishes
        (nothing to do: this side only sends hex headers)."""
        try:
            sub = await self.wire.subpacket(kind == ZBIN32, self.timeout)
        except (TimeoutError, Garbled):
            await self.send_header(Header(Frame.ZNAK))
            return
        attn = sub.data.partition(b"\0")[0][:32]
        self.attn = attn.translate(None, b"\xdd\xde")  # break and pause: not on this line
        await self.send_header(Header.at(Frame.ZACK, 1))

    async def _file(self, kind: int) -> str | None:
        """ZFILE: the file's data, or a skip; its name once it is all in."""
        try:
            sub = await self.wire.subpacket(kind == ZBIN32, self.timeout)
        except (TimeoutError, Garbled):
            await self.send_header(Header(Frame.ZNAK))  # the sender offers it again
            return None
        name, size, mtime = _parse_info(sub.data)
        sink = self.incoming.open(name, size, mtime) if name else None
        if sink is None:
            await self.send_header(Header(Frame.ZSKIP))
            return None
        committed = False
        try:
            committed = await self._data(sink, name, size)
        finally:
            if not committed:
                sink.abort()
        return name

    def _quiet(self, quiet: int) -> int:
        """One more wait of `nudge` seconds without a word from the sender."""
        quiet += 1
        if quiet * self.nudge > self.retries * self.timeout:
            raise TransferError("the sender stopped sending")
        return quiet

    def _error(self, errors: int) -> int:
        errors += 1
        if errors > _MAX_ERRORS:
            raise TransferError("too many errors on the line")
        return errors

    async def _rpos(self, position: int) -> None:
        await self.send(self.attn + encode_hex(Header.at(Frame.ZRPOS, position)))

    async def _data(self, sink: Sink, name: str, size: int | None) -> bool:
        """The file's data into `sink`, from its offset; True once committed."""
        wire = self.wire
        expected = sink.offset
        await self._rpos(expected)
        asked = True  # a ZRPOS is out: a ZEOF at another offset is stale
        errors = quiet = 0
        while True:
            try:
                header, kind = await wire.header(self.nudge)
            except TimeoutError:
                quiet = self._quiet(quiet)
                await self._rpos(expected)
                asked = True
                continue
            except Garbled:
                # Most likely the sender's answer, damaged: ask again (so does rz).
                errors = self._error(errors)
                await self._rpos(expected)
                asked = True
                continue
            frame = header.type
            if frame == Frame.ZDATA:
                if header.position != expected:
                    errors = self._error(errors)
                    await self._rpos(expected)
                    asked = True
                    continue
                asked = False
                crc32 = kind == ZBIN32
                while True:
                    try:
                        subs = await wire.subpackets(crc32, self.nudge)
                    except (TimeoutError, Garbled) as e:
                        if isinstance(e, TimeoutError):
                            quiet = self._quiet(quiet)
                        errors = self._error(errors)
                        await self._rpos(expected)
                        asked = True
                        break
                    data = subs[0].data if len(subs) == 1 else b"".join(s.data for s in subs)
                    if data:
                        sink.write(data)
                        expected += len(data)
                        if self.progress is not None:
                            self.progress(name, expected, size)
                    errors = quiet = 0
                    end = subs[-1].end
                    if end == End.ZCRCG:
                        continue
                    if end in (End.ZCRCQ, End.ZCRCW):
                        await self.send_header(Header.at(Frame.ZACK, expected))
                    if end != End.ZCRCQ:
                        break
            elif frame == Frame.ZEOF:
                if header.position == expected:
                    sink.commit()
                    await self.send(self.zrinit)
                    return True
                # Data is missing: a ZRPOS already out brings it; else ask now.
                if not asked:
                    await self._rpos(expected)
                    asked = True
            elif frame == Frame.ZFILE:
                # Our ZRPOS was lost and the offer came again.
                with contextlib.suppress(TimeoutError, Garbled):
                    await wire.subpacket(kind == ZBIN32, self.timeout)
                await self._rpos(expected)
                asked = True
            elif frame == Frame.ZSINIT:
                await self._sinit(kind)
            elif frame == Frame.ZCOMMAND or (
                frame == Frame.ZRQINIT and header.f0 == Frame.ZCOMMAND
            ):
                raise self.refuse()
            elif frame in _ABORTS:
                raise Cancelled("the sender aborted the upload")
            elif frame == Frame.ZFIN:
                raise TransferError(f"the sender ended the session in the middle of {name}")
            elif frame == Frame.ZFREECNT:
                await self.send_header(Header.at(Frame.ZACK, 0))
            elif frame == Frame.ZNAK:
                await self.send(self.last)

    async def _fin(self) -> None:
        """Answer ZFIN and wait briefly for the sender's "OO"; all files are in already,
        so nothing here fails the transfer."""
        wire = self.wire
        frames = wire.frames
        loop = asyncio.get_running_loop()
        for _ in range(3):
            await self.send_header(Header(Frame.ZFIN))
            deadline = loop.time() + min(self.timeout, _FIN_WAIT)
            while True:
                over = frames.buf.find(b"O")
                if over >= 0:
                    frames.drop(over + 1 + (frames.buf[over + 1 : over + 2] == b"O"))
                    return
                try:
                    again = frames.header()  # its ZFIN again: ours was lost
                except Garbled:
                    again = None
                if again is not None:
                    break
                try:
                    await wire.more(deadline)
                except (TimeoutError, TransferError):
                    return


async def zmodem_receive(
    channel: Channel,
    incoming: Incoming,
    *,
    progress: Progress | None = None,
    timeout: float = 10.0,
    retries: int = 5,
    buffer_size: int = 0,
) -> list[str]:
    """Receive the files the peer's ZMODEM sender offers; the names of those kept.

    Each offered file goes to `incoming.open` (None skips it); the sink's `offset`
    resumes an interrupted upload there, and `commit` is called only when the sender's
    end-of-file offset matches what arrived. Names are passed on as the sender wrote
    them: making them safe is `incoming`'s business. `buffer_size` (0: none) is
    announced for senders to pause on. Remote commands are refused. Raises Cancelled
    if the sender aborts, TransferError if it stops sending, the line fails, a sink
    refuses more data, or a command is asked for; the sink of an unfinished file is
    aborted.
    """
    async with _Wire(channel, _RECV_HOLD) as wire:
        receiver = _Receiver(
            channel,
            wire,
            incoming,
            progress=progress,
            timeout=timeout,
            retries=retries,
            buffer_size=buffer_size,
        )
        try:
            return await receiver.run()
        except Cancelled:
            raise
        except TransferError:
            await _abort(channel, timeout)
            raise
        except BaseException:
            channel.write(CANCEL)
            raise
