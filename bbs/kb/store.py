"""The base's rows: a `bbs.documents` collection written by `bbs load`, read back by number.

Articles are diffed on their number as the library's notes are on theirs (the same
document store does both): loading the same base twice changes nothing.
The load also records, in `meta`, a checksum of everything the base serves (its
articles and every library note): the CD-ROM edition is built again only when it
changes (`bbs.kb.cdrom`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.documents.store import (
    Collection,
    delete_documents,
    document_row,
    document_rows,
    keywords_of,
    sync_documents,
)
from bbs.kb.model import Article, KnowledgeBase
from bbs.library.store import NOTES
from bbs.store.db import StoreError
from bbs.store.schema import KB_INDEX_TABLE, KbArticleRow, MetaRow
from bbs.store.sync import Row, TableChanges

ARTICLE_TABLE: Table = KbArticleRow.__table__  # type: ignore[assignment]

ARTICLES = Collection(ARTICLE_TABLE, KB_INDEX_TABLE, ("number",))
"""The base's articles as a document collection."""

KB_TABLES: tuple[str, ...] = (ARTICLE_TABLE.name,)
"""The base's tables."""

CHECKSUM_KEY = "kb.checksum"
"""The `meta` key of the base's content checksum."""


def article_row(article: Article) -> Row:
    """The row of an article (without id), its search columns filled."""
    fields = {
        "number": article.number,
        "lang": article.lang,
        "product": article.product,
        "kind": article.kind,
        "date": article.date,
    }
    name = f"article {article.reference}"
    return document_row(name, fields, article.title, article.keywords, article.body)


def article_from_row(row: Mapping[Any, Any]) -> Article:
    """The article of a stored row."""
    return Article(
        number=row["number"],
        lang=row["lang"],
        product=row["product"],
        kind=row["kind"],
        title=row["title"],
        date=row["date"],
        keywords=keywords_of(row),
        body=row["body"],
    )


async def sync_kb(conn: AsyncConnection, base: KnowledgeBase) -> dict[str, TableChanges]:
    """Make the stored articles equal to `base`, inside the caller's transaction."""
    wanted: dict[tuple[Any, ...], Row] = {}
    for article in base.articles:
        if (article.number,) in wanted:
            raise StoreError(f"the Knowledge base has two articles {article.reference}")
        wanted[(article.number,)] = article_row(article)
    report, gone = await sync_documents(conn, ARTICLES, wanted)
    await delete_documents(conn, ARTICLES, gone)
    return {ARTICLE_TABLE.name: report}


async def content_checksum(conn: AsyncConnection) -> str:
    """A SHA-256 of everything the base serves as stored: articles and library notes."""
    columns = ("number", "lang", "title", "date", "keywords", "body")
    parts: list[list[Any]] = []
    for collection in (ARTICLES, NOTES):
        rows = collection.table
        stmt = select(*(rows.c[c] for c in columns)).order_by(*(rows.c[c] for c in collection.key))
        parts.append([list(row) for row in (await conn.execute(stmt)).all()])
    blob = json.dumps(parts, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


async def record_checksum(conn: AsyncConnection) -> TableChanges:
    """Store the base's checksum in `meta` when it changed (inside the load)."""
    checksum = await content_checksum(conn)
    stored = await stored_checksum(conn)
    if stored == checksum:
        return TableChanges()
    if stored is None:
        await conn.execute(insert(MetaRow).values(key=CHECKSUM_KEY, value=checksum))
        return TableChanges(inserted=1)
    await conn.execute(update(MetaRow).where(MetaRow.key == CHECKSUM_KEY).values(value=checksum))
    return TableChanges(updated=1)


async def stored_checksum(conn: AsyncConnection) -> str | None:
    """The checksum the last load recorded; None when the base was never loaded."""
    value: str | None = await conn.scalar(select(MetaRow.value).where(MetaRow.key == CHECKSUM_KEY))
    return value


async def get_article(conn: AsyncConnection, number: int) -> Article | None:
    """Article `number`, or None."""
    rows = await document_rows(conn, ARTICLES, ARTICLE_TABLE.c.number == number)
    return article_from_row(rows[0]) if rows else None


async def all_articles(conn: AsyncConnection) -> list[Article]:
    """Every article, by number."""
    return [article_from_row(row) for row in await document_rows(conn, ARTICLES)]
