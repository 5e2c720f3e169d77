"""Small pieces of the web site: languages, sessions, markup as HTML, who the caller is."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bbs.board import Board
from bbs.web.app import make_app
from bbs.web.common import accepted_language
from bbs.web.markup import to_html
from bbs.web.sessions import MAX_AGE, SessionStore, csrf_ok


def test_accept_language_picks_the_best_board_language() -> None:
    assert accepted_language("en-US,en;q=0.9,fr;q=0.8") == "en"
    assert accepted_language("es, de;q=0.5, fr;q=0.4") == "de"
    assert accepted_language("fr;q=0, en;q=0.1") == "en"
    assert accepted_language("ja, zh") is None
    assert accepted_language("de;q=bad") is None


def test_sessions_expire_and_tokens_compare() -> None:
    now = [0.0]
    store = SessionStore(clock=lambda: now[0])
    session = store.new()
    assert store.get(session.token) is session
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, session.csrf + "x")
    assert not csrf_ok(None, session.csrf)
    now[0] += MAX_AGE + 1
    assert store.get(session.token) is None
    assert store.get("x" * 1000) is None


def test_markup_becomes_escaped_html() -> None:
    html = to_html("{title}Titre\n\nTexte {em}<b>{/} & co\n  + 32 2 714 31 29")
    assert "<h2>Titre</h2>" in html
    assert '<span class="em">&lt;b&gt;</span> &amp; co' in html
    assert '<pre class="tab">  + 32 2 714 31 29</pre>' in html


async def _status_line(board: Board, headers: dict[str, str]) -> str:
    import logging

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep()
    logging.getLogger("bbs.edge").addHandler(handler)
    logging.getLogger("bbs.edge").setLevel(logging.INFO)
    try:
        client: TestClient[Any, Any] = TestClient(TestServer(make_app(board), host="127.0.0.1"))
        async with client:
            await client.get("/", headers=headers)
    finally:
        logging.getLogger("bbs.edge").removeHandler(handler)
    return next(r for r in records if r.startswith("event=http"))


async def test_one_structured_line_per_request_with_the_callers_address(board: Board) -> None:
    line = await _status_line(board, {"X-Forwarded-For": "192.0.2.7"})
    # Not behind a proxy: the header is the caller's word, not believed.
    assert line.startswith("event=http reason=200 addr=127.0.0.1 ")
    assert "method=GET path=/ " in line
    proxied = replace(board, config=replace(board.config, proxy_protocol=True))
    line = await _status_line(proxied, {"X-Forwarded-For": "198.51.100.1, 192.0.2.7"})
    assert "addr=192.0.2.7 " in line
