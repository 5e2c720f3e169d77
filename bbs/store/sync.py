"""Making a table's rows equal to wanted ones, diffed on a natural key: every load's sync.

A wanted row whose key is new is inserted, one whose values differ is updated in
place (keeping its id), a stored row whose key is no longer wanted is deleted; the
deletions are left to the caller, so that children can go before their parents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

Row = dict[str, Any]

CHUNK = 500
"""Rows per DELETE ... IN (...): well under every backend's bound-parameter limit."""


@dataclass(frozen=True, slots=True)
class TableChanges:
    """What a load did to one table."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> bool:
        """Whether any row was written."""
        return bool(self.inserted or self.updated or self.deleted)

    def __add__(self, other: TableChanges) -> TableChanges:
        return TableChanges(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.deleted + other.deleted,
        )


def differs(wanted: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether a stored row differs from the wanted one in a column the wanted one has.

    Only those columns: a column a later migration adds for another feature must not
    make every load rewrite every row.
    """
    return any(stored.get(column) != value for column, value in wanted.items())


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """Insert `rows` (none: nothing)."""
    if rows:
        await conn.execute(insert(table), list(rows))


async def update_rows(conn: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """Update rows in place, each found by its ``_id``."""
    if rows:
        await conn.execute(update(table).where(table.c.id == bindparam("_id")), list(rows))


async def delete_ids(conn: AsyncConnection, table: Table, ids: Iterable[int]) -> None:
    """Delete the rows of `table` with these ids, `CHUNK` at a time."""
    pending = sorted(ids)
    for start in range(0, len(pending), CHUNK):
        await conn.execute(delete(table).where(table.c.id.in_(pending[start : start + CHUNK])))


async def sync_rows(
    conn: AsyncConnection,
    table: Table,
    key: Sequence[str],
    wanted: Mapping[tuple[Any, ...], Row],
) -> tuple[TableChanges, list[int]]:
    """Insert and update `table` towards `wanted` (rows by their `key` columns' values);
    the ids of the stored rows to delete are returned, not deleted."""
    stored: dict[tuple[Any, ...], tuple[int, Row]] = {}
    for raw in (await conn.execute(select(table))).mappings():
        stored[tuple(raw[c] for c in key)] = (raw["id"], dict(raw))
    new = [row for k, row in wanted.items() if k not in stored]
    changed = [
        {"_id": stored[k][0], **row}
        for k, row in wanted.items()
        if k in stored and differs(row, stored[k][1])
    ]
    gone = [row_id for k, (row_id, _) in stored.items() if k not in wanted]
    await update_rows(conn, table, changed)
    await insert_rows(conn, table, new)
    return TableChanges(len(new), len(changed), len(gone)), gone
