"""A session's bounded input queue, as small as the work needs.

`asyncio.Queue` keeps three deques per queue (about 3 KiB); a board holds one queue per
idle caller, so this one keeps a list, and lists of waiters only while someone waits.
Same contract as the parts of `asyncio.Queue` a session uses.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """FIFO of at most `maxsize` items (0: no bound)."""

    __slots__ = ("_getters", "_items", "_maxsize", "_putters")

    def __init__(self, maxsize: int = 0) -> None:
        self._items: list[T] = []
        self._maxsize = maxsize
        self._getters: list[asyncio.Future[None]] | None = None
        self._putters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    def full(self) -> bool:
        return 0 < self._maxsize <= len(self._items)

    def put_nowait(self, item: T) -> None:
        """Add `item`; asyncio.QueueFull when the inbox is full."""
        if self.full():
            raise asyncio.QueueFull
        self._items.append(item)
        _wake_one(self._getters)

    async def put(self, item: T) -> None:
        """Add `item`, waiting while the inbox is full."""
        while self.full():
            if self._putters is None:
                self._putters = []
            await _wait(self._putters)
        self.put_nowait(item)

    def get_nowait(self) -> T:
        """The oldest item; asyncio.QueueEmpty when there is none."""
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.pop(0)
        _wake_one(self._putters)
        return item

    async def get(self) -> T:
        """The oldest item, waiting for one."""
        while not self._items:
            if self._getters is None:
                self._getters = []
            await _wait(self._getters)
        return self.get_nowait()


async def _wait(waiters: list[asyncio.Future[None]]) -> None:
    waiter = asyncio.get_running_loop().create_future()
    waiters.append(waiter)
    try:
        await waiter
    except asyncio.CancelledError:
        if waiter.done() and not waiter.cancelled():
            _wake_one(waiters)  # woken, then cancelled: the turn goes to the next one
        raise
    finally:
        if waiter in waiters:
            waiters.remove(waiter)


def _wake_one(waiters: list[asyncio.Future[None]] | None) -> None:
    while waiters:
        waiter = waiters.pop(0)
        if not waiter.done():
            waiter.set_result(None)
            return
