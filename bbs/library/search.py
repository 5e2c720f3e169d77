"""Searching and browsing the stored library: its `bbs.documents` collection of notes.

The query syntax, folding and snippets are the document store's (`bbs.documents`),
shared with the Knowledge base; SQLite matches with the FTS5 table `library_fts`,
PostgreSQL with the GIN index `ix_library_note_search`. A search says how many notes
match and returns one page of them (`Results`). Who may read what is the library's
own rule: public notes for every caller (`public=True`), the others through the
Knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.documents.query import parse_query
from bbs.documents.store import document_rows, search_documents
from bbs.documents.text import SNIPPET_WIDTH, row_snippet
from bbs.library.model import Note
from bbs.library.store import NOTE_TABLE, NOTES, note_from_row
from bbs.store.db import engine_scope, transaction

Target = str | URL | AsyncEngine

_NOTE: Table = NOTE_TABLE


@dataclass(frozen=True, slots=True)
class Hit:
    """A note a search found, best first; `rank` grows with relevance (not comparable
    between backends). `snippet`: see the module's doc."""

    number: int
    lang: str
    title: str
    product: str
    category: str
    date: date
    snippet: str
    rank: float


@dataclass(frozen=True, slots=True)
class NoteSummary:
    """A note as a list shows it: everything but the text."""

    number: int
    lang: str
    product: str
    category: str
    title: str
    date: date
    file: str | None
    public: bool


# --- queries ---------------------------------------------------------------------


def _filters(
    *,
    lang: str | None,
    product: str | None,
    category: str | None,
    public: bool | None,
) -> list[ColumnElement[bool]]:
    """The conditions of the filters given (None: no filter)."""
    wanted = {"lang": lang, "product": product, "category": category, "public": public}
    return [_NOTE.c[name] == value for name, value in wanted.items() if value is not None]


_HIT_COLUMNS = (
    _NOTE.c.number,
    _NOTE.c.lang,
    _NOTE.c.title,
    _NOTE.c.product,
    _NOTE.c.category,
    _NOTE.c.date,
    _NOTE.c.keywords,
    _NOTE.c.body,
)


@dataclass(frozen=True, slots=True)
class Results:
    """One page of a search: `total` documents match, `hits` are those from `offset` on."""

    total: int
    offset: int
    hits: tuple[Hit, ...]


async def search_library(
    engine_or_url: Target,
    text: str,
    *,
    lang: str | None = None,
    product: str | None = None,
    category: str | None = None,
    public: bool | None = None,
    offset: int = 0,
    limit: int = 20,
    snippet_width: int = SNIPPET_WIDTH,
) -> Results:
    """The notes matching the query `text` (`bbs.documents.query`'s syntax), best first:
    how many there are, and at most `limit` of them from `offset` on.

    Filters: language, product and category codes, and `public` (True: only the
    notes of the public library; False: only Knowledge-base ones; None: all).
    Ties go to the newer note. Raises StoreError for database problems only.
    """
    query = parse_query(text)
    offset = max(offset, 0)
    if not query:
        return Results(0, offset, ())
    where = _filters(lang=lang, product=product, category=category, public=public)
    async with engine_scope(engine_or_url) as engine, transaction(engine, write=False) as conn:
        total, rows = await search_documents(
            conn, NOTES, query, _HIT_COLUMNS, where=where, offset=offset, limit=limit
        )
    terms = query.terms
    hits = tuple(
        Hit(
            number=row["number"],
            lang=row["lang"],
            title=row["title"],
            product=row["product"],
            category=row["category"],
            date=row["date"],
            snippet=row_snippet(row, terms, snippet_width),
            rank=float(row["relevance"]),
        )
        for row in rows
    )
    return Results(total, offset, hits)


async def search_notes(
    engine_or_url: Target,
    text: str,
    *,
    lang: str | None = None,
    product: str | None = None,
    category: str | None = None,
    public: bool | None = None,
    offset: int = 0,
    limit: int = 20,
    snippet_width: int = SNIPPET_WIDTH,
) -> list[Hit]:
    """The hits of `search_library` alone."""
    results = await search_library(
        engine_or_url,
        text,
        lang=lang,
        product=product,
        category=category,
        public=public,
        offset=offset,
        limit=limit,
        snippet_width=snippet_width,
    )
    return list(results.hits)


_SUMMARY_COLUMNS = (
    _NOTE.c.number,
    _NOTE.c.lang,
    _NOTE.c.product,
    _NOTE.c.category,
    _NOTE.c.title,
    _NOTE.c.date,
    _NOTE.c.file,
    _NOTE.c.public,
)


