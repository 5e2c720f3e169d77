"""The forums in the database: sections, threads, posts, read marks, moderation, last callers.

Callers' text (subjects, posts, names) is stored as written; screens filter it when
showing it (`bbs.terminal.sanitize.user_markup`). Rules that guard the data (guests do
not post, locked threads take no reply, only the sysop moderates) are checked here
as well as on the screens, so no screen can forget them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, case, delete, func, insert, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.accounts.model import Caller, Role
from bbs.store.db import is_sqlite, transaction
from bbs.store.schema import (
    ForumModerationRow,
    ForumPostRow,
    ForumReadMarkRow,
    ForumRow,
    ForumSectionRow,
    ForumThreadRow,
    LastCallerRow,
    UtcDateTime,
)

SUBJECT_MAX = 72
"""Longest subject kept, in characters."""
BODY_MAX = 8000
"""Longest message, in characters."""
BODY_LINES = 200
"""Most lines in one message."""
LAST_CALLERS = 10
"""How many sign-ins the "last callers" list shows."""
_LAST_CALLERS_KEPT = 200
"""Sign-ins kept in `last_caller`; older ones are deleted as new ones come."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ForumError(Exception):
    """A forum action refused; `key` names the message (`forum.<key>` in the strings)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class Forum:
    """A forum (GO word `code`) in its language."""

    id: int
    code: str
    lang: str
    name: str


@dataclass(frozen=True, slots=True)
class Section:
    """A section with its thread count and the messages new to the caller."""

    id: int
    forum_id: int
    position: int
    name: str
    threads: int
    new: int


@dataclass(frozen=True, slots=True)
class ThreadSummary:
    """One line of a section's thread list."""

    id: int
    subject: str
    author: str
    last_post_at: datetime
    posts: int
    new: int
    locked: bool


@dataclass(frozen=True, slots=True)
class Post:
    """One message as stored (hidden ones reach the sysop only)."""

    id: int
    author: str
    body: str
    posted_at: datetime
    hidden: bool


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread and the messages its reader may see, oldest first."""

    id: int
    section_id: int
    subject: str
    author: str
    locked: bool
    posts: tuple[Post, ...]


@dataclass(frozen=True, slots=True)
class ModerationEntry:
    """One line of the moderation log."""

    at: datetime
    actor: str
    action: str
    thread_id: int
    post_id: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class LastCaller:
    """A recent sign-in."""

    name: str
    node: int
    at: datetime


def now_utc() -> datetime:
    """The current time, UTC, aware."""
    return datetime.now(UTC)


def parse_visit(text: str | None) -> datetime | None:
    """`Caller.last_visit` (ISO text) as an aware UTC time; None when absent or unreadable."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_subject(subject: str) -> str:
    """The subject as it will be stored; ForumError when empty or too long."""
    subject = subject.strip()
    if not subject:
        raise ForumError("empty_subject")
    if len(subject) > SUBJECT_MAX:
        raise ForumError("subject_too_long")
    return subject


def check_body(body: str) -> str:
    """The message as it will be stored; ForumError when empty or too long."""
    body = body.strip("\r\n")
    if not body.strip():
        raise ForumError("empty_body")
    if len(body) > BODY_MAX or body.count("\n") >= BODY_LINES:
        raise ForumError("body_too_long")
    return body


def _poster(caller: Caller) -> int:
    if caller.account_id is None or caller.role is Role.GUEST:
        raise ForumError("guest")
    return caller.account_id


def _moderator(caller: Caller) -> None:
    if caller.role is not Role.SYSOP:
        raise ForumError("not_sysop")


def _visible(staff: bool) -> ColumnElement[bool]:
    return ForumPostRow.hidden.is_(False) if not staff else true()


# ----------------------------------------------------------------- reading


async def forums(engine: AsyncEngine) -> list[Forum]:
    """Every forum, in order."""
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(
            select(ForumRow.id, ForumRow.code, ForumRow.lang, ForumRow.name).order_by(
                ForumRow.position
            )
        )
        return [Forum(*row) for row in rows]


async def forum_by_code(engine: AsyncEngine, code: str) -> Forum | None:
    """The forum reached by `code` (LOTUS, LOTGER, LOTFRA), or None."""
    async with transaction(engine, write=False) as conn:
        row = (
            await conn.execute(
                select(ForumRow.id, ForumRow.code, ForumRow.lang, ForumRow.name).where(
                    ForumRow.code == code.upper()
                )
            )
        ).first()
        return Forum(*row) if row is not None else None


def _since(caller: Caller) -> datetime:
    """What counts as new for a section the caller never opened: since their last visit."""
    return parse_visit(caller.last_visit) or _EPOCH


