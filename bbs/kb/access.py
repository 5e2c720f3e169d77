"""Who may use the Lotus Knowledge base: subscribers only (the seed: it is paid).

A subscriber is an account the contracts say may use it today
(`bbs.support.entitlements.kb_access`: a current Premium contract it is a named
contact of, or a Knowledge subscription of its company). Lotus's own specialists
and the sysop work from the base every day and are let in without one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts.model import Caller
from bbs.store.db import transaction

STAFF_ACCESS = date.max
"""What `access_until` gives a specialist or the sysop: no end."""


def today() -> date:
    """The board's calendar day (UTC), the day subscriptions are checked on."""
    return datetime.now(UTC).date()


async def access_until(db: AsyncEngine, caller: Caller, day: date) -> date | None:
    """Until when `caller` may use the base on `day`; None when they may not
    (guests, callers without a subscription, a contact whose contract ended).

    Raises StoreError for database problems.
    """
    if caller.account_id is None:
        return None
    if caller.is_staff:
        return STAFF_ACCESS
    from bbs.support.entitlements import kb_access

    async with transaction(db, write=False) as conn:
        return await kb_access(conn, caller.account_id, day)
