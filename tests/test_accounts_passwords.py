"""Argon2id hashing: round trip, length cap, upgrade of old hashes, a bounded pool."""

from __future__ import annotations

import asyncio
import threading
import time

from argon2 import PasswordHasher, Type

from bbs.accounts.passwords import (
    HASHER,
    MAX_PASSWORD,
    MIN_PASSWORD,
    HashPool,
    password_problem,
)


def test_owasp_parameters_at_least() -> None:
    assert HASHER.type is Type.ID
    assert HASHER.memory_cost >= 19 * 1024
    assert HASHER.time_cost >= 2
    assert HASHER.parallelism == 1


async def test_hash_and_verify_round_trip() -> None:
    pool = HashPool()
    try:
        stored = await pool.hash("correct horse battery")
        assert stored.startswith("$argon2id$")
        assert "correct horse" not in stored
        assert await pool.verify(stored, "correct horse battery")
        assert not await pool.verify(stored, "correct horse batterz")
        assert not await pool.verify("not a hash", "correct horse battery")
        assert stored != await pool.hash("correct horse battery")  # salted
    finally:
        pool.shutdown()


def test_length_rules() -> None:
    assert password_problem("x" * (MIN_PASSWORD - 1)) == "acct.password_short"
    assert password_problem("x" * MIN_PASSWORD) is None
    assert password_problem("x" * MAX_PASSWORD) is None
    assert password_problem("x" * (MAX_PASSWORD + 1)) == "acct.password_long"


async def test_old_parameters_need_a_rehash() -> None:
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("s3cret-word")
    pool = HashPool()
    try:
        assert pool.needs_rehash(old)
        assert await pool.verify(old, "s3cret-word")
        assert not pool.needs_rehash(await pool.hash("s3cret-word"))
    finally:
        pool.shutdown()


async def test_the_pool_runs_at_most_its_workers_at_once_and_finishes_everything() -> None:
    pool = HashPool(workers=2)
    lock = threading.Lock()
    running = 0
    peak = 0
    threads: set[int] = set()

    def work(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            threads.add(threading.get_ident())
        time.sleep(0.02)
        with lock:
            running -= 1
        return n

    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(pool.run(lambda n=n: work(n)) for n in range(12))), 10
        )
    finally:
        pool.shutdown()
    assert sorted(results) == list(range(12))
    assert peak <= 2
    assert len(threads) <= 2


async def test_the_event_loop_stays_responsive_while_hashing() -> None:
    pool = HashPool(workers=2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await asyncio.wait_for(asyncio.gather(*(pool.hash("password-x") for _ in range(6))), 20)
    finally:
        task.cancel()
        pool.shutdown()
    assert ticks >= 3
