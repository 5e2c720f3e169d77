"""`bbs fax list|show|retry`: the sysop's view of fax jobs, and sending a job again."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bbs.errors import UsageError
from bbs.fax.jobs import STATES, Job

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.config import Config


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `bbs fax ...`; each parser sets `run(config, args) -> int` (async)."""
    fax = sub.add_parser("fax", help="fax on demand jobs")
    fsub = fax.add_subparsers(dest="fax_command", required=True, parser_class=type(fax))

    listing = fsub.add_parser("list", help="the newest jobs")
    common(listing)
    listing.add_argument("--state", choices=STATES)
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(run=_list)

    show = fsub.add_parser("show", help="one job in full")
    common(show)
    show.add_argument("job", type=int, metavar="JOB")
    show.set_defaults(run=_show)

    retry = fsub.add_parser("retry", help="render and send a job again (failed, or stuck)")
    common(retry)
    retry.add_argument("job", type=int, metavar="JOB")
    retry.set_defaults(run=_retry)


def _engine(config: Config) -> AsyncEngine:
    from bbs.store.db import make_engine

    return make_engine(config.db)


def _documents(job: Job) -> str:
    return ",".join("catalogue" if n == 0 else str(n) for n in job.documents)


async def _list(config: Config, args: argparse.Namespace) -> int:
    from bbs.fax.jobs import list_jobs

    if args.limit <= 0:
        raise UsageError("--limit must be greater than 0")
    engine = _engine(config)
    try:
        jobs = await list_jobs(engine, state=args.state, limit=args.limit)
    finally:
        await engine.dispose()
    print(f"{'job':>6}  {'ordered (UTC)':16}  {'state':9}  {'to':16}  {'pages':>5}  documents")
    for job in jobs:
        pages = str(job.pages) if job.pages is not None else "-"
        print(
            f"{job.id:>6}  {job.created_at:%Y-%m-%d %H:%M}  {job.state:9}  "
            f"{job.fax_number:16}  {pages:>5}  {_documents(job)}"
        )
    return 0


async def _show(config: Config, args: argparse.Namespace) -> int:
    from bbs.fax.deliver import spool_path
    from bbs.fax.jobs import get_job

    engine = _engine(config)
    try:
        job = await get_job(engine, args.job)
    finally:
        await engine.dispose()
    if job is None:
        raise UsageError(f"no fax job {args.job}")
    path = spool_path(config, job)
    where = "-" if path is None else str(path)
    if path is not None and job.state == "queued" and not config.fax_command:
        where += " (in the outbox: no fax_command is set)"
    for label, value in (
        ("job", str(job.id)),
        ("state", job.state),
        ("ordered", f"{job.created_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("updated", f"{job.updated_at:%Y-%m-%d %H:%M:%S} UTC"),
        ("by", job.caller),
        ("to", job.fax_number),
        ("documents", _documents(job)),
        ("language", job.lang),
        ("format", f"{job.resolution}, {job.paper}"),
        ("pages", str(job.pages) if job.pages is not None else "-"),
        ("attempts", str(job.attempts)),
        ("file", where),
        ("error", job.error or "-"),
    ):
        print(f"{label:10} {value}")
    return 0


async def _retry(config: Config, args: argparse.Namespace) -> int:
    from bbs.fax.deliver import deliver
    from bbs.menus.strings import load_strings

    strings = load_strings(Path(config.menus_dir) / "strings")
    engine = _engine(config)
    try:
        job = await deliver(
            engine, config, strings, args.job, states=("queued", "failed", "rendering")
        )
    finally:
        await engine.dispose()
    if job is None:
        raise UsageError(f"fax job {args.job} does not exist or is already sent")
    print(f"fax job {job.id}: {job.state}" + (f" ({job.error})" if job.error else ""))
    return 0 if job.state != "failed" else 1
