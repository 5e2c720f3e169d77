"""YMODEM batch and YMODEM-G, sending and receiving, over a `Channel`.

API::

    await ymodem_send(channel, files, *, progress=None) -> int      # data bytes sent
    await ymodem_receive(channel, incoming, *, g=False) -> list[str]  # names kept

Both take `timing=` like the XMODEM functions (`bbs.transfer.blocks.Timing`).

YMODEM is XMODEM/CRC with a block 0 before each file (Forsberg's protocol reference,
section 4) and the batch ended by an empty block 0::

    receiver                sender
    C                       block 0: "name NUL size mtime mode"
    ACK C                   block 1, 2, ... (1024 bytes, the tail in 128), each ACKed
                            EOT
    ACK C                   block 0 of the next file ...
    C (after the last)      block 0 empty
    ACK

- Header (`encode_header`/`parse_header`): the name, NUL, then the decimal size, the
  modification time in octal seconds and the Unix mode in octal, separated by spaces;
  the rest of the block is NUL. A header longer than 128 bytes goes in a 1024-byte
  block. Names are bytes on the wire; here they are read and written as Latin-1, so
  every byte stays one character and none is lost (a sent name outside Latin-1 gets
  "?" for the characters it cannot carry). A received name is handed to
  `Incoming.open` as it came: making it safe is the upload area's job. What we accept:
  a non-empty name ended by NUL within the block (so at most 1023 bytes), a size that
  is a decimal number of at most 20 digits or absent; a date or mode that is not
  octal is ignored (date 0 means unknown). Anything else is refused: the receiver
  cancels.
- Exact sizes: the receiver writes the announced number of bytes and drops the
  padding. A sender that goes on past its size (a whole block beyond it that is not
  padding) is refused with a cancel, and the file is not kept. A file that ends short
  of its size is kept as it came (the spec lets a sender announce more than it sends).
  Without a size the file is kept as XMODEM would keep it, padding and all.
- A file `Incoming.open` refuses (None) cannot be skipped in YMODEM; its bytes are
  received and thrown away, so the rest of the batch still comes. If it announced no
  size there is no bound on that, and the batch is cancelled instead.
- YMODEM-G: a receiver that asks with G gets every block at once, with no ACK awaited
  except for block 0 and EOT (the sender looks at the line every few blocks for a
  cancel). The sender always honours G. `ymodem_receive(g=True)` asks with G, sends
  ACK then G after block 0 (the spec's figure shows G alone; the ACK costs nothing and
  suits a sender that waits for it), and cancels on the first error of any
  kind (-G cannot retry): the caller gets a TransferError saying so.
- EOT is ACKed at once, as in `bbs.transfer.xmodem` (which says why not NAK first).
- Each received file is committed only after its EOT handshake; a failure aborts the
  file in progress (files finished before it stay committed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bbs.transfer.blocks import (
    ACK,
    CRC_REQUEST,
    DEFAULT_TIMING,
    G_REQUEST,
    LONG,
    SHORT,
    SUB,
    Reader,
    Timing,
    cancelling_on_failure,
)
from bbs.transfer.channel import Channel, Incoming, OutFile, Sink, TransferError
from bbs.transfer.xmodem import BlockReceiver, BlockSender, receive_stream, send_stream

YProgress = Callable[[str, int], None]
"""Called with a file's name and the bytes of it confirmed so far."""

UNIX_REGULAR_FILE = 0o100644
"""The mode we announce: a regular file, rw-r--r-- (rb reads 0x8000 as "plain Unix file")."""

MAX_HEADER_EOTS = 10
"""Repeated EOTs (our ACK lost) tolerated while waiting for the next header."""

_DECIMAL = re.compile(rb"[0-9]{1,20}")
_OCTAL = re.compile(rb"[0-7]{1,22}")


class HeaderError(ValueError):
    """A block 0 that is not a YMODEM file header."""


@dataclass(frozen=True, slots=True)
class Header:
    """What block 0 tells about a file."""

    name: str
    size: int | None = None
    mtime: int | None = None
    mode: int | None = None


def encode_header(header: Header | None) -> bytes:
    """Block 0's data (128 or 1024 bytes); None gives the empty block ending a batch."""
    if header is None:
        return bytes(SHORT)
    name = header.name.encode("latin-1", "replace")
    if not name or 0 in name:
        raise ValueError("a YMODEM file name is not empty and has no NUL in it")
    fields: list[str] = []
    if header.size is not None:
        fields.append(str(header.size))
        if header.mtime is not None or header.mode is not None:
            fields.append(f"{header.mtime or 0:o}")
        if header.mode is not None:
            fields.append(f"{header.mode:o}")
    text = name + b"\0" + " ".join(fields).encode("ascii")
    if len(text) < SHORT:
        return text + bytes(SHORT - len(text))
    if len(text) < LONG:
        return text + bytes(LONG - len(text))
    raise ValueError(f"the header for {header.name!r} does not fit in a block")


