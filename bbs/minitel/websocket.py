"""The Minitel WebSocket endpoint: raw Videotex bytes in binary frames, one caller a socket.

Minitel emulators and serial-to-WebSocket bridges open a WebSocket and exchange the
bytes a Minitel and its modem would: the link names its terminal `minitel`, so the
session renders Videotex at 40x24 and paces it at the node's `minitel_baud`. Text
frames are taken as the same bytes (some bridges send them). The connection counts in
the node's admission like a telnet one and has the same sign-in grace; CONNEXION/FIN
hangs up, as it did the modem. Behind HAProxy (`proxy_protocol` on), only the trusted
proxies may connect, and the caller is the address their X-Forwarded-For adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from bbs.session.link import Negotiated
from bbs.telnet.limits import MESSAGES, Admission, log_event
from bbs.telnet.proxy import Trusted
from bbs.terminal import videotex

if TYPE_CHECKING:
    from bbs.services.registry import Node

log = logging.getLogger(__name__)

_HANGUP = (videotex.SEP + "I").encode("ascii")
"""CONNEXION/FIN."""
_HIGH_WATER = 64 * 1024
_MAX_FRAME = 64 * 1024
"""Largest frame accepted from a caller (a Minitel types a few bytes at a time)."""


class MinitelLink:
    """A Session's view of one WebSocket (the Link protocol)."""

    def __init__(self, ws: web.WebSocketResponse, peer: str, address: str) -> None:
        self._ws = ws
        self.peer = peer
        self.address = address
        """The caller's address alone, for the structured log lines."""
        self._input: asyncio.Queue[bytes] = asyncio.Queue(64)
        self._output = bytearray()
        self._wrote = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = False
        self._last = b""
        self._grace: asyncio.TimerHandle | None = None
        self._sender: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ plumbing

    def start(self, grace: float) -> None:
        """Start sending, and the sign-in grace clock."""
        loop = asyncio.get_running_loop()
        self._sender = loop.create_task(self._send_loop())
        self._grace = loop.call_later(grace, self._grace_over)

    def _grace_over(self) -> None:
        self._grace = None
        log_event("disconnected", "login_grace", addr=self.address, node="-", channel="minitel")
        self.write(b"\r\n" + MESSAGES["login_grace"].encode("ascii") + b"\r\n")
        self.close()

    async def feed(self, data: bytes) -> None:
        """Bytes from the caller; CONNEXION/FIN ends the call."""
        if _HANGUP in self._last[-1:] + data:
            self.close()
            return
        self._last = data[-1:]
        await self._input.put(data)

    def ended(self) -> None:
        """The socket closed: the session reads its end."""
        self._closing = True
        self._wrote.set()
        self._drained.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._input.put_nowait(b"")
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    async def _send_loop(self) -> None:
        try:
            while True:
                while not self._output:
                    if self._closing:
                        return
                    self._wrote.clear()
                    await self._wrote.wait()
                data = bytes(self._output)
                self._output.clear()
                await self._ws.send_bytes(data)
                if len(self._output) < _HIGH_WATER:
                    self._drained.set()
        except (ConnectionError, RuntimeError):
            self.ended()
        finally:
            if self._closing and not self._ws.closed:
                with contextlib.suppress(Exception):
                    await self._ws.close()

    # ------------------------------------------------------------ Link

    def negotiated(self) -> Negotiated:
        """A Minitel: 40 columns, 24 rows below the status line, the board echoes."""
        return Negotiated(
            terminal_types=("minitel",),
            cols=videotex.COLS,
            rows=videotex.ROWS,
            binary_out=True,
            echo=True,
        )

    async def read(self, n: int) -> bytes:
        """What the caller typed; b"" once the socket closed."""
        if self._closing and self._input.empty():
            return b""
        data = await self._input.get()
        if not data:
            with contextlib.suppress(asyncio.QueueFull):
                self._input.put_nowait(b"")
        return data[:n] if len(data) > n else data

    def write(self, data: bytes) -> None:
        """Queue Videotex bytes for the caller."""
        if self._closing:
            return
        self._output += data
        self._wrote.set()
        if len(self._output) >= _HIGH_WATER:
            self._drained.clear()

    async def drain(self) -> None:
        """Wait until the queued output went out."""
        await self._drained.wait()
        if self._closing and not self._output:
            return

    def close(self) -> None:
        """Hang up once what is queued has gone."""
        if self._closing:
            return
        self._closing = True
        self._wrote.set()
        self._drained.set()
        with contextlib.suppress(asyncio.QueueFull):
            self._input.put_nowait(b"")
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def is_closing(self) -> bool:
        """Whether the line is hung up or being hung up."""
        return self._closing or self._ws.closed

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """A Minitel's screen never changes size."""

    async def set_binary(self, on: bool) -> bool:
        """Frames carry any byte."""
        return True

    def transfer_mode(self, on: bool) -> None:
        """Nothing to lift."""

    def signed_in(self) -> None:
        """Sign-in is over: the grace deadline stops applying."""
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None


