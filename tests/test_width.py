"""Issue 10, symptom 9: every screen at 40 columns (and 80), as a terminal emulator (pyte)
shows it: no line wider than the screen, art drawn whole, pager footers erased whole,
library titles wrapped rather than cut. Fake line; the library on a loaded SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pyte
import pytest
from pyte import modes

from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.library.search import notes_since
from bbs.session.link import Negotiated
from bbs.session.session import Session
from bbs.store.db import make_engine
from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import fold_text
from tests.fakes import FakeLink
from tests.test_library_screens import library_db  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[1]
BOX_LEFT = set("┌│├└+|")
BOX_RIGHT = set("┐│┤┘+|")


class Watched(pyte.Screen):
    """A screen that notes every line the terminal had to wrap itself (wider than it)."""

    def __init__(self, columns: int, lines: int) -> None:
        super().__init__(columns, lines)
        self.overflows: list[str] = []

    def draw(self, data: str) -> None:
        for ch in data:
            if self.cursor.x >= self.columns and modes.DECAWM in self.mode:
                self.overflows.append(self.display[self.cursor.y].rstrip())
            super().draw(ch)


@dataclass
class Line:
    """A caller whose terminal is a pyte screen of the size they announced."""

    link: FakeLink
    board: Board
    task: asyncio.Task[None]
    screen: Watched
    raw: bytearray

    @property
    def session(self) -> Session:
        (session,) = self.board.sessions
        return session

    def _feed(self, data: bytes) -> None:
        encoding = self.session.caps.wire_encoding
        if encoding is Encoding.UTF8:
            pyte.ByteStream(self.screen).feed(data)
        elif encoding is Encoding.CP437:
            pyte.Stream(self.screen).feed(data.decode("cp437"))
        else:
            stream = pyte.ByteStream(self.screen)
            stream.use_utf8 = False
            stream.feed(data)

    async def until(self, text: str, timeout: float = 5.0) -> str:
        """Feed the screen until `text` is on it; the screen's text."""
        return await self.until_any(text, timeout=timeout)

    async def until_any(self, *texts: str, timeout: float = 5.0) -> str:
        """Feed the screen until new output puts one of `texts` on it; the screen's text."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            data = self.link.take()
            if data:
                self.raw += data
                self._feed(data)
            shown = "\n".join(self.screen.display)
            if data and any(text in shown for text in texts):
                return shown
            if loop.time() > deadline:
                raise AssertionError(f"{texts!r} never came; screen:\n{shown}")
            await asyncio.sleep(0.01)

    async def through(self, text: str) -> str:
        """Feed the screen until `text` is on it, pressing Enter at every "-- Suite"."""
        while True:
            shown = await self.until_any(text, "-- Suite")
            if text in shown:
                return shown
            self.type("\r")

    def type(self, text: str) -> None:
        self.link.type(text.encode("latin-1"))


async def _connect(board: Board, term: str, cols: int, rows: int) -> Line:
    link = FakeLink(
        Negotiated(
            terminal_types=(term,), cols=cols, rows=rows, telnet=True, binary_out=True, echo=True
        )
    )
    task = asyncio.create_task(board.handle(link))
    line = Line(link, board, task, Watched(cols, rows), bytearray())
    while not board.sessions:
        await asyncio.sleep(0.01)
    return line


@pytest.fixture
async def board(board_config: tuple[Config, object]) -> Board:
    config, directory = board_config
    return Board.build(replace(config, probe_timeout=0.1), directory)  # type: ignore[arg-type]


@pytest.fixture
def board_config() -> tuple[Config, object]:
    config = replace(Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"))
    return config, read_data_dir(ROOT / "data")


def _boxes_whole(shown: str) -> None:
    """Every row that starts a box border ends one: the art was not wrapped."""
    rows = [row.strip() for row in shown.splitlines()]
    boxed = [row for row in rows if row[:1] in BOX_LEFT and len(row) > 2]
    assert boxed, "no art on the screen:\n" + shown
    for row in boxed:
        assert row[-1] in BOX_RIGHT, f"art cut at the screen's edge: {row!r}\n{shown}"


@pytest.mark.parametrize("term", ["ansi", "vt100", "xterm", "dumb"])
async def test_welcome_and_index_art_at_40_columns(board: Board, term: str) -> None:
    """NAWS said 40, yet the 80-column art was sent and wrapped into garbage."""
    line = await _connect(board, term, 40, 25)
    try:
        shown = await line.until("Appuyez sur Entr")
        _boxes_whole(shown)
        assert "Lotus Development" in shown and "English" in shown
        line.type("\r")
        shown = await line.until("-- Suite")
        _boxes_whole(shown)
        assert "Index d'aide" in shown
        assert line.screen.overflows == []
    finally:
        line.link.close()
        await asyncio.wait_for(line.task, 5)


@pytest.mark.parametrize(("cols", "rows"), [(40, 25), (80, 24)])
async def test_the_pager_footer_fits_and_is_erased_whole(
    board: Board, cols: int, rows: int
) -> None:
    """At 40 columns the footer wrapped to two lines and only one was erased."""
    line = await _connect(board, "vt100", cols, rows)
    try:
        await line.until("Appuyez sur Entr")
        line.type("\r")
        shown = await line.until("-- Suite")
        (footer,) = [row for row in shown.splitlines() if "-- Suite" in row]
        assert footer.rstrip().endswith("--"), footer
        while True:
            line.type("\r")
            shown = await line.until_any("Votre choix", "-- Suite")
            if "Votre choix" in shown:
                break
        assert "-- Suite" not in shown and "quitter --" not in shown, shown
        assert line.screen.overflows == []
    finally:
        line.link.close()
        await asyncio.wait_for(line.task, 5)


@pytest.fixture
async def library_board(library_db: str) -> AsyncIterator[Board]:  # noqa: F811
    config = replace(
        Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"), probe_timeout=0.1
    )
    engine = make_engine(library_db)
    try:
        yield Board.build(config, read_data_dir(ROOT / "data"), engine)
    finally:
        await engine.dispose()


async def test_library_titles_wrap_at_40_columns(library_board: Board) -> None:
    """Library titles were cut to about 18 characters at 40 columns."""
    line = await _connect(library_board, "vt100", 40, 25)
    try:
        await line.until("Appuyez sur Entr")
        line.type("\r")
        await line.until("Votre nom")
        line.type("INVITE\r")
        await line.through("Votre choix")
        line.type("GO BIBLIO\r")
        await line.through("Votre choix")
        line.type("3\r")
        await line.until("Depuis")
        line.type("\r")
        screens = []
        while True:
            shown = await line.until_any("Document a lire", "-- Suite")
            screens.append(" ".join(shown.split()))
            if "Document a lire" in shown:
                break
            line.type("\r")
        assert library_board.db is not None
        notes = await notes_since(library_board.db, date(1900, 1, 1), public=True, limit=15)
        text = " ".join(screens)
        for note in notes:
            title = " ".join(fold_text(note.title, Encoding.ASCII).split())
            assert title in text, f"{note.number:05d} {title!r} not whole at 40 columns"
        assert line.screen.overflows == []
    finally:
        line.link.close()
        await asyncio.wait_for(line.task, 5)
