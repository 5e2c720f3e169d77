"""Library commands: browse notes by product, category or date, search them, read them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from bbs.documents.text import to_markup
from bbs.library import model
from bbs.library.search import (
    NoteSummary,
    get_note,
    note_languages,
    notes_by_category,
    notes_by_product,
    notes_changed_since,
    notes_since,
    search_library,
)
from bbs.menus.strings import Strings
from bbs.numbers import human_size, parse_number
from bbs.services.registry import Command, Context
from bbs.session.pager import page, read_document
from bbs.session.session import Session
from bbs.store.db import StoreError
from bbs.terminal.caps import Caps
from bbs.terminal.markup import escape
from bbs.terminal.render import display_width
from bbs.terminal.width import wrap_words

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

NEWEST = 15
"""Notes listed under "what's new" when the caller gives no date."""


async def _unavailable(session: Session) -> None:
    await session.send("{err}" + escape(session.text("board.db_unavailable")) + "{/}\n")
    await session.pause()


def _row(summary: NoteSummary, caps: Caps) -> str:
    """A note in a list: number, language, date, then its title, whole, wrapped under
    itself (on a narrow screen, on the lines below, indented)."""
    head = f"  {{k}}{summary.number:05d}{{/}} {summary.lang} {{dim}}{summary.date:%d/%m/%Y}{{/}}"
    lead = display_width(head, caps) + 1
    room = caps.cols - 1 - lead
    if room >= 20:
        first, *rest = wrap_words(summary.title, room)
        return head + " " + escape(first) + "".join("\n" + " " * lead + escape(p) for p in rest)
    indent = 4
    lines = wrap_words(summary.title, caps.cols - 1 - indent)
    return head + "".join("\n" + " " * indent + escape(p) for p in lines)


async def _choose_note(ctx: Context, title: str, notes: Sequence[NoteSummary]) -> None:
    """List notes and read the ones the caller picks, until Enter alone."""
    session = ctx.session
    while True:
        await session.clear()
        lines = ["{title}" + escape(title), ""]
        if not notes:
            lines.append(escape(session.text("lib.none")))
        lines += [_row(n, session.caps) for n in notes]
        lines += ["", "{dim}" + escape(session.text("lib.count", count=len(notes))) + "{/}"]
        await page(session, "\n".join(lines) + "\n")
        if not notes:
            await session.pause()
            return
        answer = await ctx.choose("lib.choose_note")
        if answer is None:
            return
        number = parse_number(answer)
        if number is None and not answer.isdigit():
            # Words typed where a number was asked for: a search of the library.
            if not await search_results(ctx, answer):
                return
            continue
        numbers = {n.number for n in notes}
        if number is None or number not in numbers:
            await session.send(
                "{err}" + escape(session.text("lib.unknown_note", number=answer[:12])) + "{/}\n"
            )
            await session.pause()
            continue
        await read_note(ctx, number)


async def read_note(ctx: Context, number: int) -> None:
    """Show one note in the caller's language when it exists, else in the other one."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return
    try:
        langs = await note_languages(db, number)
        if not langs:
            await session.send(
                "{err}" + escape(session.text("lib.unknown_note", number=number)) + "{/}\n"
            )
            return
        lang = session.lang if session.lang in langs else langs[0]
        note = await get_note(db, number, lang)
    except StoreError:
        log.exception("library read failed")
        await _unavailable(session)
        return
    if note is None:
        return
    size = None
    if note.file:
        path = ctx.board.files_dir / note.file
        size = path.stat().st_size if path.is_file() else None
    await read_document(session, note.title, note_markup(session, note, size))


def note_markup(session: Session, note: model.Note, file_size: int | None) -> str:
    """A note as the reader shows it: a header line, the text, the attached file."""
    return note_document(session.strings, session.lang, note, file_size)


