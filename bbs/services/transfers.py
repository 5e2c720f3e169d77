"""`DL number [X|C|1K|Y|G|Z]` and `UL`: downloads of library documents and their files."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bbs.library import model
from bbs.library.search import get_note, note_languages
from bbs.services.registry import Context
from bbs.session.binary import binary_line
from bbs.session.session import Session
from bbs.store.db import StoreError
from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import encode_as
from bbs.terminal.markup import escape
from bbs.transfer.channel import Cancelled, Channel, OutFile, TransferError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Protocol:
    """A transfer protocol a caller may choose, by its letter."""

    letter: str
    name: str
    batch: bool


PROTOCOLS: dict[str, Protocol] = {
    p.letter: p
    for p in (
        Protocol("X", "XMODEM", False),
        Protocol("C", "XMODEM-CRC", False),
        Protocol("1K", "XMODEM-1K", False),
        Protocol("Y", "YMODEM", True),
        Protocol("G", "YMODEM-G", True),
        Protocol("Z", "ZMODEM", True),
    )
}
DEFAULT_PROTOCOL = "Z"


def note_text(note: model.Note) -> bytes:
    """A note as a DOS text file of the period: CP437, CR LF line ends."""
    header = [
        f"Lotus - Document {note.document} ({note.lang.upper()})",
        note.title,
        f"{model.product(note.product).names.get(note.lang)} - {note.date:%d/%m/%Y}",
        "",
    ]
    text = "\r\n".join([*header, *note.body.splitlines()]) + "\r\n"
    return encode_as(text, Encoding.CP437)


def estimate(size: int, baud: int) -> float | None:
    """Seconds a transfer of `size` bytes takes at `baud` (10 bits a byte); None: no limit."""
    return size * 10 / baud if baud else None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


async def _say(session: Session, style: str, key: str, **values: object) -> None:
    await session.send("{" + style + "}" + escape(session.text(key, **values)) + "{/}\n")


async def download(ctx: Context, argument: str) -> None:
    """`DL number [protocol]`: send a document (and the file that goes with it)."""
    session = ctx.session
    words = argument.upper().split()
    if not words or not words[0].isdigit() or len(words) > 2:
        await _say(session, "err", "xfer.dl_usage")
        return
    letter = words[1] if len(words) == 2 else session.protocol
    protocol = PROTOCOLS.get(letter)
    if protocol is None:
        await _say(session, "err", "xfer.bad_protocol", protocols=", ".join(PROTOCOLS))
        return
    db = ctx.board.db
    if db is None:
        await _say(session, "err", "board.db_unavailable")
        return
    number = int(words[0])
    try:
        langs = await note_languages(db, number)
        note = (
            await get_note(db, number, session.lang if session.lang in langs else langs[0])
            if langs
            else None
        )
    except StoreError:
        log.exception("download lookup failed")
        await _say(session, "err", "board.db_unavailable")
        return
    if note is None:
        await _say(session, "err", "xfer.unknown", number=words[0][:8])
        return
    with tempfile.TemporaryDirectory(prefix="bbs-dl-") as scratch:
        text = Path(scratch) / f"{note.number:05d}{note.lang.upper()}.TXT"
        text.write_bytes(note_text(note))
        files = [OutFile(text.name, text)]
        if note.file:
            attached = ctx.board.files_dir / note.file
            if attached.is_file():
                files.append(OutFile(note.file.upper(), attached))
        if not protocol.batch:
            # One file per XMODEM transfer: the attached file when there is one.
            files = files[-1:]
        await _send(ctx, protocol, files)


async def _send(ctx: Context, protocol: Protocol, files: list[OutFile]) -> None:
    session = ctx.session
    total = sum(f.size for f in files)
    for f in files:
        await _say(session, "h", "xfer.file", name=f.name, size=f.size)
    seconds = estimate(total, session.caps.baud)
    if seconds is None:
        await _say(session, "dim", "xfer.no_estimate", protocol=protocol.name)
    else:
        await _say(
            session,
            "dim",
            "xfer.estimate",
            protocol=protocol.name,
            time=_duration(seconds),
            baud=session.caps.baud,
        )
    await _say(session, "em", "xfer.start_z" if protocol.letter == "Z" else "xfer.start")
    started = time.monotonic()
    session.where = f"transfert {protocol.name}"
    try:
        async with binary_line(session) as channel:
            await _run_send(protocol, channel, files)
    except Cancelled:
        await _say(session, "warn", "xfer.cancelled")
        return
    except TransferError as problem:
        log.info("%s: %s download failed: %s", session.link.peer, protocol.name, problem)
        await _say(session, "err", "xfer.failed", reason=str(problem)[:120])
        return
    elapsed = max(time.monotonic() - started, 0.001)
    await _say(
        session, "ok", "xfer.done", size=total, seconds=f"{elapsed:.1f}", cps=int(total / elapsed)
    )


async def _run_send(protocol: Protocol, line: Channel, files: list[OutFile]) -> None:
    if protocol.letter in ("X", "C", "1K"):
        from bbs.transfer.xmodem import xmodem_send

        await xmodem_send(line, files[0].path, one_k=protocol.letter == "1K")
    elif protocol.letter in ("Y", "G"):
        from bbs.transfer.ymodem import ymodem_send

        await ymodem_send(line, files)
    else:
        from bbs.transfer.zmodem import zmodem_send

        await zmodem_send(line, files)


async def upload(ctx: Context, argument: str) -> None:
    """`UL [Y|Z]`: only screens that take a file (an incident, later) accept one."""
    await _say(ctx.session, "warn", "xfer.no_upload_here")
