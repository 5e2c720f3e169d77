"""Fax jobs in the database: placing an order (within the rate limits), its states, look-ups.

States: `queued` (ordered, or rendered and waiting in the outbox for a sender when no
`fax_command` is set), `rendering` (being drawn or sent now), `sent`, `failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.store.db import transaction
from bbs.store.schema import FaxJobRow

JOB_TABLE: Table = FaxJobRow.__table__  # type: ignore[assignment]

STATES: tuple[str, ...] = ("queued", "rendering", "sent", "failed")


class RateLimited(Exception):
    """An order refused by a limit: `kind` is `caller` or `number`."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"fax limit reached ({kind})")
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Limits:
    """How many orders a caller, and a destination, may have in one window."""

    per_caller: int
    per_number: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Job:
    """One fax order and how far its delivery went."""

    id: int
    created_at: datetime
    updated_at: datetime
    state: str
    caller: str
    account_id: int | None
    fax_number: str
    documents: tuple[int, ...]
    lang: str
    resolution: str
    paper: str
    pages: int | None
    file: str | None
    attempts: int
    error: str


def _job(row: Mapping[Any, Any]) -> Job:
    return Job(
        id=row["id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        state=row["state"],
        caller=row["caller"],
        account_id=row["account_id"],
        fax_number=row["fax_number"],
        documents=tuple(int(n) for n in row["documents"].split(",") if n),
        lang=row["lang"],
        resolution=row["resolution"],
        paper=row["paper"],
        pages=row["pages"],
        file=row["file"],
        attempts=row["attempts"],
        error=row["error"],
    )


async def create_job(
    db: AsyncEngine,
    *,
    caller: str,
    account_id: int | None,
    fax_number: str,
    documents: Sequence[int],
    lang: str,
    resolution: str,
    paper: str,
    limits: Limits,
    now: datetime,
) -> Job:
    """Record a new order, queued; RateLimited when the caller or the number has had its
    share. The count and the insert are one transaction: two calls cannot both slip in."""
    since = now - limits.window
    count = select(func.count()).select_from(JOB_TABLE).where(JOB_TABLE.c.created_at >= since)
    async with transaction(db, write=True) as conn:
        if (await conn.scalar(count.where(JOB_TABLE.c.caller == caller)) or 0) >= limits.per_caller:
            raise RateLimited("caller")
        mine = count.where(JOB_TABLE.c.fax_number == fax_number)
        if (await conn.scalar(mine) or 0) >= limits.per_number:
            raise RateLimited("number")
        result = await conn.execute(
            insert(JOB_TABLE)
            .values(
                created_at=now,
                updated_at=now,
                state="queued",
                caller=caller,
                account_id=account_id,
                fax_number=fax_number,
                documents=",".join(str(n) for n in documents),
                lang=lang,
                resolution=resolution,
                paper=paper,
                attempts=0,
                error="",
            )
            .returning(*JOB_TABLE.c)
        )
        return _job(result.mappings().one())


async def get_job(db: AsyncEngine, job_id: int) -> Job | None:
    """Job `job_id`, or None."""
    async with transaction(db, write=False) as conn:
        row = (
            (await conn.execute(select(JOB_TABLE).where(JOB_TABLE.c.id == job_id)))
            .mappings()
            .first()
        )
    return None if row is None else _job(row)


async def list_jobs(
    db: AsyncEngine, *, state: str | None = None, caller: str | None = None, limit: int = 50
) -> list[Job]:
    """The newest jobs first, of one state and/or one caller when given."""
    stmt = select(JOB_TABLE).order_by(JOB_TABLE.c.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(JOB_TABLE.c.state == state)
    if caller is not None:
        stmt = stmt.where(JOB_TABLE.c.caller == caller)
    async with transaction(db, write=False) as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [_job(row) for row in rows]


async def claim(
    db: AsyncEngine, job_id: int, now: datetime, states: Sequence[str] = ("queued",)
) -> Job | None:
    """Mark the job `rendering` (one more attempt) if it is in one of `states`; the job,
    or None when it is not there or someone else has it."""
    async with transaction(db, write=True) as conn:
        result = await conn.execute(
            update(JOB_TABLE)
            .where(JOB_TABLE.c.id == job_id, JOB_TABLE.c.state.in_(list(states)))
            .values(state="rendering", attempts=JOB_TABLE.c.attempts + 1, updated_at=now, error="")
            .returning(*JOB_TABLE.c)
        )
        row = result.mappings().first()
    return None if row is None else _job(row)


async def finish(db: AsyncEngine, job_id: int, state: str, now: datetime, **values: Any) -> None:
    """Set the job's state (and `pages`, `file`, `error` when given)."""
    if state not in STATES:
        raise ValueError(f"unknown fax job state {state!r}")
    async with transaction(db, write=True) as conn:
        await conn.execute(
            update(JOB_TABLE)
            .where(JOB_TABLE.c.id == job_id)
            .values(state=state, updated_at=now, **values)
        )
