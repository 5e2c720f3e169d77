"""The browser terminal: xterm.js (vendored under static/xterm) over a WebSocket to the same
Session the telnet server runs.

Frames: binary frames carry the caller's keystrokes and the board's output; text frames
carry JSON control messages from the browser, `{"type": "resize", "cols": C, "rows": R}`.
The terminal type and first size come from the query string (`?term=&cols=&rows=`).
The telnet edge's limits apply: the node's per-address and total counts (shared with
telnet), the sign-in grace, an input byte budget, a largest message, the session's own
idle timeout; and the handshake's Origin must be this site.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bbs.session.link import Negotiated
from bbs.telnet.limits import MESSAGES, TokenBucket, log_event
from bbs.telnet.server import TRANSFER_BYTES_FACTOR
from bbs.terminal.caps import clamp_size
from bbs.web.common import BOARD, EDGE, client_address, frame, html_page

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024
"""Largest WebSocket message accepted from a browser; a larger one closes the line."""

OUTPUT_HIGH_WATER = 64 * 1024
"""Bytes queued towards the browser before the session waits for them to go."""

_TERM = re.compile(r"[^a-z0-9.+_-]")


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def same_origin(request: web.Request) -> bool:
    """Whether the handshake's Origin is this very site (scheme-less host:port match)."""
    origin = request.headers.get("Origin", "")
    if not origin:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return parts.netloc.lower() == request.host.lower()


class WebSocketLink:
    """A Session's view of one browser terminal (the Link protocol)."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        peer: str,
        address: str,
        term: str,
        cols: int,
        rows: int,
        input_rate: int,
    ) -> None:
        self.peer = peer
        self.address = address
        self._ws = ws
        self._term = term
        self._cols, self._rows = clamp_size(cols, rows)
        self._inbound = bytearray()
        self._readable = asyncio.Event()
        self._out = bytearray()
        self._sendable = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closed = False
        self._resize: list[Callable[[int, int], None]] = []
        self._rate = input_rate
        self._budget = TokenBucket(input_rate, input_rate)
        self._grace: asyncio.TimerHandle | None = None
        self.ended = ""
        """Why the board hung up for cause ("" otherwise)."""
        self.http_base = ""
        """The site's address as the browser reached it: downloads are offered as links."""

    # --- the Link protocol

    def negotiated(self) -> Negotiated:
        """What the browser said: its terminal type and size; 8-bit, server echo."""
        return Negotiated(
            terminal_types=(self._term,),
            cols=self._cols,
            rows=self._rows,
            telnet=True,
            binary_out=True,
            echo=True,
        )

    async def read(self, n: int) -> bytes:
        """Up to `n` bytes the browser typed; b"" once it is gone."""
        while not self._inbound:
            if self._closed:
                return b""
            self._readable.clear()
            await self._readable.wait()
        data = bytes(self._inbound[:n])
        del self._inbound[:n]
        return data

    def write(self, data: bytes) -> None:
        """Queue output; the sender task frames it."""
        if self._closed or not data:
            return
        self._out += data
        self._sendable.set()
        if len(self._out) > OUTPUT_HIGH_WATER:
            self._drained.clear()

    async def drain(self) -> None:
        """Wait while more than the high-water mark waits to be sent."""
        while not self._closed and len(self._out) > OUTPUT_HIGH_WATER:
            await self._drained.wait()

    def close(self) -> None:
        """Hang up."""
        if self._closed:
            return
        self._closed = True
        self._readable.set()
        self._sendable.set()
        self._drained.set()
        if self._grace is not None:
            self._grace.cancel()

    def is_closing(self) -> bool:
        """Whether the line is hung up."""
        return self._closed or self._ws.closed

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Call `callback(cols, rows)` when the browser's terminal changes size."""
        self._resize.append(callback)

    async def set_binary(self, on: bool) -> bool:
        """WebSocket binary frames are always 8-bit clean."""
        return True

    def transfer_mode(self, on: bool) -> None:
        """A transfer may send far more a second (as on telnet)."""
        rate = self._rate * (TRANSFER_BYTES_FACTOR if on else 1)
        self._budget.rate = rate
        self._budget.capacity = rate

    def signed_in(self) -> None:
        """Sign-in is over: the grace deadline stops applying."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    # --- the edge's side

    def start_grace(self, seconds: float, hang_up: Callable[[str], None]) -> None:
        """Hang up unless sign-in ends within `seconds`."""
        loop = asyncio.get_running_loop()
        self._grace = loop.call_later(seconds, hang_up, "login_grace")

    async def received(self, data: bytes) -> None:
        """Bytes from the browser, charged to the input budget (waits out any debt)."""
        self._inbound += data
        self._readable.set()
        wait = self._budget.charge(len(data))
        if wait > 0:
            await asyncio.sleep(wait)

    def resized(self, cols: int, rows: int) -> None:
        """The browser's terminal changed size."""
        self._cols, self._rows = clamp_size(cols, rows)
        for callback in self._resize:
            callback(self._cols, self._rows)

    async def sender(self) -> None:
        """Send queued output as binary frames until the line closes."""
        while True:
            await self._sendable.wait()
            self._sendable.clear()
            while self._out:
                chunk = bytes(self._out[:16384])
                del self._out[:16384]
                try:
                    await self._ws.send_bytes(chunk)
                except (ConnectionError, RuntimeError):
                    self.close()
                    return
                if len(self._out) <= OUTPUT_HIGH_WATER:
                    self._drained.set()
            self._drained.set()
            if self._closed:
                return


