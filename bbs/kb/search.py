"""Searching the Lotus Knowledge base: its own articles and every library note.

The base is the library's search turned on more material: the same folded words,
the same query syntax (`bbs.library.query`: every word required, "phrases",
``-mot``, ``OU``/``OR``, ``mot*``, accents and case ignored) and the same snippets,
all from `bbs.library`. Articles are matched through migration 0006's index (FTS5
`kb_fts` on SQLite, the GIN index `ix_kb_article_search` on PostgreSQL); library
notes, public or Knowledge-base-only, through the library's own `search_notes`.
The two lists are merged by relevance, newer first on ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import RowMapping, func, literal_column, select

from bbs.kb.model import PREFIX
from bbs.kb.store import ARTICLE_TABLE
from bbs.library.query import parse_query
from bbs.library.search import (
    SNIPPET_WIDTH,
    Target,
    full_text,
    row_snippet,
    search_library,
)
from bbs.store.db import engine_scope, is_sqlite, transaction
from bbs.store.schema import KB_INDEX_TABLE

Source = Literal["kb", "library"]

_ART = ARTICLE_TABLE
_COLUMNS = (
    _ART.c.number,
    _ART.c.lang,
    _ART.c.title,
    _ART.c.product,
    _ART.c.kind,
    _ART.c.date,
    _ART.c.keywords,
    _ART.c.body,
)


@dataclass(frozen=True, slots=True)
class KbHit:
    """A document of the base a search found, best first.

    `source`: an article of the base ("kb", `kind` a `bbs.kb.model` kind) or a
    library note ("library", `kind` its category). `rank` grows with relevance.
    """

    source: Source
    number: int
    lang: str
    title: str
    product: str
    kind: str
    date: date
    snippet: str
    rank: float

    @property
    def reference(self) -> str:
        """How the base prints it: KB-1042 for an article, 10158 for a note."""
        return f"{PREFIX}{self.number:04d}" if self.source == "kb" else f"{self.number:05d}"


@dataclass(frozen=True, slots=True)
class KbResults:
    """One page of a search of the base: `total` documents match (articles and notes),
    `hits` are those from `offset` on."""

    total: int
    offset: int
    hits: tuple[KbHit, ...]


async def search_kb(
    target: Target,
    text: str,
    *,
    offset: int = 0,
    limit: int = 20,
    snippet_width: int = SNIPPET_WIDTH,
) -> KbResults:
    """The documents of the base matching the query `text`, best first: how many, and
    at most `limit` of them from `offset` on.

    Raises StoreError for database problems only; a query without words finds nothing.
    """
    query = parse_query(text)
    offset = max(offset, 0)
    if not query:
        return KbResults(0, offset, ())
    # The merged page is among the first offset + limit of each list.
    wanted = offset + max(limit, 0)
    async with engine_scope(target) as engine:
        async with transaction(engine, write=False) as conn:
            source, match, rank = full_text(is_sqlite(conn), query, KB_INDEX_TABLE, _ART)
            counting = select(func.count()).select_from(source).where(match)
            total = int((await conn.execute(counting)).scalar_one())
            stmt = (
                select(*_COLUMNS, rank.label("relevance"))
                .select_from(source)
                .where(match)
                .order_by(literal_column("relevance").desc(), _ART.c.date.desc(), _ART.c.number)
                .limit(wanted)
            )
            rows: Sequence[RowMapping] = []
            if wanted:
                rows = (await conn.execute(stmt)).mappings().all()
        notes = await search_library(engine, text, limit=wanted, snippet_width=snippet_width)
    terms = query.terms
    hits = [
        KbHit(
            source="kb",
            number=row["number"],
            lang=row["lang"],
            title=row["title"],
            product=row["product"],
            kind=row["kind"],
            date=row["date"],
            snippet=row_snippet(row, terms, snippet_width),
            rank=float(row["relevance"]),
        )
        for row in rows
    ]
    hits += [
        KbHit(
            source="library",
            number=n.number,
            lang=n.lang,
            title=n.title,
            product=n.product,
            kind=n.category,
            date=n.date,
            snippet=n.snippet,
            rank=n.rank,
        )
        for n in notes.hits
    ]
    hits.sort(key=lambda h: (-h.rank, -h.date.toordinal(), h.source, h.number, h.lang))
    return KbResults(total + notes.total, offset, tuple(hits[offset:wanted]))


async def search_base(
    target: Target, text: str, *, limit: int = 20, snippet_width: int = SNIPPET_WIDTH
) -> list[KbHit]:
    """The first hits of `search_kb` alone."""
    results = await search_kb(target, text, limit=limit, snippet_width=snippet_width)
    return list(results.hits)
