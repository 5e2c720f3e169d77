"""The Knowledge base screens: what it is, search, reading, the CD-ROM archive.

Every command that shows content first asks `bbs.kb.access.access_until`; anyone
else gets what the base is and how to subscribe (`about`), never a title, a
snippet or a text.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bbs.documents.text import to_markup
from bbs.kb import model
from bbs.kb.access import STAFF_ACCESS, access_until, today
from bbs.kb.cdrom import current_edition
from bbs.kb.search import KbResults, search_kb
from bbs.kb.store import get_article
from bbs.library.search import get_note, note_languages
from bbs.numbers import human_size, parse_number
from bbs.services.library import NEXT_KEYS, note_markup
from bbs.services.registry import Command, Context
from bbs.services.transfers import PROTOCOLS, _send, ask_protocol
from bbs.session.pager import page, read_document
from bbs.session.session import Session
from bbs.store.db import StoreError, transaction
from bbs.support.products import product_name
from bbs.terminal.markup import escape
from bbs.transfer.channel import OutFile

if TYPE_CHECKING:
    from bbs.services.registry import Node

log = logging.getLogger(__name__)

MAX_HITS = 20
"""Documents a search lists at most."""


async def _say(session: Session, style: str, key: str, **values: object) -> None:
    await session.send("{" + style + "}" + escape(session.text(key, **values)) + "{/}\n")


async def _access(ctx: Context) -> date | None:
    """Until when the caller may use the base; None (after saying why) when not."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _say(session, "err", "kb.unavailable")
        await session.pause()
        return None
    try:
        until = await access_until(db, session.caller, today())
    except StoreError:
        log.exception("Knowledge base access check failed")
        await _say(session, "err", "kb.unavailable")
        await session.pause()
        return None
    if until is None:
        log.info("%s: Knowledge base refused to a non-subscriber", session.link.peer)
        await _explain(ctx, None)
    return until


async def _explain(ctx: Context, until: date | None) -> None:
    """What the base is, the caller's standing, and how to subscribe (with the numbers)."""
    session = ctx.session
    await session.clear()
    lines = ["{title}" + escape(session.text("kb.sub_title")), ""]
    if until is None:
        lines.append("{warn}" + escape(session.text("kb.closed")) + "{/}")
        if session.caller.is_guest:
            lines.append(escape(session.text("kb.guest_hint")))
    elif until == STAFF_ACCESS:
        lines.append("{ok}" + escape(session.text("kb.staff")) + "{/}")
    else:
        lines.append("{ok}" + escape(session.text("kb.until", date=f"{until:%d/%m/%Y}")) + "{/}")
    lines += ["", escape(session.text("kb.how")), ""]
    await page(session, "\n".join(lines) + "\n")
    await ctx.board.commands["service"].run(ctx, "knowledge")
    await session.pause()


async def about(ctx: Context, arg: str | None) -> None:
    """`A`: the subscription: the caller's standing, what it is and how to subscribe."""
    session = ctx.session
    until: date | None = None
    db = ctx.board.db
    if db is not None:
        try:
            until = await access_until(db, session.caller, today())
        except StoreError:
            log.exception("Knowledge base access check failed")
    await _explain(ctx, until)


def _hit_lines(session: Session, results: KbResults) -> list[str]:
    first, last = results.offset + 1, results.offset + len(results.hits)
    count = (
        session.text("kb.count_one")
        if results.total == 1
        else session.text("kb.count_page", total=results.total, first=first, last=last)
    )
    lines = ["", "{dim}" + escape(count) + "{/}"]
    for hit in results.hits:
        lines.append(
            f"  {{k}}{hit.reference:<7}{{/}} {hit.lang} {{dim}}{hit.date:%d/%m/%Y}{{/}} "
            + escape(hit.title)
        )
        lines.append("          {dim}" + to_markup(hit.snippet) + "{/}")
    return lines


async def search(ctx: Context, arg: str | None) -> None:
    """`C`: full-text search of the base, ranked, with the matched words shown."""
    session = ctx.session
    if await _access(ctx) is None:
        return
    assert ctx.board.db is not None
    await session.clear()
    await session.send(
        "{title}"
        + escape(session.text("kb.search_title"))
        + "\n\n"
        + escape(session.text("kb.search_help"))
        + "\n"
    )
    while True:
        text = (
            await session.read_line(
                "{h}" + escape(session.text("kb.search_prompt")) + "{/} ", max_len=80
            )
        ).strip()
        if not text:
            return
        if await ctx.engine.global_command(text) is not None:
            return
        if not await _results(ctx, text):
            return


