"""`DL number [X|C|1K|Y|G|Z]` and `UL`: downloads of library documents and their files."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bbs.library import model
from bbs.library.search import get_note, note_languages
from bbs.library.text import note_text
from bbs.numbers import human_size, parse_number
from bbs.services.registry import Command, Context, Verb
from bbs.session.binary import binary_line
from bbs.session.session import Session
from bbs.store.db import StoreError, transaction
from bbs.store.usage import add_usage, owner_of, usage_on
from bbs.support.entitlements import today_utc
from bbs.terminal.markup import escape
from bbs.transfer.channel import Cancelled, Channel, OutFile, Sink, TransferError
from bbs.transfer.uploads import Upload, UploadArea, UploadError, sanitize_name

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


def estimate(size: int, baud: int) -> float | None:
    """Seconds a transfer of `size` bytes takes at `baud` (10 bits a byte); None: no limit."""
    return size * 10 / baud if baud else None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


async def _say(session: Session, style: str, key: str, **values: object) -> None:
    await session.send("{" + style + "}" + escape(session.text(key, **values)) + "{/}\n")


MAX_TAGGED = 20
"""Documents a caller may tag for one batch download."""


async def _fetch_note(ctx: Context, number: int) -> model.Note | None:
    """Note `number` in the caller's language when it exists; None (said) otherwise."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _say(session, "err", "board.db_unavailable")
        return None
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
        return None
    if note is not None and not note.public:
        note = None  # Knowledge base material: subscribers get it there (bbs.services.knowledge)
    if note is None:
        await _say(session, "err", "xfer.unknown", number=number)
    return note


def _files_for(ctx: Context, note: model.Note, scratch: Path) -> list[OutFile]:
    """The note as a text file, then the file that goes with it (if any)."""
    text = scratch / f"{note.number:05d}{note.lang.upper()}.TXT"
    text.write_bytes(note_text(note))
    files = [OutFile(text.name, text)]
    if note.file:
        attached = ctx.board.files_dir / note.file
        if attached.is_file():
            files.append(OutFile(note.file.upper(), attached))
    return files


async def download(ctx: Context, argument: str) -> None:
    """`DL number [protocol]` sends a document and its file; `DL [protocol]` the tagged ones."""
    session = ctx.session
    words = argument.upper().split()
    numbers: list[int]
    first = parse_number(words[0]) if words else None
    if words and words[0][:1].isdigit() and first is None:
        await _say(session, "err", "xfer.bad_number", number=words[0][:12])
        return
    if first is not None and len(words) <= 2:
        numbers, letter = [first], words[1] if len(words) == 2 else session.protocol
    elif len(words) <= 1 and session.tagged:
        numbers, letter = list(session.tagged), words[0] if words else session.protocol
    else:
        await _say(session, "err", "xfer.dl_usage")
        return
    protocol = PROTOCOLS.get(letter)
    if protocol is None:
        await _say(session, "err", "xfer.bad_protocol", protocols=", ".join(PROTOCOLS))
        return
    if len(numbers) > 1 and not protocol.batch:
        await _say(session, "err", "xfer.batch_only")
        return
    notes = []
    for number in numbers:
        note = await _fetch_note(ctx, number)
        if note is None:
            return
        notes.append(note)
    base = getattr(session.link, "http_base", "")
    if isinstance(base, str) and base:
        # A browser terminal: the web site serves the same notes and files over HTTP.
        await _offer_links(session, base, notes)
        if len(numbers) > 1:
            session.tagged.clear()
        return
    with tempfile.TemporaryDirectory(prefix="bbs-dl-") as scratch:
        files = [f for note in notes for f in _files_for(ctx, note, Path(scratch))]
        if not protocol.batch:
            # One file per XMODEM transfer: the attached file when there is one.
            files = files[-1:]
        if await _send(ctx, protocol, files) and len(numbers) > 1:
            session.tagged.clear()


async def _offer_links(session: Session, base: str, notes: list[model.Note]) -> None:
    """Each note's page and file as web addresses, for a caller in a browser."""
    for note in notes:
        page = f"{base}bibliotheque/note/{note.number}?l={note.lang}"
        await _say(session, "h", "web.term_dl", file=page)
        if note.file:
            await _say(session, "em", "web.term_dl", file=f"{base}fichiers/{note.file}")


