"""Who is online, pages between callers and the sysop chat, for the sessions of one node.

`Presence` is what the screens use; `LocalPresence` answers it from the node's own
sessions (`board.sessions`). A later implementation can answer it from the database
for every node (issue 5) without the screens changing.
"""

from __future__ import annotations

import time
import weakref
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bbs.accounts.model import Role

if TYPE_CHECKING:
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


PageRender = Callable[["Session", "Session", str], str]
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
        self.rooms: weakref.WeakKeyDictionary[Session, ChatRoom] = weakref.WeakKeyDictionary()
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

    def page(self, sender: Session, node: int, text: str, render: PageRender) -> PageResult:
        if sender.caller.is_guest:
            return PageResult.GUEST
        if not text.strip():
            return PageResult.EMPTY
        if len(text) > PAGE_MAX:
            return PageResult.TOO_LONG
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


class ChatEnded(Exception):
    """Raised inside a chatting session's prompt when the other side ended the chat."""


@dataclass(eq=False)
class ChatRoom:
    """A sysop chat between two sessions; `open` until either side types /Q or leaves."""

    sysop: Session
    caller: Session
    open: bool = True
    inside: set[Session] = field(default_factory=set)
    """The sides whose chat loop is running."""

    def other(self, session: Session) -> Session:
        """The other side of the chat."""
        return self.caller if session is self.sysop else self.sysop


_PRESENCE: dict[int, tuple[weakref.ref[object], LocalPresence]] = {}


def presence_for(board: object, sessions: Iterable[Session]) -> LocalPresence:
    """The presence of a board (one per board, made on first use, gone with the board)."""
    key = id(board)
    found = _PRESENCE.get(key)
    if found is not None and found[0]() is board:
        return found[1]
    presence = LocalPresence(sessions)
    _PRESENCE[key] = (weakref.ref(board, lambda _ref: _PRESENCE.pop(key, None)), presence)
    return presence
