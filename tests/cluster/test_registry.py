"""Node numbers in the database: unique across nodes, given back at hang-up, reclaimed
from a node that died without giving them back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from bbs.cluster.registry import Registry
from bbs.store.db import make_engine
from tests.cluster.nodes import (
    ALICE,
    BRUNO,
    caller,
    node_config,
    prepare,
    two_nodes,
    who_row,
    who_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]


async def numbers(url: str) -> list[int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT node FROM live_session ORDER BY node"))
            return [row.node for row in rows]
    finally:
        await engine.dispose()


async def test_numbers_given_back_and_reclaimed(pg_url: str, tmp_path: Path) -> None:
    await prepare(pg_url)
    # A node that died: its rows stay, their heartbeat stops.
    dead_engine = make_engine(pg_url)
    dead = Registry(dead_engine, expiry=1.5, state=lambda s: (None, "", "guest", "fr", "", False))
    await dead.register_node()
    assert [await dead.allocate([]), await dead.allocate([])] == [1, 2]
    await dead_engine.dispose()
    config = node_config(pg_url, tmp_path, cluster_heartbeat=0.3, cluster_expiry=1.5)
    async with two_nodes(config) as (one, two):
        # While the dead node's rows are fresh, their numbers are taken.
        alice = await caller(one.port, ALICE)
        bruno = await caller(two.port, BRUNO)
        shown = await who_until(alice, BRUNO)
        alice_node = int(who_row(shown, ALICE)[0])
        bruno_node = int(who_row(shown, BRUNO)[0])
        assert {alice_node, bruno_node} == {3, 4}
        # Once they expire, the next caller gets the smallest free number again.
        await asyncio.sleep(1.6)
        guest = await caller(two.port, None)
        assert await numbers(pg_url) == [1, 3, 4]
        # A hang-up gives the number back (the heartbeat keeps the living ones).
        alice.close()
        for _ in range(50):
            if await numbers(pg_url) == [1, bruno_node]:
                break
            await asyncio.sleep(0.1)
        assert await numbers(pg_url) == [1, bruno_node]
        await asyncio.sleep(2.0)
        assert await numbers(pg_url) == [1, bruno_node]
        bruno.close()
        guest.close()
    # A clean shutdown leaves nothing behind.
    assert await numbers(pg_url) == []