def _control(link: WebSocketLink, text: str) -> None:
    """A JSON control message from the browser (only resize means something)."""
    try:
        message = json.loads(text)
    except ValueError:
        return
    if isinstance(message, dict) and message.get("type") == "resize":
        cols, rows = message.get("cols"), message.get("rows")
        if isinstance(cols, int) and isinstance(rows, int):
            link.resized(cols, rows)


async def terminal_socket(request: web.Request) -> web.StreamResponse:
    """The WebSocket: checks, admission, then the board's session over it."""
    board = request.app[BOARD]
    edge = request.app[EDGE]
    config = board.config
    address = client_address(request)
    if not same_origin(request):
        log_event(
            "refused",
            "origin",
            addr=address,
            node=edge.node,
            origin=request.headers.get("Origin", "-"),
        )
        raise web.HTTPForbidden(text="Origin refused")
    reason = edge.admission.admit(address)
    if reason:
        log_event("refused", reason, addr=address, node=edge.node, via="websocket")
        raise web.HTTPServiceUnavailable(text=MESSAGES[reason])
    try:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=30.0, compress=False)
        await ws.prepare(request)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        port = peer[1] if isinstance(peer, tuple) and len(peer) > 1 else 0
        term = _TERM.sub("", request.query.get("term", "xterm").lower())[:32] or "xterm"
        link = WebSocketLink(
            ws,
            peer=f"{address}:{port}",
            address=address,
            term=term,
            cols=_int(request.query.get("cols")),
            rows=_int(request.query.get("rows")),
            input_rate=config.input_bytes_per_second,
        )

        closing: list[asyncio.Task[Any]] = []

        def hang_up(why: str) -> None:
            log_event("disconnected", why, addr=address, node=edge.node, via="websocket")
            link.ended = why
            link.close()
            closing.append(asyncio.create_task(ws.close(message=MESSAGES.get(why, why).encode())))

        link.http_base = f"{request.scheme}://{request.host}/"
        link.start_grace(config.login_grace, hang_up)
        sender = asyncio.create_task(link.sender())
        session = asyncio.create_task(board.handle(link))

        async def finish() -> None:
            # The session is over (goodbye, idle, shutdown): send what it said, then close.
            link.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(sender), 2.0)
            await ws.close()

        session.add_done_callback(lambda _: closing.append(asyncio.create_task(finish())))
        try:
            async for message in ws:
                if message.type is WSMsgType.BINARY:
                    await link.received(message.data)
                elif message.type is WSMsgType.TEXT:
                    _control(link, message.data)
                elif message.type is WSMsgType.ERROR:
                    break
                if link.is_closing():
                    break
            if ws.close_code == 1009:
                log_event("disconnected", "message_too_big", addr=address, node=edge.node)
        finally:
            link.close()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(session, config.shutdown_grace + 5)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(sender, 2.0)
            await ws.close()
        return ws
    finally:
        edge.admission.release(address)


async def terminal_page(request: web.Request) -> web.StreamResponse:
    """The page that holds xterm.js; everything it loads comes from this site."""
    t = frame(request).t
    body = (
        '<link rel="stylesheet" href="/static/xterm/xterm.css">'
        f'<noscript><p class="warn">{t("web.term_noscript")}</p></noscript>'
        '<div id="terminal" style="background:#000;padding:4px;overflow-x:auto"></div>'
        '<script src="/static/xterm/xterm.js"></script>'
        '<script src="/static/terminal.js"></script>'
    )
    return html_page(request, t("web.term_title"), body)


def routes(app: web.Application) -> None:
    """Add the terminal page and its WebSocket to `app`."""
    app.router.add_get("/terminal", terminal_page)
    app.router.add_get("/terminal/ws", terminal_socket)