def note_document(strings: Strings, lang: str, note: model.Note, file_size: int | None) -> str:
    """A note as markup in `lang` (the terminal's reader and the web site show the same)."""
    header = strings.get(
        "lib.note_header",
        lang,
        number=note.document,
        product=model.product(note.product).names.get(lang),
        category=model.category(note.category).names.get(lang),
        date=note.date.strftime("%d/%m/%Y"),
    )
    parts = ["{h}" + escape(header) + "{/}"]
    if note.lang != lang and lang in model.NOTE_LANGS:
        other = strings.get(f"lib.lang_{note.lang}", lang)
        parts.append("{dim}" + escape(strings.get("lib.other_language", lang, lang=other)) + "{/}")
    parts += ["", escape(note.body), ""]
    if note.file:
        size = "?" if file_size is None else human_size(file_size, lang)
        parts.append(
            "{em}"
            + escape(
                strings.get(
                    "lib.file", lang, file=note.file.upper(), size=size, number=note.document
                )
            )
            + "{/}"
        )
    return "\n".join(parts) + "\n"


async def _pick(
    ctx: Context,
    title: str,
    prompt: str,
    choices: Sequence[tuple[str, str]],
    listing: Callable[[str], Awaitable[list[NoteSummary]]],
) -> None:
    """Offer numbered choices (products, categories), then the notes of the one picked."""
    session = ctx.session
    if ctx.board.db is None:
        await _unavailable(session)
        return
    while True:
        await session.clear()
        lines = ["{title}" + escape(title), ""]
        digits = len(str(len(choices)))
        lines += [
            f"  {{k}}{i:>{digits}}{{/}}  {escape(label)}" for i, (_, label) in enumerate(choices, 1)
        ]
        await page(session, "\n".join(lines) + "\n")
        answer = (await session.read_line("{h}" + escape(prompt) + "{/} ", max_len=40)).strip()
        if not answer:
            return
        handled = await ctx.engine.global_command(answer)
        if handled is not None:
            return
        choice = parse_number(answer)
        if choice is None or not 1 <= choice <= len(choices):
            await session.send("{err}" + escape(session.text("term.invalid")) + "{/}\n")
            await session.pause()
            continue
        code, label = choices[choice - 1]
        try:
            notes = await listing(code)
        except StoreError:
            log.exception("library listing failed")
            await _unavailable(session)
            return
        await _choose_note(ctx, label, notes)


async def by_product(ctx: Context, arg: str | None) -> None:
    """Notes by product: pick a product, then a note."""
    session = ctx.session
    db = ctx.board.db
    choices = [(p.code, p.names.get(session.lang)) for p in model.products()]

    async def listing(code: str) -> list[NoteSummary]:
        assert db is not None
        return await notes_by_product(db, code, public=True)

    await _pick(
        ctx,
        session.text("lib.products_title"),
        session.text("lib.choose_product"),
        choices,
        listing,
    )


async def by_category(ctx: Context, arg: str | None) -> None:
    """Notes by category: pick a category, then a note."""
    session = ctx.session
    db = ctx.board.db
    choices = [(c.code, c.names.get(session.lang)) for c in model.categories()]

    async def listing(code: str) -> list[NoteSummary]:
        assert db is not None
        return await notes_by_category(db, code, public=True)

    await _pick(
        ctx,
        session.text("lib.categories_title"),
        session.text("lib.choose_category"),
        choices,
        listing,
    )


