"""Group commit: what many sessions ask for at the same moment is written in one batch."""

from __future__ import annotations

import asyncio

import pytest

from bbs.cluster.batch import Done, GroupCommit


async def test_callers_of_one_moment_share_a_batch_and_leftovers_go_again() -> None:
    batches: list[list[str]] = []
    taken_elsewhere = {"c"}

    async def write(items: list[str]) -> Done[str, int]:
        batches.append(items)
        await asyncio.sleep(0)
        done = {item: len(batches) for item in items if item not in taken_elsewhere}
        taken_elsewhere.clear()  # the other node's number is gone: next time it works
        return done

    group: GroupCommit[str, int] = GroupCommit(write)
    results = await asyncio.wait_for(asyncio.gather(*(group.submit(x) for x in "abcd")), 5)
    assert batches[0] == ["a", "b", "c", "d"]
    assert batches[1] == ["c"]
    assert results == [1, 1, 2, 1]


async def test_a_failed_write_fails_its_batch_only() -> None:
    calls = 0

    async def write(items: list[str]) -> Done[str, None]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database away")
        return dict.fromkeys(items)

    group: GroupCommit[str, None] = GroupCommit(write)
    with pytest.raises(OSError):
        await asyncio.wait_for(group.submit("a"), 5)
    assert await asyncio.wait_for(group.submit("b"), 5) is None