async def tag(ctx: Context, argument: str) -> None:
    """`TAG number` marks a document for a batch download; `TAG` lists, `TAG -` clears."""
    session = ctx.session
    word = argument.strip()
    if word in ("-", "0"):
        session.tagged.clear()
    elif word:
        typed = parse_number(word)
        if typed is None:
            await _say(session, "err", "xfer.tag_usage")
            return
        number = typed
        if number not in session.tagged:
            if len(session.tagged) >= MAX_TAGGED:
                await _say(session, "err", "xfer.tag_full", limit=MAX_TAGGED)
                return
            if await _fetch_note(ctx, number) is None:
                return
            session.tagged.append(number)
    listed = " ".join(f"{n:05d}" for n in session.tagged) or "-"
    await _say(session, "h", "xfer.tagged", numbers=listed)


async def capture(ctx: Context, argument: str) -> None:
    """`CAP number`: the note as plain text between a start and a stop prompt, for
    terminals that can only capture what scrolls by."""
    session = ctx.session
    word = argument.strip()
    number = parse_number(word)
    if number is None:
        await _say(session, "err", "xfer.cap_usage")
        return
    note = await _fetch_note(ctx, number)
    if note is None:
        return
    await _say(session, "em", "xfer.capture_start")
    await session.pause()
    text = note_text(note).decode("cp437").replace("\r\n", "\n")
    await session.send(escape(text), remember=False)
    await _say(session, "em", "xfer.capture_end")


async def _send(ctx: Context, protocol: Protocol, files: list[OutFile]) -> bool:
    """Announce, run and report one transfer; whether it completed."""
    session = ctx.session
    total = sum(f.size for f in files)
    for f in files:
        await _say(session, "h", "xfer.file", name=f.name, size=human_size(f.size, session.lang))
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
        return False
    except TransferError as problem:
        log.info("%s: %s download failed: %s", session.link.peer, protocol.name, problem)
        await _say(session, "err", "xfer.failed", reason=str(problem)[:120])
        return False
    elapsed = max(time.monotonic() - started, 0.001)
    await _say(
        session, "ok", "xfer.done", size=total, seconds=f"{elapsed:.1f}", cps=int(total / elapsed)
    )
    return True


async def send_files(ctx: Context, files: list[OutFile], letter: str = "Z") -> bool:
    """Send files the way DL does (announced, timed, reported); whether it completed."""
    return await _send(ctx, PROTOCOLS[letter], files)


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


UPLOAD_PROTOCOLS = ("Z", "Y", "G", "X", "C", "1K")


def accepts_upload(ctx: Context) -> bool:
    """Whether the screen the caller is on takes a file: its menu offers `cmd:upload`."""
    menu = ctx.engine.current
    return any(item.action.kind == "cmd" and item.action.target == "upload" for item in menu.items)


async def upload(ctx: Context, argument: str) -> None:
    """`UL [protocol]`: send files to the board, where the current screen accepts them."""
    if not accepts_upload(ctx):
        await _say(ctx.session, "warn", "xfer.no_upload_here")
        return
    await receive_files(ctx, argument)


async def deposit(ctx: Context, arg: str | None) -> None:
    """The deposit screen: examples for the specialists, sent with the caller's protocol."""
    session = ctx.session
    limit = human_size(ctx.board.config.upload_max_bytes, session.lang)
    await _say(session, "h", "xfer.deposit_intro", limit=limit)
    answer = await ask_protocol(session)
    if answer is not None:
        await receive_files(ctx, answer)


async def ask_protocol(session: Session) -> str | None:
    """The protocol letter the caller chose ("" for their default); None, and the
    transfer called off, when they pressed ^C."""
    answer = await session.read_line(
        "{h}" + escape(session.text("xfer.ask_protocol", default=session.protocol)) + "{/} ",
        max_len=4,
    )
    if session.interrupted:
        await _say(session, "warn", "xfer.cancelled")
        return None
    return answer.strip()


