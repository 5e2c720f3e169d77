"""Concurrent writes from two nodes (each with its own engine and pool, as two `bbs serve`
processes have): no update to an incident is ever lost, and a contract's last credits
are spent once each."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts.model import Caller
from bbs.store.db import make_engine
from bbs.store.migrate import upgrade
from bbs.store.schema import IncidentEventRow, IncidentRow
from bbs.support import incidents as inc
from bbs.support.incidents import Action
from tests.test_incidents_store import build_world, count, credits_left, form, open_as, rights_of

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]

REPLIES = 15
"""Replies each node's specialist sends at once to one incident."""


async def reply_until_done(engine: AsyncEngine, who: Caller, number: int, body: str) -> int:
    """Reply as a specialist does: read, act on what was read, read again on a conflict;
    how many conflicts there were."""
    conflicts = 0
    while True:
        found = await inc.read_incident(engine, who, number)
        assert found is not None
        try:
            await inc.act(
                engine, who, number, Action.REPLY, read_version=found.incident.version, body=body
            )
            return conflicts
        except inc.Conflict:
            conflicts += 1


async def test_two_nodes_racing_on_one_incident_and_the_last_credits(pg_url: str) -> None:
    await upgrade(pg_url)
    world = await build_world(pg_url, credits=3)
    nodes = [make_engine(pg_url), make_engine(pg_url)]
    try:
        number = await open_as(nodes[0], world.alice)
        await inc.act(nodes[0], world.spec, number, Action.TAKE, read_version=0)
        work = [
            reply_until_done(nodes[i % 2], (world.spec, world.spec2)[i % 2], number, f"r{i}")
            for i in range(2 * REPLIES)
        ]
        conflicts = await asyncio.wait_for(asyncio.gather(*work), 60)
        # The race was real: some writers found the incident changed under them.
        assert sum(conflicts) > 0
        found = await inc.read_incident(nodes[1], world.spec, number)
        assert found is not None
        assert found.incident.version == 1 + 2 * REPLIES
        bodies = [e.body for e in found.events if e.kind == "reply"]
        assert sorted(bodies) == sorted(f"r{i}" for i in range(2 * REPLIES))

        # Two credits left after the first incident; eight openings at once on two nodes.
        rights = [
            (await rights_of(n, c))[0] for n, c in zip(nodes, (world.alice, world.bob), strict=True)
        ]
        openings = [
            inc.open_incident(nodes[i % 2], (world.alice, world.bob)[i % 2], form(rights[i % 2]))
            for i in range(8)
        ]
        results = await asyncio.wait_for(asyncio.gather(*openings, return_exceptions=True), 60)
        assert sum(isinstance(r, int) for r in results) == 2, results
        assert sum(isinstance(r, inc.NoCredit) for r in results) == 6, results
        assert await credits_left(nodes[0], world.contract_id) == 0
        assert await count(nodes[0], IncidentRow) == 3
        assert await count(nodes[0], IncidentEventRow) == 3 + 1 + 2 * REPLIES
    finally:
        for engine in nodes:
            await engine.dispose()
