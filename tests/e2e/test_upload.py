"""Uploads as a caller makes them: UL on a screen that takes files, lrzsz sending through telnet."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import loaded_database, node_settings, running_board
from tests.e2e.test_download import at_menu, relay_to
from tests.transfer.peers import every_byte

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Config]:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    config = node_settings(
        url, tmp_path, upload_max_bytes=2 * 1024 * 1024, upload_min_free_bytes=1024
    )
    async with running_board(config) as running:
        yield running


def stored(config: Config) -> dict[str, dict[str, object]]:
    """The uploads the board kept, by the sender's (sanitised) name."""
    records = {}
    for meta in Path(config.upload_dir).glob("*.json"):
        record = json.loads(meta.read_text(encoding="utf-8"))
        data = (meta.parent / meta.stem).read_bytes()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        records[record["name"]] = record
    return records


def sources(folder: Path, sizes: dict[str, int]) -> list[str]:
    folder.mkdir()
    for name, size in sizes.items():
        (folder / name).write_bytes(every_byte(size))
    return list(sizes)


SIZES = {"empty.bin": 0, "one.bin": 1, "k.bin": 1025, "big.bin": 1024 * 1024}


@pytest.mark.parametrize(
    ("letter", "program", "args"),
    [("Z", "sz", ()), ("Y", "sb", ()), ("Y", "sb", ("-k",)), ("G", "sb", ())],
)
async def test_batch_upload(
    board: Config, tmp_path: Path, letter: str, program: str, args: tuple[str, ...]
) -> None:
    names = sources(tmp_path / "src", SIZES)
    client = await at_menu(board.port)
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type(f"UL {letter}\r")
        code = await relay_to(client, b"annuler.\r\n", program, *args, *names, cwd=tmp_path / "src")
        assert code == 0
        await client.wait_for(b"Transfert termine", 10)
        kept = stored(board)
        for name, size in SIZES.items():
            assert kept[name]["size"] == size
            expected = hashlib.sha256(every_byte(size)).hexdigest()
            assert kept[name]["sha256"] == expected
        assert not list((Path(board.upload_dir) / ".partial").iterdir())
    finally:
        client.close()


class OneBadByte:
    """Alters one byte of what the sender sends, `at` bytes into its stream."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.sent = 0
        self.done = False

    def __call__(self, chunk: bytes) -> bytes:
        start, self.sent = self.sent, self.sent + len(chunk)
        if self.done or not start <= self.at < self.sent:
            return chunk
        self.done = True
        i = self.at - start
        bad = b"A" if chunk[i : i + 1] != b"A" else b"B"
        return chunk[:i] + bad + chunk[i + 1 :]


ZRPOS_HEADER = b"*\x18B09"
"""A hex header of type ZRPOS (9): the receiver asks for the data again from an offset."""


@pytest.fixture
async def slow_board(tmp_path: Path) -> AsyncIterator[Config]:
    """A node whose input budget holds an upload back (reading paused) most of the time."""
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    config = node_settings(
        url,
        tmp_path,
        upload_max_bytes=2 * 1024 * 1024,
        upload_min_free_bytes=1024,
        input_bytes_per_second=8192,
    )
    async with running_board(config) as running:
        yield running


async def test_an_upload_resent_after_zrpos_completes(slow_board: Config, tmp_path: Path) -> None:
    """A damaged byte mid-upload: the board asks sz to go back (ZRPOS) and the file still
    arrives whole. The ZRPOS is written while the input budget holds reading back: drain()
    once waited on that hold instead of the writing flag, and the line stalled."""
    board = slow_board
    size = 256 * 1024
    names = sources(tmp_path / "src", {"noisy.bin": size})
    client = await at_menu(board.port)
    damage = OneBadByte(size // 2)
    heard = bytearray()
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type("UL Z\r")
        code = await relay_to(
            client, b"annuler.\r\n", "sz", *names, cwd=tmp_path / "src", damage=damage, heard=heard
        )
        assert damage.done
        assert ZRPOS_HEADER in heard
        assert code == 0
        await client.wait_for(b"Transfert termine", 10)
        record = stored(board)["noisy.bin"]
        assert record["size"] == size
        assert record["sha256"] == hashlib.sha256(every_byte(size)).hexdigest()
    finally:
        client.close()


@pytest.mark.parametrize(("letter", "args"), [("X", ()), ("C", ()), ("1K", ("-k",))])
async def test_xmodem_upload(
    board: Config, tmp_path: Path, letter: str, args: tuple[str, ...]
) -> None:
    sources(tmp_path / "src", {"data.bin": 5000})
    client = await at_menu(board.port)
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type(f"UL {letter}\r")
        code = await relay_to(
            client, b"annuler.\r\n", "sx", *args, "data.bin", cwd=tmp_path / "src"
        )
        assert code == 0
        await client.wait_for(b"Transfert termine", 10)
        (record,) = stored(board).values()
        data = next(
            p for p in Path(board.upload_dir).iterdir() if p.is_file() and p.suffix == ""
        ).read_bytes()
        assert data[:5000] == every_byte(5000)
        assert set(data[5000:]) <= {0x1A}
        assert record["size"] == len(data)
    finally:
        client.close()


async def test_too_big_upload_is_refused_and_nothing_kept(board: Config, tmp_path: Path) -> None:
    names = sources(tmp_path / "src", {"huge.bin": 3 * 1024 * 1024})
    client = await at_menu(board.port)
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type("UL Z\r")
        await relay_to(client, b"annuler.\r\n", "sz", *names, cwd=tmp_path / "src")
        await client.wait_for(b"huge.bin refuse", 10)
        assert stored(board) == {}
        assert not list((Path(board.upload_dir) / ".partial").iterdir())
        client.type("GO FAX\r")
        await client.wait_for(b"Fax sur demande")
    finally:
        client.close()


async def test_ul_elsewhere_is_refused(board: Config) -> None:
    client = await at_menu(board.port)
    try:
        client.type("UL Z\r")
        await client.wait_for(b"Aucun envoi de fichier")
    finally:
        client.close()


async def test_start_up_removes_unfinished_uploads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await upgrade(url)
    await load_dir(url, ROOT / "data")
    uploads = tmp_path / "uploads"
    (uploads / ".partial").mkdir(parents=True)
    (uploads / ".partial" / "0123456789abcdef0123456789abcdef").write_bytes(b"half a file")
    config = replace(
        Config(),
        db=url,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        upload_dir=str(uploads),
        shutdown_grace=0.1,
    )
    async with running_board(config):
        assert not list((uploads / ".partial").iterdir())
