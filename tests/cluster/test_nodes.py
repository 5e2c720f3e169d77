"""Two nodes on one PostgreSQL work as one board: node numbers unique across the board,
who is online, pages and the sysop chat between nodes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.cluster.nodes import (
    ALICE,
    BRUNO,
    SYSOP,
    caller,
    node_config,
    prepare,
    two_nodes,
    who_row,
    who_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]


async def test_who_and_pages_cross_nodes(pg_url: str, tmp_path: Path) -> None:
    await prepare(pg_url)
    async with two_nodes(node_config(pg_url, tmp_path)) as (one, two):
        alice = await caller(one.port, ALICE)
        bruno = await caller(two.port, BRUNO)
        guest = await caller(two.port, None)
        try:
            # Each node lists the other's callers: number, name, where, for how long.
            # Where a caller is follows within a few seconds (not at every keystroke).
            shown = await who_until(alice, f"{BRUNO}  Index d'aide")
            row = who_row(shown, BRUNO)
            assert row[1:3] == ["Bruno", "Keller"]
            assert "Index d'aide" in " ".join(row) and row[-1] == "min"
            seen = await who_until(bruno, ALICE)
            numbers = [who_row(seen, name)[0] for name in (ALICE, BRUNO, "invite")]
            assert all(n.isdigit() for n in numbers)
            assert len(set(numbers)) == 3, seen
            assert sorted(numbers) == ["1", "2", "3"]
            alice_node, bruno_node, guest_node = numbers

            # A page to a caller of the other node, hostile text shown harmless.
            bruno.type(f"PAGE {alice_node} bonjour \x1b[2J de Bruno\r")
            assert f"Message transmis au noeud {alice_node}." in await bruno.expect("Votre choix")
            got = await alice.expect("de Bruno")
            assert f"Message du noeud {bruno_node} : {BRUNO}: bonjour" in got
            await alice.expect("Votre choix")  # the prompt, drawn again after the page
            assert b"\x1b[2J" not in bytes(alice.peer.data)  # type: ignore[union-attr]
            # And back, to the node the guest holds (guests cannot page, but get pages).
            alice.type(f"PAGE {guest_node} bienvenue\r")
            assert "Message transmis" in await alice.expect("Votre choix")
            assert f"{ALICE}: bienvenue" in await guest.expect("bienvenue")
            await guest.expect("Votre choix")
            # A caller who refuses pages is refused from the other node too.
            alice.type("PAGE OFF\r")
            await alice.expect("Votre choix")
            bruno.type(f"PAGE {alice_node} encore\r")
            refused = await bruno.expect("Votre choix")
            for _ in range(20):
                if "refuse les messages" in refused:
                    break
                # The refusal reaches the database within seconds, not at once.
                await asyncio.sleep(0.5)
                bruno.type(f"PAGE {alice_node} encore\r")
                refused = await bruno.expect("Votre choix")
            assert f"L'appelant du noeud {alice_node} refuse les messages." in refused
            # A node number nobody holds.
            bruno.type("PAGE 99 allo\r")
            assert "Personne n'est connecte sur le noeud 99." in await bruno.expect("Votre choix")
        finally:
            for line in (alice, bruno, guest):
                line.close()


async def test_sysop_chat_across_nodes(pg_url: str, tmp_path: Path) -> None:
    await prepare(pg_url)
    async with two_nodes(node_config(pg_url, tmp_path)) as (one, two):
        sysop = await caller(one.port, SYSOP)
        bruno = await caller(two.port, BRUNO)
        try:
            # The caller calls the sysop from the other node.
            await who_until(bruno, SYSOP)
            bruno.type("CHAT\r")
            assert "Le sysop est prevenu." in await bruno.expect("Votre choix")
            request = await sysop.expect("pour lui repondre.")
            node = request.split("CHAT ")[-1].split()[0]
            assert f"{BRUNO}" in await sysop.expect(BRUNO)
            sysop.type(f"CHAT {node}\r")
            assert f"Dialogue avec le noeud {node} : {BRUNO}" in await sysop.expect(BRUNO)
            assert f"Dialogue avec le noeud 1 : {SYSOP}" in await bruno.expect("/Q pour terminer")
            # Lines cross one by one, both ways.
            sysop.type("bonjour \x1b]52;c;ZXZpbA==\x07Bruno\r")
            assert f"{SYSOP}: bonjour" in await bruno.expect("Bruno\n")
            bruno.type("merci, tout va bien\r")
            assert f"{BRUNO}: merci, tout va bien" in await sysop.expect("tout va bien")
            assert b"\x1b]52" not in bytes(bruno.peer.data)  # type: ignore[union-attr]
            # The caller ends it: the sysop's side ends too and both get their menus back.
            bruno.type("/Q\r")
            assert "Dialogue termine." in await bruno.expect("Dialogue termine.")
            assert f"{BRUNO} a termine le dialogue." in await sysop.expect("Dialogue termine.")
            await sysop.expect("Votre choix")
            await bruno.expect("Votre choix")
            sysop.type("WHO\r")
            assert BRUNO in await sysop.expect("Votre choix")
            bruno.type("WHO\r")
            assert SYSOP in await bruno.expect("Votre choix")
        finally:
            sysop.close()
            bruno.close()
