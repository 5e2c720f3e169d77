"""Hostile web input: oversized headers and bodies, traversal, session fixation, markup in
every reflected field, a flood of WebSocket messages."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from bbs.board import Board
from bbs.web.app import MAX_FORM_BYTES
from bbs.web.terminal import WebSocketLink
from tests.web.conftest import PASSWORD, SUBSCRIBER

Client = TestClient[Any, Any]


async def raw_request(client: Client, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def test_oversized_header_line_is_refused(client: Client) -> None:
    answer = await raw_request(
        client, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    )
    assert answer.split(b" ", 2)[1] in (b"400", b"431")


async def test_oversized_body_is_refused(client: Client) -> None:
    response = await client.post(
        "/connexion",
        data=b"x=" + b"a" * (MAX_FORM_BYTES + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413


async def test_traversal_never_leaves_the_static_folder(client: Client) -> None:
    for path in (
        b"/static/../../bbs/config.py",
        b"/static/%2e%2e/%2e%2e/pyproject.toml",
        b"/fichiers/%2e%2e%2fREADME.md",
        b"/r/..%2f..%2fetc%2fpasswd",
    ):
        answer = await raw_request(client, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status = answer.split(b" ", 2)[1]
        assert status in (b"400", b"403", b"404"), (path, answer[:200])
        assert b"[project]" not in answer and b"root:" not in answer


async def test_a_planted_session_cookie_is_not_adopted(client: Client) -> None:
    client.session.cookie_jar.update_cookies({"lotus_session": "planted-by-attacker"})
    page = await (await client.get("/connexion")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    response = await client.post(
        "/connexion",
        data={"csrf": token.group(1), "name": SUBSCRIBER.name, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.cookies["lotus_session"].value != "planted-by-attacker"


async def test_reflected_fields_are_escaped(client: Client) -> None:
    attack = '"><script>alert(1)</script>'
    for path, params in (
        ("/annuaire", {"q": attack}),
        ("/annuaire/numero", {"n": attack}),
        ("/bibliotheque", {"q": attack}),
        ("/kb", {"q": attack}),
    ):
        page = await (await client.get(path, params=params)).text()
        assert "<script>alert" not in page, path
    page = await (await client.get("/connexion")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    refused = await client.post(
        "/connexion", data={"csrf": token.group(1), "name": attack, "password": "x"}
    )
    assert "<script>alert" not in await refused.text()


async def test_a_websocket_flood_waits_out_the_input_budget(
    monkeypatch: Any,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("bbs.web.terminal.asyncio.sleep", sleep)
    link = WebSocketLink(
        None,  # type: ignore[arg-type]
        peer="p:1",
        address="p",
        term="xterm",
        cols=80,
        rows=25,
        input_rate=4096,
    )
    for _ in range(3):
        await link.received(b"A" * 4096)
    # The first 4 KiB were in the budget; each further 4 KiB costs about a second.
    assert len(waits) == 2
    assert waits[-1] >= 1.9


async def test_a_slow_request_is_cut_off_but_a_terminal_stays(
    board: Board, monkeypatch: Any
) -> None:
    import bbs.web.app as web_app

    monkeypatch.setattr(web_app, "REQUEST_TIMEOUT", 1.0)
    runner = await web_app.start_web(board, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(
            f"http://127.0.0.1:{port}/terminal/ws", headers={"Origin": f"http://127.0.0.1:{port}"}
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await writer.drain()
        # Never finished: the server closes the connection once the request time is up.
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        # The terminal, busy with its session all along, is still there.
        assert not ws.closed
        assert len(board.sessions) == 1
        await ws.send_bytes(b"\r")
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.BINARY
        await ws.close()
    finally:
        await session.close()
        await runner.cleanup()
