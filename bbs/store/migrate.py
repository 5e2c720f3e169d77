"""Schema migrations (Alembic), run from code: no alembic.ini needed in the current directory.

Developers add a migration with::

    python -m bbs.store.migrate revision -m "forum tables" --autogenerate --db sqlite:///var/dev.db

then review the new file in ``bbs/store/migrations/versions/``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.store.db import StoreError, describe, engine_scope, transaction

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the board's migrations, optionally bound to a
    connection that is already inside a transaction."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    """The newest revision this code knows."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise StoreError(f"the migrations have {len(heads)} heads, not one: merge them")
    return heads[0]


async def upgrade(target: str | URL | AsyncEngine, revision: str = "head") -> None:
    """Create the schema or bring it to `revision` (the newest by default).

    Idempotent; one transaction, so a failed migration leaves the database as it was.
    Concurrent upgrades queue behind each other.
    """
    await _run(target, command.upgrade, revision)


async def downgrade(target: str | URL | AsyncEngine, revision: str) -> None:
    """Take the schema back to `revision` ("base" drops every table)."""
    await _run(target, command.downgrade, revision)


async def current_revision(target: str | URL | AsyncEngine) -> str | None:
    """The database's schema revision, None before the first upgrade."""
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        return await conn.run_sync(_current)


async def check_schema(conn: AsyncConnection) -> None:
    """Refuse to work on a database whose schema is not the one this code expects."""
    current = await conn.run_sync(_current)
    if current == head_revision():
        return
    where = describe(conn.engine.url)
    if current is None:
        raise StoreError(f"the database {where} has no board tables: run 'bbs db upgrade'")
    raise StoreError(
        f"the database {where} has schema revision {current}, this board needs "
        f"{head_revision()}: run 'bbs db upgrade'"
    )


def _current(conn: Connection) -> str | None:
    heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


async def _run(
    target: str | URL | AsyncEngine, step: Callable[[Config, str], None], revision: str
) -> None:
    def run(conn: Connection) -> None:
        try:
            step(alembic_config(conn), revision)
        except CommandError as e:
            raise StoreError(f"migration {revision}: {e}") from e

    # Foreign keys off (SQLite): batch migrations drop and rename tables, which with
    # enforcement on would cascade deletes into child tables; env.py checks the keys.
    async with (
        engine_scope(target) as engine,
        transaction(engine, write=True, foreign_keys=False) as conn,
    ):
        await conn.run_sync(run)


def main(argv: Sequence[str] | None = None) -> int:
    """Developer commands: upgrade, downgrade, current, revision."""
    parser = argparse.ArgumentParser(prog="python -m bbs.store.migrate")
    parser.add_argument("--db", default="sqlite:///var/bbs.db", help="database URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade").add_argument("revision", nargs="?", default="head")
    sub.add_parser("downgrade").add_argument("revision")
    sub.add_parser("current")
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "upgrade":
            asyncio.run(upgrade(args.db, args.revision))
        elif args.command == "downgrade":
            asyncio.run(downgrade(args.db, args.revision))
        elif args.command == "current":
            print(asyncio.run(current_revision(args.db)) or "(none)")
        else:
            asyncio.run(_revision(args.db, args.message, autogenerate=args.autogenerate))
    except StoreError as e:
        print(f"migrate: {e}", file=sys.stderr)
        return 2
    return 0


async def _revision(url: str, message: str, *, autogenerate: bool) -> None:
    def run(conn: Connection) -> Any:
        return command.revision(alembic_config(conn), message=message, autogenerate=autogenerate)

    async with engine_scope(url) as engine, transaction(engine, write=False) as conn:
        await conn.run_sync(run)


if __name__ == "__main__":
    sys.exit(main())
