"""Delivering a fax job: render its TIFF into the spool, then run `fax_command` when set.

The spool holds `outbox/` (rendered, not sent: what an outside sender picks up when
the board has no `fax_command`) and `sent/`. The command is an argument list (no
shell): `{number}`, `{file}`, `{job}` and `{pages}` in it are replaced, and the number
has been validated as digits (with a leading `+`) before it ever reaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.config import Config
from bbs.fax.documents import cover_text, fetch_documents
from bbs.fax.jobs import Job, claim, finish, get_job
from bbs.fax.render import FaxError, Paper, Resolution, render_fax
from bbs.menus.strings import Strings

log = logging.getLogger(__name__)

_OUTPUT_KEPT = 300
"""Characters of the command's output kept as a failed job's error."""


def outbox(config: Config) -> Path:
    """Rendered faxes waiting to be sent."""
    return Path(config.fax_spool) / "outbox"


def sent_box(config: Config) -> Path:
    """Faxes the command has sent."""
    return Path(config.fax_spool) / "sent"


def spool_path(config: Config, job: Job) -> Path | None:
    """Where the job's TIFF is, when it has one."""
    if not job.file:
        return None
    return Path(config.fax_spool) / job.file


def command_line(template: str, *, number: str, file: Path, job: int, pages: int) -> list[str]:
    """The command's arguments with the job's values filled in, each word on its own."""
    values = {"number": number, "file": str(file), "job": str(job), "pages": str(pages)}
    words = shlex.split(template)
    out = []
    for word in words:
        for name, value in values.items():
            word = word.replace("{" + name + "}", value)
        out.append(word)
    return out


async def _run_command(config: Config, args: list[str]) -> tuple[bool, str]:
    """Run the send command; whether it succeeded, and what to keep of its output."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as exc:
        return False, f"cannot run {args[0]}: {exc.strerror or exc}"
    try:
        output, _ = await asyncio.wait_for(process.communicate(), config.fax_command_timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return False, f"{args[0]} ran longer than {config.fax_command_timeout:g} s"
    text = output.decode("utf-8", "replace").strip()
    if process.returncode != 0:
        return False, f"{args[0]} exited with {process.returncode}: {text[-_OUTPUT_KEPT:]}"
    return True, text[-_OUTPUT_KEPT:]


async def deliver(
    db: AsyncEngine,
    config: Config,
    strings: Strings,
    job_id: int,
    *,
    states: tuple[str, ...] = ("queued",),
) -> Job | None:
    """Render job `job_id` and send it; the job as it ends, or None when it was not in
    one of `states` (someone else has it, or it is done)."""
    job = await claim(db, job_id, datetime.now(UTC), states)
    if job is None:
        return None
    try:
        when = datetime.now(UTC)
        documents = await fetch_documents(db, job.documents, job.lang, strings, when.date())
        if not documents:
            raise FaxError("none of the ordered documents exists any more")
        cover = cover_text(
            strings, job.lang, number=job.fax_number, when=when, job=job.id, numbers=job.documents
        )
        rendered = await asyncio.to_thread(
            render_fax,
            documents,
            cover,
            sender=config.fax_sender,
            when=when,
            resolution=Resolution(job.resolution),
            paper=Paper(job.paper),
        )
        folder = outbox(config)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"fax-{job.id:06d}.tif"
        partial = folder / f".{name}.part"
        partial.write_bytes(rendered.data)
        os.replace(partial, folder / name)
        relative = f"outbox/{name}"
    except Exception as exc:
        log.exception("fax job %d: rendering failed", job.id)
        await finish(db, job.id, "failed", datetime.now(UTC), error=str(exc)[:_OUTPUT_KEPT])
        return await get_job(db, job.id)
    if not config.fax_command:
        # No sender on this board: the fax waits in the outbox for whoever sends it.
        await finish(db, job.id, "queued", datetime.now(UTC), pages=rendered.pages, file=relative)
        return await get_job(db, job.id)
    args = command_line(
        config.fax_command,
        number=job.fax_number,
        file=(folder / name).resolve(),
        job=job.id,
        pages=rendered.pages,
    )
    ok, said = await _run_command(config, args)
    if ok:
        done = sent_box(config)
        done.mkdir(parents=True, exist_ok=True)
        os.replace(folder / name, done / name)
        await finish(
            db, job.id, "sent", datetime.now(UTC), pages=rendered.pages, file=f"sent/{name}"
        )
        log.info("fax job %d: sent to %s (%d pages)", job.id, job.fax_number, rendered.pages)
    else:
        log.warning("fax job %d: %s", job.id, said)
        await finish(
            db, job.id, "failed", datetime.now(UTC), pages=rendered.pages, file=relative, error=said
        )
    return await get_job(db, job.id)


_RUNNING: set[asyncio.Task[Job | None]] = set()
"""Deliveries under way in this process (kept so that they are not collected)."""


def schedule(
    db: AsyncEngine, config: Config, strings: Strings, job_id: int
) -> asyncio.Task[Job | None]:
    """Deliver the job in the background; the task, for a front end that waits on it."""
    task = asyncio.get_running_loop().create_task(deliver(db, config, strings, job_id))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return task


async def resume_pending(
    db: AsyncEngine, config: Config, strings: Strings
) -> list[asyncio.Task[Job | None]]:
    """Start the delivery of orders a stopped node left queued and never drew; their
    tasks. (On a shared database each is claimed by one node only.)"""
    from bbs.fax.jobs import list_jobs

    pending = [j for j in await list_jobs(db, state="queued", limit=500) if not j.file]
    return [schedule(db, config, strings, job.id) for job in pending]
