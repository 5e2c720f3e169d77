"""`kill -9` of a real node while callers post, open and answer incidents and upload files.

Each round starts the node on the same database and upload area, lets four callers write
(a forum poster, an incident opener, a specialist answering an incident, an uploader
sending files with the real `sz`), kills the node with SIGKILL after a random delay, and
checks: the database is sound, every upload the area counts as received is whole, and
every write the board confirmed on a caller's screen ("Message publie", "Incident no N
ouvert", "Reponse envoyee", "Transfert termine") is there. The next start must have
removed what the killed uploads left behind.

`make test` runs a few rounds; `make soak` runs `SOAK_ROUNDS` (200) of them.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.faults.callers import (
    Ledger,
    forum_poster,
    incident_opener,
    incident_replier,
    keep_going,
    uploader,
)
from tests.faults.checks import database_consistent, leftovers, missing_writes, stored_uploads
from tests.faults.node import Node, copy_board, prepare_board

pytestmark = pytest.mark.e2e

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "0")) or 4
"""Kills per backend: a handful by default, SOAK_ROUNDS under `make soak`."""
PG_ROUNDS = int(os.environ.get("SOAK_ROUNDS", "0")) or 2
WORKING_TIMEOUT = 30.0
SIZES = (8_000, 150_000, 1_200_000)
"""Upload sizes: a kill lands before, during or after transfers of various lengths."""


@dataclass
class Confirmed:
    """Every write the board confirmed across all rounds."""

    posts: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    uploads: dict[str, int] = field(default_factory=dict)
    """Name of each file sent -> its size (confirmed or not: what it must hold if kept)."""
    confirmed_uploads: list[str] = field(default_factory=list)
    in_flight: int = 0
    """Writes started but not confirmed when the node died (the kill's random point)."""


async def first_incident(node: Node) -> None:
    """Open incident no 1, which the specialist answers in every round."""
    node.start()
    ledger = Ledger()
    task = asyncio.create_task(incident_opener(node.port, "setup", ledger))
    try:
        deadline = time.monotonic() + WORKING_TIMEOUT
        while not ledger.acked:
            assert not task.done(), f"opening the first incident failed: {task.exception()!r}"
            assert time.monotonic() < deadline, "the first incident was never opened"
            await asyncio.sleep(0.05)
    finally:
        node.kill()
        await keep_going(task)


async def one_round(
    node: Node, number: int, rng: random.Random, work: Path, confirmed: Confirmed
) -> None:
    node.start()
    assert leftovers(node.uploads) == [], "the start did not clean the upload area"
    tag = f"r{number}"
    size = rng.choice(SIZES)
    ledgers = {name: Ledger() for name in ("post", "inc", "rep", "up")}
    starters: dict[str, Callable[[], Awaitable[None]]] = {
        "post": lambda: forum_poster(node.port, tag, ledgers["post"]),
        "inc": lambda: incident_opener(node.port, tag, ledgers["inc"]),
        "rep": lambda: incident_replier(node.port, tag, 1, ledgers["rep"]),
        "up": lambda: uploader(node.port, tag, work / "src", ledgers["up"], size),
    }
    tasks = {name: asyncio.ensure_future(start()) for name, start in starters.items()}
    try:
        deadline = time.monotonic() + WORKING_TIMEOUT
        while not all(ledger.working.is_set() for ledger in ledgers.values()):
            for name, task in tasks.items():
                if task.done():
                    raise AssertionError(f"round {number}: {name} stopped: {task.exception()!r}")
            assert time.monotonic() < deadline, f"round {number}: callers never got to work"
            await asyncio.sleep(0.02)
        await asyncio.sleep(rng.uniform(0.0, 2.0))
    finally:
        node.kill()
        outcomes = {name: await keep_going(task) for name, task in tasks.items()}
    failed = {name: repr(e) for name, e in outcomes.items() if e is not None}
    assert not failed, f"round {number}: callers failed before the kill: {failed}\n{node.tail()}"

    confirmed.posts += ledgers["post"].acked
    confirmed.incidents += ledgers["inc"].acked
    confirmed.replies += ledgers["rep"].acked
    confirmed.confirmed_uploads += ledgers["up"].acked
    confirmed.uploads.update(dict.fromkeys(ledgers["up"].tried, size))
    confirmed.in_flight += sum(len(x.tried) - len(x.acked) for x in ledgers.values())

    await database_consistent(node.url)
    kept = stored_uploads(node.uploads, confirmed.uploads)
    lost = [name for name in confirmed.confirmed_uploads if name not in kept]
    lost += await missing_writes(node.url, confirmed.posts, confirmed.incidents, confirmed.replies)
    assert not lost, f"round {number}: confirmed writes lost after kill -9: {lost}"


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
@pytest.mark.timeout(120 + 30 * ROUNDS)
async def test_kill_9_keeps_every_confirmed_write(
    backend: str, template: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url, rounds = copy_board(template, tmp_path / "db"), ROUNDS
    else:
        url, rounds = request.getfixturevalue("pg_url"), PG_ROUNDS
        await asyncio.to_thread(prepare_board, url)
    seed = int(os.environ.get("SOAK_SEED", "0")) or random.randrange(1, 1 << 30)
    rng = random.Random(seed)
    node = Node(url, tmp_path / "uploads", tmp_path / "node.log")
    confirmed = Confirmed()
    try:
        await first_incident(node)
        for number in range(1, rounds + 1):
            try:
                await one_round(node, number, rng, tmp_path / "work", confirmed)
            except AssertionError as e:
                raise AssertionError(f"{e}\n(SOAK_SEED={seed})") from None
        # The last kill's leftovers go at the next start, and nothing confirmed is lost.
        node.start()
        assert leftovers(node.uploads) == []
    finally:
        node.kill()
    total = len(confirmed.posts) + len(confirmed.incidents) + len(confirmed.replies)
    total += len(confirmed.confirmed_uploads)
    assert total > rounds, "the callers hardly wrote anything: the test proves nothing"
    print(
        f"{backend}: {rounds} kills, {total} confirmed writes kept "
        f"({len(confirmed.posts)} posts, {len(confirmed.incidents)} incidents opened, "
        f"{len(confirmed.replies)} answers, {len(confirmed.confirmed_uploads)} uploads), "
        f"{confirmed.in_flight} cut in flight"
    )