async def sections(engine: AsyncEngine, forum_id: int, caller: Caller) -> list[Section]:
    """A forum's sections with their thread counts and, for a signed-in caller, the
    messages posted by others since they last opened each (since their last visit for
    a section never opened)."""
    staff = caller.role is Role.SYSOP
    me = caller.account_id
    async with transaction(engine, write=False) as conn:
        rows = (
            await conn.execute(
                select(ForumSectionRow.id, ForumSectionRow.position, ForumSectionRow.name)
                .where(ForumSectionRow.forum_id == forum_id)
                .order_by(ForumSectionRow.position)
            )
        ).all()
        threads = dict(
            (
                await conn.execute(
                    select(ForumThreadRow.section_id, func.count(func.distinct(ForumThreadRow.id)))
                    .join(ForumPostRow, ForumPostRow.thread_id == ForumThreadRow.id)
                    .join(ForumSectionRow, ForumSectionRow.id == ForumThreadRow.section_id)
                    .where(ForumSectionRow.forum_id == forum_id, _visible(staff))
                    .group_by(ForumThreadRow.section_id)
                )
            ).all()
        )
        new: dict[int, int] = {}
        if me is not None:
            since = func.coalesce(ForumReadMarkRow.read_at, literal(_since(caller), UtcDateTime()))
            new = dict(
                (
                    await conn.execute(
                        select(ForumThreadRow.section_id, func.count(ForumPostRow.id))
                        .join(ForumPostRow, ForumPostRow.thread_id == ForumThreadRow.id)
                        .join(ForumSectionRow, ForumSectionRow.id == ForumThreadRow.section_id)
                        .outerjoin(
                            ForumReadMarkRow,
                            (ForumReadMarkRow.section_id == ForumThreadRow.section_id)
                            & (ForumReadMarkRow.account_id == me),
                        )
                        .where(
                            ForumSectionRow.forum_id == forum_id,
                            _visible(staff),
                            ForumPostRow.posted_at > since,
                            func.coalesce(ForumPostRow.author_id, 0) != me,
                        )
                        .group_by(ForumThreadRow.section_id)
                    )
                ).all()
            )
    return [
        Section(
            id=sid,
            forum_id=forum_id,
            position=position,
            name=name,
            threads=threads.get(sid, 0),
            new=new.get(sid, 0),
        )
        for sid, position, name in rows
    ]


async def read_mark(engine: AsyncEngine, caller: Caller, section_id: int) -> datetime | None:
    """When the caller last opened the section (None: never, or a guest)."""
    if caller.account_id is None:
        return None
    async with transaction(engine, write=False) as conn:
        value: datetime | None = await conn.scalar(
            select(ForumReadMarkRow.read_at).where(
                ForumReadMarkRow.account_id == caller.account_id,
                ForumReadMarkRow.section_id == section_id,
            )
        )
        return value


async def mark_read(engine: AsyncEngine, caller: Caller, section_id: int, at: datetime) -> None:
    """Note that the caller opened the section at `at` (nothing for a guest)."""
    if caller.account_id is None:
        return
    async with transaction(engine, write=True, store_lock=False) as conn:
        upsert = sqlite_insert if is_sqlite(conn) else pg_insert
        statement = upsert(ForumReadMarkRow).values(
            account_id=caller.account_id, section_id=section_id, read_at=at
        )
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["account_id", "section_id"], set_={"read_at": at}
            )
        )


