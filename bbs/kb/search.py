"""Searching the Lotus Knowledge base: its own articles and every library note.

The base searches two collections of the document store (`bbs.documents`) with the
same folded words, query syntax (every word required, "phrases", ``-mot``,
``OU``/``OR``, ``mot*``, accents and case ignored) and snippets: its articles
(FTS5 `kb_fts` on SQLite, the GIN index `ix_kb_article_search` on PostgreSQL) and
the library's notes, public or Knowledge-base-only (`search_library`). The two
lists are merged by relevance, newer first on ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from bbs.documents.query import parse_query
from bbs.documents.store import search_documents
from bbs.documents.text import SNIPPET_WIDTH, row_snippet
from bbs.kb.model import PREFIX
from bbs.kb.store import ARTICLE_TABLE, ARTICLES
from bbs.library.search import Target, search_library
from bbs.store.db import engine_scope, transaction

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
            total, rows = await search_documents(conn, ARTICLES, query, _COLUMNS, limit=wanted)
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
