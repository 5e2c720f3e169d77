"""Who is online, pages between callers and the sysop chat.

`Presence` is what the screens use; `LocalPresence` answers it from the node's own
sessions (`board.sessions`): SQLite, one node. Several nodes on one PostgreSQL use
`bbs.cluster.presence.ClusterPresence`, which answers the same questions for the whole
board; a caller on another node is then a `Peer` (`bbs.cluster.presence.RemotePeer`)
rather than a `Session`.
"""

from __future__ import annotations

import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from bbs.accounts.model import Caller, Role
from bbs.session.session import Session

PAGE_MAX = 160
"""Longest page, in characters."""
PAGES_PER_MINUTE = 3
"""Pages one sender may send in any 60 seconds."""
CHAT_LINE_MAX = 200
"""Longest chat line, in characters."""


@dataclass(frozen=True, slots=True)
class Online:
    """One caller on line: node, name ("" for a guest), role, where, seconds on line."""

    node: int
    name: str
    role: Role
    where: str
    seconds: float


class PageResult(StrEnum):
    """What became of a page (each names its message, `page.<value>`)."""

    DELIVERED = "delivered"
    NO_NODE = "no_node"
    SELF = "self"
    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"
    GUEST = "guest"
    EMPTY = "empty"
    TOO_LONG = "too_long"