def parse_header(data: bytes) -> Header | None:
    """The header in block 0's data; None for the empty one; HeaderError for garbage."""
    if not data or data[0] == 0:
        return None
    end = data.find(b"\0")
    if end < 0:
        raise HeaderError("the file name in block 0 is not ended by NUL")
    name = data[:end].decode("latin-1")
    info = data[end + 1 :].split(b"\0", 1)[0].split()
    size = mtime = mode = None
    if info:
        if not _DECIMAL.fullmatch(info[0]):
            raise HeaderError(f"file size {info[0][:24]!r} is not a number")
        size = int(info[0])
    if len(info) > 1 and _OCTAL.fullmatch(info[1]):
        mtime = int(info[1], 8) or None
    if len(info) > 2 and _OCTAL.fullmatch(info[2]):
        mode = int(info[2], 8)
    return Header(name, size, mtime, mode)


# --- sending -------------------------------------------------------------------------


async def ymodem_send(
    channel: Channel,
    files: Sequence[OutFile],
    *,
    progress: YProgress | None = None,
    timing: Timing = DEFAULT_TIMING,
) -> int:
    """Send `files` as one YMODEM batch (YMODEM-G if the receiver asks with G)."""
    reader = Reader(channel)
    sender = BlockSender(channel, reader, timing)
    total = 0
    async with cancelling_on_failure(channel):
        for out in files:
            try:
                stream = out.path.open("rb")
                size, mtime = out.size, out.mtime
            except OSError as e:
                raise TransferError(f"cannot read {out.name}: {e.strerror}") from e
            with stream:
                header = Header(out.name, size, mtime, UNIX_REGULAR_FILE)
                await sender.wait_start(allow_g=True)
                await sender.send_block(0, encode_header(header))
                await sender.wait_start(allow_g=True)

                def report(done: int, name: str = out.name) -> None:
                    if progress is not None:
                        progress(name, done)

                total += await send_stream(sender, stream, size, one_k=True, progress=report)
        await sender.wait_start(allow_g=True)
        await sender.send_block(0, encode_header(None))
    return total


# --- receiving -----------------------------------------------------------------------


class _Discard:
    """Where a refused file's bytes go (YMODEM has no way to skip a file)."""

    offset = 0

    def write(self, data: bytes) -> None:
        pass

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _exact_writer(sink: Sink, header: Header) -> Callable[[bytes], None]:
    """A block writer that stops at the announced size and refuses data beyond it."""
    if header.size is None:
        return sink.write
    left = header.size

    def write(data: bytes) -> None:
        nonlocal left
        if left <= 0:
            if data.count(SUB) == len(data) or data.count(0) == len(data):
                return  # a whole block of padding
            raise TransferError(
                f"{header.name}: the sender went past the {header.size} bytes it announced"
            )
        piece = data[:left] if len(data) > left else data
        left -= len(piece)
        sink.write(piece)

    return write


async def ymodem_receive(
    channel: Channel,
    incoming: Incoming,
    *,
    g: bool = False,
    timing: Timing = DEFAULT_TIMING,
) -> list[str]:
    """Receive a YMODEM batch (YMODEM-G with `g`); the names of the files kept."""
    reader = Reader(channel)
    receiver = BlockReceiver(
        channel, reader, timing, request=G_REQUEST if g else CRC_REQUEST, stream=g
    )
    names: list[str] = []
    sink: Sink | None = None
    try:
        async with cancelling_on_failure(channel):
            while True:
                header = await _next_header(receiver)
                if header is None:
                    await receiver.send(ACK)
                    return names
                opened = incoming.open(header.name, header.size, header.mtime)
                if opened is None and header.size is None:
                    raise TransferError(f"{header.name} was refused")
                sink = opened if opened is not None else _Discard()
                await receiver.send(ACK)
                await receive_stream(receiver, _exact_writer(sink, header))
                sink.commit()
                sink = None
                if opened is not None:
                    names.append(header.name)
    except BaseException:
        if sink is not None:
            sink.abort()
        raise


async def _next_header(receiver: BlockReceiver) -> Header | None:
    """Ask for block 0 and read the header in it (None: the batch is over)."""
    await receiver.begin()
    for _ in range(MAX_HEADER_EOTS):
        data = await receiver.next(0, repeats=False)
        if data is not None:
            try:
                return parse_header(data)
            except HeaderError as e:
                raise TransferError(f"bad YMODEM file header: {e}") from e
        # The EOT before was ACKed but the ACK got lost: ACK it again, ask again.
        await receiver.send(ACK)
        await receiver.send(receiver.request)
    raise TransferError("the sender keeps ending a file instead of starting one")