class MinitelServer:
    """The aiohttp site serving the endpoint; `close()` then `wait_closed()` stops it."""

    def __init__(self, board: Node, admission: Admission, node: str) -> None:
        self.board = board
        self.admission = admission
        self.node = node
        self.trusted = Trusted(board.config.trusted_proxies)
        self.runner: web.AppRunner | None = None
        self.site: web.TCPSite | None = None
        self._stopping: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen on `minitel_port`; any path upgrades to the endpoint."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        config = self.board.config
        self.site = web.TCPSite(self.runner, config.host, config.minitel_port)
        await self.site.start()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One caller: admission, then the board's session over the socket."""
        address = request.remote or "?"
        if self.board.config.proxy_protocol:
            forwarded = self.forwarded(request)
            if forwarded is None:
                log_event("refused", "proxy_header", addr=address, node=self.node)
                return web.Response(status=403)
            address = forwarded
        reason = self.admission.admit(address)
        if reason:
            log_event("refused", reason, addr=address, node=self.node, channel="minitel")
            return web.Response(status=503, text=MESSAGES[reason])
        try:
            ws = web.WebSocketResponse(max_msg_size=_MAX_FRAME, heartbeat=60)
            if not ws.can_prepare(request).ok:
                return web.Response(
                    status=426, text="3616 LOTUSTEL: WebSocket (Videotex) seulement"
                )
            await ws.prepare(request)
            peer = request.transport.get_extra_info("peername") if request.transport else None
            port = peer[1] if peer else 0
            link = MinitelLink(ws, f"{address}:{port}", address)
            link.start(self.board.config.login_grace)
            session = asyncio.create_task(self._session(link))
            try:
                async for message in ws:
                    if message.type is WSMsgType.BINARY:
                        await link.feed(message.data)
                    elif message.type is WSMsgType.TEXT:
                        await link.feed(message.data.encode("latin-1", "replace"))
                    if link.is_closing():
                        break
            finally:
                link.ended()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(session, 5)
                if not session.done():
                    session.cancel()
            return ws
        finally:
            self.admission.release(address)

    def forwarded(self, request: web.Request) -> str | None:
        """The caller's address behind a trusted proxy: the last X-Forwarded-For entry
        (the one the proxy itself added); None from anyone else or without one."""
        if (request.remote or "") not in self.trusted:
            return None
        entries = request.headers.get("X-Forwarded-For", "").split(",")
        try:
            return str(ipaddress.ip_address(entries[-1].strip()))
        except ValueError:
            return None

    async def _session(self, link: MinitelLink) -> None:
        try:
            await self.board.handle(link)
        except Exception:
            log.exception("Minitel session %s failed", link.peer)
        finally:
            link.close()

    def close(self) -> None:
        """Stop listening; callers on line stay until the board's shutdown hangs up."""
        if self.site is not None and self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self.site.stop())

    async def wait_closed(self) -> None:
        """Wait until the site is down and every socket closed."""
        if self._stopping is not None:
            with contextlib.suppress(Exception):
                await self._stopping
        if self.runner is not None:
            with contextlib.suppress(Exception):
                await self.runner.cleanup()


async def start_minitel_server(board: Node, admission: Admission, node: str = "-") -> MinitelServer:
    """Serve 3616 LOTUSTEL on `minitel_port`."""
    server = MinitelServer(board, admission, node)
    await server.start()
    return server
