"""One node's membership of a multi-node board: registry, bus, presence and reloads.

`Cluster.start` registers the process, starts listening and installs the board-wide
presence; from then on the board's sessions (`LiveSessions`) take their node numbers
from the database and give them back at hang-up. Background tasks keep the rows
fresh: the heartbeat, and the presence flush (who and where, a few seconds late at
most). When the database comes back after an outage, the bus resynchronises: this
node's callers are registered again and the directory is read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bbs.cluster.batch import Done, GroupCommit
from bbs.cluster.bus import EventBus, Message
from bbs.cluster.presence import ChatLoop, ClusterPresence
from bbs.cluster.registry import Registry, State
from bbs.forums.presence import install_presence
from bbs.session.session import Session
from bbs.store.db import StoreError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.services.registry import Node

log = logging.getLogger(__name__)

HEARTBEAT = 5.0
"""Seconds between heartbeats of this node's rows."""
EXPIRY = 30.0
"""Seconds without a heartbeat after which a row belongs to a dead node."""
FLUSH_TICK = 0.5
"""Seconds between looks for sessions whose row must be written."""


class LiveSessions(set[Session]):
    """The board's sessions; adding binds a session to its registry row, discarding
    (hang-up) gives its node number back."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__()
        self.cluster = cluster

    def add(self, session: Session) -> None:
        super().add(session)
        self.cluster.registry.bind(session)

    def discard(self, session: object) -> None:
        if isinstance(session, Session) and session in self:
            super().discard(session)
            self.cluster.released(session)


class Cluster:
    """This node's part in a board of several nodes on one PostgreSQL database."""

    def __init__(
        self,
        board: Node,
        engine: AsyncEngine,
        chat_loop: ChatLoop,
        reload: Callable[[], Awaitable[None]],
        *,
        heartbeat: float = HEARTBEAT,
        expiry: float = EXPIRY,
    ) -> None:
        self.board = board
        self._reload_directory = reload
        """Reads the directory again (the board's own), after a `bbs load` elsewhere."""
        self.heartbeat = heartbeat
        self.registry = Registry(engine, expiry=expiry, state=self._state)
        self.bus = EventBus(engine, self._on_message, self._on_connect)
        self.sessions = LiveSessions(self)
        self.presence = ClusterPresence(
            self.sessions, self.registry, self.bus, board.strings, chat_loop
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._signins: GroupCommit[Session, None] = GroupCommit(self._write_signins)
        self._loops: list[asyncio.Task[None]] = []
        self.reloads = 0
        """Directory reloads done after a load on another node (for tests and logs)."""

    def _state(self, session: Session) -> State:
        caller = session.caller
        return (
            caller.account_id,
            caller.name,
            caller.role.value,
            session.lang,
            session.where,
            self.presence.pages_refused(session),
        )

    async def start(self) -> None:
        """Join the board: register, listen, take over the board's sessions and presence."""
        await self.registry.register_node()
        self.board.sessions = self.sessions
        install_presence(self.board, self.presence)
        self.bus.start()
        # Pages sent before the bus listens would be lost: wait for it, briefly.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bus.connected.wait(), 5.0)
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._beat()), loop.create_task(self._flush())]
        log.warning("event=cluster_joined node_id=%s", self.registry.node_id)

    async def stop(self) -> None:
        """Leave the board: stop the background work, delete this node's rows."""
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        await self.bus.stop()
        try:
            await self.registry.unregister_node()
        except StoreError as e:
            log.warning("event=cluster_leave_failed error=%s", e)

    async def allocate(self) -> int:
        """A board-wide node number for a new caller."""
        # A list now: the set of sessions changes while the allocation awaits.
        return await self.registry.allocate([s.node for s in self.sessions])

    async def signed_in(self, session: Session) -> None:
        """A caller signed in: their name reaches the other nodes now, not at the next flush
        (a sysop answering their chat request looks them up at once). Callers signing in
        at the same moment are written together."""
        try:
            await self._signins.submit(session)
        except StoreError as e:
            self.registry.forget_written()
            log.warning("event=presence_flush_failed node=%d error=%s", session.node, e)

    async def _write_signins(self, sessions: list[Session]) -> Done[Session, None]:
        await self.registry.flush(sessions, now=True)
        return dict.fromkeys(sessions)

    def released(self, session: Session) -> None:
        """A session hung up: give its number back and tell the other nodes."""

        async def release() -> None:
            sid = await self.registry.release(session)
            if sid is not None:
                with contextlib.suppress(StoreError):
                    await self.bus.publish({"t": "left", "sid": sid})

        self._spawn(release())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_message(self, message: Message) -> None:
        if message.get("t") == "reload":
            self._spawn(self._reload())
        else:
            self.presence.on_message(message)

    async def _reload(self) -> None:
        try:
            await self._reload_directory()
        except StoreError as e:
            log.warning("event=reload_failed error=%s", e)
            return
        self.reloads += 1

    async def _on_connect(self) -> None:
        if self.bus.connections <= 1:
            return
        # Back after an outage: what the database lost or missed meanwhile.
        self.registry.forget_written()
        await self.registry.reregister(self.sessions)
        await self._reload()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self.registry.heartbeat(self.sessions)
            except StoreError as e:
                log.warning("event=heartbeat_failed error=%s", e)

    async def _flush(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_TICK)
            try:
                await self.registry.flush(self.sessions)
            except StoreError as e:
                self.registry.forget_written()
                log.warning("event=presence_flush_failed error=%s", e)
