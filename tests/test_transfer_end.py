"""A transfer ends when its protocol does: the board's "Transfert terminé" follows the
terminal's last word within a few turns of the event loop, with no settling pause."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bbs.config import Config
from bbs.menus.strings import load_strings
from bbs.services.registry import Context
from bbs.services.transfers import Protocol, _send, receive_files
from bbs.session.session import Session, SessionSettings
from bbs.transfer.channel import OutFile
from bbs.transfer.zmodem import zmodem_receive, zmodem_send
from tests.fakes import FakeLink

ROOT = Path(__file__).resolve().parents[1]
DONE = b"Transfert termin"
TURNS = 200
"""Loop turns allowed between the terminal's last word and the board's line. A settling
pause of even a few milliseconds lets a spinning loop turn thousands of times."""


class Terminal:
    """The caller's end of a FakeLink as a transfer channel: what the board writes is
    read here, what is written here the board reads. Counts the loop's turns."""

    def __init__(self, link: FakeLink) -> None:
        self.link = link
        self.turns = 0
        self.last_word_at: int | None = None
        self.done_at: int | None = None
        self._seen = 0
        self._mark = 0

    async def spin(self) -> None:
        while True:
            self.turns += 1
            if (
                self.last_word_at is not None
                and self.done_at is None
                and DONE in self.link.output[self._mark :]
            ):
                self.done_at = self.turns
            await asyncio.sleep(0)

    async def read(self, n: int, timeout: float) -> bytes:
        async with asyncio.timeout(timeout):
            while len(self.link.output) <= self._seen:
                await asyncio.sleep(0)
        data = bytes(self.link.output[self._seen : self._seen + n])
        self._seen += len(data)
        return data

    def write(self, data: bytes) -> None:
        self.link.type(data)
        self.last_word_at = self.turns
        self._mark = len(self.link.output)

    async def drain(self) -> None:
        await asyncio.sleep(0)


def context(link: FakeLink, tmp_path: Path) -> tuple[Context, Session]:
    session = Session(link, load_strings(ROOT / "menus" / "strings"), SessionSettings())
    session.start()
    config = replace(
        Config(),
        upload_dir=str(tmp_path / "up"),
        upload_max_bytes=1 << 20,
        upload_min_free_bytes=1,
    )
    board = SimpleNamespace(config=config, files_dir=tmp_path, db=None)
    return Context(session, cast(Any, board), cast(Any, None)), session


async def test_upload_text_follows_the_senders_oo_at_once(tmp_path: Path) -> None:
    link = FakeLink()
    ctx, session = context(link, tmp_path)
    terminal = Terminal(link)
    spinner = asyncio.create_task(terminal.spin())
    src = tmp_path / "note.txt"
    src.write_bytes(b"x" * 4096)
    try:
        board = asyncio.create_task(receive_files(ctx, "Z"))
        await asyncio.wait_for(link_shows(link, b"**\x18B01"), 5)  # the board's ZRINIT
        sent = await asyncio.wait_for(zmodem_send(terminal, [OutFile("NOTE.TXT", src)]), 10)
        assert sent == ["NOTE.TXT"]
        received = await asyncio.wait_for(board, 10)
        assert [r.name for r in received] == ["NOTE.TXT"]
        assert terminal.last_word_at is not None and terminal.done_at is not None
        assert terminal.done_at - terminal.last_word_at < TURNS
    finally:
        spinner.cancel()
        await session.close()


async def test_download_text_follows_the_oo_and_stray_bytes_are_no_keys(tmp_path: Path) -> None:
    link = FakeLink()
    ctx, session = context(link, tmp_path)
    terminal = Terminal(link)
    spinner = asyncio.create_task(terminal.spin())
    notes = []
    for i in range(10):
        note = tmp_path / f"N{i}.TXT"
        note.write_bytes(bytes([65 + i]) * 4096)
        notes.append(OutFile(note.name, note))
    got = tmp_path / "got"
    got.mkdir()
    try:
        board = asyncio.create_task(_send(ctx, Protocol("Z", "ZMODEM", True), notes))
        await asyncio.wait_for(link_shows(link, b"rz\r"), 5)  # the terminal starts its receiver
        kept = await asyncio.wait_for(zmodem_receive(terminal, Folder(got)), 10)
        assert kept == [n.name for n in notes]
        assert await asyncio.wait_for(board, 10)
        assert terminal.last_word_at is not None and terminal.done_at is not None
        assert terminal.done_at - terminal.last_word_at < TURNS
        # A late repeat of the terminal's ZFIN, then a key: only the key is read.
        link.type(b"**\x18B0800000000022d\r\x8a")
        link.type(b"q")
        assert await asyncio.wait_for(session.read_event(), 5) == "q"
    finally:
        spinner.cancel()
        await session.close()


async def link_shows(link: FakeLink, text: bytes) -> None:
    while text not in link.output:
        await asyncio.sleep(0)


class Folder:
    """Received files into a folder (the terminal's download directory)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, name: str, size: int | None, mtime: int | None) -> Any:
        return _Sink(self.path / name)


class _Sink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def commit(self) -> None:
        self.path.write_bytes(self.data)

    def abort(self) -> None:
        pass
