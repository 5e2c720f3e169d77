"""The document store: tables of documents with folded search columns, synced and searched alike.

The technical-notes library (`bbs.library.store`) and the Knowledge base
(`bbs.kb.store`) are two `Collection`s of it; what they keep besides a title,
keywords and a body, and who may read them, is their own business. Every document
row carries its folded search text (`search_title`, `search_keywords`,
`search_body`); on SQLite, triggers keep the collection's FTS5 table in step within
the same transaction, on PostgreSQL the collection's GIN index over
`POSTGRES_VECTOR` follows the rows by itself. Either way a title word counts more
than a keyword, and a keyword more than a body word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    RowMapping,
    Table,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.documents.query import Query, fts5_query, tsquery
from bbs.documents.text import search_text
from bbs.store.db import StoreError, is_sqlite
from bbs.store.sync import Row, TableChanges, delete_ids, sync_rows

KEYWORD_SEPARATOR = ", "
"""How a document row's `keywords` joins its keywords (a keyword has no comma)."""

WEIGHTS = {"title": 10.0, "keywords": 4.0, "body": 1.0}
"""SQLite bm25 weights of the three indexed columns (PostgreSQL: weights A, B, D)."""

POSTGRES_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_keywords), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'D')"
)
"""The expression migrations 0002 and 0006 index (GIN): queries must use it verbatim."""


@dataclass(frozen=True, slots=True)
class Collection:
    """One configuration of the store: a table of documents and its full-text index.

    `key`: the columns of a document's natural key (what loads diff on and ties
    are broken by); `index_table`: the SQLite FTS5 table whose rowid is the row's id.
    """

    table: Table
    index_table: str
    key: tuple[str, ...]


def document_row(
    name: str, fields: Mapping[str, Any], title: str, keywords: Sequence[str], body: str
) -> Row:
    """The row of a document (without id): its own `fields`, its text and its search
    columns. `name` says which document it is in an error ("note 10158-fr")."""
    for keyword in keywords:
        if "," in keyword or keyword != keyword.strip() or not keyword:
            raise StoreError(f"{name}: bad keyword {keyword!r}")
    return {
        **fields,
        "title": title,
        "keywords": KEYWORD_SEPARATOR.join(keywords),
        "body": body,
        "search_title": search_text(title),
        "search_keywords": search_text(" ".join(keywords)),
        "search_body": search_text(body),
    }


def keywords_of(row: Mapping[Any, Any]) -> tuple[str, ...]:
    """The keywords of a stored document row."""
    keywords: str = row["keywords"]
    return tuple(k.strip() for k in keywords.split(",")) if keywords else ()


async def sync_documents(
    conn: AsyncConnection, collection: Collection, wanted: Mapping[tuple[Any, ...], Row]
) -> tuple[TableChanges, list[int]]:
    """Insert and update the collection's rows towards `wanted` (by natural key); the
    ids to delete are returned (`delete_documents`), for the caller to order."""
    return await sync_rows(conn, collection.table, collection.key, wanted)


async def delete_documents(
    conn: AsyncConnection, collection: Collection, ids: Iterable[int]
) -> None:
    """Delete the collection's rows with these ids."""
    await delete_ids(conn, collection.table, ids)


async def document_rows(
    conn: AsyncConnection, collection: Collection, *where: ColumnElement[bool]
) -> Sequence[RowMapping]:
    """The collection's rows (those matching `where`), by natural key."""
    rows = collection.table
    stmt = select(rows).where(*where).order_by(*(rows.c[k] for k in collection.key))
    return (await conn.execute(stmt)).mappings().all()


def full_text(
    sqlite: bool, query: Query, collection: Collection
) -> tuple[FromClause, ColumnElement[bool], ColumnElement[Any]]:
    """What to select from, the match condition and the relevance (higher is better)
    of `query` over the collection's documents.

    SQLite: the FTS5 table, ranked by bm25 with `WEIGHTS`; PostgreSQL: the weighted
    tsvector `POSTGRES_VECTOR`, by ts_rank.
    """
    rows, index_table = collection.table, collection.index_table
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


async def search_documents(
    conn: AsyncConnection,
    collection: Collection,
    query: Query,
    columns: Sequence[ColumnElement[Any]],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    offset: int = 0,
    limit: int = 20,
) -> tuple[int, Sequence[RowMapping]]:
    """How many of the collection's documents (those matching `where`) match `query`,
    and the `columns` of at most `limit` of them from `offset` on, best first, each
    with its ``relevance``. Ties go to the newer document, then by natural key."""
    rows = collection.table
    source, match, rank = full_text(is_sqlite(conn), query, collection)
    counting = select(func.count()).select_from(source).where(match, *where)
    total = int((await conn.execute(counting)).scalar_one())
    if limit <= 0 or offset >= total:
        return total, []
    stmt = (
        select(*columns, rank.label("relevance"))
        .select_from(source)
        .where(match, *where)
        .order_by(
            literal_column("relevance").desc(),
            rows.c.date.desc(),
            *(rows.c[k] for k in collection.key),
        )
        .offset(offset)
        .limit(limit)
    )
    return total, (await conn.execute(stmt)).mappings().all()