async def _results(ctx: Context, text: str) -> bool:
    """The hits of `text` a page at a time; at "Document à lire" a reference opens a
    document, S (or +) shows the next page, other words are a new search. False when
    the caller left for elsewhere; True when they pressed Enter (another search)."""
    session = ctx.session
    assert ctx.board.db is not None
    offset = 0
    while True:
        try:
            results = await search_kb(
                ctx.board.db,
                text,
                offset=offset,
                limit=MAX_HITS,
                snippet_width=session.caps.cols - 10,
            )
        except StoreError:
            log.exception("Knowledge base search failed")
            await _say(session, "err", "kb.unavailable")
            return False
        if not results.total:
            await _say(session, "warn", "kb.none")
            return True
        if not results.hits:
            offset = 0
            continue
        await page(session, "\n".join(_hit_lines(session, results)) + "\n")
        last = offset + len(results.hits)
        more = last < results.total
        key = "kb.choose_more" if more else "kb.choose"
        answer = (
            await session.read_line("{h}" + escape(session.text(key)) + "{/} ", max_len=80)
        ).strip()
        if not answer:
            return True
        if answer.upper() in NEXT_KEYS:
            offset = last if more else 0
            continue
        if _is_reference(answer):
            await _open(ctx, answer)
            continue
        if await ctx.engine.global_command(answer) is not None:
            return False
        text, offset = answer, 0


def _is_reference(answer: str) -> bool:
    """Whether an answer names a document (KB-1042, 1042, 10158) rather than words."""
    word = answer.strip()
    return word.isdigit() or model.parse_reference(word) is not None


async def read(ctx: Context, arg: str | None) -> None:
    """`L`: read a document of the base by its number (KB-1042, or a library note's)."""
    if await _access(ctx) is None:
        return
    while True:
        answer = await ctx.choose("kb.read_prompt", max_len=20)
        if answer is None:
            return
        await _open(ctx, answer)


async def _open(ctx: Context, reference: str) -> None:
    """Show the document `reference` names: an article (KB-nnnn, nnnn) or a note (nnnnn)."""
    session = ctx.session
    db = ctx.board.db
    assert db is not None
    word = reference.strip()
    try:
        number = parse_number(word) if len(word) == 5 else None
        if number is not None:
            langs = await note_languages(db, number)
            lang = session.lang if session.lang in langs else (langs or ["fr"])[0]
            note = await get_note(db, number, lang) if langs else None
            if note is not None:
                await read_document(session, note.title, note_markup(session, note, None))
                return
        else:
            number = model.parse_reference(word)
            if number is not None:
                async with transaction(db, write=False) as conn:
                    article = await get_article(conn, number)
                if article is not None:
                    await read_document(session, article.title, article_markup(session, article))
                    return
    except StoreError:
        log.exception("Knowledge base read failed")
        await _say(session, "err", "kb.unavailable")
        return
    await _say(session, "err", "kb.unknown", reference=word[:20])


def article_markup(session: Session, article: model.Article) -> str:
    """An article as the reader shows it: a header line, then the text."""
    lang = session.lang
    header = session.text(
        "kb.header",
        reference=article.reference,
        product=product_name(article.product, lang),
        kind=model.kind(article.kind).names.get(lang),
        date=f"{article.date:%d/%m/%Y}",
    )
    parts = ["{h}" + escape(header) + "{/}"]
    if article.lang != lang and lang in model.ARTICLE_LANGS:
        other = session.text(f"lib.lang_{article.lang}")
        parts.append("{dim}" + escape(session.text("lib.other_language", lang=other)) + "{/}")
    parts += ["", escape(article.body)]
    return "\n".join(parts) + "\n"


async def cdrom(ctx: Context, arg: str | None) -> None:
    """`D`: download the monthly CD-ROM edition (the whole base, one ZIP archive)."""
    session = ctx.session
    if await _access(ctx) is None:
        return
    assert ctx.board.db is not None
    try:
        edition = await current_edition(ctx.board.db, Path(ctx.board.config.upload_dir))
    except StoreError:
        log.exception("Knowledge base edition failed")
        await _say(session, "err", "kb.unavailable")
        return
    except OSError:
        log.exception("Knowledge base edition could not be written")
        await _say(session, "err", "kb.cdrom_error")
        return
    if edition is None:
        await _say(session, "warn", "kb.no_edition")
        return
    await session.clear()
    await session.send("{title}" + escape(session.text("kb.cdrom_title")) + "\n\n")
    size = human_size(edition.size, session.lang)
    await _say(session, "h", "kb.cdrom_intro", name=edition.name, size=size)
    answer = await ask_protocol(session)
    if answer is None:
        return
    protocol = PROTOCOLS.get(answer.upper() or session.protocol)
    if protocol is None:
        await _say(session, "err", "xfer.bad_protocol", protocols=", ".join(PROTOCOLS))
        return
    log.info("%s: Knowledge base edition %s by %s", session.link.peer, edition.name, protocol.name)
    await _send(ctx, protocol, [OutFile(edition.name, edition.path)])


async def on_sign_in(session: Session, board: Node) -> None:
    """What this area tells a caller right after sign-in: nothing (the base waits under K)."""


COMMANDS: list[Command] = [
    Command("kb_search", search),
    Command("kb_read", read),
    Command("kb_cdrom", cdrom),
    Command("kb_about", about),
]