async def receive_files(ctx: Context, argument: str) -> list[Upload]:
    """Receive files into the upload area by the protocol named (the caller's default);
    the files completed (a partial one never is)."""
    session = ctx.session
    config = ctx.board.config
    letter = argument.strip().upper() or session.protocol
    protocol = PROTOCOLS.get(letter)
    if protocol is None or letter not in UPLOAD_PROTOCOLS:
        await _say(session, "err", "xfer.bad_protocol", protocols=", ".join(UPLOAD_PROTOCOLS))
        return []
    quota = await _quota_left(ctx)
    if quota is None:
        return []
    bytes_left, files_left = quota
    if bytes_left <= 0 or files_left <= 0:
        await _say(
            session,
            "warn",
            "xfer.quota_exhausted",
            size=human_size(config.upload_quota_bytes, session.lang),
            files=config.upload_quota_files,
        )
        return []
    await _say(
        session,
        "dim",
        "xfer.quota_left",
        size=human_size(bytes_left, session.lang),
        files=files_left,
    )
    area = UploadArea(
        Path(config.upload_dir),
        max_file_size=config.upload_max_bytes,
        min_free_bytes=config.upload_min_free_bytes,
        node=config.node_label,
        quota_bytes=bytes_left,
        quota_files=files_left,
    )
    await _say(session, "em", "xfer.send_now", protocol=protocol.name)
    session.where = f"envoi {protocol.name}"
    started = time.monotonic()
    door = _Skipping(area)
    try:
        async with binary_line(session) as channel:
            await _run_receive(protocol, channel, door)
    except UploadError as refused:
        log.info("%s: upload refused (%s): %s", session.link.peer, refused.code, refused)
        await _say(session, "err", f"xfer.refused_{refused.code}")
    except Cancelled:
        await _say(session, "warn", "xfer.cancelled")
    except TransferError as problem:
        log.info("%s: %s upload failed: %s", session.link.peer, protocol.name, problem)
        await _say(session, "err", "xfer.failed", reason=str(problem)[:120])
    elapsed = max(time.monotonic() - started, 0.001)
    if area.received:
        await _count_usage(ctx, area.received)
    for name, code in door.refused:
        log.info("%s: upload of %r skipped (%s)", session.link.peer, name, code)
        await _say(session, "err", f"xfer.skipped_{code}", name=name)
    for received in area.received:
        log.info(
            "%s: received %s (%d bytes) as %s",
            session.link.peer,
            received.name,
            received.size,
            received.id,
        )
        size = human_size(received.size, session.lang)
        await _say(session, "ok", "xfer.received", name=received.name, size=size)
    if area.received:
        total = sum(r.size for r in area.received)
        await _say(
            session,
            "ok",
            "xfer.done",
            size=total,
            seconds=f"{elapsed:.1f}",
            cps=int(total / elapsed),
        )
    return list(area.received)


def _owner(ctx: Context) -> str:
    session = ctx.session
    address = getattr(session.link, "address", None)
    return owner_of(
        session.caller.account_id,
        address if isinstance(address, str) else session.link.peer.rsplit(":", 1)[0],
    )


async def _quota_left(ctx: Context) -> tuple[int, int] | None:
    """(bytes, files) the caller may still send today; None (and the caller told) when
    the database cannot say."""
    config = ctx.board.config
    db = ctx.board.db
    if db is None:
        return config.upload_quota_bytes, config.upload_quota_files
    try:
        async with transaction(db, write=False) as conn:
            used, files = await usage_on(conn, _owner(ctx), today_utc())
    except StoreError:
        await _say(ctx.session, "err", "board.db_unavailable")
        return None
    return config.upload_quota_bytes - used, config.upload_quota_files - files


async def _count_usage(ctx: Context, received: list[Upload]) -> None:
    db = ctx.board.db
    if db is None:
        return
    try:
        async with transaction(db, write=True) as conn:
            await add_usage(
                conn, _owner(ctx), today_utc(), sum(r.size for r in received), len(received)
            )
    except StoreError:
        # The files are kept; only today's count misses them.
        log.exception("%s: upload usage not counted", ctx.session.link.peer)


class _Skipping:
    """The upload area as a receiver sees it: files refused at the door are skipped (the
    sender goes on with the next one) and remembered to tell the caller."""

    def __init__(self, area: UploadArea) -> None:
        self.area = area
        self.refused: list[tuple[str, str]] = []

    def open(self, name: str, size: int | None, mtime: int | None) -> Sink | None:
        try:
            return self.area.open(name, size, mtime)
        except UploadError as refused:
            if refused.code not in ("too_big", "too_many", "quota"):
                raise
            self.refused.append((sanitize_name(name), refused.code))
            return None


async def _run_receive(protocol: Protocol, line: Channel, door: _Skipping) -> None:
    area = door.area
    if protocol.letter in ("X", "C", "1K"):
        from bbs.transfer.xmodem import xmodem_receive

        sink = area.open("xmodem.bin", None, None)
        await xmodem_receive(line, sink, crc=protocol.letter != "X")
    elif protocol.letter in ("Y", "G"):
        from bbs.transfer.ymodem import ymodem_receive

        await ymodem_receive(line, door, g=protocol.letter == "G")
    else:
        from bbs.transfer.zmodem import zmodem_receive

        await zmodem_receive(line, door)


COMMANDS = [Command("upload", deposit)]
VERBS = [
    Verb(("DL",), download, "verb.dl"),
    Verb(("UL",), upload, "verb.ul"),
    Verb(("TAG",), tag, "verb.tag"),
    Verb(("CAP",), capture, "verb.cap"),
]
