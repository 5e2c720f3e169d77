"""Alembic environment of the board's store.

`bbs.store.migrate` hands over a connection already inside the write transaction
(``config.attributes["connection"]``), so a whole upgrade commits or rolls back as
one. Run by the `alembic` command instead, it opens that transaction itself from
``-x url=...`` or the ``sqlalchemy.url`` option.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bbs.store.db import StoreError, database_url, engine_scope, transaction
from bbs.store.schema import Base, include_object

config = context.config


def run_on(connection: Connection) -> None:
    """Run the pending migrations on a connection inside a transaction."""
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters most things only by rebuilding the table: batch mode does that.
        render_as_batch=sqlite,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        # Foreign keys are off while tables are rebuilt; refuse to commit broken ones.
        broken = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            raise StoreError(
                f"migration left {len(broken)} broken foreign keys "
                f"(first: {table} row {rowid} -> {parent})"
            )


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise StoreError("no database URL: pass -x url=sqlite:///var/bbs.db or set sqlalchemy.url")
    return url


async def _run_from_url(url: str) -> None:
    async with (
        engine_scope(url) as engine,
        transaction(engine, write=True, foreign_keys=False) as conn,
    ):
        await conn.run_sync(run_on)


def _run_offline(url: str) -> None:
    full = database_url(url)
    context.configure(
        url=full,
        target_metadata=Base.metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=full.get_backend_name() == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline(_url())
elif (handed := config.attributes.get("connection")) is not None:
    run_on(handed)
else:
    asyncio.run(_run_from_url(_url()))
