"""Failed sign-ins per name: exponential waits, then a lock that ends by itself.

Rows are keyed by the name key whether or not an account has that name, so that a
stranger learns nothing from how the board answers, and live in the database, so that
every node sees them. An attempt is counted *before* its password is checked (a
success then forgets the row): two lines trying the same name at once cannot both get
in ahead of the wait.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.accounts.store import THROTTLE

MAX_DELAY = 60.0
"""Seconds: the longest wait between two attempts for one name."""
LOCK_AFTER = 10
"""Failures in a row that lock the name."""
LOCK_FOR = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
"""Rows this old with no lock in force are pruned."""


def delay_after(failures: int) -> float:
    """Seconds the next attempt waits after `failures` failures in a row: 1, 2, 4 ... 60."""
    if failures <= 0:
        return 0.0
    return min(2.0 ** (failures - 1), MAX_DELAY)


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether an attempt may check its password, and if not, for how long it must wait."""

    allowed: bool
    wait: int = 0
    """Whole seconds to wait (rounded up) when not allowed."""
    locked: bool = False
    """Refused because the name is locked, not merely slowed down."""


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


async def claim(conn: AsyncConnection, key: str, now: datetime) -> Gate:
    """Count an attempt for `key` if its wait is over (inside a write transaction)."""
    values = {"name_key": key, "failures": 0, "last_failure_at": now, "locked_until": None}
    stmt = (
        postgresql.insert(THROTTLE)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(THROTTLE)
    )
    await conn.execute(stmt.values(**values).on_conflict_do_nothing(index_elements=["name_key"]))
    row = (
        await conn.execute(select(THROTTLE).where(THROTTLE.c.name_key == key).with_for_update())
    ).one()
    failures = int(row.failures)
    if row.locked_until is not None:
        if row.locked_until > now:
            return Gate(False, _seconds(row.locked_until - now), locked=True)
        failures = 0  # the lock is over: a fresh start, as if the name were new
    else:
        ready_at = row.last_failure_at + timedelta(seconds=delay_after(failures))
        if now < ready_at:
            return Gate(False, _seconds(ready_at - now))
    await conn.execute(
        update(THROTTLE)
        .where(THROTTLE.c.name_key == key)
        .values(failures=failures + 1, last_failure_at=now, locked_until=None)
    )
    return Gate(True)


async def failed(conn: AsyncConnection, key: str, now: datetime) -> bool:
    """After a claimed attempt failed: lock the name when it has failed too often.

    True when this failure locked it. Also prunes old rows of other names.
    """
    locked = await conn.execute(
        update(THROTTLE)
        .where(THROTTLE.c.name_key == key, THROTTLE.c.failures >= LOCK_AFTER)
        .values(locked_until=now + LOCK_FOR)
    )
    await conn.execute(
        delete(THROTTLE).where(
            THROTTLE.c.last_failure_at < now - FORGET_AFTER,
            (THROTTLE.c.locked_until.is_(None)) | (THROTTLE.c.locked_until < now),
        )
    )
    return bool(locked.rowcount)


async def throttled(conn: AsyncConnection, now: datetime) -> dict[str, tuple[int, datetime | None]]:
    """Names with failures: key -> (failures, locked until, when a lock is in force)."""
    rows = (await conn.execute(select(THROTTLE).where(THROTTLE.c.failures > 0))).all()
    return {
        r.name_key: (
            int(r.failures),
            r.locked_until if r.locked_until is not None and r.locked_until > now else None,
        )
        for r in rows
    }
