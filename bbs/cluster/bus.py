"""An event bus between the nodes of one board over PostgreSQL LISTEN/NOTIFY.

Messages are small JSON objects on one channel. Listening needs a connection of its
own, outside the engine's pool (a pooled connection is shared and recycled); it is
watched, and when the server restarts or kills it the bus reconnects with backoff,
listens again and tells its owner (who resynchronises what it may have missed).
Sending goes through the engine: `pg_notify` in a short transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.store.db import StoreError, transaction

log = logging.getLogger(__name__)

CHANNEL = "lotus_bbs"
"""The NOTIFY channel every node of a board listens on."""
MAX_PAYLOAD = 7900
"""Longest payload in bytes; PostgreSQL refuses NOTIFY payloads of 8000 bytes or more."""
HEALTH_INTERVAL = 5.0
"""Seconds between checks that the listening connection still answers."""
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0
"""Waits between reconnection attempts: doubling from the first to the maximum."""
OUTBOX = 2000
"""Messages queued for sending before new ones are dropped (the database is away)."""

Message = dict[str, Any]
Handler = Callable[[Message], None]


class PayloadTooLarge(ValueError):
    """A message whose JSON does not fit in one NOTIFY."""


def encode(message: Message) -> str:
    """A message as a NOTIFY payload; PayloadTooLarge when it would not fit."""
    payload = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    if len(payload.encode("utf-8")) > MAX_PAYLOAD:
        raise PayloadTooLarge(f"message of {len(payload.encode('utf-8'))} bytes")
    return payload


async def publish(engine: AsyncEngine, message: Message) -> None:
    """Send one message to every node now; StoreError when the database is away."""
    payload = encode(message)
    async with transaction(engine, write=True, store_lock=False) as conn:
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": CHANNEL, "payload": payload},
        )


def asyncpg_dsn(engine: AsyncEngine) -> str:
    """The engine's database as a plain libpq URL, for a connection of our own."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class EventBus:
    """One node's end of the bus: a listening connection kept alive, and an outbox."""

    def __init__(
        self,
        engine: AsyncEngine,
        handler: Handler,
        on_connect: Callable[[], Awaitable[None]] | None = None,
        *,
        health_interval: float = HEALTH_INTERVAL,
    ) -> None:
        self.engine = engine
        self.handler = handler
        self.on_connect = on_connect
        self.health_interval = health_interval
        self.connected = asyncio.Event()
        """Set while the listening connection is up."""
        self.connections = 0
        """How many times the bus has connected (1 after start, more after outages)."""
        self._outbox: asyncio.Queue[Message] = asyncio.Queue(OUTBOX)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        """Start listening and sending in the background."""
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen()), loop.create_task(self._send_loop())]

    async def stop(self) -> None:
        """Stop listening and drop what was not sent."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def publish(self, message: Message) -> None:
        """Send a message now (StoreError when the database is away)."""
        await publish(self.engine, message)

    def post(self, message: Message) -> None:
        """Queue a message to send in order with the others posted (chat lines, notices)."""
        try:
            encode(message)
        except PayloadTooLarge as e:
            log.warning("event=bus_dropped reason=too_large kind=%s %s", message.get("t"), e)
            return
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("event=bus_dropped reason=outbox_full kind=%s", message.get("t"))

    async def _send_loop(self) -> None:
        while True:
            message = await self._outbox.get()
            for attempt in range(3):
                try:
                    await publish(self.engine, message)
                    break
                except StoreError as e:
                    log.warning("event=bus_send_failed attempt=%d error=%s", attempt + 1, e)
                    await asyncio.sleep(BACKOFF_FIRST * 2**attempt)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("event=bus_bad_message length=%d", len(payload))
            return
        if not isinstance(message, dict):
            return
        try:
            self.handler(message)
        except Exception:
            log.exception("event=bus_handler_failed kind=%s", message.get("t"))

    async def _listen(self) -> None:
        delay = BACKOFF_FIRST
        dsn = asyncpg_dsn(self.engine)
        while not self._stopping:
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
                log.warning("event=bus_connect_failed retry_in=%.1f error=%s", delay, e)
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            try:
                await conn.add_listener(CHANNEL, self._on_notify)
                delay = BACKOFF_FIRST
                self.connections += 1
                self.connected.set()
                if self.connections > 1:
                    log.warning(
                        "event=bus_reconnected connections=%d pid=%s",
                        self.connections,
                        conn.get_server_pid(),
                    )
                if self.on_connect is not None:
                    try:
                        await self.on_connect()
                    except StoreError as e:
                        # The pool may still hold dead connections: the heartbeat retries.
                        log.warning("event=bus_resync_failed error=%s", e)
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.health_interval)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), self.health_interval)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("event=bus_lost error=%s", str(e).splitlines()[0] if str(e) else e)
            finally:
                self.connected.clear()
                conn.terminate()
            if not self._stopping:
                # A killed connection on a healthy server comes back at once; messages
                # sent while no connection listens are lost (NOTIFY keeps nothing).
                log.warning("event=bus_disconnected")


async def notify_reload(url: str) -> None:
    """Tell every node of the board at `url` to re-read the directory (after a load that
    changed it). Nothing to do on SQLite: its one node reads the database itself."""
    from bbs.store.db import engine_scope, is_sqlite

    async with engine_scope(url) as engine:
        if not is_sqlite(engine):
            await publish(engine, {"t": "reload"})
