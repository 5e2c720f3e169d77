"""Searching the Lotus Knowledge base: its own articles and every library note.

The base is the library's search turned on more material: the same folded words,
the same query rules (every word required, ``mot*`` a prefix, accents and case
ignored, anything else only separates words) and the same snippets, all from
`bbs.library.search`. Articles are matched through migration 0006's index (FTS5
`kb_fts` on SQLite, the GIN index `ix_kb_article_search` on PostgreSQL); library
notes, public or Knowledge-base-only, through the library's own `search_notes`.
The two lists are merged by relevance, newer first on ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy import text as sql_text

from bbs.kb.model import PREFIX
from bbs.kb.store import ARTICLE_TABLE
from bbs.library.search import (
    POSTGRES_VECTOR,
    SNIPPET_WIDTH,
    WEIGHTS,
    Target,
    fts5_query,
    parse_query,
    row_snippet,
    search_notes,
    tsquery,
)
from bbs.store.db import engine_scope, is_sqlite, transaction
from bbs.store.schema import KB_INDEX_TABLE

Source = Literal["kb", "library"]

_ART = ARTICLE_TABLE
_FTS = table(KB_INDEX_TABLE, column("rowid", Integer))
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


async def search_base(
    target: Target, text: str, *, limit: int = 20, snippet_width: int = SNIPPET_WIDTH
) -> list[KbHit]:
    """The documents of the base matching every word of `text`, best first.

    Raises StoreError for database problems only; a query without words finds nothing.
    """
    terms = parse_query(text)
    if not terms or limit <= 0:
        return []
    async with engine_scope(target) as engine:
        async with transaction(engine, write=False) as conn:
            if is_sqlite(conn):
                score = func.bm25(
                    literal_column(KB_INDEX_TABLE),
                    *(literal_column(repr(w)) for w in WEIGHTS.values()),
                )
                rank: ColumnElement[Any] = -score
                stmt: Select[Any] = (
                    select(*_COLUMNS, rank.label("relevance"))
                    .select_from(_FTS.join(_ART, _ART.c.id == _FTS.c.rowid))
                    .where(
                        sql_text(f"{KB_INDEX_TABLE} MATCH :match").bindparams(
                            match=fts5_query(terms)
                        )
                    )
                )
                params: dict[str, str] = {}
            else:
                query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("tsq"))
                vector: ColumnElement[Any] = literal_column(f"({POSTGRES_VECTOR})")
                rank = func.ts_rank(vector, query)
                stmt = select(*_COLUMNS, rank.label("relevance")).where(vector.op("@@")(query))
                params = {"tsq": tsquery(terms)}
            stmt = stmt.order_by(
                literal_column("relevance").desc(), _ART.c.date.desc(), _ART.c.number
            ).limit(limit)
            rows = (await conn.execute(stmt, params)).mappings().all()
        notes = await search_notes(engine, text, limit=limit, snippet_width=snippet_width)
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
        for n in notes
    ]
    hits.sort(key=lambda h: (-h.rank, -h.date.toordinal(), h.source, h.number, h.lang))
    return hits[:limit]
