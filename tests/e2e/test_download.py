"""Downloads as a caller makes them: `telnet`-style client, DL at a prompt, lrzsz receiving."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.config import Config
from bbs.library.datafiles import read_library
from bbs.library.text import note_text
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import encode_as
from tests.e2e.harness import running_board
from tests.telnet_client import Script, TelnetClient
from tests.transfer.peers import LRZSZ

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def library() -> object:
    return read_library(ROOT / "data")


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
        probe_timeout=0.3,
        shutdown_grace=0.2,
    )
    async with running_board(config) as running:
        yield running


async def at_menu(port: int) -> TelnetClient:
    """A dumb-terminal caller with a binary line, waiting at the index prompt."""
    client = await TelnetClient.connect(port, Script(ttypes=["dumb"], rows=60))
    await client.wait_for(b"Appuyez sur Entree")
    client.type("\r")
    await client.wait_for(b"Votre nom :")
    client.type("INVITE\r")
    await client.wait_for(b"Votre choix (")
    return client


async def relay_to(
    client: TelnetClient,
    trigger: bytes,
    program: str,
    *args: str,
    cwd: Path,
    damage: Callable[[bytes], bytes] | None = None,
    heard: bytearray | None = None,
) -> int:
    """Once `trigger` shows, connect the line to an lrzsz program until it exits; its status.

    `damage` may alter what the program sends before it reaches the line; `heard` collects
    what the board sent the program.

    The board speaks as soon as the protocol has ended, which may be before the program
    has exited: on a terminal, the bytes after the program's last word (a ZMODEM "OO",
    then text) stay on the line for the screen once it stops reading. Here they have
    gone down the pipe, so they are put back in front of what the screen got."""
    await client.wait_for(trigger, 10)
    path = LRZSZ[program]
    assert path, f"{program} is not installed (make setup installs lrzsz)"
    process = await asyncio.create_subprocess_exec(
        path,
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdin and process.stdout
    stdin = process.stdin
    # What the board sent after the trigger already belongs to the program.
    _, _, early = bytes(client.data).partition(trigger)
    client.data.clear()
    after_last_word = bytearray()

    def inbound(data: bytes) -> None:
        after_last_word.extend(data)
        if heard is not None:
            heard.extend(data)
        if not stdin.is_closing():
            stdin.write(data)

    client.sink = inbound
    inbound(early)

    async def outbound() -> None:
        assert process.stdout
        while chunk := await process.stdout.read(65536):
            after_last_word.clear()
            if damage is not None:
                chunk = damage(chunk)
            # lrzsz never escapes IAC: the telnet side of the relay must.
            client.send(chunk.replace(b"\xff", b"\xff\xff"))

    pump = asyncio.create_task(outbound())
    try:
        code = await asyncio.wait_for(process.wait(), 60)
        await asyncio.wait_for(pump, 5)
    finally:
        client.sink = None
        client.data[:0] = after_last_word
        pump.cancel()
        if process.returncode is None:
            process.kill()
    return code


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("letter", "program", "args"),
    [("Z", "rz", ("-y",)), ("Y", "rb", ("-y",)), ("G", "rb", ("-y",))],
)
async def test_batch_download_of_a_note_and_its_file(
    board: Config, tmp_path: Path, library: object, letter: str, program: str, args: tuple[str, ...]
) -> None:
    notes = [n for n in library.notes if n.file and n.lang == "fr"]  # type: ignore[attr-defined]
    note = notes[0]
    client = await at_menu(board.port)
    try:
        client.type(f"DL {note.number} {letter}\r")
        code = await relay_to(client, b"annuler.\r\n", program, *args, cwd=tmp_path)
        assert code == 0
        text = tmp_path / f"{note.number:05d}FR.TXT"
        assert text.read_bytes() == note_text(note)
        sent = (ROOT / "data" / "files" / note.file).read_bytes()
        got = next(p for p in tmp_path.iterdir() if p.name.lower() == note.file.lower())
        assert digest(got.read_bytes()) == digest(sent)
        await client.wait_for(b"Transfert termine", 10)
        client.type("GO FAX\r")
        await client.wait_for(b"Fax sur demande")
    finally:
        client.close()


@pytest.mark.parametrize(("letter", "args"), [("X", ()), ("C", ("-c",)), ("1K", ("-c",))])
async def test_xmodem_download_of_the_attached_file(
    board: Config, tmp_path: Path, library: object, letter: str, args: tuple[str, ...]
) -> None:
    note = next(n for n in library.notes if n.file)  # type: ignore[attr-defined]
    client = await at_menu(board.port)
    try:
        client.type(f"DL {note.number} {letter}\r")
        code = await relay_to(client, b"annuler.\r\n", "rx", *args, "got.bin", cwd=tmp_path)
        assert code == 0
        sent = (ROOT / "data" / "files" / note.file).read_bytes()
        got = (tmp_path / "got.bin").read_bytes()
        # XMODEM carries no size: the last block arrives padded with SUB (0x1A).
        assert got[: len(sent)] == sent
        assert set(got[len(sent) :]) <= {0x1A} and len(got) - len(sent) < 1024
        await client.wait_for(b"Transfert termine", 10)
    finally:
        client.close()


async def test_bad_dl_commands_change_nothing(board: Config) -> None:
    client = await at_menu(board.port)
    try:
        client.type("DL\r")
        await client.wait_for(b"Usage : DL")
        client.type("DL 99999 Z\r")
        await client.wait_for(b"n'existe pas")
        client.type("DL 10112 Q\r")
        await client.wait_for(b"Protocole inconnu")
        client.type("UL Z\r")
        await client.wait_for(b"Aucun envoi")
        client.type("GO FAX\r")
        screen = await client.wait_for(b"Fax sur demande")
        assert b"Traceback" not in screen and b"Error" not in screen
    finally:
        client.close()


async def test_tagged_documents_go_as_one_zmodem_batch(
    board: Config, tmp_path: Path, library: object
) -> None:
    with_files = [n for n in library.notes if n.file and n.lang == "fr"]  # type: ignore[attr-defined]
    first, second = with_files[0], with_files[1]
    client = await at_menu(board.port)
    try:
        client.type("DL X\r")
        await client.wait_for(b"Usage : DL")
        client.type(f"TAG {first.number}\r")
        await client.wait_for(f"{first.number:05d}. DL Z".encode())
        client.type(f"TAG {second.number}\r")
        await client.wait_for(f"{second.number:05d}. DL Z".encode())
        client.type("DL X\r")
        await client.wait_for(b"ne partent ensemble")
        client.type("DL Z\r")
        code = await relay_to(client, b"annuler.\r\n", "rz", "-y", cwd=tmp_path)
        assert code == 0
        names = {p.name.lower() for p in tmp_path.iterdir()}
        for note in (first, second):
            assert f"{note.number:05d}fr.txt" in names
            assert note.file.lower() in names
        await client.wait_for(b"Transfert termine", 10)
        client.type("TAG\r")
        await client.wait_for(b"Documents marques : -.")
    finally:
        client.close()


async def test_capture_sends_the_text_between_prompts(board: Config, library: object) -> None:
    note = next(n for n in library.notes if n.lang == "fr")  # type: ignore[attr-defined]
    client = await at_menu(board.port)
    try:
        client.type(f"CAP {note.number}\r")
        await client.wait_for(b"Ouvrez la capture")
        client.type("\r")
        text = await client.wait_for(b"vous pouvez fermer la capture")
        assert f"Document {note.number:05d}".encode() in text
        first_line = next(line for line in note.body.splitlines() if line.strip())
        assert encode_as(first_line, Encoding.ASCII)[:20] in text
    finally:
        client.close()
