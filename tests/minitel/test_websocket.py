"""3616 LOTUSTEL over the WebSocket endpoint, driven with the Minitel's function keys and
read back by the test decoder."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bbs.config import Config
from tests.e2e.harness import loaded_database, node_settings, running_board
from tests.minitel.screen import Screen

pytestmark = pytest.mark.e2e

ENVOI = b"\x13A"
RETOUR = b"\x13B"
SOMMAIRE = b"\x13F"
SUITE = b"\x13H"
CORRECTION = b"\x13G"
FIN = b"\x13I"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def board(tmp_path: Path) -> AsyncIterator[Config]:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    config = node_settings(url, tmp_path, minitel_port=free_port(), minitel_baud=0)
    async with running_board(config) as running:
        yield running


class Minitel:
    """A Minitel on the WebSocket: a screen fed with every frame, keys to press."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.screen = Screen()
        self.raw = bytearray()
        self.closed = False
        self._more = asyncio.Event()
        self._pump = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type is aiohttp.WSMsgType.BINARY:
                self.raw += message.data
                self.screen.feed(message.data)
                self._more.set()
        self.closed = True
        self._more.set()

    async def press(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def menu(self, timeout: float = 10.0) -> Screen:
        """The menu prompt, pressing SUITE through the pages before it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.screen.find("Votre choix (", 0) is not None:
                return self.screen
            if self.screen.find("Suite (", 0) is not None:
                self.forget()
                await self.press(SUITE)
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), 0.2)
        raise AssertionError(f"no menu prompt:\n{self.screen.display()}")

    def forget(self) -> None:
        """What the screen shows now no longer counts as an answer."""
        self.screen.rows[1:] = [[type(c)() for c in row] for row in self.screen.rows[1:]]

    async def wait_for(self, text: str, timeout: float = 10.0) -> Screen:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.screen.find(text, 0) is None:
            left = deadline - loop.time()
            if left <= 0 or self.closed:
                raise AssertionError(f"{text!r} never showed:\n{self.screen.display()}")
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), left)
        return self.screen

    async def until(self, text: str, key: bytes, presses: int = 5) -> Screen:
        """Press `key` (SUITE, SOMMAIRE...) until `text` shows."""
        for _ in range(presses):
            await self.press(key)
            with contextlib.suppress(AssertionError):
                return await self.wait_for(text, 3)
        raise AssertionError(f"{text!r} never showed:\n{self.screen.display()}")

    async def back_to_index(self) -> Screen:
        """SOMMAIRE until the index shows (each press leaves one level)."""
        for _ in range(4):
            self.screen.rows[1:] = [[type(c)() for c in row] for row in self.screen.rows[1:]]
            await self.press(SOMMAIRE)
            with contextlib.suppress(AssertionError):
                return await self.wait_for("Index d'aide", 3)
        raise AssertionError(f"SOMMAIRE never led to the index:\n{self.screen.display()}")

    async def wait_closed(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._pump, timeout)


@contextlib.asynccontextmanager
async def minitel(port: int) -> AsyncIterator[Minitel]:
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        terminal = Minitel(ws)
        try:
            yield terminal
        finally:
            terminal._pump.cancel()


async def signed_in_as_guest(terminal: Minitel) -> None:
    screen = await terminal.wait_for("3616 LOTUSTEL")
    assert screen.text(0).startswith("3616 LOTUSTEL")
    await terminal.wait_for("Services télématiques")
    await terminal.press(ENVOI)
    await terminal.wait_for("Votre nom :")
    await terminal.press(b"INVITX" + CORRECTION + b"E" + ENVOI)
    await terminal.wait_for("Index d'aide")


async def test_accueil_index_and_directory_with_function_keys(board: Config) -> None:
    async with minitel(board.minitel_port) as terminal:
        await signed_in_as_guest(terminal)
        screen = terminal.screen
        # The board echoed the name, and CORRECTION rubbed out the X.
        assert b"INVITX\x08 \x08E" in terminal.raw
        # Accents arrive as G2: "société" reads right on the Minitel's screen.
        assert screen.find("Soucieuse de vous offrir une assistance") is not None
        assert b"soci\x19\x42et\x19\x42e" in terminal.raw
        assert screen.find("société Lotus") is not None or screen.find("la société") is not None
        await terminal.until("Votre choix", SUITE)
        assert not screen.unknown, screen.unknown
        await terminal.press(b"A" + ENVOI)
        await terminal.wait_for("Annuaire")
        await terminal.press(b"belgique" + ENVOI)
        page = await terminal.wait_for("+32 2 714 31 29")
        for row in page.lines():
            assert len(row) <= 40
        assert page.find("Belgique") is not None
        # SOMMAIRE leaves the pager, then the search question, then goes to the index.
        await terminal.back_to_index()
        await terminal.press(FIN)
        await terminal.wait_closed()


async def test_a_note_read_page_by_page_with_suite_and_retour(board: Config) -> None:
    async with minitel(board.minitel_port) as terminal:
        await signed_in_as_guest(terminal)
        await terminal.menu()
        terminal.forget()
        await terminal.press(b"GO BIBLIO" + ENVOI)
        await terminal.menu()
        terminal.forget()
        await terminal.press(b"4" + ENVOI)
        await terminal.wait_for("Chercher :")
        await terminal.press(b"memoire insuffisante" + ENVOI)
        await terminal.wait_for("Document")
        await terminal.press(b"10112" + ENVOI)
        first = await terminal.wait_for("Page 1/")
        assert first.find("SUITE RETOUR SOMMAIRE") is not None
        # The title in double height at the top, nothing scrolled away.
        assert "1-2-3 Release 3.4" in first.text(2), first.display()
        start = len(first.text(2)) - len(first.text(2).lstrip())
        assert first.rows[2][start].double == "bottom" and first.rows[1][start].double == "top"
        assert first.find("Document 10112") is not None
        assert all(len(line) <= 40 for line in first.lines())
        await terminal.press(SUITE)
        await terminal.wait_for("Page 2/")
        await terminal.press(RETOUR)
        await terminal.wait_for("Page 1/")
        await terminal.back_to_index()


async def test_a_telnet_caller_picks_the_minitel_in_go_terminal(board: Config) -> None:
    from tests.telnet_client import Script, TelnetClient

    client = await TelnetClient.connect(board.port, Script(ttypes=["dumb"], rows=60))
    try:
        await client.wait_for(b"Appuyez sur Entree")
        client.type("\r")
        await client.wait_for(b"Votre nom :")
        client.type("INVITE\r")
        await client.wait_for(b"Votre choix (")
        client.type("GO TERMINAL\r")
        await client.wait_for(b"Votre choix")
        client.type("1\r")
        await client.wait_for(b"4=Minitel")
        client.data.clear()
        client.type("4\r")
        await client.wait_for(b"3616 LOTUSTEL")
        screen = Screen()
        screen.feed(bytes(client.data))
        await client.wait_for(b"\x19\x42")
        screen = Screen()
        screen.feed(bytes(client.data))
        assert screen.text(0).startswith("3616 LOTUSTEL")
        assert screen.find("40 x 24") is not None
    finally:
        client.close()


async def test_behind_a_proxy_the_forwarded_address_counts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    config = node_settings(
        url,
        tmp_path,
        minitel_port=free_port(),
        minitel_baud=0,
        proxy_protocol=True,
        max_per_address=1,
    )
    async with running_board(config) as running, aiohttp.ClientSession() as http:
        address = f"ws://127.0.0.1:{running.minitel_port}/"
        # No X-Forwarded-For: not from the proxy.
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(address)
        first = await http.ws_connect(address, headers={"X-Forwarded-For": "203.0.113.7"})
        # One call at a time from 203.0.113.7; another address still gets in.
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(address, headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
        other = await http.ws_connect(address, headers={"X-Forwarded-For": "198.51.100.9"})
        await first.close()
        await other.close()


async def test_sign_in_must_end_within_the_grace(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    config = node_settings(url, tmp_path, minitel_port=free_port(), minitel_baud=0, login_grace=2)
    async with running_board(config) as running, minitel(running.minitel_port) as terminal:
        await terminal.wait_for("ENVOI pour continuer")
        await terminal.wait_closed()
        assert b"Delai de connexion depasse" in terminal.raw
