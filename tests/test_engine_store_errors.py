"""A database that goes away under a screen: the caller is told and stays on the line."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.menus.engine import Engine
from bbs.services.registry import Command, Context
from bbs.session.link import Negotiated
from bbs.session.session import Session
from bbs.store.db import StoreError
from bbs.terminal.caps import Caps
from tests.fakes import FakeLink
from tests.test_engine import Caller as Screen

ROOT = Path(__file__).resolve().parents[1]


async def test_a_store_error_in_a_command_is_one_line_and_the_call_goes_on() -> None:
    config = replace(Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"))
    board = Board.build(config, read_data_dir(ROOT / "data"))
    calls = 0

    async def broken(ctx: Context, arg: str | None) -> None:
        nonlocal calls
        calls += 1
        raise StoreError("database postgresql://x: connection was closed in the middle")

    board.commands["directory"] = Command("directory", broken, "broken for the test")
    link = FakeLink(Negotiated(terminal_types=("dumb",), rows=200, telnet=True, echo=True))
    session = Session(link, board.strings, board.settings(), caps=Caps(rows=200), node=1)
    session.start()
    task = asyncio.create_task(Engine(session, board).run())
    screen = Screen(link)
    try:
        await screen.expect("Votre choix")
        screen.type("A\r")
        answer = await screen.expect("Votre choix")
        assert "Service momentanement indisponible" in answer
        assert "Incident technique" not in answer and "Traceback" not in answer
        screen.type("GO FAX\r")
        assert "Fax sur demande" in await screen.expect("Votre choix")
        assert calls == 1 and not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await session.close()
