"""What the web site's pages and front ends share: the application's keys, the request's
board, language, address and session, and the page frame."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bbs.menus.strings import LANGS
from bbs.store.db import StoreError
from bbs.web.layout import Frame, clean, render_page
from bbs.web.sessions import LANG_COOKIE, SessionStore, WebSession

if TYPE_CHECKING:
    from bbs.services.registry import Node
    from bbs.telnet.server import Edge


BOARD: web.AppKey[Node] = web.AppKey("board", object)  # type: ignore[arg-type]
EDGE: web.AppKey[Edge] = web.AppKey("edge", object)  # type: ignore[arg-type]
SESSIONS = web.AppKey("sessions", SessionStore)
NOTE_PENDING: web.AppKey[dict[tuple[int, str, str], asyncio.Future[tuple[str, str] | None]]] = (
    web.AppKey("note_pending", dict)
)
ANSWERS: web.AppKey[dict[tuple[str, str, str, datetime], str]] = web.AppKey("answers", dict)
NOTE_CACHE: web.AppKey[dict[tuple[int, str, str], tuple[float, str, str]]] = web.AppKey(
    "note_cache", dict
)
LANG = web.RequestKey("lang", str)
SESSION: web.RequestKey[WebSession | None] = web.RequestKey("web_session", object)  # type: ignore[arg-type]
SET_COOKIE = web.RequestKey("set_session", str)
DROP_COOKIE = web.RequestKey("drop_session", bool)

WIDTH = 78
"""Columns the directory's tables are laid out for on a page (the terminal's width)."""

STATIC = Path(__file__).parent / "static"

REQUEST_TIMEOUT = 15.0
"""Seconds a connection may take to send a whole request (and may stay idle between two):
a request sent a byte at a time is cut off here."""

MAX_FORM_BYTES = 256 * 1024
"""Largest form body read whole (an incident's text is far smaller)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def now() -> datetime:
    """The time pages say services are open or closed at."""
    return datetime.now(UTC)


# --- per request ----------------------------------------------------------------------


def board_of(request: web.Request) -> Node:
    """The board this site serves."""
    return request.app[BOARD]


def accepted_language(header: str) -> str | None:
    """The first of fr, en, de that an Accept-Language header asks for (by q), or None."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        code = tag.strip().lower()[:2]
        if code in LANGS and weight > 0:
            wanted.append((-weight, position, code))
    return min(wanted)[2] if wanted else None


def language(request: web.Request) -> str:
    """The page language: ?lang=, then the cookie, then Accept-Language, then the board's."""
    asked = request.query.get("lang", "")
    if asked in LANGS:
        return asked
    kept = request.cookies.get(LANG_COOKIE, "")
    if kept in LANGS:
        return kept
    header = accepted_language(request.headers.get("Accept-Language", ""))
    return header or board_of(request).config.language


def client_address(request: web.Request) -> str:
    """The caller's address: the peer's, or behind a trusted proxy (`proxy_protocol` on, the
    peer in `trusted_proxies`) the last address its X-Forwarded-For header adds."""
    peer = request.remote or "?"
    edge = request.app[EDGE]
    if edge.config.proxy_protocol and peer in edge.trusted:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            import ipaddress

            try:
                return str(ipaddress.ip_address(last))
            except ValueError:
                pass
    return peer


def web_session(request: web.Request) -> WebSession | None:
    """The request's session, if its cookie names a live one."""
    found: WebSession | None = request.get(SESSION)
    return found


def ensure_session(request: web.Request) -> WebSession:
    """The request's session, made now (cookie set on the response) when there is none."""
    session = web_session(request)
    if session is None:
        session = request.app[SESSIONS].new()
        request[SESSION] = session
        request[SET_COOKIE] = session.token
    return session


def frame(request: web.Request, *, forms: bool = False) -> Frame:
    """What the page frame needs; `forms`: the page has a form (needs a CSRF token)."""
    board = board_of(request)
    session = web_session(request)
    if session is None and forms:
        session = ensure_session(request)
    from bbs.accounts.model import GUEST

    return Frame(
        strings=board.strings,
        lang=request[LANG],
        caller=session.caller if session else GUEST,
        csrf=session.csrf if session else "",
        path=request.path,
        telnet_port=board.config.port,
    )


def html_page(
    request: web.Request, title: str, body: str, *, status: int = 200, message: str = ""
) -> web.Response:
    """A rendered page (with the CSRF token when any session exists: the sign-out form)."""
    return web.Response(
        text=render_page(frame(request), title, body, message=message),
        status=status,
        content_type="text/html",
    )


def error_page(request: web.Request, status: int, key: str) -> web.Response:
    """A short page saying what went wrong, with the right status."""
    t = board_of(request).strings.get(key, request.get(LANG, "fr"))
    return html_page(request, t, f'<p class="err">{clean(t)}</p>', status=status)


def _db(request: web.Request) -> Any:
    db = board_of(request).db
    if db is None:
        raise StoreError("no database")
    return db
