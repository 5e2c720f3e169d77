"""A guest walks every menu and every listing a menu shows, at 40x25, 80x24 and 132x50, on
dumb, vt100, ansi and xterm terminals (issue 10): no line wider than the screen, nothing
scrolled away before a pause, no notice cleared before a key.

Between two keys the caller reads one screenful at most; that is what is checked, on the
bytes the board sent (escape sequences taken out, width measured with wcwidth).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest
from wcwidth import wcswidth

from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.menus.model import ActionKind
from bbs.session.link import Negotiated
from tests.fakes import FakeLink

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(40, 25), (80, 24), (132, 50)]
TERMINALS = ["dumb", "vt100", "ansi", "xterm"]
PAUSES = ("-- Suite", "Appuyez sur Entr")
PROMPT = "Votre choix ("
CLEAR = "\x1b[2J"
_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[@-Z\\-_])")
PRINT_ONLY = {"service", "country", "centres"}


@pytest.fixture(scope="module")
def board() -> Board:
    config = replace(
        Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"), probe_timeout=0.05
    )
    return Board.build(config, read_data_dir(ROOT / "data"))


class Walker:
    """A guest whose every screenful between two keys is checked."""

    def __init__(self, link: FakeLink, cols: int, rows: int) -> None:
        self.link = link
        self.cols = cols
        self.rows = rows
        self.pending = ""
        self.problems: list[str] = []
        self.where = "welcome"

    async def until(self, *texts: str, timeout: float = 10.0) -> str:
        """Output up to the first of `texts` (a prompt): one screenful, checked."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.pending += self.link.take().decode("utf-8", "replace")
            plain = self.plain(self.pending)
            hits = [(plain.find(t), t) for t in texts if t in plain]
            if hits:
                break
            if loop.time() > deadline:
                raise AssertionError(f"{self.where}: none of {texts} came: {plain[-600:]!r}")
            await asyncio.sleep(0.005)
        screen, self.pending = self.pending, ""
        self.check(screen)
        return self.plain(screen)

    @staticmethod
    def plain(text: str) -> str:
        return _SEQUENCE.sub("", text)

    def check(self, screen: str) -> None:
        where = self.where
        before, clear, after = screen.rpartition(CLEAR)
        # The first row before a clear is the prompt's, with what the caller typed.
        before = before.partition("\n")[2]
        if clear and self.plain(before).strip():
            self.problems.append(f"{where}: cleared with unread text {self.plain(before)[-80:]!r}")
        shown = self.plain(after if clear else screen).replace("\r\n", "\n")
        lines = shown.split("\n")
        # Before a clear the first row is the previous prompt's; blank rows that open the
        # screen (a plain terminal's clear) may scroll away: they held nothing to read.
        rows = lines if clear else lines[1:]
        while rows and not rows[0].strip():
            rows = rows[1:]
        if len(rows) > self.rows:
            self.problems.append(
                f"{where}: {len(rows)} rows between two keys, from {rows[0][:40]!r} "
                f"to {rows[-2][:40] if len(rows) > 1 else ''!r}"
            )
        for line in lines:
            # A carriage return starts the row again: what shows is the widest part.
            width = max(wcswidth(part) for part in line.split("\r"))
            if width > self.cols:
                self.problems.append(f"{where}: a line of {width} columns: {line[:60]!r}")

    def type(self, text: str) -> None:
        self.link.type(text.encode("utf-8"))

    async def answer(self, typed: str) -> str:
        """Type a line, press Enter through every pause, and return the next menu."""
        self.type(typed + "\r")
        seen = ""
        while True:
            screen = await self.until(PROMPT, *PAUSES)
            seen += screen
            if PROMPT in screen:
                return seen
            self.type("\r")


@pytest.mark.parametrize("ttype", TERMINALS)
@pytest.mark.parametrize(("cols", "rows"), SIZES, ids=[f"{c}x{r}" for c, r in SIZES])
async def test_a_guest_walks_every_menu(board: Board, ttype: str, cols: int, rows: int) -> None:
    link = FakeLink(
        Negotiated(
            terminal_types=(ttype,), cols=cols, rows=rows, telnet=True, binary_out=True, echo=True
        )
    )
    task = asyncio.create_task(board.handle(link))
    walker = Walker(link, cols, rows)
    try:
        await walker.until("Appuyez sur Entr", "Appuyez")
        walker.where = "index"
        await walker.answer("")
        for name, menu in sorted(board.menus.menus.items()):
            if not menu.go:
                continue  # reached through other menus, and walked from them
            targets = [
                item
                for item in menu.offered("guest")
                if item.action.kind is ActionKind.MENU
                or (item.action.kind is ActionKind.CMD and item.action.target in PRINT_ONLY)
            ]
            walker.where = f"GO {menu.go[0]}"
            await walker.answer(f"GO {menu.go[0]}")
            for item in targets:
                walker.where = f"{name}, then {item.key}"
                await walker.answer(item.key)
                walker.where = f"back to {name}"
                await walker.answer(f"GO {menu.go[0]}")
    finally:
        link.close()
        await asyncio.wait_for(task, 10)
    assert walker.problems == [], "\n".join(walker.problems)
