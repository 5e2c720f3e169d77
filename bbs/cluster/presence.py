"""Who is online, pages and the sysop chat for a board of several nodes.

`ClusterPresence` answers the presence questions for the whole board: the callers of
this node from memory, the others from the node registry. A caller on another node is
a `RemotePeer`: what is shown to them is made here in their language (caller text
through `user_markup`, as for a local caller) and sent over the bus to their node,
which shows it between their prompts. A sysop chat across nodes runs one chat loop on
each node, each side's lines crossing the bus one by one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bbs.accounts.model import Caller, Role
from bbs.cluster.bus import EventBus, Message, PayloadTooLarge
from bbs.cluster.registry import Entry, Registry
from bbs.forums.presence import (
    ChatEnded,
    ChatRoom,
    LocalPresence,
    Online,
    PageRender,
    PageResult,
    Peer,
)
from bbs.menus.strings import Strings
from bbs.session.session import Session
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import clean

log = logging.getLogger(__name__)

ChatLoop = Callable[[Session, ChatRoom, LocalPresence], Awaitable[None]]
"""One side of a chat (`bbs.services.forums.chat_loop`)."""


@dataclass(eq=False)
class RemotePeer:
    """A caller on another node of the board, reached through the bus."""

    node: int
    sid: str
    caller: Caller
    lang: str
    strings: Strings = field(repr=False)
    bus: EventBus = field(repr=False)
    partner: str | None = None
    """In a chat: the sid of this node's side, which the peer's node checks."""

    def text(self, key: str, /, **values: object) -> str:
        """A localised string in the peer's language."""
        return self.strings.get(key, self.lang, **values)

    def notify(self, markup: str) -> None:
        """Show `markup` to the peer between their prompts (sent in order, in the background)."""
        self.bus.post({"t": "notify", "to": self.sid, "m": markup})


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        return Role.GUEST


