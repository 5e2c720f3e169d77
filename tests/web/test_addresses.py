"""The board tells telnet callers where its web and FTP sites are, only when they are on."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bbs.board import Board
from bbs.config import Config, load_config
from bbs.session.session import Session
from tests.fakes import FakeLink


async def welcome_text(board: Board) -> str:
    """What a caller sees of the welcome (its Enter pressed for it)."""
    link = FakeLink()
    session = Session(link, board.strings, board.settings())
    session.start()
    link.inbound.put_nowait(b"\r")
    try:
        await asyncio.wait_for(board.welcome(session, "xterm"), 5)
    finally:
        await session.close()
    return link.output.decode("utf-8", "replace")


async def test_welcome_names_the_web_site_only_when_it_is_on(board: Board) -> None:
    assert "http://" not in await welcome_text(board)
    on = replace(board, config=replace(board.config, web_port=8080))
    assert "Aussi sur le Web : http://127.0.0.1:8080/" in await welcome_text(on)


def test_addresses_follow_the_settings() -> None:
    assert Config().web_url == "" and Config().ftp_url == ""
    config = load_config(environ={"BBS_WEB_PORT": "8080", "BBS_FTP_PORT": "2121"})
    assert config.web_url == "http://127.0.0.1:8080/"
    assert config.ftp_url == "ftp://127.0.0.1:2121/pub/"
    public = replace(config, host="0.0.0.0", public_host="bbs.example.org")
    assert public.web_url == "http://bbs.example.org:8080/"


async def test_rubrique_3_shows_this_board_beside_the_historic_service(board: Board) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bbs.web.app import make_app

    on = replace(board, config=replace(board.config, web_port=8080, ftp_port=2121))
    async with TestClient(TestServer(make_app(on), host="127.0.0.1")) as client:
        page = await (await client.get("/r/web")).text()
        assert "http://127.0.0.1:8080/" in page
        assert "ftp://127.0.0.1:2121/pub/" in page
        assert page.index("http://127.0.0.1:8080/") < page.index("http://www.support.lotus.com/")
    async with TestClient(TestServer(make_app(board), host="127.0.0.1")) as client:
        page = await (await client.get("/r/web")).text()
        assert "127.0.0.1:8080" not in page


async def test_rubrique_3_on_telnet_names_this_board_first(board: Board) -> None:
    from bbs.services.registry import Context
    from bbs.services.web import web_here

    on = replace(board, config=replace(board.config, web_port=8080))
    link = FakeLink()
    session = Session(link, on.strings, on.settings())
    session.start()
    try:
        context = Context(session, on, None)  # type: ignore[arg-type]
        await asyncio.wait_for(web_here(context, None), 5)
    finally:
        await session.close()
    shown = link.output.decode("utf-8", "replace")
    assert "Ce serveur sur le Web : http://127.0.0.1:8080/" in shown
    assert shown.index("127.0.0.1:8080") < shown.index("www.support.lotus.com")


async def test_canada_page_names_this_board_above_its_card(board: Board) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bbs.web.app import make_app

    on = replace(board, config=replace(board.config, web_port=8080, ftp_port=2121))
    async with TestClient(TestServer(make_app(on), host="127.0.0.1")) as client:
        page = await (await client.get("/r/canada")).text()
        assert page.index("ftp://127.0.0.1:2121/pub/") < page.index("ftp.support.lotus.com")
