"""What a caller sees with the real `telnet` client, rendered by pyte, on four terminals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import Caller, running_board

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Config]:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await upgrade(url)
    await load_dir(url, ROOT / "data")
    config = replace(
        Config(),
        db=url,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        probe_timeout=1.0,
        shutdown_grace=0.2,
    )
    async with running_board(config) as running:
        yield running


async def enter_index(caller: Caller) -> str:
    """Past the welcome screen, on the first page of the index."""
    await caller.wait_for("Entrée" if caller.encoding != "ascii" else "Entree")
    caller.type("\r")
    await caller.wait_for("Votre nom :")
    caller.type("INVITE\r")
    return await caller.wait_for("Index d'aide - Assistance clients Lotus")


@pytest.mark.parametrize(
    ("term", "encoding", "accented"),
    [
        ("xterm-256color", "utf-8", True),
        ("ansi", "cp437", True),
        ("vt100", "ascii", False),
        ("dumb", "ascii", False),
    ],
)
async def test_the_french_index_renders(
    board: Config, term: str, encoding: str, accented: bool
) -> None:
    caller = Caller(board.port, term, encoding)
    try:
        screen = await enter_index(caller)
        assert "Index d'aide - Assistance clients Lotus" in screen
        if accented:
            assert "société Lotus" in screen
        else:
            assert "societe Lotus" in screen
        if term == "dumb":
            assert b"\x1b" not in bytes(caller.raw)
        else:
            assert b"\x1b[" in caller.raw
        if term == "vt100":
            assert "┌" in screen or "╔" in screen or "─" in screen
        if term == "ansi":
            # CP437 on the wire: é is 0x82.
            assert b"soci\x82t\x82" in caller.raw
        caller.type("q")
        await caller.wait_for("Votre choix")
    finally:
        caller.close()


async def test_directory_belgique_shows_numbers_hours_and_status(board: Config) -> None:
    caller = Caller(board.port, "xterm", "utf-8")
    try:
        await enter_index(caller)
        caller.type("q")
        await caller.wait_for("Votre choix")
        caller.type("GO ANNUAIRE\r")
        await caller.wait_for("Annuaire")
        caller.type("belgique\r")
        screen = await caller.wait_for("+32 2 714 31 29")
        for number in ("+ 31 20 600 4666", "+ 33 1 3048 9450", "+32 2 714 31 34"):
            assert number in screen
        assert "10:00-17:00 Lundi-vendredi" in screen
        assert "ouvert" in screen or "fermé" in screen
    finally:
        caller.close()


async def test_bye_hangs_up(board: Config) -> None:
    caller = Caller(board.port, "dumb", "ascii")
    try:
        await enter_index(caller)
        caller.type("q")
        await caller.wait_for("Votre choix")
        caller.type("BYE\r")
        await caller.wait_closed()
        assert "Au revoir" in caller.display() or "revoir" in bytes(caller.raw).decode(
            "ascii", "replace"
        )
    finally:
        caller.close()


async def test_window_change_reflows_the_screen(board: Config) -> None:
    caller = Caller(board.port, "xterm", "utf-8", cols=80, rows=24)
    try:
        await enter_index(caller)
        caller.type("q")
        await caller.wait_for("Votre choix")
        assert any(len(line) > 60 for line in caller.display().splitlines())
        caller.resize(60, 24)
        # pyte only cuts old rows at 60 columns; the board's reflow wraps them at 59.
        for _ in range(50):
            if all(len(line) <= 59 for line in caller.display().splitlines()):
                break
            await asyncio.sleep(0.1)
        screen = caller.display()
        assert all(len(line) <= 59 for line in screen.splitlines()), screen
        assert "Votre choix" in screen
    finally:
        caller.close()
