"""The node registry: running processes and the callers on line, in the database.

Node numbers are unique across the board: a caller's number is a row of
`live_session`, taken at connection and deleted at hang-up. The callers arriving (or
hanging up) at the same moment on a node share one short transaction (`GroupCommit`):
the smallest free numbers are inserted together, with no lock; a number another node
took at the same moment is simply left out, and that caller goes in the next batch.
Each process refreshes the heartbeat of its rows; rows whose heartbeat is older than
the expiry belong to a process that died without cleaning up, and any node reclaims
them. Where a caller is and who they are follow with a delay (at most one write per
session every few seconds), never at each keystroke.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.cluster.batch import Done, GroupCommit
from bbs.store.db import StoreError, transaction

if TYPE_CHECKING:
    from bbs.session.session import Session

log = logging.getLogger(__name__)

ALLOCATE_TIMEOUT = 3.0
"""Seconds a new caller waits for a node number before getting a provisional one."""
FALLBACK_FIRST = 1000
"""Provisional numbers (database away at connection) start here, clear of real ones."""
MIN_WRITE_INTERVAL = 2.0
"""Least seconds between two writes of one session's row (where they are, who)."""

State = tuple[int | None, str, str, str, str, bool]
"""What a session's row says: account id, name, role, language, where, refuses pages."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A caller on line somewhere on the board, as the database knows them."""

    node: int
    sid: str
    node_id: str
    account_id: int | None
    name: str
    role: str
    lang: str
    where: str
    refuses_pages: bool
    seconds: float


_COLUMNS = (
    "node, sid, node_id, account_id, name, role, lang, location, refuses_pages,"
    " EXTRACT(EPOCH FROM now() - since) AS seconds"
)
_FRESH = "heartbeat >= now() - make_interval(secs => :expiry)"


def _entry(row: Any) -> Entry:
    return Entry(
        node=row.node,
        sid=row.sid,
        node_id=row.node_id,
        account_id=row.account_id,
        name=row.name,
        role=row.role,
        lang=row.lang,
        where=row.location,
        refuses_pages=row.refuses_pages,
        seconds=max(0.0, float(row.seconds)),
    )


