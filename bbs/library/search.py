"""Searching and browsing the stored library.

Full-text search ignores case and accents ("memoire" finds "Mémoire"): the loader
stores each note's title, keywords and body folded (`search_text`), and the query
is folded the same way. The query syntax (phrases, ``-mot``, ``OU``/``OR``, ``mot*``)
is `bbs.library.query`'s, shared with the Knowledge base. SQLite matches with the
FTS5 table `library_fts` and ranks with bm25; PostgreSQL matches the weighted
tsvector of the GIN index `ix_library_note_search` and ranks with ts_rank. Either
way a title word counts more than a keyword, and a keyword more than a body word.
A search says how many notes match and returns one page of them (`Results`).

Snippets are plain text, one line, with each matched word between `MARK_OPEN` and
`MARK_CLOSE` (control characters a note never contains); `to_markup` turns them
into the board's ``{em}`` markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Table,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.directory.text import words
from bbs.library.model import Note
from bbs.library.query import MAX_TERM_LENGTH as MAX_TERM_LENGTH
from bbs.library.query import MAX_TERMS as MAX_TERMS
from bbs.library.query import Phrase as Phrase
from bbs.library.query import Query as Query
from bbs.library.query import Term as Term
from bbs.library.query import fts5_query as fts5_query
from bbs.library.query import parse_query as parse_query
from bbs.library.query import tsquery as tsquery
from bbs.store.db import engine_scope, is_sqlite, transaction
from bbs.store.schema import SEARCH_INDEX_TABLE, LibraryNoteRow
from bbs.terminal.markup import escape

MARK_OPEN = "\x02"
"""Starts a matched word in a snippet."""

MARK_CLOSE = "\x03"
"""Ends a matched word in a snippet."""

SNIPPET_WIDTH = 150
"""About how many characters of text a snippet shows (two screen lines)."""

MIN_SNIPPET_WIDTH = 20
"""Narrower widths are widened to this."""

WEIGHTS = {"title": 10.0, "keywords": 4.0, "body": 1.0}
"""SQLite bm25 weights of the three indexed columns (PostgreSQL: weights A, B, D)."""

POSTGRES_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_keywords), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'D')"
)
"""The expression migration 0002 indexes (GIN): queries must use it verbatim."""

Target = str | URL | AsyncEngine

_NOTE: Table = LibraryNoteRow.__table__  # type: ignore[assignment]
# A word of the original text: letters and digits, with any combining marks inside.
_TEXT_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff])+")


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


# --- text ------------------------------------------------------------------------


def search_text(text: str) -> str:
    """`text` as the index stores it: its folded words separated by single spaces,
    "« Mémoire insuffisante » (WK4)" -> "memoire insuffisante wk4"."""
    return " ".join(words(text))


def snippet(
    body: str,
    terms: Sequence[Term],
    *,
    keywords: Sequence[str] = (),
    title: str = "",
    width: int = SNIPPET_WIDTH,
) -> str:
    """A one-line extract of a note with its matched words marked, at most `width`
    characters long without the marks.

    From the body, around the place where most query words are found together; when
    the body has none, the keywords or the title with theirs; failing all, the
    body's beginning.
    """
    width = max(width, MIN_SNIPPET_WIDTH)
    flat = " ".join(body.split())
    for source in (flat, ", ".join(keywords), " ".join(title.split())):
        found = _window(source, terms, width)
        if found is not None:
            return found
    return _shorten(flat, width)


def to_markup(snippet: str) -> str:
    """A snippet as board markup: text escaped, matched words in ``{em}``."""
    out = escape(snippet)
    return out.replace(MARK_OPEN, "{em}").replace(MARK_CLOSE, "{/}")


def unmark(snippet: str, before: str = "", after: str = "") -> str:
    """A snippet with its marks replaced (by nothing, or by `before`/`after`)."""
    return snippet.replace(MARK_OPEN, before).replace(MARK_CLOSE, after)


def _matched(token: str, terms: Sequence[Term]) -> int | None:
    """The index of the term a word of the original text matches, if any."""
    for word in words(token):
        for index, term in enumerate(terms):
            if term.matches(word):
                return index
    return None


def _window(text: str, terms: Sequence[Term], width: int) -> str | None:
    spans = [
        (m.start(), m.end(), index)
        for m in _TEXT_WORD.finditer(text)
        if (index := _matched(m.group(), terms)) is not None
    ]
    if not spans:
        return None
    room = width - 2  # an ellipsis may go at either end
    # The window starting at the match that has the most distinct terms after it.
    best, best_count = 0, 0
    for i, (first, _, _) in enumerate(spans):
        count = len({term for _, end, term in spans[i:] if end <= first + room})
        if count > best_count:
            best, best_count = i, count
    anchor, anchor_end, _ = spans[best]
    # Some words of context before the anchor; more when the text ends soon after.
    start = max(0, min(anchor - room // 4, len(text) - room))
    if start > 0:
        space = text.find(" ", start - 1, anchor)
        start = space + 1 if space != -1 else anchor
    end = start + room
    if end >= len(text):
        end = len(text)
    else:
        space = text.rfind(" ", anchor_end, end + 1)
        if space != -1:
            end = space
    pieces = ["…" if start > 0 else ""]
    at = start
    for first, last, _ in spans:
        if first >= at and last <= end:
            pieces += [text[at:first], MARK_OPEN, text[first:last], MARK_CLOSE]
            at = last
    pieces += [text[at:end], "…" if end < len(text) else ""]
    return "".join(pieces)


def _shorten(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    space = text.rfind(" ", 0, width)
    return text[: space if space > 0 else width - 1] + "…"


# --- queries ---------------------------------------------------------------------


def _filters(
    stmt: Select[Any],
    *,
    lang: str | None,
    product: str | None,
    category: str | None,
    public: bool | None,
) -> Select[Any]:
    if lang is not None:
        stmt = stmt.where(_NOTE.c.lang == lang)
    if product is not None:
        stmt = stmt.where(_NOTE.c.product == product)
    if category is not None:
        stmt = stmt.where(_NOTE.c.category == category)
    if public is not None:
        stmt = stmt.where(_NOTE.c.public == public)
    return stmt


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


def full_text(
    sqlite: bool, query: Query, index_table: str, rows: Table
) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]]:
    """What to select from, the match condition and the relevance (higher is better)
    of `query` over a table of documents `rows` with folded ``search_*`` columns.

    SQLite: the FTS5 table `index_table` (whose rowid is `rows.id`), ranked by bm25
    with `WEIGHTS`; PostgreSQL: the weighted tsvector `POSTGRES_VECTOR`, by ts_rank.
    """
    if sqlite:
        fts = table(index_table, column("rowid", Integer))
        score = func.bm25(
            literal_column(index_table), *(literal_column(repr(w)) for w in WEIGHTS.values())
        )
        match = literal_column(index_table).op("MATCH")(
            bindparam(f"{index_table}_match", fts5_query(query))
        )
        return fts.join(rows, rows.c.id == fts.c.rowid), match, -score
    tsq = func.to_tsquery(
        literal_column("'simple'::regconfig"), bindparam(f"{rows.name}_tsq", tsquery(query))
    )
    vector: ColumnElement[Any] = literal_column(f"({POSTGRES_VECTOR})")
    return rows, vector.op("@@")(tsq), func.ts_rank(vector, tsq)


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
    """The notes matching the query `text` (`bbs.library.query`'s syntax), best first:
    how many there are, and at most `limit` of them from `offset` on.

    Filters: language, product and category codes, and `public` (True: only the
    notes of the public library; False: only Knowledge-base ones; None: all).
    Ties go to the newer note. Raises StoreError for database problems only.
    """
    query = parse_query(text)
    offset = max(offset, 0)
    if not query:
        return Results(0, offset, ())
    async with engine_scope(engine_or_url) as engine, transaction(engine, write=False) as conn:
        source, match, rank = full_text(is_sqlite(conn), query, SEARCH_INDEX_TABLE, _NOTE)
        counting = _filters(
            select(func.count()).select_from(source).where(match),
            lang=lang,
            product=product,
            category=category,
            public=public,
        )
        total = int((await conn.execute(counting)).scalar_one())
        rows: Sequence[Mapping[str, Any]] = []
        if limit > 0 and offset < total:
            stmt = _filters(
                select(*_HIT_COLUMNS, rank.label("relevance")).select_from(source).where(match),
                lang=lang,
                product=product,
                category=category,
                public=public,
            )
            stmt = (
                stmt.order_by(
                    literal_column("relevance").desc(),
                    _NOTE.c.date.desc(),
                    _NOTE.c.number,
                    _NOTE.c.lang,
                )
                .offset(offset)
                .limit(limit)
            )
            rows = (await conn.execute(stmt)).mappings().all()
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


def row_snippet(row: Mapping[Any, Any], terms: Sequence[Term], width: int) -> str:
    """The snippet of a stored document row (body, comma-joined keywords, title) for
    the search `terms`: the library's notes and the Knowledge base's articles alike."""
    return snippet(
        row["body"],
        terms,
        keywords=[k.strip() for k in row["keywords"].split(",")],
        title=row["title"],
        width=width,
    )


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
    stmt = _filters(
        select(*_SUMMARY_COLUMNS), lang=lang, product=product, category=category, public=public
    )
    return await _summaries(target, stmt, limit)


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
    stmt = _filters(
        select(*_SUMMARY_COLUMNS), lang=lang, product=product, category=category, public=public
    )
    return await _summaries(target, stmt, limit)


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
    stmt = _filters(
        select(*_SUMMARY_COLUMNS).where(_NOTE.c.date >= day),
        lang=lang,
        product=product,
        category=category,
        public=public,
    )
    return await _summaries(target, stmt, limit)


async def notes_changed_since(
    target: Target, when: datetime, *, public: bool | None = None, limit: int | None = None
) -> list[NoteSummary]:
    """The notes a load added or changed after `when` (a caller's last visit), newest
    change first: what is new on this board, whatever the notes' own dates."""
    stmt = _filters(
        select(*_SUMMARY_COLUMNS)
        .where(_NOTE.c.changed_at > when)
        .order_by(_NOTE.c.changed_at.desc(), _NOTE.c.number, _NOTE.c.lang),
        lang=None,
        product=None,
        category=None,
        public=public,
    )
    return await _summaries(target, stmt, limit)


async def notes_with_file(
    target: Target, name: str, *, public: bool | None = None
) -> list[NoteSummary]:
    """The notes that offer the file `name` for download, newest first."""
    stmt = _filters(
        select(*_SUMMARY_COLUMNS).where(_NOTE.c.file == name),
        lang=None,
        product=None,
        category=None,
        public=public,
    )
    return await _summaries(target, stmt, None)


async def get_note(target: Target, number: int, lang: str) -> Note | None:
    """The note `number` in `lang`, or None."""
    from bbs.library.store import note_from_row

    stmt = select(_NOTE).where(_NOTE.c.number == number, _NOTE.c.lang == lang)
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else note_from_row(row)


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
    stmt = _filters(
        select(_NOTE.c.product, _NOTE.c.category, func.count().label("n")).group_by(
            _NOTE.c.product, _NOTE.c.category
        ),
        lang=lang,
        product=None,
        category=None,
        public=public,
    )
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        rows = (await conn.execute(stmt)).all()
    return {(product, category): n for product, category, n in rows}
