"""Loading a directory into the database: one transaction, diffed by natural keys.

Rows whose natural key is new are inserted, rows whose values differ are updated in
place (keeping their ids), rows no longer in the directory are deleted; loading the
same directory twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.directory.model import Directory
from bbs.kb.model import KnowledgeBase
from bbs.kb.store import record_checksum, sync_kb
from bbs.library.model import Library
from bbs.library.store import sync_library
from bbs.store.db import engine_scope, transaction
from bbs.store.mapping import DIRECTORY_TABLES, Key, Row, TableSpec, keyed_rows, logical_row
from bbs.store.migrate import check_schema
from bbs.store.schema import MetaRow
from bbs.store.sync import TableChanges as TableChanges
from bbs.store.sync import delete_ids, differs, insert_rows, update_rows

CHECKSUM_KEY = "directory.checksum"
LOADED_AT_KEY = "directory.loaded_at"


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did, table by table (every directory table and `meta` is listed)."""

    tables: Mapping[str, TableChanges] = field(default_factory=dict)
    checksum: str = ""

    @property
    def inserted(self) -> int:
        """Rows inserted, all tables together."""
        return sum(t.inserted for t in self.tables.values())

    @property
    def updated(self) -> int:
        """Rows updated, all tables together."""
        return sum(t.updated for t in self.tables.values())

    @property
    def deleted(self) -> int:
        """Rows deleted, all tables together."""
        return sum(t.deleted for t in self.tables.values())

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything at all."""
        return any(t.changed for t in self.tables.values())

    def summary(self) -> str:
        """One line for the operator: totals, then the tables that changed."""
        if not self.changed:
            return "data unchanged"
        parts = [
            f"{name} +{t.inserted} ~{t.updated} -{t.deleted}"
            for name, t in self.tables.items()
            if t.changed
        ]
        return (
            f"data loaded: {self.inserted} inserted, {self.updated} updated, "
            f"{self.deleted} deleted ({', '.join(parts)})"
        )


def _checksum(rows: Mapping[str, Mapping[Key, Row]]) -> str:
    canonical = [[spec.name, list(rows[spec.name].values())] for spec in DIRECTORY_TABLES]
    blob = json.dumps(canonical, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


async def load_directory(
    target: str | URL | AsyncEngine,
    directory: Directory,
    library: Library | None = None,
    kb: KnowledgeBase | None = None,
) -> LoadReport:
    """Make the stored directory equal to `directory`, in one transaction.

    With a `library`, the stored technical-notes library is made equal to it in the
    same transaction (`bbs.library.store`); without, the stored library is left alone.
    So with `kb`, the Knowledge base's articles (`bbs.kb.store`); with either, the
    base's content checksum in `meta` follows.
    A failure (bad data, a constraint, a lost connection) leaves the database exactly
    as it was. Raises StoreError for database problems and inconsistent directories.
    """
    desired = keyed_rows(directory)
    checksum = _checksum(desired)
    async with engine_scope(target) as engine, transaction(engine, write=True) as conn:
        await check_schema(conn)
        tables = await _sync_tables(conn, desired)
        changed = any(t.changed for t in tables.values())
        if library is not None:
            tables.update(await sync_library(conn, library))
        if kb is not None:
            tables.update(await sync_kb(conn, kb))
        tables["meta"] = await _sync_meta(conn, checksum, force=changed)
        if library is not None or kb is not None:
            tables["meta"] += await record_checksum(conn)
    return LoadReport(tables=tables, checksum=checksum)


async def load_dir(target: str | URL | AsyncEngine, path: str | Path) -> LoadReport:
    """Read the data files in `path` and load them (see `load_directory`).

    The technical-notes library (`path/library/*.txt` and the `path/files/` they
    refer to) is loaded in the same transaction when `path/library` exists, and so
    is the Knowledge base (`path/kb/*.txt`) when `path/kb` exists.
    """
    # Lazily: the board itself only reads the database, never the data files.
    from bbs.directory.datafiles import read_data_dir
    from bbs.kb.datafiles import KB_DIR, read_kb
    from bbs.library.datafiles import LIBRARY_DIR, read_library

    folder = Path(path)
    directory = read_data_dir(folder)
    library = read_library(folder) if (folder / LIBRARY_DIR).is_dir() else None
    kb = read_kb(folder) if (folder / KB_DIR).is_dir() else None
    return await load_directory(target, directory, library, kb)


async def _sync_tables(
    conn: AsyncConnection, desired: Mapping[str, Mapping[Key, Row]]
) -> dict[str, TableChanges]:
    # Parents are written before children (children need their ids), and deletions
    # wait until the end, children first, so that foreign keys hold at every step.
    ids: dict[str, dict[Key, int]] = {}
    keys: dict[str, dict[int, Key]] = {}
    deletions: list[tuple[Table, list[int]]] = []
    report: dict[str, TableChanges] = {}
    for spec in DIRECTORY_TABLES:
        table = spec.table
        stored: dict[Key, tuple[int, Row]] = {}
        for raw in (await conn.execute(select(table))).mappings():
            row = logical_row(spec, raw, keys)
            stored[spec.key_of(row)] = (raw["id"], row)
        wanted = desired[spec.name]

        new = [_physical(spec, row, ids) for key, row in wanted.items() if key not in stored]
        changed = [
            {"_id": stored[key][0], **_physical(spec, row, ids)}
            for key, row in wanted.items()
            if key in stored and differs(row, stored[key][1])
        ]
        gone = [row_id for key, (row_id, _) in stored.items() if key not in wanted]
        await update_rows(conn, table, changed)
        await insert_rows(conn, table, new)
        deletions.append((table, gone))
        report[spec.name] = TableChanges(len(new), len(changed), len(gone))

        ids[spec.name] = {key: row_id for key, (row_id, _) in stored.items()}
        if new:
            for raw in (await conn.execute(select(table))).mappings():
                ids[spec.name].setdefault(spec.key_of(logical_row(spec, raw, keys)), raw["id"])
        keys[spec.name] = {row_id: key for key, row_id in ids[spec.name].items()}
    for table, gone in reversed(deletions):
        await delete_ids(conn, table, gone)
    return report


def _physical(spec: TableSpec, row: Row, ids: Mapping[str, Mapping[Key, int]]) -> Row:
    out = dict(row)
    for column, parent in spec.parents.items():
        if out[column] is not None:
            out[column] = ids[parent][out[column]]
    return out


async def _sync_meta(conn: AsyncConnection, checksum: str, *, force: bool) -> TableChanges:
    stored = await conn.scalar(select(MetaRow.value).where(MetaRow.key == CHECKSUM_KEY))
    if stored == checksum and not force:
        return TableChanges()
    values = {CHECKSUM_KEY: checksum, LOADED_AT_KEY: datetime.now(UTC).isoformat()}
    existing = set((await conn.scalars(select(MetaRow.key).where(MetaRow.key.in_(values)))).all())
    inserted = updated = 0
    for key, value in values.items():
        if key in existing:
            await conn.execute(update(MetaRow).where(MetaRow.key == key).values(value=value))
            updated += 1
        else:
            await conn.execute(insert(MetaRow).values(key=key, value=value))
            inserted += 1
    return TableChanges(inserted, updated)