async def whats_new(ctx: Context, arg: str | None) -> None:
    """What is new: for a signed-in caller, what the board added or changed since their
    last visit; for a guest or a first visit, notes since a date they give, or the newest."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return
    last = session.caller.last_visit
    if last is not None:
        await _new_since_visit(ctx, db, datetime.fromisoformat(last))
        return
    while True:
        answer = (
            await session.read_line(
                "{h}" + escape(session.text("lib.since_prompt")) + "{/} ", max_len=12
            )
        ).strip()
        since: date | None = None
        if answer:
            try:
                since = date.fromisoformat(answer)
            except ValueError:
                await session.send("{err}" + escape(session.text("lib.bad_date")) + "{/}\n")
                continue
        break
    try:
        if since is None:
            notes = await notes_since(db, date(1900, 1, 1), public=True, limit=NEWEST)
        else:
            notes = await notes_since(db, since, public=True)
    except StoreError:
        log.exception("library listing failed")
        await _unavailable(session)
        return
    await _choose_note(ctx, session.text("lib.new_title"), notes)


async def _new_since_visit(ctx: Context, db: AsyncEngine, last: datetime) -> None:
    """Notes added or changed since `last`; the newest ones when there are none."""
    session = ctx.session
    when = last.astimezone(UTC).strftime("%d/%m/%Y %H:%M")
    try:
        notes = await notes_changed_since(db, last, public=True)
        if not notes:
            await session.send(
                "{dim}" + escape(session.text("lib.nothing_new", when=when)) + "{/}\n"
            )
            notes = await notes_since(db, date(1900, 1, 1), public=True, limit=NEWEST)
            title = session.text("lib.new_title")
        else:
            title = session.text("lib.new_since_visit", when=when)
    except StoreError:
        log.exception("library listing failed")
        await _unavailable(session)
        return
    await _choose_note(ctx, title, notes)


PAGE_SIZE = 20
"""Hits a search shows at a time."""

NEXT_KEYS = frozenset({"+", "S", "N", "W"})
"""Answers at "Document à lire" that show the next page of hits (Suite, Next, Weiter)."""


async def search(ctx: Context, arg: str | None) -> None:
    """Full-text search of the library: ranked hits with the matched words shown."""
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return
    await session.clear()
    await session.send(
        "{title}"
        + escape(session.text("lib.search_title"))
        + "\n\n"
        + escape(session.text("lib.search_help"))
        + "\n"
    )
    while True:
        text = (
            await session.read_line(
                "{h}" + escape(session.text("lib.search_prompt")) + "{/} ", max_len=80
            )
        ).strip()
        if not text:
            return
        handled = await ctx.engine.global_command(text)
        if handled is not None:
            return
        if not await search_results(ctx, text):
            return


async def search_results(ctx: Context, text: str) -> bool:
    """The hits of the query `text`, a page at a time, and the notes the caller picks.

    At "Document à lire" a number reads a note, S (or +) shows the next page, and any
    other line is a new search (or a global command). False when the caller left for
    elsewhere (a global command, the database failing); True when they pressed Enter.
    """
    session = ctx.session
    db = ctx.board.db
    if db is None:
        await _unavailable(session)
        return False
    offset = 0
    while True:
        try:
            results = await search_library(
                db,
                text,
                public=True,
                offset=offset,
                limit=PAGE_SIZE,
                snippet_width=session.caps.cols - 8,
            )
        except StoreError:
            log.exception("library search failed")
            await _unavailable(session)
            return False
        if not results.total:
            await session.send("{warn}" + escape(session.text("lib.none")) + "{/}\n")
            return True
        if not results.hits:
            offset = 0
            continue
        hits = results.hits
        last = offset + len(hits)
        count = (
            session.text("lib.count_one")
            if results.total == 1
            else session.text("lib.count_page", total=results.total, first=offset + 1, last=last)
        )
        lines = ["", "{dim}" + escape(count) + "{/}"]
        for hit in hits:
            lines.append(
                f"  {{k}}{hit.number:05d}{{/}} {hit.lang} {{dim}}{hit.date:%d/%m/%Y}{{/}} "
                + escape(hit.title)
            )
            lines.append("        {dim}" + to_markup(hit.snippet) + "{/}")
        await page(session, "\n".join(lines) + "\n")
        more = last < results.total
        key = "lib.choose_hit_more" if more else "lib.choose_hit"
        answer = (
            await session.read_line("{h}" + escape(session.text(key)) + "{/} ", max_len=80)
        ).strip()
        if not answer:
            return True
        if answer.upper() in NEXT_KEYS:
            offset = last if more else 0
            continue
        number = parse_number(answer)
        if number is not None or answer.isdigit():
            if number is not None and number in {h.number for h in hits}:
                await read_note(ctx, number)
            else:
                await session.send(
                    "{err}" + escape(session.text("lib.unknown_note", number=answer[:12])) + "{/}\n"
                )
            continue
        if await ctx.engine.global_command(answer) is not None:
            return False
        text, offset = answer, 0


COMMANDS = [
    Command("lib_products", by_product),
    Command("lib_categories", by_category),
    Command("lib_new", whats_new),
    Command("lib_search", search),
]
