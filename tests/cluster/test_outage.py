"""The database going away under live callers: their next action that needs it gets one
line saying the service is unavailable, and the nodes recover by themselves when it
comes back (pooled connections replaced, the bus listening again, callers registered
again), without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from tests.cluster.nodes import ALICE, BRUNO, caller, node_config, prepare, two_nodes, who_until
from tests.e2e.story import Line

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]

UNAVAILABLE = "Service momentanement indisponible, reessayez dans quelques instants."


async def admin(url: str, sql: str) -> None:
    """Run `sql` on the server's maintenance database (outside the board's database)."""
    conn = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def kill_all(name: str) -> str:
    """Every connection to the database `name` killed, as an operator would."""
    return (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )


async def page_seen(sender: Line, receiver: Line, node: str, words: str) -> None:
    """Page `node` until `receiver` shows it: a page sent in the moment a node is
    listening again after an outage is lost, as NOTIFY keeps nothing."""
    for _ in range(10):
        sender.type(f"PAGE {node} {words}\r")
        answer = await sender.expect("Votre choix")
        if "Message transmis" in answer:
            try:
                await receiver.expect(words, timeout=1.5)
            except AssertionError:
                continue
            await receiver.expect("Votre choix")
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the page never reached node {node}")


async def test_killed_connections_and_outage(pg_url: str, tmp_path: Path) -> None:
    await prepare(pg_url)
    name = pg_url.rsplit("/", 1)[1]
    config = node_config(pg_url, tmp_path, cluster_heartbeat=0.5)
    async with two_nodes(config) as (one, two):
        alice = await caller(one.port, ALICE)
        bruno = await caller(two.port, BRUNO)
        try:
            shown = await who_until(alice, BRUNO)
            alice_node = next(r for r in shown.splitlines() if "Martin" in r).split()[0]

            # Every connection of the board's database killed: the next actions work.
            await admin(pg_url, kill_all(name))
            assert BRUNO in await who_until(alice, BRUNO)
            bruno.type("GO LOTFRA\r")
            assert "Forum Lotus France" in await bruno.expect("Section (numero")
            bruno.type("\r")
            await bruno.expect("Votre choix")
            await page_seen(bruno, alice, alice_node, "toujours la")

            # An outage: the database refuses connections for a while.
            await admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin(pg_url, kill_all(name))
            alice.type("WHO\r")
            assert UNAVAILABLE in await alice.expect("Votre choix")
            bruno.type(f"PAGE {alice_node} es-tu la ?\r")
            assert UNAVAILABLE in await bruno.expect("Votre choix")
            await asyncio.sleep(1.0)
            # Back: no restart, the callers' next actions work again.
            await admin(pg_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            assert BRUNO in await who_until(alice, BRUNO, timeout=15)
            await page_seen(bruno, alice, alice_node, "de retour")
            bruno.type("GO LOTFRA\r")
            assert "Forum Lotus France" in await bruno.expect("Section (numero")
            for line in (alice, bruno):
                assert "Traceback" not in line.transcript()
                assert "Incident technique" not in line.transcript()
        finally:
            alice.close()
            bruno.close()
