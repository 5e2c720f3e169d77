"""Turning a confirmed touch-tone order into a fax job, the same way for every front end."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.config import Config
from bbs.fax.deliver import schedule
from bbs.fax.documents import CATALOGUE
from bbs.fax.jobs import Job, Limits, RateLimited, create_job
from bbs.fax.tone import Order, Say
from bbs.menus.strings import Strings

log = logging.getLogger(__name__)


def limits(config: Config) -> Limits:
    """The rate limits of the configuration."""
    return Limits(
        per_caller=config.fax_max_per_caller,
        per_number=config.fax_max_per_number,
        window=timedelta(seconds=config.fax_window),
    )


@dataclass(frozen=True, slots=True)
class Placed:
    """What became of an order: the message for the caller, and the job and its delivery
    when one was recorded."""

    say: Say
    job: Job | None = None
    delivery: asyncio.Task[Job | None] | None = None


async def place_order(
    db: AsyncEngine | None,
    config: Config,
    strings: Strings,
    order: Order,
    *,
    caller: str,
    account_id: int | None,
    lang: str,
) -> Placed:
    """Record the order as a job and start its delivery; refusals are said, never raised."""
    if db is None:
        return Placed(Say("fax.tone.unavailable"))
    numbers = (CATALOGUE,) if order.catalogue else order.documents
    try:
        job = await create_job(
            db,
            caller=caller,
            account_id=account_id,
            fax_number=order.number,
            documents=numbers,
            lang=lang if lang in ("fr", "en") else "fr",
            resolution=config.fax_resolution,
            paper=config.fax_paper,
            limits=limits(config),
            now=datetime.now(UTC),
        )
    except RateLimited as limit:
        log.info("fax order by %s to %s refused: %s limit", caller, order.number, limit.kind)
        return Placed(Say(f"fax.tone.limit_{limit.kind}"))
    except Exception as exc:
        # Whatever the store says, the caller hears one sentence; the log has the rest.
        log.warning("fax order by %s could not be recorded: %s", caller, exc)
        return Placed(Say("fax.tone.unavailable"))
    log.info("fax job %d: %s ordered %s for %s", job.id, caller, job.documents, job.fax_number)
    task = schedule(db, config, strings, job.id)
    return Placed(Say("fax.tone.placed", (("job", str(job.id)),)), job, task)