class ClusterPresence(LocalPresence):
    """Presence over every node of the board: registry for who, bus for reaching them."""

    def __init__(
        self,
        sessions: Iterable[Session],
        registry: Registry,
        bus: EventBus,
        strings: Strings,
        chat_loop: ChatLoop,
    ) -> None:
        super().__init__(sessions)
        self.registry = registry
        self.bus = bus
        self.strings = strings
        self.chat_loop = chat_loop

    # ----------------------------------------------------------------- peers

    def _peer(self, entry: Entry) -> RemotePeer:
        caller = Caller(account_id=entry.account_id, name=entry.name, role=_role(entry.role))
        return RemotePeer(entry.node, entry.sid, caller, entry.lang, self.strings, self.bus)

    def _peer_from(self, data: Any) -> RemotePeer | None:
        """The sender described in a bus message."""
        if not isinstance(data, dict):
            return None
        try:
            account = data.get("account")
            caller = Caller(
                account_id=int(account) if account is not None else None,
                name=str(data.get("name", "")),
                role=_role(str(data.get("role", ""))),
            )
            return RemotePeer(
                int(data["node"]),
                str(data["sid"]),
                caller,
                str(data.get("lang", "fr")),
                self.strings,
                self.bus,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def _describe(self, session: Session) -> dict[str, Any]:
        return {
            "sid": self.registry.sid(session),
            "node": session.node,
            "name": session.caller.name,
            "role": session.caller.role.value,
            "lang": session.lang,
            "account": session.caller.account_id,
        }

    def _remote(self, entry: Entry | None) -> Entry | None:
        if entry is None or entry.node_id == self.registry.node_id:
            return None
        return entry

    # ----------------------------------------------------------------- questions

    async def who(self) -> list[Online]:
        here = self.online()
        others = [
            Online(
                node=e.node,
                name=e.name,
                role=_role(e.role),
                where=e.where,
                seconds=e.seconds,
            )
            for e in await self.registry.roster()
            if e.node_id != self.registry.node_id
        ]
        return sorted(here + others, key=lambda o: o.node)

    async def peer_at(self, node: int) -> Peer | None:
        local = self.session_at(node)
        if local is not None:
            return local
        entry = self._remote(await self.registry.entry_at(node))
        return None if entry is None else self._peer(entry)

    async def sysop_peers(self) -> list[Peer]:
        found: list[Peer] = list(self.sysops())
        for entry in await self.registry.roster():
            if entry.node_id != self.registry.node_id and entry.role == Role.SYSOP.value:
                found.append(self._peer(entry))
        return found

    async def send_page(
        self, sender: Session, node: int, text: str, render: PageRender
    ) -> PageResult:
        if self.session_at(node) is not None:
            return self.page(sender, node, text, render)
        refused = self.refusal(sender, text)
        if refused is not None:
            return refused
        entry = self._remote(await self.registry.entry_at(node))
        if entry is None:
            return PageResult.NO_NODE
        if entry.refuses_pages and sender.caller.role is not Role.SYSOP:
            return PageResult.REFUSED
        if not self.limit.allow(sender.caller.account_id):
            return PageResult.RATE_LIMITED
        peer = self._peer(entry)
        try:
            await self.bus.publish({"t": "notify", "to": peer.sid, "m": render(sender, peer, text)})
        except PayloadTooLarge:
            return PageResult.TOO_LONG
        return PageResult.DELIVERED

    # ----------------------------------------------------------------- chat

    def open_chat(self, room: ChatRoom, join: Callable[[], Awaitable[None]]) -> None:
        if isinstance(room.caller, RemotePeer) and isinstance(room.sysop, Session):
            room.caller.partner = self.registry.sid(room.sysop)
            self.bus.post(
                {"t": "chat_open", "to": room.caller.sid, "from": self._describe(room.sysop)}
            )
            return
        super().open_chat(room, join)

    def interrupt(self, peer: Peer, stop: Callable[[], Awaitable[None]]) -> None:
        if isinstance(peer, RemotePeer):
            self.bus.post({"t": "chat_end", "to": peer.sid, "from": peer.partner})
            return
        super().interrupt(peer, stop)

    def _close(self, session: Session, room: ChatRoom) -> None:
        """End this node's side of a chat the other node ended."""
        room.open = False
        for side in (room.sysop, room.caller):
            if self.rooms.get(side) is room:
                del self.rooms[side]

        async def stop() -> None:
            if session in room.inside:
                raise ChatEnded

        session.break_in(stop)

    def _chat_open(self, message: Message) -> None:
        sysop = self._peer_from(message.get("from"))
        if sysop is None:
            return
        target = self.registry.session(str(message.get("to", "")))
        if target is None:
            # Every node hears every message: the caller's own node answers.
            return
        if target in self.rooms:
            sysop.notify("{err}" + escape(sysop.text("chat.busy")) + "{/}\n")
            self.bus.post({"t": "chat_end", "to": sysop.sid, "from": None})
            return
        sysop.partner = self.registry.sid(target)
        room = ChatRoom(sysop=sysop, caller=target)
        self.rooms[sysop] = self.rooms[target] = room

        async def join() -> None:
            await self.chat_loop(target, room, self)

        target.break_in(join)

    def _chat_end(self, message: Message) -> None:
        session = self.registry.session(str(message.get("to", "")))
        if session is None:
            return
        room = self.rooms.get(session)
        if room is None:
            return
        other = room.other(session)
        sender = message.get("from")
        if isinstance(other, RemotePeer) and (sender is None or other.sid == sender):
            self._close(session, room)

    def _left(self, message: Message) -> None:
        """A caller of another node hung up: a chat with them is over."""
        sid = message.get("sid")
        for side, room in list(self.rooms.items()):
            other = room.other(side) if isinstance(side, Session) else None
            if isinstance(other, RemotePeer) and other.sid == sid and isinstance(side, Session):
                side.notify(
                    "{warn}"
                    + escape(side.text("chat.ended_by", name=clean(other.caller.name)))
                    + "{/}\n"
                )
                self._close(side, room)

    def on_message(self, message: Message) -> None:
        """A bus message for presence (notify, chat_open, chat_end, left)."""
        kind = message.get("t")
        if kind == "notify":
            session = self.registry.session(str(message.get("to", "")))
            markup = message.get("m")
            if session is not None and isinstance(markup, str):
                session.notify(markup)
        elif kind == "chat_open":
            self._chat_open(message)
        elif kind == "chat_end":
            self._chat_end(message)
        elif kind == "left":
            self._left(message)
