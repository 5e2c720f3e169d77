"""Helpers for tests of several nodes on one PostgreSQL: a loaded board database with
accounts, nodes started in the test's event loop, and callers signed in on them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import node_settings, running_board
from tests.e2e.story import Line, bbs
from tests.telnet_client import Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Tr0ub4dor&3-lotus"
ALICE = "Alice Martin"
BRUNO = "Bruno Keller"
SYSOP = "Sysop"


async def prepare(url: str) -> None:
    """Schema, the seed data and three accounts (two callers and the sysop)."""
    await upgrade(url)
    await load_dir(url, ROOT / "data")
    for name, role in ((ALICE, "caller"), (BRUNO, "caller"), (SYSOP, "sysop")):
        add = ("user", "add", name, "--role", role, "--password-stdin")
        assert await bbs(url, *add, stdin=PASSWORD + "\n") == 0


def node_config(url: str, tmp: Path, **changes: object) -> Config:
    """A node's settings for tests: quick probes and shutdown, its own upload area."""
    return node_settings(url, tmp, **changes)


@contextlib.asynccontextmanager
async def two_nodes(config: Config) -> AsyncIterator[tuple[Config, Config]]:
    """Two nodes of one board (same database), each on its own port."""
    async with running_board(config) as one, running_board(config) as two:
        yield one, two


async def caller(port: int, name: str | None) -> Line:
    """A caller on a dumb terminal signed in as `name` (None: as a guest), at the index."""
    client = await TelnetClient.connect(port, Script(ttypes=["dumb"], rows=60))
    line = Line(client)
    try:
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        await line.expect("Votre nom :")
        if name is None:
            line.type("INVITE\r")
        else:
            line.type(f"{name}\r")
            await line.expect("Mot de passe :")
            line.type(f"{PASSWORD}\r")
        await line.expect("Votre choix", timeout=20)
    except BaseException:
        line.close()
        raise
    return line


async def who_until(line: Line, wanted: str, timeout: float = 10.0) -> str:
    """Type WHO until the list shows `wanted` (other nodes' rows follow within seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        line.type("WHO\r")
        shown = await line.expect("Votre choix")
        if wanted in shown:
            return shown
        if loop.time() > deadline:
            raise AssertionError(f"{wanted!r} never listed; last list:\n{shown}")
        await asyncio.sleep(0.3)


def who_row(shown: str, name: str) -> list[str]:
    """The WHO row naming `name`, split into words (node number first)."""
    row = next(r for r in shown.splitlines() if name in r)
    return row.split()
