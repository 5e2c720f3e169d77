"""What a fax carries: the catalogue, technical notes and Knowledge-base summaries, as text.

The number a caller dials is the document's own number: a note's five digits (10112),
or a Knowledge-base article's four (1001 for KB-1001). Only public notes are listed;
Knowledge-base articles are faxed as summaries (their full text is for subscribers).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.fax.render import COLUMNS, CoverText, FaxDocument
from bbs.kb.model import Article
from bbs.kb.store import ARTICLE_TABLE, get_article
from bbs.library.model import Note, products
from bbs.library.store import NOTE_TABLE, note_from_row
from bbs.menus.strings import Strings
from bbs.store.db import transaction
from bbs.support.products import product_name

CATALOGUE = 0
"""The catalogue's number in a job's document list (no document has it)."""

_SUMMARY_LINES = 8
"""A Knowledge-base summary holds its first paragraphs up to about this many lines."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the catalogue."""

    number: int
    product: str
    title: str
    kb: bool
    langs: tuple[str, ...]


def _product_order(code: str) -> int:
    codes = [p.code for p in products()]
    return codes.index(code) if code in codes else len(codes)


async def catalogue_entries(db: AsyncEngine, lang: str) -> list[Entry]:
    """Every public note and every Knowledge-base article, by product then number; a
    note's title in `lang` when it is written in it."""
    stmt = select(
        NOTE_TABLE.c.number, NOTE_TABLE.c.lang, NOTE_TABLE.c.product, NOTE_TABLE.c.title
    ).where(NOTE_TABLE.c.public.is_(True))
    kb = select(
        ARTICLE_TABLE.c.number,
        ARTICLE_TABLE.c.lang,
        ARTICLE_TABLE.c.product,
        ARTICLE_TABLE.c.title,
    )
    async with transaction(db, write=False) as conn:
        notes = (await conn.execute(stmt)).all()
        articles = (await conn.execute(kb)).all()
    by_number: dict[int, dict[str, tuple[str, str]]] = {}
    for number, note_lang, product, title in notes:
        by_number.setdefault(number, {})[note_lang] = (product, title)
    entries: list[Entry] = []
    for number, versions in by_number.items():
        langs = tuple(sorted(versions, key=lambda code: (code != "fr", code)))
        product, title = versions.get(lang) or versions[langs[0]]
        entries.append(Entry(number, product, title, False, langs))
    for number, article_lang, product, title in articles:
        entries.append(Entry(number, product, title, True, (article_lang,)))
    entries.sort(key=lambda e: (_product_order(e.product), e.product, e.kb, e.number))
    return entries


async def known_numbers(db: AsyncEngine) -> frozenset[int]:
    """The numbers a caller may order."""
    return frozenset(e.number for e in await catalogue_entries(db, "fr"))


def catalogue_document(
    entries: Sequence[Entry], lang: str, strings: Strings, day: date
) -> FaxDocument:
    """The catalogue: an introduction, then the numbered index, product by product."""
    lines = [f"{day:%d/%m/%Y}", ""]
    lines += textwrap.wrap(strings.get("fax.page.catalogue_intro", lang), COLUMNS)
    current = None
    for entry in entries:
        if entry.product != current:
            current = entry.product
            name = product_name(entry.product, lang)
            lines += ["", name, "-" * len(name)]
        tag = "KB " if entry.kb else ""
        langs = "/".join(code.upper() for code in entry.langs)
        text = f"{entry.number:>5}  {tag}{entry.title} ({langs})"
        lines += textwrap.wrap(text, COLUMNS, subsequent_indent=" " * 7)
    return FaxDocument(CATALOGUE, strings.get("fax.page.catalogue_title", lang), tuple(lines))


def note_document(note: Note) -> FaxDocument:
    """A technical note, whole."""
    head = [
        f"Lotus - Document {note.document} ({note.lang.upper()})",
        f"{product_name(note.product, note.lang)} - {note.date:%d/%m/%Y}",
        "",
    ]
    return FaxDocument(note.number, note.title, (*head, *note.body.splitlines()))


def kb_summary(article: Article, strings: Strings) -> FaxDocument:
    """A Knowledge-base article's summary: its heading facts and first paragraphs."""
    lang = article.lang
    paragraphs = [p for p in article.body.split("\n\n") if p.strip()]
    kept: list[str] = []
    for paragraph in paragraphs:
        if kept and len(kept) >= _SUMMARY_LINES:
            break
        kept += [*paragraph.splitlines(), ""]
    head = [
        strings.get("fax.page.kb_title", lang, reference=article.reference),
        f"{product_name(article.product, lang)} - {article.date:%d/%m/%Y}",
        strings.get("fax.page.keywords", lang, keywords=", ".join(article.keywords)),
        "",
    ]
    tail = textwrap.wrap(strings.get("fax.page.kb_rest", lang), COLUMNS)
    return FaxDocument(article.number, article.title, (*head, *kept, *tail))


async def fetch_documents(
    db: AsyncEngine, numbers: Sequence[int], lang: str, strings: Strings, day: date
) -> list[FaxDocument]:
    """The documents of an order, in order; a number no longer known is left out."""
    documents: list[FaxDocument] = []
    for number in numbers:
        if number == CATALOGUE:
            entries = await catalogue_entries(db, lang)
            documents.append(catalogue_document(entries, lang, strings, day))
            continue
        async with transaction(db, write=False) as conn:
            rows = (
                (
                    await conn.execute(
                        select(NOTE_TABLE).where(
                            NOTE_TABLE.c.number == number, NOTE_TABLE.c.public.is_(True)
                        )
                    )
                )
                .mappings()
                .all()
            )
            notes = {row["lang"]: note_from_row(row) for row in rows}
            if notes:
                note = notes.get(lang) or notes.get("fr") or next(iter(notes.values()))
                documents.append(note_document(note))
                continue
            article = await get_article(conn, number)
        if article is not None:
            documents.append(kb_summary(article, strings))
    return documents


def cover_text(
    strings: Strings, lang: str, *, number: str, when: datetime, job: int, numbers: Sequence[int]
) -> CoverText:
    """The cover page's lines for an order."""
    listed = ", ".join(
        strings.get("fax.page.catalogue_title", lang) if n == CATALOGUE else str(n) for n in numbers
    )

    def lines(total: int) -> list[str]:
        return [
            strings.get("fax.page.cover_title", lang),
            "",
            strings.get("fax.page.recipient", lang, number=number),
            strings.get("fax.page.date", lang, date=f"{when:%d/%m/%Y %H:%M}"),
            strings.get("fax.page.pages", lang, pages=total),
            strings.get("fax.page.order", lang, job=job),
            strings.get("fax.page.contents", lang, documents=listed),
        ]

    return lines
