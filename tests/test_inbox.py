"""The session's input queue: order, bound, waiting readers and writers, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from bbs.session.inbox import Inbox


async def test_order_bound_and_waiting() -> None:
    box: Inbox[int] = Inbox(2)
    box.put_nowait(1)
    await box.put(2)
    with pytest.raises(asyncio.QueueFull):
        box.put_nowait(3)
    writer = asyncio.create_task(box.put(3))  # waits for room
    await asyncio.sleep(0)
    assert not writer.done()
    assert box.get_nowait() == 1
    await asyncio.wait_for(writer, 2)
    assert [await box.get(), await box.get()] == [2, 3]
    with pytest.raises(asyncio.QueueEmpty):
        box.get_nowait()


async def test_two_readers_each_get_one_and_a_cancelled_reader_loses_nothing() -> None:
    box: Inbox[str] = Inbox()
    gone = asyncio.create_task(box.get())
    first = asyncio.create_task(box.get())
    second = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    gone.cancel()
    box.put_nowait("a")
    box.put_nowait("b")
    assert sorted(await asyncio.wait_for(asyncio.gather(first, second), 2)) == ["a", "b"]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(box.get(), 0.05)
    box.put_nowait("c")
    assert await asyncio.wait_for(box.get(), 2) == "c"
