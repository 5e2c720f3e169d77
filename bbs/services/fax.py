"""`GO FAX`'s touch-tone session on telnet, and downloads of a caller's own faxes."""

from __future__ import annotations

import asyncio
import logging
import weakref
from pathlib import Path

from bbs.fax.deliver import spool_path
from bbs.fax.documents import CATALOGUE, known_numbers
from bbs.fax.jobs import Job, get_job, list_jobs
from bbs.fax.orders import place_order
from bbs.fax.tone import KEYS, Order, Output, Say, ToneMachine, parse_keys
from bbs.services.registry import Command, Context, unavailable
from bbs.session.session import Session
from bbs.terminal.markup import escape
from bbs.transfer.channel import OutFile

log = logging.getLogger(__name__)

DELIVERY_WAIT = 60.0
"""Seconds the telnet caller waits for their fax to be drawn before the download offer."""

_ORDERS: weakref.WeakKeyDictionary[Session, list[int]] = weakref.WeakKeyDictionary()
"""Jobs a guest ordered on this line: theirs to download until they hang up."""


def caller_key(session: Session) -> str:
    """Who orders, for the limits and downloads: the account, or the line's address."""
    if session.caller.account_id is not None:
        return f"account:{session.caller.account_id}"
    address = getattr(session.link, "address", None)
    if not isinstance(address, str) or address in ("", "?"):
        address = session.link.peer.rsplit(":", 1)[0]
    return f"addr:{address}"


async def _say(session: Session, style: str, key: str, **values: object) -> None:
    await session.send("{" + style + "}" + escape(session.text(key, **values)) + "{/}\n")


async def _speak(session: Session, say: Say) -> None:
    await _say(session, "h", say.key, **say.kwargs())


async def order(ctx: Context, arg: str | None) -> None:
    """The voice menu at the keyboard: keys typed as on a telephone, a line at a time."""
    session, board = ctx.session, ctx.board
    if board.db is None:
        await unavailable(session)
        return
    try:
        known = await known_numbers(board.db)
    except Exception as exc:
        log.exception("fax catalogue unavailable")
        await unavailable(session, exc)
        return
    session.where = "fax sur demande"
    machine = ToneMachine(known)
    await _say(session, "dim", "fax.telnet.intro")
    for out in machine.start():
        assert isinstance(out, Say)
        await _speak(session, out)
    prompt = "{h}" + escape(session.text("fax.telnet.prompt")) + "{/} "
    while not machine.done:
        line = (await session.read_line(prompt, max_len=64)).strip()
        if not line:
            await _say(session, "dim", "fax.tone.goodbye")
            return
        typed = line.replace(" ", "")
        if any(c not in KEYS for c in typed):
            await _say(session, "err", "fax.telnet.digits_only")
            continue
        outputs: list[Output] = machine.feed(parse_keys(typed))
        for out in outputs:
            if isinstance(out, Order):
                await _placed(ctx, out)
                return
            await _speak(session, out)


async def _placed(ctx: Context, confirmed: Order) -> None:
    """Record the order; then offer its TIFF by ZMODEM once it is drawn."""
    session, board = ctx.session, ctx.board
    placed = await place_order(
        board.db,
        board.config,
        board.strings,
        confirmed,
        caller=caller_key(session),
        account_id=session.caller.account_id,
        lang=session.lang,
    )
    style = "ok" if placed.job is not None else "err"
    await _say(session, style, placed.say.key, **placed.say.kwargs())
    if placed.job is None or placed.delivery is None:
        return
    _ORDERS.setdefault(session, []).append(placed.job.id)
    try:
        job = await asyncio.wait_for(asyncio.shield(placed.delivery), DELIVERY_WAIT)
    except TimeoutError:
        return
    if job is None or not job.file:
        return
    answer = (
        await session.read_line(
            "{h}" + escape(session.text("fax.telnet.ask_download")) + "{/} ", max_len=3
        )
    ).strip()
    if answer[:1].upper() in ("O", "Y", "J"):
        await _download(ctx, job)


def _mine(session: Session, job: Job) -> bool:
    if session.caller.account_id is not None and job.account_id == session.caller.account_id:
        return True
    return job.id in _ORDERS.get(session, [])


async def _download(ctx: Context, job: Job) -> None:
    from bbs.services.transfers import send_files

    path = spool_path(ctx.board.config, job)
    if path is None or not path.is_file():
        await _say(ctx.session, "err", "fax.telnet.not_ready", state=job.state)
        return
    await send_files(ctx, [OutFile(Path(path).name.upper(), path)])


def _documents(job: Job) -> str:
    return ",".join("CAT" if n == CATALOGUE else str(n) for n in job.documents)


async def my_faxes(ctx: Context, arg: str | None) -> None:
    """The caller's fax orders, and the download of one of them by ZMODEM."""
    session, board = ctx.session, ctx.board
    if board.db is None:
        await unavailable(session)
        return
    try:
        if session.caller.account_id is not None:
            jobs = await list_jobs(board.db, caller=caller_key(session), limit=20)
        else:
            found = [await get_job(board.db, n) for n in _ORDERS.get(session, [])]
            jobs = [j for j in reversed(found) if j is not None]
    except Exception as exc:
        log.exception("fax orders unavailable")
        await unavailable(session, exc)
        return
    if not jobs:
        await _say(session, "dim", "fax.telnet.no_orders")
        return
    await _say(session, "h", "fax.telnet.your_orders")
    for job in jobs:
        line = session.text(
            "fax.telnet.order_line",
            job=job.id,
            when=f"{job.created_at:%d/%m/%Y %H:%M}",
            number=job.fax_number,
            documents=_documents(job),
            state=job.state,
        )
        await session.send(escape(line) + "\n")
    answer = await ctx.choose("fax.telnet.ask_job", max_len=10)
    if answer is None:
        return
    wanted = int(answer) if answer.isascii() and answer.isdigit() else 0
    chosen = next((j for j in jobs if j.id == wanted), None)
    if chosen is None or not _mine(session, chosen):
        await _say(session, "err", "fax.telnet.not_yours")
        return
    await _download(ctx, chosen)


COMMANDS = [
    Command("fax", order),
    Command("fax_orders", my_faxes),
]
