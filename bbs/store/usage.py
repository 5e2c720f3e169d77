"""What each caller sent per day (`upload_usage`), for the daily upload quotas."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Table, exc, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.store.schema import UploadUsageRow

USAGE: Table = UploadUsageRow.__table__  # type: ignore[assignment]


def owner_of(account_id: int | None, address: str) -> str:
    """Whose quota an upload counts against: the account, or a guest's address."""
    return f"account:{account_id}" if account_id is not None else f"addr:{address}"


async def usage_on(conn: AsyncConnection, owner: str, day: date) -> tuple[int, int]:
    """(bytes, files) `owner` sent on `day`."""
    row = (
        await conn.execute(
            select(USAGE.c.bytes, USAGE.c.files).where(USAGE.c.owner == owner, USAGE.c.day == day)
        )
    ).first()
    return (0, 0) if row is None else (int(row.bytes), int(row.files))


async def add_usage(conn: AsyncConnection, owner: str, day: date, size: int, files: int) -> None:
    """Count `files` files of `size` bytes in all against `owner` on `day`."""
    for _ in range(3):
        done = await conn.execute(
            update(USAGE)
            .where(USAGE.c.owner == owner, USAGE.c.day == day)
            .values(bytes=USAGE.c.bytes + size, files=USAGE.c.files + files)
        )
        if done.rowcount:
            return
        try:
            async with conn.begin_nested():
                await conn.execute(
                    insert(USAGE).values(owner=owner, day=day, bytes=size, files=files)
                )
            return
        except exc.IntegrityError:
            # Another node counted this owner's first upload of the day a moment ago.
            continue
