"""Ordering faxes as callers do: a DTMF bridge on the fax line, and GO FAX on telnet,
with the ZMODEM download of the caller's own TIFF."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from bbs.config import Config
from bbs.fax.jobs import Job, list_jobs
from bbs.store.db import engine_scope
from tests.e2e.harness import node_settings, running_board
from tests.e2e.test_download import at_menu, relay_to

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def board(loaded_url: str, tmp_path: Path) -> AsyncIterator[Config]:
    config = node_settings(
        loaded_url,
        tmp_path,
        fax_port=free_port(),
        fax_spool=str(tmp_path / "spool"),
        fax_max_per_caller=2,
    )
    async with running_board(config) as running:
        yield running


class Line:
    """A DTMF bridge's end of the fax line: keys as bytes out, spoken lines in."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.heard = bytearray()

    @classmethod
    async def call(cls, port: int) -> Line:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        return cls(reader, writer)

    def press(self, keys: str) -> None:
        for key in keys:
            self.writer.write(key.encode("ascii"))

    async def hear(self, text: str, timeout: float = 10.0) -> str:
        """Wait until the line has said `text`; everything said so far."""
        needle = text.encode("utf-8")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.heard:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{text!r} never said; heard:\n{self.heard.decode()}")
            chunk = await asyncio.wait_for(self.reader.read(4096), left)
            if not chunk:
                raise AssertionError(f"hung up before {text!r}; heard:\n{self.heard.decode()}")
            self.heard += chunk
        return self.heard.decode("utf-8")

    async def hung_up(self, timeout: float = 10.0) -> None:
        while await asyncio.wait_for(self.reader.read(4096), timeout):
            pass

    def close(self) -> None:
        self.writer.close()


async def jobs(config: Config) -> list[Job]:
    async with engine_scope(config.db) as db:
        return await asyncio.wait_for(list_jobs(db), 10)


async def wait_state(config: Config, job_id: int, state: str, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = {j.id: j for j in await jobs(config)}
        if found[job_id].state == state and found[job_id].file:
            return
        assert loop.time() < deadline, found[job_id]
        await asyncio.sleep(0.2)  # polling the database: no event crosses processes


async def test_an_order_on_the_fax_line(board: Config) -> None:
    line = await Line.call(board.fax_port)
    try:
        await line.hear("tapez 2.")
        # A bridge may send line ends and unknown tones: they are ignored.
        line.press("2\r\n")
        await line.hear("suivi de la touche #")
        line.press("99999#")
        await line.hear("Le document 99999 n'existe pas")
        line.press("10112#1001#")
        await line.hear("Document 1001 enregistré (2 sur 5)")
        line.press("#")
        await line.hear("numéro de votre télécopieur")
        line.press("0033144556677#")
        await line.hear("Les documents 10112, 1001 seront envoyés au +33144556677")
        line.press("#")
        heard = await line.hear("Au revoir.")
        await line.hung_up()
    finally:
        line.close()
    assert "Votre demande numéro 1 est enregistrée" in heard
    (job,) = await jobs(board)
    assert job.documents == (10112, 1001) and job.fax_number == "+33144556677"
    assert job.caller == "addr:127.0.0.1"
    # No fax_command on this board: rendered, the fax waits in the outbox.
    await wait_state(board, job.id, "queued")
    tiff = Path(board.fax_spool) / f"outbox/fax-{job.id:06d}.tif"
    assert Image.open(tiff).n_frames == 3


async def test_the_fax_line_limits_a_caller(board: Config) -> None:
    for n in range(3):
        line = await Line.call(board.fax_port)
        try:
            await line.hear("tapez 2.")
            line.press("1")  # the catalogue
            line.press(f"014455667{n}#")
            line.press("#")
            heard = await line.hear("Au revoir.")
        finally:
            line.close()
    assert "nombre maximum de demandes" in heard
    assert len(await jobs(board)) == 2


async def test_go_fax_on_telnet_orders_and_downloads_the_tiff(
    board: Config, tmp_path: Path
) -> None:
    client = await at_menu(board.port)
    try:
        client.type("GO FAX\r")
        await client.wait_for(b"Fax sur demande")
        client.type("C\r")
        await client.wait_for(b"Touches :")
        client.type("7\r")
        await client.wait_for(b"Ce choix n'existe pas")
        client.type("2x\r")
        await client.wait_for(b"Seuls les chiffres")
        client.type("2\r")
        await client.wait_for(b"suivi de la touche #")
        # Spaces between keys are allowed.
        client.type("10112 #\r#\r01 44 55 66 77#\r")
        await client.wait_for(b"seront envoyes au 0144556677")
        client.type("#\r")
        await client.wait_for(b"est enregistree")
        await client.wait_for(b"(O/N)", 60)
        client.type("O\r")
        code = await relay_to(client, b"annuler.\r\n", "rz", "-y", cwd=tmp_path)
        assert code == 0
        await client.wait_for(b"Transfert termine", 10)
        (job,) = await jobs(board)
        got = tmp_path / f"FAX-{job.id:06d}.TIF"
        image = Image.open(io.BytesIO(got.read_bytes()))
        assert image.info["compression"] == "group3" and image.n_frames == 2
        assert got.read_bytes() == (Path(board.fax_spool) / job.file).read_bytes()
        # The caller's faxes, from the menu; another number is refused.
        client.type("T\r")
        await client.wait_for(b"Vos demandes de telecopie")
        client.type("99\r")
        await client.wait_for(b"n'est pas la votre")
    finally:
        client.close()
