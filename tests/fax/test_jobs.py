"""Fax jobs: rate limits, delivery through the spool and `fax_command`, the sysop's CLI."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bbs.cli import main
from bbs.config import Config
from bbs.fax.deliver import command_line, deliver, resume_pending
from bbs.fax.jobs import Job, Limits, RateLimited, create_job, get_job, list_jobs
from bbs.menus.strings import Strings
from bbs.store.db import engine_scope

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LIMITS = Limits(per_caller=2, per_number=3, window=timedelta(hours=24))


async def order(
    url: str, caller: str, number: str, now: datetime = NOW, limits: Limits = LIMITS
) -> Job:
    async with engine_scope(url) as db:
        return await asyncio.wait_for(
            create_job(
                db,
                caller=caller,
                account_id=None,
                fax_number=number,
                documents=[10112, 1001],
                lang="fr",
                resolution="fine",
                paper="a4",
                limits=limits,
                now=now,
            ),
            30,
        )


async def test_orders_are_limited_per_caller(store_url: str) -> None:
    await order(store_url, "addr:10.0.0.1", "0144556677")
    await order(store_url, "addr:10.0.0.1", "0144556688")
    with pytest.raises(RateLimited) as refused:
        await order(store_url, "addr:10.0.0.1", "0144556699")
    assert refused.value.kind == "caller"
    # Another caller is not held back, and the window moves on.
    await order(store_url, "addr:10.0.0.2", "0144556699")
    await order(store_url, "addr:10.0.0.1", "0144556699", NOW + timedelta(hours=25))
    async with engine_scope(store_url) as db:
        jobs = await list_jobs(db)
    assert len(jobs) == 4
    assert {j.state for j in jobs} == {"queued"}
    assert jobs[0].documents == (10112, 1001)


async def test_orders_are_limited_per_destination(store_url: str) -> None:
    for n in range(3):
        await order(store_url, f"addr:10.0.1.{n}", "+33144556677")
    with pytest.raises(RateLimited) as refused:
        await order(store_url, "addr:10.0.1.9", "+33144556677")
    assert refused.value.kind == "number"
    async with engine_scope(store_url) as db:
        assert len(await list_jobs(db)) == 3


async def test_concurrent_orders_cannot_pass_the_limit_together(store_url: str) -> None:
    results = await asyncio.gather(
        *(order(store_url, "addr:10.0.2.1", f"01445566{n:02d}") for n in range(6)),
        return_exceptions=True,
    )
    placed = [r for r in results if not isinstance(r, BaseException)]
    assert len(placed) == LIMITS.per_caller
    assert all(isinstance(r, RateLimited) for r in results if isinstance(r, BaseException))


def test_command_line_is_an_argument_list() -> None:
    args = command_line(
        "sendfax -n -d {number} '{file}' --tag job{job}",
        number="+33144556677",
        file=Path("/spool/out box/fax-000001.tif"),
        job=1,
        pages=3,
    )
    assert args == [
        "sendfax",
        "-n",
        "-d",
        "+33144556677",
        "/spool/out box/fax-000001.tif",
        "--tag",
        "job1",
    ]


STAND_IN = """\
import json, sys
from pathlib import Path
Path(sys.argv[1]).write_text(json.dumps(sys.argv[2:]))
sys.exit(int(sys.argv[2]) if sys.argv[2].isdigit() else 0)
"""


def settings(url: str, tmp_path: Path, command: str = "") -> Config:
    return replace(
        Config(),
        db=url,
        menus_dir=str(ROOT / "menus"),
        data_dir=str(ROOT / "data"),
        fax_spool=str(tmp_path / "spool"),
        fax_command=command,
    )


def stand_in(tmp_path: Path, status: str = "") -> tuple[str, Path]:
    """A sendfax stand-in that records its arguments in a file (and exits with `status`)."""
    script = tmp_path / "sendfax.py"
    script.write_text(STAND_IN)
    record = tmp_path / "args.json"
    first = f"{status} " if status else ""
    return f"{sys.executable} {script} {record} {first}-n -d {{number}} {{file}}", record


async def test_fax_command_gets_the_number_and_the_tiff(
    loaded_url: str, strings: Strings, tmp_path: Path
) -> None:
    command, record = stand_in(tmp_path)
    config = settings(loaded_url, tmp_path, command)
    job = await order(loaded_url, "addr:10.0.3.1", "+33144556677")
    async with engine_scope(loaded_url) as db:
        done = await asyncio.wait_for(deliver(db, config, strings, job.id), 60)
    assert done is not None and done.state == "sent", done
    args = json.loads(record.read_text())
    assert args[:3] == ["-n", "-d", "+33144556677"]
    tiff = Path(args[3])
    assert tiff.is_absolute() and tiff.name == f"fax-{job.id:06d}.tif"
    # Sent faxes move from the outbox to sent/.
    assert not tiff.exists()
    kept = tmp_path / "spool" / "sent" / tiff.name
    image = Image.open(io.BytesIO(kept.read_bytes()))
    assert image.info["compression"] == "group3" and image.size[0] == 1728
    assert image.n_frames == done.pages == 3  # cover, note, KB summary
    assert done.attempts == 1 and done.error == ""


async def test_a_failing_command_fails_the_job_and_retry_sends_it(
    loaded_url: str, strings: Strings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command, record = stand_in(tmp_path, "3")
    config = settings(loaded_url, tmp_path, command)
    job = await order(loaded_url, "addr:10.0.4.1", "0144556677")
    async with engine_scope(loaded_url) as db:
        failed = await asyncio.wait_for(deliver(db, config, strings, job.id), 60)
        assert failed is not None and failed.state == "failed"
        assert "exited with 3" in failed.error
        assert (tmp_path / "spool" / "outbox" / f"fax-{job.id:06d}.tif").is_file()
        # A failed job is not taken again by the node's delivery, only by a retry.
        assert await deliver(db, config, strings, job.id) is None
    good, _ = stand_in(tmp_path)
    toml = tmp_path / "bbs.toml"
    toml.write_text(
        "[bbs]\n"
        f"menus_dir = {json.dumps(str(ROOT / 'menus'))}\n"
        f"fax_spool = {json.dumps(str(tmp_path / 'spool'))}\n"
        f"fax_command = {json.dumps(good)}\n"
    )
    common = ["--config", str(toml), "--db", loaded_url]
    code = await asyncio.to_thread(main, ["fax", "retry", str(job.id), *common])
    assert code == 0
    assert f"fax job {job.id}: sent" in capsys.readouterr().out
    assert json.loads(record.read_text())[2] == "0144556677"
    code = await asyncio.to_thread(main, ["fax", "list", *common])
    listing = capsys.readouterr().out
    assert code == 0 and f"{job.id:>6}" in listing and "sent" in listing
    code = await asyncio.to_thread(main, ["fax", "show", str(job.id), *common])
    shown = capsys.readouterr().out
    assert code == 0 and "attempts   2" in shown and "10112,1001" in shown
    assert await asyncio.to_thread(main, ["fax", "retry", str(job.id), *common]) == 2
    assert "already sent" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["fax", "show", "999", *common]) == 2


async def test_without_a_command_the_fax_stays_in_the_outbox(
    loaded_url: str, strings: Strings, tmp_path: Path
) -> None:
    config = settings(loaded_url, tmp_path)
    job = await order(loaded_url, "addr:10.0.5.1", "0144556677")
    async with engine_scope(loaded_url) as db:
        done = await asyncio.wait_for(deliver(db, config, strings, job.id), 60)
        assert done is not None
        assert done.state == "queued" and done.file == f"outbox/fax-{job.id:06d}.tif"
        assert (tmp_path / "spool" / done.file).is_file()
        assert (await get_job(db, job.id)) == done


async def test_a_node_resumes_orders_left_queued(
    loaded_url: str, strings: Strings, tmp_path: Path
) -> None:
    config = settings(loaded_url, tmp_path)
    job = await order(loaded_url, "addr:10.0.6.1", "0144556677")
    async with engine_scope(loaded_url) as db:
        tasks = await resume_pending(db, config, strings)
        assert len(tasks) == 1
        (done,) = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        assert done is not None and done.id == job.id and done.file
        # Drawn once: a second start has nothing left to resume.
        assert await resume_pending(db, config, strings) == []
