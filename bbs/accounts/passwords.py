"""Passwords: Argon2id hashes, made and checked in a small thread pool off the event loop.

Hashing is deliberately slow and memory-hungry; a crowd of callers signing in at once
queues for the pool's few workers instead of starving everyone else's screens or
spawning a thread each. Passwords never reach a log: nothing here formats one.
"""

from __future__ import annotations

import asyncio
import functools
import os
import unicodedata
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
MAX_PASSWORD = 128
"""Characters; longer passwords are refused before hashing (no hashing of megabytes)."""


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # a node pinned with taskset counts its own
    except (AttributeError, OSError):
        return os.cpu_count() or 1


WORKERS = _cpus()
"""Threads hashing at once for the whole node: one per CPU it may run on (Argon2 lets
go of the GIL, so more would only queue behind each other for the same cores)."""

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
"""OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane."""

T = TypeVar("T")


def password_problem(password: str) -> str | None:
    """The key of the message refusing `password`, or None when it may be used."""
    if len(password) > MAX_PASSWORD:
        return "acct.password_long"
    if len(password) < MIN_PASSWORD:
        return "acct.password_short"
    return None


def _prepared(password: str) -> str:
    # The same password typed on a CP437 and a UTF-8 terminal must give the same bytes.
    return unicodedata.normalize("NFC", password[:MAX_PASSWORD])


class HashPool:
    """A bounded pool for Argon2 work: at most `workers` hashes run, the rest wait their turn."""

    def __init__(self, workers: int = WORKERS, hasher: PasswordHasher = HASHER) -> None:
        self.workers = workers
        self.hasher = hasher
        self._executor: ThreadPoolExecutor | None = None
        self._dummy: str | None = None
        # One semaphore per event loop (tests run several loops one after the other).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.workers)
        return gate

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on one of the pool's threads, once a worker is free."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        async with self._gate():
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def hash(self, password: str) -> str:
        """A new Argon2id hash of `password` (checked by `password_problem` first)."""
        return await self.run(functools.partial(self.hasher.hash, _prepared(password)))

    async def verify(self, stored: str, password: str) -> bool:
        """Whether `password` matches the hash `stored` (False for a damaged hash)."""
        return await self.run(functools.partial(self._verify, stored, _prepared(password)))

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether `stored` was made with weaker parameters than today's."""
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    async def dummy_hash(self) -> str:
        """A hash no password is known for: checked against when a name has no account, so
        an unknown name costs the same work as a wrong password."""
        if self._dummy is None:
            self._dummy = await self.run(
                functools.partial(self.hasher.hash, "lotus-bbs: no such account")
            )
        return self._dummy

    def shutdown(self) -> None:
        """Stop the threads (tests; the node's pool lives as long as the process)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


POOL = HashPool()
"""The node's pool."""
