"""Menu items limited to some roles: hidden from the others, and refused if typed anyway."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.accounts.model import GUEST, Caller, Role
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.menus.engine import Engine
from bbs.menus.model import Item, parse_action
from bbs.session.link import Negotiated
from bbs.session.session import Hangup, Session
from tests.fakes import FakeLink
from tests.test_engine import Caller as Screen

ROOT = Path(__file__).resolve().parents[1]

SYSOP = Caller(account_id=1, name="Marie", role=Role.SYSOP)


def test_an_item_without_roles_is_for_everyone() -> None:
    item = Item(key="X", action=parse_action("cmd:help"), label={"fr": "x"})
    assert all(item.offered_to(role) for role in Role)
    limited = replace(item, roles=frozenset({"sysop"}))
    assert limited.offered_to("sysop") and not limited.offered_to("caller")


@pytest.fixture
def menus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "menus"
    shutil.copytree(ROOT / "menus", folder)
    path = folder / "compte.toml"
    text = path.read_text(encoding="utf-8")
    extra = """
[[items]]
key = "Z"
action = "cmd:help"
roles = ["sysop"]
[items.label]
fr = "Réservé au sysop"
en = "Sysop only"
de = "Nur für den Sysop"
"""
    path.write_text(text + extra, encoding="utf-8")
    return folder


async def drive(menus_dir: Path, caller: Caller) -> AsyncIterator[Screen]:
    config = replace(Config(), menus_dir=str(menus_dir), data_dir=str(ROOT / "data"))
    board = Board.build(config, read_data_dir(ROOT / "data"))
    link = FakeLink(Negotiated(terminal_types=("dumb",), rows=200, telnet=True, echo=True))
    session = Session(link, board.strings, board.settings(), lang="fr", node=1)
    session.caller = caller
    session.start()
    engine = Engine(session, board)
    engine.push("compte")
    task = asyncio.create_task(engine.run())
    try:
        yield Screen(link)
    finally:
        task.cancel()
        with pytest.raises((asyncio.CancelledError, Hangup)):
            await asyncio.wait_for(task, 5)
        await session.close()


async def test_a_guest_neither_sees_nor_may_choose_a_sysop_item(menus_dir: Path) -> None:
    async for screen in drive(menus_dir, GUEST):
        menu = await screen.expect("Votre choix")
        assert "Reserve au sysop" not in menu and ", Z" not in menu
        screen.type("Z\r")
        assert "inconnu" in (await screen.expect("Votre choix")).lower()


async def test_the_sysop_sees_and_uses_it(menus_dir: Path) -> None:
    async for screen in drive(menus_dir, SYSOP):
        menu = await screen.expect("Votre choix")
        assert "Reserve au sysop" in menu
        screen.type("Z\r")
        assert "GO" in await screen.expect("Suite")
