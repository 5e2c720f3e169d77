"""Group commit: work that many sessions ask for at once (a node number, a presence row,
a release) done for all of them in one short transaction instead of one each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
R = TypeVar("R")

Done = dict[K, R]


class GroupCommit(Generic[K, R]):
    """Items submitted while a batch is being written go together in the next one.

    `write(items)` does the work for a batch and says which items it settled, with
    their results; an item it leaves out goes again in the next batch (for instance a
    node number another node took at the same moment). An error fails the whole batch.
    """

    def __init__(self, write: Callable[[list[K]], Awaitable[Done[K, R]]], most: int = 256) -> None:
        self._write = write
        self._most = most
        self._waiting: dict[K, asyncio.Future[R]] = {}
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: K) -> R:
        """The result of `item`'s work, once the batch that carries it is written."""
        loop = asyncio.get_running_loop()
        future = self._waiting.get(item)
        if future is None:
            future = self._waiting[item] = loop.create_future()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._waiting:
            # Let the sessions woken by the same turn of the loop join this batch.
            await asyncio.sleep(0)
            batch = list(self._waiting)[: self._most]
            try:
                done = await self._write(batch)
            except Exception as e:
                for item in batch:
                    future = self._waiting.pop(item, None)
                    if future is not None and not future.done():
                        future.set_exception(e)
                        future.exception()  # retrieved: a caller that gave up is no error
                continue
            for item, result in done.items():
                future = self._waiting.pop(item, None)
                if future is not None and not future.done():
                    future.set_result(result)
            for item in batch:
                future = self._waiting.get(item)
                if future is not None and future.cancelled():
                    del self._waiting[item]
