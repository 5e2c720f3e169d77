"""The base's rows: written by `bbs load` inside its one transaction, read back by number.

Articles are diffed on their number as the library's notes are on theirs (the same
`bbs.library.store` helpers do it): loading the same base twice changes nothing.
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

from bbs.kb.model import Article, KnowledgeBase
from bbs.library.search import search_text
from bbs.library.store import KEYWORD_SEPARATOR, NOTE_TABLE
from bbs.library.store import _delete as delete_ids
from bbs.library.store import _sync as sync_rows
from bbs.store.db import StoreError
from bbs.store.load import TableChanges
from bbs.store.schema import KbArticleRow, MetaRow

ARTICLE_TABLE: Table = KbArticleRow.__table__  # type: ignore[assignment]

KB_TABLES: tuple[str, ...] = (ARTICLE_TABLE.name,)
"""The base's tables."""

CHECKSUM_KEY = "kb.checksum"
"""The `meta` key of the base's content checksum."""


def article_row(article: Article) -> dict[str, Any]:
    """The row of an article (without id), its search columns filled."""
    for keyword in article.keywords:
        if "," in keyword or keyword != keyword.strip() or not keyword:
            raise StoreError(f"article {article.reference}: bad keyword {keyword!r}")
    return {
        "number": article.number,
        "lang": article.lang,
        "product": article.product,
        "kind": article.kind,
        "title": article.title,
        "date": article.date,
        "keywords": KEYWORD_SEPARATOR.join(article.keywords),
        "body": article.body,
        "search_title": search_text(article.title),
        "search_keywords": search_text(" ".join(article.keywords)),
        "search_body": search_text(article.body),
    }


def article_from_row(row: Mapping[Any, Any]) -> Article:
    """The article of a stored row."""
    keywords = row["keywords"]
    return Article(
        number=row["number"],
        lang=row["lang"],
        product=row["product"],
        kind=row["kind"],
        title=row["title"],
        date=row["date"],
        keywords=tuple(k.strip() for k in keywords.split(",")) if keywords else (),
        body=row["body"],
    )


async def sync_kb(conn: AsyncConnection, base: KnowledgeBase) -> dict[str, TableChanges]:
    """Make the stored articles equal to `base`, inside the caller's transaction."""
    wanted: dict[tuple[Any, ...], dict[str, Any]] = {}
    for article in base.articles:
        if (article.number,) in wanted:
            raise StoreError(f"the Knowledge base has two articles {article.reference}")
        wanted[(article.number,)] = article_row(article)
    report, gone = await sync_rows(conn, ARTICLE_TABLE, ("number",), wanted)
    await delete_ids(conn, ARTICLE_TABLE, gone)
    return {ARTICLE_TABLE.name: report}


async def content_checksum(conn: AsyncConnection) -> str:
    """A SHA-256 of everything the base serves as stored: articles and library notes."""
    columns = ("number", "lang", "title", "date", "keywords", "body")
    parts: list[list[Any]] = []
    for table, order in ((ARTICLE_TABLE, ("number",)), (NOTE_TABLE, ("number", "lang"))):
        stmt = select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in order))
        parts.append([list(row) for row in (await conn.execute(stmt)).all()])
    blob = json.dumps(parts, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


async def record_checksum(conn: AsyncConnection) -> TableChanges:
    """Store the base's checksum in `meta` when it changed (inside the load)."""
    checksum = await content_checksum(conn)
    stored = await conn.scalar(select(MetaRow.value).where(MetaRow.key == CHECKSUM_KEY))
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
    stmt = select(ARTICLE_TABLE).where(ARTICLE_TABLE.c.number == number)
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else article_from_row(row)


async def all_articles(conn: AsyncConnection) -> list[Article]:
    """Every article, by number."""
    rows = await conn.execute(select(ARTICLE_TABLE).order_by(ARTICLE_TABLE.c.number))
    return [article_from_row(row) for row in rows.mappings()]
