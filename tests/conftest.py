"""Shared fixtures.

Databases: `pg_server` (one throwaway PostgreSQL per test session), `pg_url` (a
fresh empty database on it), `sqlite_url` (a fresh file), `db_url`, which runs a
test once on each backend, and `store_url`, the same with the schema created.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import PgServer, PgUnavailable, start_server

# --- databases -------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL server for the whole session; the tests fail if it cannot start."""
    try:
        server = start_server()
    except PgUnavailable as e:
        problem = str(e)
    else:
        try:
            yield server
        finally:
            server.stop()
        return
    # Outside the except block, so the report is the reason alone, not a chain.
    pytest.fail(f"cannot start the throwaway PostgreSQL: {problem}", pytrace=False)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    try:
        url = pg_server.create_database()
    except PgUnavailable as e:
        problem = str(e)
    else:
        yield url
        pg_server.drop_database(url)
        return
    pytest.fail(f"cannot create a PostgreSQL database: {problem}", pytrace=False)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite database file (created on first use)."""
    return f"sqlite:///{tmp_path / 'bbs.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database URL, on SQLite and then on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """The name of a PostgreSQL database migrated to head once, copied by `store_url`."""
    from bbs.store.migrate import upgrade

    url = pg_server.create_database()
    asyncio.run(asyncio.wait_for(upgrade(url), 60))
    return url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once, copied by `store_url`."""
    from bbs.store.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "head.db"
    asyncio.run(asyncio.wait_for(upgrade(f"sqlite:///{path}"), 60))
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def store_url(request: pytest.FixtureRequest, db_url: str) -> str:
    """A `db_url` database with the board's schema at head and no data (a copy of a
    database migrated once per test session: migrating each one took most of the time)."""
    if db_url.startswith("sqlite:///"):
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, db_url.removeprefix("sqlite:///"))
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        server.refill_database(db_url, request.getfixturevalue("pg_template"))
    return db_url
