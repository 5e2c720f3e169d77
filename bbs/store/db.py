"""Database URLs, engines and transactions for the board's store (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_DRIVER = "sqlite+aiosqlite"
POSTGRES_DRIVER = "postgresql+asyncpg"

BUSY_TIMEOUT_S = 10.0
"""How long a SQLite writer waits for another writer before giving up."""

CONNECT_TIMEOUT_S = 10.0
"""How long a PostgreSQL connection attempt may take."""

# One fixed key for pg_advisory_xact_lock: writers of the store queue behind each other.
_PG_WRITE_LOCK = 0x4C6F747573  # "Lotus"

# Execution options read by the SQLite BEGIN hook: the BEGIN mode (IMMEDIATE takes
# the write lock at once) and whether foreign keys are enforced in that transaction.
_SQLITE_BEGIN = "lotus_sqlite_begin"
_SQLITE_FOREIGN_KEYS = "lotus_sqlite_foreign_keys"


class StoreError(Exception):
    """A database problem worth one line to a user: bad URL, unreachable server, bad schema."""


def database_url(url: str | URL) -> URL:
    """The async-driver URL for a user's database URL.

    Accepts ``sqlite:///relative/or/absolute.db`` (relative to the current directory,
    whose parent directory is created), ``sqlite:///:memory:``, and
    ``postgresql://user:pass@host:port/db`` (also ``postgres://`` or any
    ``postgresql+driver://``).
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except exc.ArgumentError as e:
        raise StoreError(f"invalid database URL {str(url)!r}: {_first_line(e)}") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_url(parsed)
    if backend in ("postgresql", "postgres"):
        if not parsed.database:
            raise StoreError(f"database URL {describe(parsed)} names no database")
        return parsed.set(drivername=POSTGRES_DRIVER)
    raise StoreError(
        f"unsupported database URL {describe(parsed)}: "
        "use sqlite:///path/to/file.db or postgresql://user:pass@host:port/db"
    )


def _sqlite_url(parsed: URL) -> URL:
    db = parsed.database or ":memory:"
    if db != ":memory:" and not db.startswith("file:"):
        path = Path(db).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the directory for {path}: {e.strerror}") from e
        db = str(path)
    return parsed.set(drivername=SQLITE_DRIVER, database=db)


def describe(url: str | URL) -> str:
    """The URL for messages and logs, password hidden."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except exc.ArgumentError:
            return repr(url)
    return url.render_as_string(hide_password=True)


def is_sqlite(engine: AsyncEngine | AsyncConnection) -> bool:
    """Whether the engine or connection talks to SQLite."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """A new AsyncEngine for a user's database URL; the caller disposes of it.

    SQLite connections run in WAL mode with foreign keys on and a busy timeout, and
    SQLAlchemy (not the sqlite3 module) emits BEGIN, so that reads, DDL and writes all
    happen inside real transactions.
    """
    full = database_url(url)
    if full.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("timeout", BUSY_TIMEOUT_S)
        engine = create_async_engine(full, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("connect_args", {}).setdefault("timeout", CONNECT_TIMEOUT_S)
    # After a server restart or pg_terminate_backend, pooled connections are dead: a
    # ping at checkout replaces them, so the first query after the outage works.
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(full, **kwargs)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's own transaction handling skips BEGIN before SELECT and DDL, which
    # breaks snapshot reads and atomic migrations; SQLAlchemy emits BEGIN instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets readers keep reading while a load writes; memory databases ignore it.
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except Exception as e:
            # First connections racing to convert a new file: SQLite fails all but one
            # at once rather than risk a deadlock. The mode is stored in the file, so
            # the winner's conversion applies to this connection too.
            if "locked" not in str(e):
                raise
        # FULL: each commit is on disk before the caller is told it is done, so a power
        # cut cannot undo a confirmed post or spent credit (NORMAL only survives a crash
        # of the process). Set here because the default depends on how SQLite was built.
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    # The pragma is a no-op inside a transaction, so it is set before every BEGIN; this
    # also turns enforcement back on for the pool after a migration turned it off.
    enforce = "ON" if options.get(_SQLITE_FOREIGN_KEYS, True) else "OFF"
    conn.exec_driver_sql(f"PRAGMA foreign_keys={enforce}")
    conn.exec_driver_sql(f"BEGIN {options.get(_SQLITE_BEGIN, 'DEFERRED')}")


@asynccontextmanager
async def engine_scope(target: str | URL | AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The given engine, or a new one for a URL that is disposed of on exit."""
    if isinstance(target, AsyncEngine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction(
    engine: AsyncEngine, *, write: bool, foreign_keys: bool = True, store_lock: bool = True
) -> AsyncIterator[AsyncConnection]:
    """One transaction, committed when the block ends normally, rolled back otherwise.

    A write transaction holds the store's write lock from its start (SQLite: BEGIN
    IMMEDIATE; PostgreSQL: a transaction-level advisory lock) so that concurrent
    loaders queue instead of diffing against rows another is replacing. A read
    transaction sees one snapshot throughout (PostgreSQL: REPEATABLE READ, READ ONLY).
    Database errors leave as StoreError, with the driver's error as the cause.

    ``store_lock=False`` is for the board's everyday writes (accounts, incidents,
    posts): on PostgreSQL they skip the store-wide advisory lock and rely on row
    locks (``SELECT ... FOR UPDATE``) or conditional updates instead; on SQLite a
    write transaction is always BEGIN IMMEDIATE, one writer at a time.

    ``foreign_keys=False`` is for SQLite schema migrations that rebuild tables (drop
    and rename), which would otherwise cascade deletes into child tables; such a
    migration checks the keys itself before committing.
    """
    try:
        conn = await engine.connect()
    except (TimeoutError, exc.DBAPIError, OSError) as e:
        raise StoreError(f"cannot connect to {describe(engine.url)}: {_first_line(e)}") from e
    try:
        if is_sqlite(conn):
            await conn.execution_options(
                **{
                    _SQLITE_BEGIN: "IMMEDIATE" if write else "DEFERRED",
                    _SQLITE_FOREIGN_KEYS: foreign_keys,
                }
            )
        elif not write:
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        async with conn.begin():
            if write and store_lock and not is_sqlite(conn):
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITE_LOCK}
                )
            yield conn
    except (TimeoutError, exc.DBAPIError, OSError) as e:
        raise StoreError(f"database {describe(engine.url)}: {_first_line(e)}") from e
    finally:
        await conn.close()


def disk_full(error: BaseException) -> bool:
    """Whether a store error came from a full disk (SQLite SQLITE_FULL, PostgreSQL 53100)."""
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlite_errorcode", None) == _SQLITE_FULL:
            return True
        if getattr(seen, "sqlstate", None) == "53100":
            return True
        seen = seen.orig if isinstance(seen, exc.DBAPIError) else seen.__cause__
    return False


_SQLITE_FULL = 13


def _first_line(e: BaseException) -> str:
    # SQLAlchemy wraps driver errors and appends SQL and a help link; users get the
    # driver's own first line.
    inner = e.orig if isinstance(e, exc.DBAPIError) and e.orig is not None else e
    lines = str(inner).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first or type(inner).__name__