class Registry:
    """This process's rows in `cluster_node` and `live_session`."""

    def __init__(
        self, engine: AsyncEngine, *, expiry: float, state: Callable[[Session], State]
    ) -> None:
        self.engine = engine
        self.expiry = float(expiry)
        self.state = state
        self.node_id = secrets.token_hex(8)
        """This process's id in the tables (random: a restarted process is a new node)."""
        self._pending: dict[int, str] = {}
        self._sid: weakref.WeakKeyDictionary[Session, str] = weakref.WeakKeyDictionary()
        self._by_sid: weakref.WeakValueDictionary[str, Session] = weakref.WeakValueDictionary()
        self._written: weakref.WeakKeyDictionary[Session, State] = weakref.WeakKeyDictionary()
        self._written_at: weakref.WeakKeyDictionary[Session, float] = weakref.WeakKeyDictionary()
        self._provisional: weakref.WeakSet[Session] = weakref.WeakSet()
        self._allocating: set[str] = set()
        """Sids being inserted or allocated but not yet bound: the heartbeat keeps them."""
        self._numbers: GroupCommit[str, int] = GroupCommit(self._insert_many)
        self._releases: GroupCommit[str, None] = GroupCommit(self._delete_many)

    # ----------------------------------------------------------------- sessions

    def sid(self, session: Session) -> str | None:
        """The session's id in the tables and on the bus (None: not registered)."""
        return self._sid.get(session)

    def session(self, sid: str) -> Session | None:
        """This node's session with that id, if it is still on line."""
        return self._by_sid.get(sid)

    async def allocate(self, local: Iterable[int]) -> int:
        """A node number for a new caller: the smallest free on the board, or (database
        away) a provisional one above `FALLBACK_FIRST`, made real when it comes back."""
        sid = secrets.token_hex(8)
        self._allocating.add(sid)
        try:
            async with asyncio.timeout(ALLOCATE_TIMEOUT):
                number = await self._insert(sid)
        except (StoreError, TimeoutError) as e:
            self._allocating.discard(sid)
            taken = set(local) | set(self._pending)
            number = next(
                n for n in range(FALLBACK_FIRST, FALLBACK_FIRST + len(taken) + 1) if n not in taken
            )
            log.warning("event=node_provisional node=%d error=%s", number, e or "timeout")
            self._pending[number] = ""
            return number
        self._pending[number] = sid
        return number

    async def _insert(self, sid: str) -> int:
        return await self._numbers.submit(sid)

    async def _insert_many(self, sids: list[str]) -> Done[str, int]:
        """The smallest free numbers for `sids`, inserted in one transaction; those a
        concurrent insert on another node took are left out (they go again)."""
        async with transaction(self.engine, write=True, store_lock=False) as conn:
            await conn.execute(
                text(f"DELETE FROM live_session WHERE NOT ({_FRESH})"), {"expiry": self.expiry}
            )
            rows = await conn.execute(
                text(
                    "WITH free AS ("
                    " SELECT n, row_number() OVER (ORDER BY n) AS i"
                    " FROM generate_series(1, (SELECT count(*) FROM live_session) + :k) AS n"
                    " WHERE NOT EXISTS (SELECT 1 FROM live_session s WHERE s.node = n)"
                    " ORDER BY n LIMIT :k),"
                    " wanted AS (SELECT sid, i FROM unnest(CAST(:sids AS text[]))"
                    " WITH ORDINALITY AS t(sid, i))"
                    " INSERT INTO live_session (node, sid, node_id, account_id, name, role,"
                    " lang, location, refuses_pages, since, heartbeat)"
                    " SELECT free.n, wanted.sid, :node_id, NULL, '', 'guest', 'fr', '', false,"
                    " now(), now() FROM free JOIN wanted ON wanted.i = free.i"
                    " ON CONFLICT (node) DO NOTHING RETURNING node, sid"
                ),
                {"sids": sids, "k": len(sids), "node_id": self.node_id},
            )
            return {row.sid: int(row.node) for row in rows}

    async def _delete_many(self, sids: list[str]) -> Done[str, None]:
        async with transaction(self.engine, write=True, store_lock=False) as conn:
            await conn.execute(
                text("DELETE FROM live_session WHERE sid = ANY(:sids)"), {"sids": sids}
            )
        return dict.fromkeys(sids)

    def bind(self, session: Session) -> None:
        """Attach the row allocated for `session.node` to the session."""
        sid = self._pending.pop(session.node, "")
        self._allocating.discard(sid)
        if sid:
            self._sid[session] = sid
            self._by_sid[sid] = session
        else:
            self._provisional.add(session)

    async def release(self, session: Session) -> str | None:
        """Delete the session's row (it hung up); its sid, or None when it had none."""
        sid = self._sid.pop(session, None)
        self._provisional.discard(session)
        if sid is None:
            return None
        self._by_sid.pop(sid, None)
        try:
            await self._releases.submit(sid)
        except StoreError as e:
            # The heartbeat deletes rows of this node that no session holds any more.
            log.warning("event=node_release_failed node=%d error=%s", session.node, e)
        return sid

    # ----------------------------------------------------------------- upkeep

    async def register_node(self) -> None:
        """Record this process (and forget processes long dead)."""
        async with transaction(self.engine, write=True, store_lock=False) as conn:
            await conn.execute(
                text(f"DELETE FROM cluster_node WHERE NOT ({_FRESH})"), {"expiry": self.expiry}
            )
            await conn.execute(
                text(
                    "INSERT INTO cluster_node (node_id, host, pid, started_at, heartbeat)"
                    " VALUES (:node_id, :host, :pid, now(), now())"
                    " ON CONFLICT (node_id) DO UPDATE SET heartbeat = now()"
                ),
                {"node_id": self.node_id, "host": socket.gethostname(), "pid": os.getpid()},
            )

    async def unregister_node(self) -> None:
        """Remove this process and every caller row it holds (clean shutdown)."""
        async with transaction(self.engine, write=True, store_lock=False) as conn:
            params = {"node_id": self.node_id}
            await conn.execute(text("DELETE FROM live_session WHERE node_id = :node_id"), params)
            await conn.execute(text("DELETE FROM cluster_node WHERE node_id = :node_id"), params)

    async def heartbeat(self, sessions: Iterable[Session]) -> None:
        """Refresh this node's rows, drop rows no session holds, and register again
        what the database lost (an outage longer than the expiry, provisional numbers)."""
        sids = list(self._sid.values())
        keep = sids + list(self._allocating)
        async with transaction(self.engine, write=True, store_lock=False) as conn:
            params: dict[str, Any] = {"node_id": self.node_id, "sids": sids, "keep": keep}
            refreshed = await conn.execute(
                text(
                    "UPDATE live_session SET heartbeat = now()"
                    " WHERE node_id = :node_id AND sid = ANY(:sids)"
                ),
                params,
            )
            await conn.execute(
                text(
                    "DELETE FROM live_session WHERE node_id = :node_id AND NOT (sid = ANY(:keep))"
                ),
                params,
            )
            node = await conn.execute(
                text("UPDATE cluster_node SET heartbeat = now() WHERE node_id = :node_id"),
                {"node_id": self.node_id},
            )
        if node.rowcount == 0:
            await self.register_node()
        if refreshed.rowcount < len(sids) or len(self._provisional):
            await self.reregister(sessions)

    async def reregister(self, sessions: Iterable[Session]) -> None:
        """Write every live session's row again (after an outage); a session whose number
        another node took meanwhile, or whose number was provisional, gets a new one."""
        for session in list(sessions):
            sid = self._sid.get(session)
            if sid is None:
                if session not in self._provisional:
                    continue
                sid = secrets.token_hex(8)
            account, name, role, lang, where, refuses = self.state(session)
            values = {
                "node": session.node,
                "sid": sid,
                "node_id": self.node_id,
                "account_id": account,
                "name": name,
                "role": role,
                "lang": lang,
                "location": where,
                "refuses": refuses,
            }
            kept = None
            if session.node < FALLBACK_FIRST:
                async with transaction(self.engine, write=True, store_lock=False) as conn:
                    kept = await conn.scalar(
                        text(
                            "INSERT INTO live_session (node, sid, node_id, account_id, name,"
                            " role, lang, location, refuses_pages, since, heartbeat)"
                            " VALUES (:node, :sid, :node_id, :account_id, :name, :role, :lang,"
                            " :location, :refuses, now(), now())"
                            " ON CONFLICT (node) DO UPDATE SET heartbeat = now()"
                            " WHERE live_session.sid = excluded.sid RETURNING node"
                        ),
                        values,
                    )
            if kept is None:
                old = session.node
                number = await self._insert(sid)
                session.node = number
                self._written.pop(session, None)
                log.warning("event=node_renumbered old=%d node=%d", old, number)
            self._provisional.discard(session)
            self._sid[session] = sid
            self._by_sid[sid] = session

    async def flush(self, sessions: Iterable[Session], *, now: bool = False) -> int:
        """Write the rows of sessions whose state changed, each at most once every
        `MIN_WRITE_INTERVAL` seconds (`now`: at once); how many were written."""
        clock = time.monotonic()
        rows: list[dict[str, Any]] = []
        for session in list(sessions):
            sid = self._sid.get(session)
            if sid is None:
                continue
            state = self.state(session)
            written = self._written.get(session)
            if written == state:
                continue
            # Who the caller is (sign-in, language) is written at once; where they are
            # and whether they take pages, at most every MIN_WRITE_INTERVAL seconds.
            same_caller = written is not None and written[:4] == state[:4]
            recent = clock - self._written_at.get(session, 0.0) < MIN_WRITE_INTERVAL
            if same_caller and recent and not now:
                continue
            account, name, role, lang, where, refuses = state
            rows.append(
                {
                    "sid": sid,
                    "account_id": account,
                    "name": name,
                    "role": role,
                    "lang": lang,
                    "location": where,
                    "refuses": refuses,
                }
            )
            self._written[session] = state
            self._written_at[session] = clock
        if rows:
            async with transaction(self.engine, write=True, store_lock=False) as conn:
                await conn.execute(
                    text(
                        "UPDATE live_session SET account_id = :account_id, name = :name,"
                        " role = :role, lang = :lang, location = :location,"
                        " refuses_pages = :refuses WHERE sid = :sid"
                    ),
                    rows,
                )
        return len(rows)

    def forget_written(self) -> None:
        """After a failed write, write every row again at the next flush."""
        self._written.clear()

    # ----------------------------------------------------------------- reading

    async def roster(self) -> list[Entry]:
        """Every caller on line on the board, by node number."""
        async with transaction(self.engine, write=False) as conn:
            result = await conn.execute(
                text(f"SELECT {_COLUMNS} FROM live_session WHERE {_FRESH} ORDER BY node"),
                {"expiry": self.expiry},
            )
            return [_entry(row) for row in result]

    async def entry_at(self, node: int) -> Entry | None:
        """Who is on `node`, anywhere on the board."""
        async with transaction(self.engine, write=False) as conn:
            result = await conn.execute(
                text(f"SELECT {_COLUMNS} FROM live_session WHERE node = :node AND {_FRESH}"),
                {"node": node, "expiry": self.expiry},
            )
            row = result.first()
            return None if row is None else _entry(row)
