"""Database URLs, engines, SQLite settings and one-line errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.store.db import (
    StoreError,
    database_url,
    describe,
    engine_scope,
    make_engine,
    transaction,
)
from bbs.store.migrate import upgrade
from bbs.store.snapshot import read_directory

WAIT = 30.0


def test_relative_sqlite_path_is_relative_to_cwd_and_parent_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = database_url("sqlite:///var/sub/bbs.db")
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(tmp_path / "var" / "sub" / "bbs.db")
    assert (tmp_path / "var" / "sub").is_dir()


def test_absolute_and_memory_sqlite_urls(tmp_path: Path) -> None:
    absolute = database_url(f"sqlite:///{tmp_path}/x/bbs.db")
    assert absolute.database == f"{tmp_path}/x/bbs.db"
    assert database_url("sqlite:///:memory:").database == ":memory:"
    assert database_url("sqlite://").database == ":memory:"
    assert database_url("sqlite+aiosqlite:///:memory:").drivername == "sqlite+aiosqlite"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bbs:secret@db.example:5433/bbs",
        "postgres://bbs:secret@db.example:5433/bbs",
        "postgresql+psycopg2://bbs:secret@db.example:5433/bbs",
        "postgresql+asyncpg://bbs:secret@db.example:5433/bbs",
    ],
)
def test_postgresql_urls_use_asyncpg(url: str) -> None:
    full = database_url(url)
    assert full.drivername == "postgresql+asyncpg"
    assert (full.username, full.password, full.host, full.port, full.database) == (
        "bbs",
        "secret",
        "db.example",
        5433,
        "bbs",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:p@host/db", "unsupported database URL"),
        ("not a url", "invalid database URL"),
        ("postgresql://u@host:5432", "names no database"),
    ],
)
def test_bad_urls_are_store_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        database_url(url)


def test_descriptions_hide_passwords() -> None:
    assert "secret" not in describe("postgresql://bbs:secret@host/db")
    assert "***" in describe("postgresql://bbs:secret@host/db")


async def pragmas(url: str, *names: str) -> list[Any]:
    async def read() -> list[Any]:
        async with engine_scope(url) as engine, transaction(engine, write=False) as conn:
            return [(await conn.exec_driver_sql(f"PRAGMA {n}")).scalar() for n in names]

    return await asyncio.wait_for(read(), WAIT)


async def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url: str) -> None:
    mode, keys, busy = await pragmas(sqlite_url, "journal_mode", "foreign_keys", "busy_timeout")
    assert (mode, keys) == ("wal", 1)
    assert busy >= 1000


async def test_sqlite_reads_are_in_a_real_transaction(sqlite_url: str) -> None:
    # sqlite3's default would leave a SELECT outside any transaction, so a reader
    # could see two different versions of the database in one "transaction".
    async def in_transaction() -> bool:
        async with engine_scope(sqlite_url) as engine, transaction(engine, write=False) as conn:
            await conn.execute(text("SELECT 1"))
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            return bool(raw.driver_connection.in_transaction)

    assert await asyncio.wait_for(in_transaction(), WAIT)


async def test_unreachable_postgresql_is_one_line_without_password() -> None:
    with pytest.raises(StoreError) as info:
        await asyncio.wait_for(upgrade("postgresql://bbs:secret@127.0.0.1:1/bbs"), WAIT)
    message = str(info.value)
    assert message.startswith("cannot connect to postgresql+asyncpg://bbs:***@127.0.0.1:1/bbs")
    assert "\n" not in message
    assert "secret" not in message


async def test_unopenable_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot connect to sqlite"):
        await asyncio.wait_for(upgrade(f"sqlite:///{tmp_path}/dir.db"), WAIT)


async def test_reading_a_database_never_upgraded_says_what_to_do(db_url: str) -> None:
    with pytest.raises(StoreError, match="has no board tables: run 'bbs db upgrade'"):
        await asyncio.wait_for(read_directory(db_url), WAIT)


async def test_first_connections_racing_on_a_new_file_all_succeed(tmp_path: Path) -> None:
    # SQLite fails all but one of several connections converting a new file to WAL.
    for round_ in range(30):
        engines = [make_engine(f"sqlite:///{tmp_path}/{round_}.db") for _ in range(5)]

        async def use(engine: AsyncEngine) -> None:
            async with transaction(engine, write=True) as conn:
                await conn.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(asyncio.gather(*(use(e) for e in engines)), WAIT)
        finally:
            for engine in engines:
                await engine.dispose()
        assert await pragmas(f"sqlite:///{tmp_path}/{round_}.db", "journal_mode") == ["wal"]
