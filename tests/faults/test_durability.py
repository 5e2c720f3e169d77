"""The SQLite durability setting the README promises: WAL with synchronous=FULL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bbs.store.db import make_engine, transaction


async def test_board_connections_use_wal_and_full_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bbs.db'}")
    try:
        for write in (False, True):
            async with transaction(engine, write=write) as conn:
                mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
                sync = (await conn.execute(text("PRAGMA synchronous"))).scalar_one()
                assert (mode, sync) == ("wal", 2)  # 2 is FULL
    finally:
        await engine.dispose()
