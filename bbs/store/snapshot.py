"""Reading the stored directory (and library) back, from one consistent snapshot of the database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.directory.model import Directory
from bbs.library.model import Library
from bbs.library.store import library_from
from bbs.store.db import engine_scope, transaction
from bbs.store.mapping import DIRECTORY_TABLES, Key, Row, directory_from_rows, logical_row
from bbs.store.migrate import check_schema
from bbs.store.schema import MetaRow


async def read_directory(target: str | URL | AsyncEngine) -> Directory:
    """The stored directory, its records in the order they were loaded.

    All tables are read in one read transaction, so a load committing meanwhile is
    seen entirely or not at all. An empty database (upgraded, never loaded) gives an
    empty directory. Raises StoreError when the database is unreachable or its schema
    is not at the revision this code expects.
    """
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        await check_schema(conn)
        keys: dict[str, dict[int, Key]] = {}
        rows: dict[str, list[Row]] = {}
        # Parents come before children, so children's foreign keys always resolve.
        for spec in DIRECTORY_TABLES:
            keys[spec.name] = {}
            rows[spec.name] = []
            for raw in await _rows(conn, spec.table):
                row = logical_row(spec, raw, keys)
                keys[spec.name][raw["id"]] = spec.key_of(row)
                rows[spec.name].append(row)
    return directory_from_rows(rows)


async def read_library(target: str | URL | AsyncEngine) -> Library:
    """The stored technical-notes library: notes by number then language, files by
    name; one read transaction. Raises StoreError like `read_directory`."""
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        await check_schema(conn)
        return await library_from(conn)


async def read_meta(target: str | URL | AsyncEngine) -> dict[str, str]:
    """The `meta` table (data checksum, when the directory was loaded, ...)."""
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        await check_schema(conn)
        result = await conn.execute(select(MetaRow.key, MetaRow.value).order_by(MetaRow.key))
        return {key: value for key, value in result}


async def _rows(conn: AsyncConnection, table: Table) -> list[Mapping[Any, Any]]:
    result = await conn.execute(select(table).order_by(table.c.id))
    return list(result.mappings())