class RateLimit:
    """At most `count` events per `window` seconds for each key (a sliding window)."""

    def __init__(
        self, count: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.count = count
        self.window = window
        self.clock = clock
        self._seen: dict[object, deque[float]] = {}

    def allow(self, key: object) -> bool:
        """Whether one more event for `key` is allowed now (and count it if so)."""
        now = self.clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.count:
            return False
        times.append(now)
        return True


class Peer(Protocol):
    """Someone a page or a chat line can reach: a `Session` of this node, or a caller on
    another node. Markup for them is made in their language (`text`)."""

    node: int
    caller: Caller
    lang: str

    def text(self, key: str, /, **values: object) -> str:
        """A localised string in the peer's language."""
        ...

    def notify(self, markup: str) -> None:
        """Show `markup` to the peer between their prompts."""
        ...


class Presence(ABC):
    """Who is on line and how to reach them."""

    @abstractmethod
    def online(self) -> list[Online]:
        """Everyone on line, by node."""

    @abstractmethod
    def page(self, sender: Session, node: int, text: str, render: PageRender) -> PageResult:
        """Send a one-line page from `sender` to whoever is on `node`."""

    @abstractmethod
    def set_pages_refused(self, session: Session, refused: bool) -> None:
        """Whether this caller refuses pages."""

    @abstractmethod
    def pages_refused(self, session: Session) -> bool:
        """Whether this caller refuses pages."""

    @abstractmethod
    def session_at(self, node: int) -> Session | None:
        """The session on `node` of this board, or None."""

    @abstractmethod
    def sysops(self) -> list[Session]:
        """Sessions of signed-in sysops."""

    # The board-wide questions may need the database: they are coroutines, and on one
    # node they are the questions above.

    async def who(self) -> list[Online]:
        """Everyone on line on the board, by node (StoreError: database away)."""
        return self.online()

    async def send_page(
        self, sender: Session, node: int, text: str, render: PageRender
    ) -> PageResult:
        """`page` to a node anywhere on the board (StoreError: database away)."""
        return self.page(sender, node, text, render)

    async def peer_at(self, node: int) -> Peer | None:
        """Whoever is on `node`, on this node or another (StoreError: database away)."""
        return self.session_at(node)

    async def sysop_peers(self) -> list[Peer]:
        """Signed-in sysops anywhere on the board (StoreError: database away)."""
        return list(self.sysops())


PageRender = Callable[["Session", Peer, str], str]
"""Makes the markup a page shows: (sender, target, text) -> markup in the target's language."""


class LocalPresence(Presence):
    """Presence answered from one node's live sessions."""

    def __init__(
        self, sessions: Iterable[Session], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        self.limit = RateLimit(PAGES_PER_MINUTE, 60.0, clock)
        self._refusing: weakref.WeakSet[Session] = weakref.WeakSet()
        self.rooms: weakref.WeakKeyDictionary[Peer, ChatRoom] = weakref.WeakKeyDictionary()
        """The chat each session is in."""

    def online(self) -> list[Online]:
        now = time.monotonic()
        return [
            Online(
                node=s.node,
                name=s.caller.name,
                role=s.caller.role,
                where=s.where,
                seconds=max(0.0, now - s.connected_at),
            )
            for s in sorted(self._sessions, key=lambda s: s.node)
        ]

    def session_at(self, node: int) -> Session | None:
        return next((s for s in self._sessions if s.node == node), None)

    def sysops(self) -> list[Session]:
        return [s for s in self._sessions if s.caller.role is Role.SYSOP]

    def set_pages_refused(self, session: Session, refused: bool) -> None:
        if refused:
            self._refusing.add(session)
        else:
            self._refusing.discard(session)

    def pages_refused(self, session: Session) -> bool:
        return session in self._refusing

    @staticmethod
    def refusal(sender: Session, text: str) -> PageResult | None:
        """Why a page cannot be sent whoever it is for, or None."""
        if sender.caller.is_guest:
            return PageResult.GUEST
        if not text.strip():
            return PageResult.EMPTY
        if len(text) > PAGE_MAX:
            return PageResult.TOO_LONG
        return None

    def page(self, sender: Session, node: int, text: str, render: PageRender) -> PageResult:
        refused = self.refusal(sender, text)
        if refused is not None:
            return refused
        target = self.session_at(node)
        if target is None:
            return PageResult.NO_NODE
        if target is sender:
            return PageResult.SELF
        # The sysop's pages always reach the caller: he may need to warn of a shutdown.
        if self.pages_refused(target) and sender.caller.role is not Role.SYSOP:
            return PageResult.REFUSED
        if not self.limit.allow(sender.caller.account_id):
            return PageResult.RATE_LIMITED
        target.notify(render(sender, target, text))
        return PageResult.DELIVERED

    def open_chat(self, room: ChatRoom, join: Callable[[], Awaitable[None]]) -> None:
        """Bring the called side into the chat: `join` runs its side of the chat."""
        if isinstance(room.caller, Session):
            room.caller.break_in(join)

    def interrupt(self, peer: Peer, stop: Callable[[], Awaitable[None]]) -> None:
        """End `peer`'s side of a chat the other side left: `stop` runs in their task."""
        if isinstance(peer, Session):
            peer.break_in(stop)


class ChatEnded(Exception):
    """Raised inside a chatting session's prompt when the other side ended the chat."""


@dataclass(eq=False)
class ChatRoom:
    """A sysop chat between two sessions; `open` until either side types /Q or leaves."""

    sysop: Peer
    caller: Peer
    open: bool = True
    inside: set[Peer] = field(default_factory=set)
    """The sides whose chat loop is running."""

    def other(self, session: Peer) -> Peer:
        """The other side of the chat."""
        return self.caller if session is self.sysop else self.sysop


_PRESENCE: dict[int, tuple[weakref.ref[object], LocalPresence]] = {}


def presence_for(board: object, sessions: Iterable[Session]) -> LocalPresence:
    """The presence of a board (one per board, made on first use or installed by the
    cluster with `install_presence`, gone with the board)."""
    key = id(board)
    found = _PRESENCE.get(key)
    if found is not None and found[0]() is board:
        return found[1]
    return install_presence(board, LocalPresence(sessions))


def install_presence(board: object, presence: LocalPresence) -> LocalPresence:
    """Make `presence` the board's presence (several nodes: the cluster's)."""
    key = id(board)
    _PRESENCE[key] = (weakref.ref(board, lambda _ref: _PRESENCE.pop(key, None)), presence)
    return presence
