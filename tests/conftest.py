"""Shared fixtures.

Databases: `pg_server` (one throwaway PostgreSQL per test session), `pg_url` (a
fresh empty database on it), `sqlite_url` (a fresh file), `db_url`, which runs a
test once on each backend, and `store_url`, the same with the schema created.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture
async def store_url(db_url: str) -> AsyncIterator[str]:
    """A `db_url` database with the board's schema, upgraded to head, and no data."""
    from bbs.store.migrate import upgrade

    await asyncio.wait_for(upgrade(db_url), 60)
    yield db_url
