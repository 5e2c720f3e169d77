"""Every file size that trips transfer code, through the board's telnet line, against lrzsz.

Downloads: notes whose files are 0, 1, 127, 128, 1023, 1024, 1025 bytes, 1 MiB and
10 MiB of every byte value, tagged and sent as one batch (ZMODEM, YMODEM) or one by one
(XMODEM-1K). Uploads: the same files sent by sz, sb and sx.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import running_board
from tests.e2e.test_download import at_menu, relay_to
from tests.transfer.peers import every_byte

ROOT = Path(__file__).resolve().parents[2]
SIZES = [0, 1, 127, 128, 1023, 1024, 1025, 1024 * 1024, 10 * 1024 * 1024]
FIRST = 99001
pytestmark = pytest.mark.e2e


def file_name(size: int) -> str:
    return f"size{size}.bin"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of data/ with one test note per size, each with its file."""
    data = tmp_path_factory.mktemp("data") / "data"
    shutil.copytree(ROOT / "data", data)
    template = (ROOT / "data" / "library" / "10158-fr.txt").read_text(encoding="utf-8")
    head, _, body = template.partition("\n\n")
    for number, size in enumerate(SIZES, FIRST):
        (data / "files" / file_name(size)).write_bytes(every_byte(size))
        lines = [
            f"Document: {number}"
            if line.startswith("Document:")
            else f"Fichier: {file_name(size)}"
            if line.startswith("Fichier:")
            else line
            for line in head.splitlines()
        ]
        (data / "library" / f"{number}-fr.txt").write_text(
            "\n".join(lines) + "\n\n" + body, encoding="utf-8"
        )
    return data


@pytest.fixture
async def board(tmp_path: Path, data_dir: Path) -> AsyncIterator[Config]:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await upgrade(url)
    await load_dir(url, data_dir)
    config = replace(
        Config(),
        db=url,
        data_dir=str(data_dir),
        menus_dir=str(ROOT / "menus"),
        probe_timeout=0.3,
        shutdown_grace=0.2,
        upload_dir=str(tmp_path / "uploads"),
        upload_max_bytes=16 * 1024 * 1024,
        upload_min_free_bytes=1024,
    )
    async with running_board(config) as running:
        yield running


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(("letter", "program"), [("Z", "rz"), ("Y", "rb")])
async def test_batch_download_of_every_size(
    board: Config, tmp_path: Path, letter: str, program: str
) -> None:
    client = await at_menu(board.port)
    try:
        for number in range(FIRST, FIRST + len(SIZES)):
            client.type(f"TAG {number}\r")
            await client.wait_for(f"{number:05d}. DL Z".encode())
        client.type(f"DL {letter}\r")
        code = await relay_to(client, b"annuler.\r\n", program, "-y", cwd=tmp_path)
        assert code == 0
        await client.wait_for(b"Transfert termine", 30)
        for size in SIZES:
            got = tmp_path / file_name(size).upper()
            assert digest(got.read_bytes()) == digest(every_byte(size)), size
    finally:
        client.close()


@pytest.mark.parametrize("size", SIZES)
async def test_xmodem_1k_download_of_every_size(board: Config, tmp_path: Path, size: int) -> None:
    client = await at_menu(board.port)
    try:
        client.type(f"DL {FIRST + SIZES.index(size)} 1K\r")
        code = await relay_to(client, b"annuler.\r\n", "rx", "-c", "got.bin", cwd=tmp_path)
        assert code == 0
        got = (tmp_path / "got.bin").read_bytes()
        sent = every_byte(size)
        assert got[:size] == sent
        # XMODEM carries no size: the last block is padded with SUB (at most 127 bytes).
        assert set(got[size:]) <= {0x1A} and len(got) - size < 128
    finally:
        client.close()


@pytest.mark.parametrize(
    ("letter", "program", "args"), [("Z", "sz", ()), ("Y", "sb", ("-k",)), ("G", "sb", ())]
)
async def test_batch_upload_of_every_size(
    board: Config, tmp_path: Path, letter: str, program: str, args: tuple[str, ...]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for size in SIZES:
        (src / file_name(size)).write_bytes(every_byte(size))
    client = await at_menu(board.port)
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type(f"UL {letter}\r")
        names = [file_name(size) for size in SIZES]
        code = await relay_to(client, b"annuler.\r\n", program, *args, *names, cwd=src)
        assert code == 0
        await client.wait_for(b"Transfert termine", 30)
        kept = {}
        for meta in Path(board.upload_dir).glob("*.json"):
            record = json.loads(meta.read_text(encoding="utf-8"))
            kept[record["name"]] = digest((meta.parent / meta.stem).read_bytes())
        for size in SIZES:
            assert kept[file_name(size)] == digest(every_byte(size)), size
    finally:
        client.close()


@pytest.mark.parametrize("size", [0, 1, 127, 128, 1023, 1024, 1025, 1024 * 1024])
async def test_xmodem_upload_of_every_size(board: Config, tmp_path: Path, size: int) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "data.bin").write_bytes(every_byte(size))
    client = await at_menu(board.port)
    try:
        client.type("GO SERVICES\r")
        await client.wait_for(b"Votre choix (")
        client.type("UL 1K\r")
        code = await relay_to(client, b"annuler.\r\n", "sx", "-k", "data.bin", cwd=src)
        assert code == 0
        await client.wait_for(b"Votre choix", 30)
        stored = [p for p in Path(board.upload_dir).iterdir() if p.is_file() and not p.suffix]
        if size == 0:
            # An empty file gives XMODEM nothing to send: nothing may be kept but nothing.
            assert all(p.stat().st_size == 0 for p in stored)
            return
        (data,) = (p.read_bytes() for p in stored)
        assert data[:size] == every_byte(size)
        assert set(data[size:]) <= {0x1A}
    finally:
        client.close()