async def threads(
    engine: AsyncEngine,
    section_id: int,
    caller: Caller,
    *,
    since: datetime | None,
    offset: int = 0,
    limit: int = 15,
) -> tuple[list[ThreadSummary], int]:
    """A page of a section's threads, newest activity first, and how many there are.

    Threads whose every message is hidden are left out for all but the sysop; `new`
    counts others' messages after `since` (all of them when None).
    """
    staff = caller.role is Role.SYSOP
    me = caller.account_id if caller.account_id is not None else -1
    after = since or _EPOCH
    fresh = func.sum(
        case(
            (
                (ForumPostRow.posted_at > literal(after, UtcDateTime()))
                & (func.coalesce(ForumPostRow.author_id, 0) != me),
                1,
            ),
            else_=0,
        )
    )
    async with transaction(engine, write=False) as conn:
        total = await conn.scalar(
            select(func.count(func.distinct(ForumThreadRow.id)))
            .join(ForumPostRow, ForumPostRow.thread_id == ForumThreadRow.id)
            .where(ForumThreadRow.section_id == section_id, _visible(staff))
        )
        rows = await conn.execute(
            select(
                ForumThreadRow.id,
                ForumThreadRow.subject,
                ForumThreadRow.author_name,
                ForumThreadRow.last_post_at,
                func.count(ForumPostRow.id),
                fresh,
                ForumThreadRow.locked,
            )
            .join(ForumPostRow, ForumPostRow.thread_id == ForumThreadRow.id)
            .where(ForumThreadRow.section_id == section_id, _visible(staff))
            .group_by(
                ForumThreadRow.id,
                ForumThreadRow.subject,
                ForumThreadRow.author_name,
                ForumThreadRow.last_post_at,
                ForumThreadRow.locked,
            )
            .order_by(ForumThreadRow.last_post_at.desc(), ForumThreadRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
        found = [
            ThreadSummary(
                id=tid,
                subject=subject,
                author=author,
                last_post_at=last,
                posts=int(posts),
                new=int(new or 0),
                locked=bool(locked),
            )
            for tid, subject, author, last, posts, new, locked in rows
        ]
    return found, int(total or 0)


async def thread(engine: AsyncEngine, thread_id: int, caller: Caller) -> Thread | None:
    """A thread with the messages `caller` may see, oldest first; None when there is none
    (or, for all but the sysop, when every message of it is hidden)."""
    staff = caller.role is Role.SYSOP
    async with transaction(engine, write=False) as conn:
        head = (
            await conn.execute(
                select(
                    ForumThreadRow.id,
                    ForumThreadRow.section_id,
                    ForumThreadRow.subject,
                    ForumThreadRow.author_name,
                    ForumThreadRow.locked,
                ).where(ForumThreadRow.id == thread_id)
            )
        ).first()
        if head is None:
            return None
        posts = [
            Post(pid, author, body, at, bool(hidden))
            for pid, author, body, at, hidden in await conn.execute(
                select(
                    ForumPostRow.id,
                    ForumPostRow.author_name,
                    ForumPostRow.body,
                    ForumPostRow.posted_at,
                    ForumPostRow.hidden,
                )
                .where(ForumPostRow.thread_id == thread_id, _visible(staff))
                .order_by(ForumPostRow.posted_at, ForumPostRow.id)
            )
        ]
    if not posts:
        return None
    tid, section_id, subject, author, locked = head
    return Thread(tid, section_id, subject, author, bool(locked), tuple(posts))


# ----------------------------------------------------------------- writing


async def new_thread(
    engine: AsyncEngine, section_id: int, caller: Caller, subject: str, body: str, at: datetime
) -> int:
    """Open a thread with its first message; its id. Guests may not post."""
    author_id = _poster(caller)
    subject = check_subject(subject)
    body = check_body(body)
    async with transaction(engine, write=True, store_lock=False) as conn:
        exists = await conn.scalar(
            select(ForumSectionRow.id).where(ForumSectionRow.id == section_id)
        )
        if exists is None:
            raise ForumError("no_section")
        thread_id = int(
            await conn.scalar(
                insert(ForumThreadRow)
                .values(
                    section_id=section_id,
                    subject=subject,
                    author_id=author_id,
                    author_name=caller.name,
                    created_at=at,
                    last_post_at=at,
                    locked=False,
                )
                .returning(ForumThreadRow.id)
            )
            or 0
        )
        await _add_post(conn, thread_id, caller, author_id, body, at)
    return thread_id


async def reply(
    engine: AsyncEngine, thread_id: int, caller: Caller, body: str, at: datetime
) -> int:
    """Add a message to a thread; its id. Refused for guests and on a locked thread."""
    author_id = _poster(caller)
    body = check_body(body)
    async with transaction(engine, write=True, store_lock=False) as conn:
        # The row lock makes a reply and a lock of the same thread take turns.
        locked = (
            await conn.execute(
                select(ForumThreadRow.locked)
                .where(ForumThreadRow.id == thread_id)
                .with_for_update()
            )
        ).first()
        if locked is None:
            raise ForumError("no_thread")
        if locked[0]:
            raise ForumError("locked")
        post_id = await _add_post(conn, thread_id, caller, author_id, body, at)
        await conn.execute(
            update(ForumThreadRow).where(ForumThreadRow.id == thread_id).values(last_post_at=at)
        )
    return post_id


async def _add_post(
    conn: AsyncConnection, thread_id: int, caller: Caller, author_id: int, body: str, at: datetime
) -> int:
    post_id = await conn.scalar(
        insert(ForumPostRow)
        .values(
            thread_id=thread_id,
            author_id=author_id,
            author_name=caller.name,
            body=body,
            posted_at=at,
            hidden=False,
        )
        .returning(ForumPostRow.id)
    )
    return int(post_id or 0)


# ----------------------------------------------------------------- moderation


async def _log(
    conn: AsyncConnection,
    actor: Caller,
    action: str,
    thread_id: int,
    at: datetime,
    *,
    post_id: int | None = None,
    detail: str = "",
) -> None:
    await conn.execute(
        insert(ForumModerationRow).values(
            at=at,
            actor_id=actor.account_id,
            actor_name=actor.name,
            action=action,
            thread_id=thread_id,
            post_id=post_id,
            detail=detail,
        )
    )


async def hide_post(
    engine: AsyncEngine, post_id: int, actor: Caller, at: datetime, *, hidden: bool = True
) -> None:
    """Hide a message from callers (or show it again); the sysop only, logged."""
    _moderator(actor)
    async with transaction(engine, write=True, store_lock=False) as conn:
        thread_id = await conn.scalar(
            select(ForumPostRow.thread_id).where(ForumPostRow.id == post_id)
        )
        if thread_id is None:
            raise ForumError("no_post")
        await conn.execute(
            update(ForumPostRow).where(ForumPostRow.id == post_id).values(hidden=hidden)
        )
        await _log(conn, actor, "hide" if hidden else "unhide", thread_id, at, post_id=post_id)


async def lock_thread(
    engine: AsyncEngine, thread_id: int, actor: Caller, at: datetime, *, locked: bool = True
) -> None:
    """Lock a thread against replies (or unlock it); the sysop only, logged."""
    _moderator(actor)
    async with transaction(engine, write=True, store_lock=False) as conn:
        done = await conn.execute(
            update(ForumThreadRow).where(ForumThreadRow.id == thread_id).values(locked=locked)
        )
        if done.rowcount == 0:
            raise ForumError("no_thread")
        await _log(conn, actor, "lock" if locked else "unlock", thread_id, at)


async def move_thread(
    engine: AsyncEngine, thread_id: int, section_id: int, actor: Caller, at: datetime
) -> None:
    """Move a thread to another section (of any forum); the sysop only, logged."""
    _moderator(actor)
    async with transaction(engine, write=True, store_lock=False) as conn:
        target = await conn.scalar(
            select(ForumSectionRow.id).where(ForumSectionRow.id == section_id)
        )
        if target is None:
            raise ForumError("no_section")
        source = await conn.scalar(
            select(ForumThreadRow.section_id).where(ForumThreadRow.id == thread_id)
        )
        if source is None:
            raise ForumError("no_thread")
        await conn.execute(
            update(ForumThreadRow)
            .where(ForumThreadRow.id == thread_id)
            .values(section_id=section_id)
        )
        await _log(conn, actor, "move", thread_id, at, detail=f"{source} -> {section_id}")


async def moderation_log(engine: AsyncEngine, limit: int = 30) -> list[ModerationEntry]:
    """The latest moderation acts, newest first."""
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(
            select(
                ForumModerationRow.at,
                ForumModerationRow.actor_name,
                ForumModerationRow.action,
                ForumModerationRow.thread_id,
                ForumModerationRow.post_id,
                ForumModerationRow.detail,
            )
            .order_by(ForumModerationRow.id.desc())
            .limit(limit)
        )
        return [ModerationEntry(*row) for row in rows]


async def all_sections(engine: AsyncEngine) -> list[tuple[int, str, int, str]]:
    """Every section as (id, forum code, position, name), for moving a thread."""
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(
            select(
                ForumSectionRow.id, ForumRow.code, ForumSectionRow.position, ForumSectionRow.name
            )
            .join(ForumRow, ForumRow.id == ForumSectionRow.forum_id)
            .order_by(ForumRow.position, ForumSectionRow.position)
        )
        return [(sid, code, pos, name) for sid, code, pos, name in rows]


# ----------------------------------------------------------------- last callers


async def record_caller(engine: AsyncEngine, caller: Caller, node: int, at: datetime) -> None:
    """Note a sign-in for the "last callers" list (guests are not listed)."""
    if caller.account_id is None:
        return
    async with transaction(engine, write=True, store_lock=False) as conn:
        new_id = await conn.scalar(
            insert(LastCallerRow)
            .values(account_id=caller.account_id, name=caller.name, node=node, at=at)
            .returning(LastCallerRow.id)
        )
        if new_id is not None and new_id > _LAST_CALLERS_KEPT:
            await conn.execute(
                delete(LastCallerRow).where(LastCallerRow.id <= new_id - _LAST_CALLERS_KEPT)
            )


async def last_callers(engine: AsyncEngine, limit: int = LAST_CALLERS) -> list[LastCaller]:
    """The latest sign-ins, newest first."""
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(
            select(LastCallerRow.name, LastCallerRow.node, LastCallerRow.at)
            .order_by(LastCallerRow.at.desc(), LastCallerRow.id.desc())
            .limit(limit)
        )
        return [LastCaller(*row) for row in rows]
