"""The browser terminal's WebSocket: the same Session as telnet, with Origin, admission,
resize and message-size rules. Output is rendered by pyte, as a browser terminal shows it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import aiohttp
import pyte
from aiohttp.test_utils import TestClient, TestServer

from bbs.board import Board
from bbs.web.app import make_app
from bbs.web.terminal import MAX_MESSAGE


class Screen:
    """A pyte screen fed by the socket's binary frames; answers cursor-position probes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, cols: int = 80, rows: int = 25):
        self.ws = ws
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.Stream(self.screen)
        self.answers: list[str] = []
        self.sent = ""
        self.screen.write_process_input = self.answers.append  # type: ignore[method-assign]
        self.decoder = __import__("codecs").getincrementaldecoder("utf-8")(errors="replace")

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    async def wait_for(self, wanted: str, timeout: float = 15.0, *, ever: bool = False) -> str:
        """Wait until the screen shows `wanted` (`ever`: until it was ever sent)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while wanted not in (self.sent if ever else self.text()):
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"{wanted!r} never appeared:\n{self.text()}"
            try:
                message = await self.ws.receive(timeout=left)
            except TimeoutError:
                continue
            if message.type is aiohttp.WSMsgType.BINARY:
                decoded = self.decoder.decode(message.data)
                self.sent += decoded
                self.stream.feed(decoded)
                for answer in self.answers:
                    await self.ws.send_bytes(answer.encode())
                self.answers.clear()
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                raise AssertionError(f"closed before {wanted!r}:\n{self.text()}")
        return self.text()

    async def type(self, keys: str) -> None:
        await self.ws.send_bytes(keys.encode())


async def _client(board: Board) -> TestClient[Any, Any]:
    client = TestClient(TestServer(make_app(board), host="127.0.0.1"))
    await client.start_server()
    return client


def _origin(client: TestClient[Any, Any]) -> str:
    return f"http://{client.host}:{client.port}"


async def test_the_browser_reaches_the_index_and_the_directory(board: Board) -> None:
    client = await _client(board)
    try:
        ws = await client.ws_connect(
            "/terminal/ws?term=xterm-256color&cols=80&rows=25",
            headers={"Origin": _origin(client)},
        )
        screen = Screen(ws)
        # The CP437 welcome art arrives as Unicode box drawing for the browser.
        await screen.wait_for("Entrée")
        assert "╔═══" in screen.text()
        await screen.type("\r")
        await screen.wait_for("Votre nom :")
        await screen.type("INVITE\r")
        await screen.wait_for("Index d'aide - Assistance clients Lotus")
        await screen.type("q")
        await screen.wait_for("Votre choix")
        await screen.type("GO ANNUAIRE\r")
        await screen.wait_for("Annuaire")
        await screen.type("belgique\r")
        await screen.wait_for("+32 2 714 31 29")
        await screen.type("q")
        await screen.wait_for("Recherche :")
        # A download is a link to the web site, not a ZMODEM transfer.
        await screen.type("DL 10158\r")
        await screen.wait_for(f"{_origin(client)}/fichiers/lj4drv.zip", ever=True)
        assert "\x18B00" not in screen.sent, "a ZMODEM header was sent"
        await screen.type("GO ANNUAIRE\r")
        await screen.wait_for("Recherche :")
        # A resize reaches the session (it redraws to fit the new width).
        await ws.send_str(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
        # Leaving the board closes the socket from the board's side.
        await screen.type("BYE\r")
        while True:
            message = await ws.receive(timeout=10)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.closed or message.type is aiohttp.WSMsgType.CLOSE
    finally:
        await client.close()


async def test_foreign_or_missing_origin_is_refused(board: Board) -> None:
    client = await _client(board)
    try:
        for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
            try:
                ws = await client.ws_connect("/terminal/ws", headers=headers)
            except aiohttp.WSServerHandshakeError as refused:
                assert refused.status == 403
            else:
                await ws.close()
                raise AssertionError(f"accepted with {headers}")
    finally:
        await client.close()


async def test_per_address_cap_counts_browser_terminals(board: Board) -> None:
    capped = replace(board, config=replace(board.config, max_per_address=1))
    client = await _client(capped)
    try:
        first = await client.ws_connect("/terminal/ws", headers={"Origin": _origin(client)})
        try:
            await client.ws_connect("/terminal/ws", headers={"Origin": _origin(client)})
        except aiohttp.WSServerHandshakeError as refused:
            assert refused.status == 503
        else:
            raise AssertionError("a second terminal from one address was accepted")
        await first.close()
    finally:
        await client.close()


async def test_oversized_message_closes_the_line(board: Board) -> None:
    client = await _client(board)
    try:
        ws = await client.ws_connect("/terminal/ws", headers={"Origin": _origin(client)})
        await ws.send_bytes(b"x" * (MAX_MESSAGE + 1))
        while True:
            message = await ws.receive(timeout=10)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == 1009
    finally:
        await client.close()


async def test_sign_in_must_end_within_the_grace(board: Board) -> None:
    hurried = replace(board, config=replace(board.config, login_grace=1.0))
    client = await _client(hurried)
    try:
        ws = await client.ws_connect("/terminal/ws", headers={"Origin": _origin(client)})
        while True:
            message = await ws.receive(timeout=15)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert "Sign-in took too long" in str(message.extra)
        for _ in range(50):
            if not hurried.sessions:
                break
            await asyncio.sleep(0.1)
        assert not hurried.sessions
    finally:
        await client.close()
