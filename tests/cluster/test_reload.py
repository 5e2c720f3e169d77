"""A sysop's `bbs load` of an edited `data/` reaches every node without a restart."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.cluster.nodes import ALICE, ROOT, caller, node_config, prepare, two_nodes
from tests.e2e.story import Line, bbs

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]

OLD, NEW = "(416) 364-4941", "(416) 364-4999"


async def search(line: Line, words: str) -> str:
    line.type(f"{words}\r")
    return await line.expect("Recherche :")


async def test_load_on_one_node_reaches_the_other(pg_url: str, tmp_path: Path) -> None:
    await prepare(pg_url)
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    listing = data / "listings" / "telematique.toml"
    text = listing.read_text(encoding="utf-8")
    assert text.count(OLD) == 1
    async with two_nodes(node_config(pg_url, tmp_path)) as (_one, two):
        alice = await caller(two.port, ALICE)
        try:
            alice.type("GO ANNUAIRE\r")
            await alice.expect("Recherche :")
            assert OLD in await search(alice, "canada bbs")
            # The sysop edits the number and loads the copy (the CLI, as on another node).
            listing.write_text(text.replace(OLD, NEW), encoding="utf-8")
            assert await bbs(pg_url, "load", str(data)) == 0
            shown = ""
            for _ in range(50):
                shown = await search(alice, "canada bbs")
                if NEW in shown:
                    break
                await asyncio.sleep(0.2)
            assert NEW in shown and OLD not in shown, shown
        finally:
            alice.close()