async def _summaries(target: Target, stmt: Select[Any], limit: int | None) -> list[NoteSummary]:
    stmt = stmt.order_by(_NOTE.c.date.desc(), _NOTE.c.number, _NOTE.c.lang)
    if limit is not None:
        if limit <= 0:
            return []
        stmt = stmt.limit(limit)
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [
        NoteSummary(
            number=row["number"],
            lang=row["lang"],
            product=row["product"],
            category=row["category"],
            title=row["title"],
            date=row["date"],
            file=row["file"],
            public=bool(row["public"]),
        )
        for row in rows
    ]


async def list_notes(
    target: Target,
    *,
    lang: str | None = None,
    product: str | None = None,
    category: str | None = None,
    public: bool | None = None,
    limit: int | None = None,
) -> list[NoteSummary]:
    """The notes the filters keep (None: no filter), newest first."""
    where = _filters(lang=lang, product=product, category=category, public=public)
    return await _summaries(target, select(*_SUMMARY_COLUMNS).where(*where), limit)


async def notes_by_product(
    target: Target,
    product: str,
    *,
    lang: str | None = None,
    category: str | None = None,
    public: bool | None = None,
    limit: int | None = None,
) -> list[NoteSummary]:
    """The notes about `product` (a code), newest first."""
    return await list_notes(
        target, lang=lang, product=product, category=category, public=public, limit=limit
    )


async def notes_by_category(
    target: Target,
    category: str,
    *,
    lang: str | None = None,
    product: str | None = None,
    public: bool | None = None,
    limit: int | None = None,
) -> list[NoteSummary]:
    """The notes of `category` (a code), newest first."""
    return await list_notes(
        target, lang=lang, product=product, category=category, public=public, limit=limit
    )


async def notes_since(
    target: Target,
    since: date | datetime,
    *,
    lang: str | None = None,
    product: str | None = None,
    category: str | None = None,
    public: bool | None = None,
    limit: int | None = None,
) -> list[NoteSummary]:
    """The notes dated on or after the day of `since` (a caller's last visit: a note
    of that very day may have come after the visit), newest first."""
    day = since.date() if isinstance(since, datetime) else since
    where = _filters(lang=lang, product=product, category=category, public=public)
    stmt = select(*_SUMMARY_COLUMNS).where(_NOTE.c.date >= day, *where)
    return await _summaries(target, stmt, limit)


async def notes_changed_since(
    target: Target, when: datetime, *, public: bool | None = None, limit: int | None = None
) -> list[NoteSummary]:
    """The notes a load added or changed after `when` (a caller's last visit), newest
    change first: what is new on this board, whatever the notes' own dates."""
    where = _filters(lang=None, product=None, category=None, public=public)
    stmt = (
        select(*_SUMMARY_COLUMNS)
        .where(_NOTE.c.changed_at > when, *where)
        .order_by(_NOTE.c.changed_at.desc(), _NOTE.c.number, _NOTE.c.lang)
    )
    return await _summaries(target, stmt, limit)


async def notes_with_file(
    target: Target, name: str, *, public: bool | None = None
) -> list[NoteSummary]:
    """The notes that offer the file `name` for download, newest first."""
    where = _filters(lang=None, product=None, category=None, public=public)
    stmt = select(*_SUMMARY_COLUMNS).where(_NOTE.c.file == name, *where)
    return await _summaries(target, stmt, None)


async def get_note(target: Target, number: int, lang: str) -> Note | None:
    """The note `number` in `lang`, or None."""
    where = (_NOTE.c.number == number, _NOTE.c.lang == lang)
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        rows = await document_rows(conn, NOTES, *where)
    return note_from_row(rows[0]) if rows else None


async def note_languages(target: Target, number: int) -> list[str]:
    """The languages note `number` exists in (French first)."""
    stmt = select(_NOTE.c.lang).where(_NOTE.c.number == number)
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        langs = set((await conn.scalars(stmt)).all())
    return sorted(langs, key=lambda lang: (lang != "fr", lang))


async def note_counts(
    target: Target, *, lang: str | None = None, public: bool | None = None
) -> Mapping[tuple[str, str], int]:
    """How many notes each (product, category) pair has; pairs without any left out."""
    where = _filters(lang=lang, product=None, category=None, public=public)
    stmt = (
        select(_NOTE.c.product, _NOTE.c.category, func.count().label("n"))
        .where(*where)
        .group_by(_NOTE.c.product, _NOTE.c.category)
    )
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        rows = (await conn.execute(stmt)).all()
    return {(product, category): n for product, category, n in rows}
