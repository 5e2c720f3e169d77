"""Migrations: idempotent upgrades, downgrades, and a schema equal to the models."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bbs.library.store import LIBRARY_TABLES
from bbs.store.db import StoreError, engine_scope, transaction
from bbs.store.load import load_directory
from bbs.store.mapping import DIRECTORY_TABLES
from bbs.store.migrate import current_revision, downgrade, head_revision, upgrade
from bbs.store.schema import LIVE_TABLES, Base, include_object
from bbs.store.snapshot import read_directory
from tests.store_data import sample_directory

WAIT = 60.0


async def _tables(url: str) -> set[str]:
    async def tables() -> set[str]:
        async with engine_scope(url) as engine, transaction(engine, write=False) as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    return await asyncio.wait_for(tables(), WAIT)


async def revision(url: str) -> str | None:
    return await asyncio.wait_for(current_revision(url), WAIT)


async def test_upgrade_creates_the_schema_and_is_idempotent(db_url: str) -> None:
    assert await revision(db_url) is None
    await asyncio.wait_for(upgrade(db_url), WAIT)
    first = await _tables(db_url)
    await asyncio.wait_for(upgrade(db_url), WAIT)
    assert await _tables(db_url) == first
    # The full-text index (SQLite: FTS5 tables) is made by hand, outside the models.
    modelled = {name for name in first if include_object(None, name, "table", True, None)}
    assert modelled == {*Base.metadata.tables, "alembic_version"}
    assert await revision(db_url) == head_revision() == "0012"


async def test_upgrade_keeps_loaded_data(db_url: str) -> None:
    await asyncio.wait_for(upgrade(db_url), WAIT)
    await asyncio.wait_for(load_directory(db_url, sample_directory()), WAIT)
    await asyncio.wait_for(upgrade(db_url), WAIT)
    assert await asyncio.wait_for(read_directory(db_url), WAIT) == sample_directory()


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    await asyncio.wait_for(upgrade(db_url), WAIT)

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        return list(compare_metadata(context, Base.metadata))

    async def compare() -> list[Any]:
        async with engine_scope(db_url) as engine, transaction(engine, write=False) as conn:
            return await conn.run_sync(differences)

    assert await asyncio.wait_for(compare(), WAIT) == []


async def test_downgrade_to_base_drops_everything_and_upgrade_recreates(db_url: str) -> None:
    await asyncio.wait_for(upgrade(db_url), WAIT)
    await asyncio.wait_for(downgrade(db_url, "base"), WAIT)
    assert await _tables(db_url) <= {"alembic_version"}
    assert await revision(db_url) is None
    await asyncio.wait_for(upgrade(db_url), WAIT)
    assert await revision(db_url) == head_revision()


async def test_concurrent_upgrades_queue_instead_of_failing(db_url: str) -> None:
    await asyncio.wait_for(asyncio.gather(upgrade(db_url), upgrade(db_url)), WAIT)
    assert await revision(db_url) == head_revision()


def test_every_directory_table_is_loaded() -> None:
    loaded = {spec.name for spec in DIRECTORY_TABLES}
    kb_tables = {"kb_article"}
    assert loaded == set(Base.metadata.tables) - {"meta", *LIBRARY_TABLES, *LIVE_TABLES, *kb_tables}


async def test_a_schema_of_another_revision_is_refused(store_url: str) -> None:
    async def stamp() -> None:
        async with engine_scope(store_url) as engine, transaction(engine, write=True) as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    await asyncio.wait_for(stamp(), WAIT)
    with pytest.raises(StoreError, match="has schema revision 9999, this board needs 0012"):
        await asyncio.wait_for(read_directory(store_url), WAIT)
    with pytest.raises(StoreError, match="run 'bbs db upgrade'"):
        await asyncio.wait_for(load_directory(store_url, sample_directory()), WAIT)
