"""The Knowledge base on a Minitel: a subscriber searches it and reads an article page by
page with SUITE and RETOUR; a guest is told how to subscribe."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

import bbs.board as board_module
from bbs.accounts.model import GUEST, Caller
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.session.link import Negotiated
from bbs.store.db import make_engine
from tests.fakes import FakeLink
from tests.minitel.screen import Screen
from tests.test_kb_screens import SUBSCRIBER, kb_db

ROOT = Path(__file__).resolve().parents[2]
ENVOI, RETOUR, SUITE = b"\x13A", b"\x13B", b"\x13H"
__all__ = ["kb_db"]


class Minitel:
    """A Minitel on a fake line: what it shows, and keys to press."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.screen = Screen()

    def press(self, data: bytes) -> None:
        """Type `data`; what the screen showed before no longer counts as an answer."""
        self.screen.feed(self.link.take())
        self.screen.rows[1:] = [[type(cell)() for cell in row] for row in self.screen.rows[1:]]
        self.link.type(data)

    async def menu(self, timeout: float = 10.0) -> Screen:
        """The menu prompt, pressing SUITE through the pages before it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self.screen.feed(self.link.take())
            if self.screen.find("Votre choix (", 0) is not None:
                return self.screen
            if self.screen.find("Suite (", 0) is not None:
                self.press(SUITE)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no menu prompt:\n{self.screen.display()}")

    async def wait_for(self, text: str, timeout: float = 10.0) -> Screen:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.screen.feed(self.link.take())
            if self.screen.find(text, 0) is not None:
                return self.screen
            if loop.time() > deadline:
                raise AssertionError(f"{text!r} never showed:\n{self.screen.display()}")
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def minitel_as(
    url: str, caller: Caller, monkeypatch: pytest.MonkeyPatch, work: Path
) -> AsyncIterator[Minitel]:
    config = replace(
        Config(),
        menus_dir=str(ROOT / "menus"),
        data_dir=str(ROOT / "data"),
        upload_dir=str(work / "uploads"),
        minitel_baud=0,
    )
    engine = make_engine(url)
    board = Board.build(config, read_data_dir(ROOT / "data"), engine)

    async def sign_in(session: object, board: object) -> Caller:
        return caller

    async def nothing(session: object, board: object) -> None:
        return None

    monkeypatch.setattr(board_module, "sign_in", sign_in)
    monkeypatch.setattr(board_module, "after_sign_in", nothing)
    link = FakeLink(Negotiated(terminal_types=("minitel",), echo=True))
    task = asyncio.create_task(board.handle(link))
    terminal = Minitel(link)
    try:
        await terminal.wait_for("ENVOI pour continuer")
        terminal.press(ENVOI)
        await terminal.menu()
        yield terminal
    finally:
        link.close()
        await asyncio.wait_for(task, 5)
        await engine.dispose()


async def test_a_subscriber_reads_an_article_with_suite_and_retour(
    kb_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with minitel_as(kb_db, SUBSCRIBER, monkeypatch, tmp_path) as terminal:
        terminal.press(b"GO LKB" + ENVOI)
        await terminal.menu()
        terminal.press(b"C" + ENVOI)
        await terminal.wait_for("Chercher dans la base :")
        terminal.press(b"reclaim" + ENVOI)
        await terminal.wait_for("KB-1025")
        terminal.press(b"KB-1025" + ENVOI)
        page = await terminal.wait_for("Page 1/")
        assert page.find("Lotus Knowledge KB-1025") is not None
        assert all(len(line) <= 40 for line in page.lines())
        assert not page.unknown
        terminal.press(SUITE)
        await terminal.wait_for("Page 2/")
        terminal.press(RETOUR)
        await terminal.wait_for("Page 1/")


async def test_a_guest_is_told_how_to_subscribe(
    kb_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with minitel_as(kb_db, GUEST, monkeypatch, tmp_path) as terminal:
        terminal.press(b"GO KB" + ENVOI)
        await terminal.menu()
        terminal.press(b"C" + ENVOI)
        await terminal.wait_for("réservée à ses abonnés")
        terminal.press(SUITE)
        await terminal.wait_for("1-800-GO-LOTUS")
