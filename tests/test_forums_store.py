"""Forum rules in the database, on SQLite and PostgreSQL: posting, reading, replies in order,
new since the last visit, guests, hiding, locking, moving, the moderation log, last callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts.model import GUEST, Caller, Role
from bbs.forums import store
from bbs.store.db import make_engine, transaction
from bbs.store.schema import AccountRow, ForumSectionRow

WAIT = 30.0
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(store_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def account(db: AsyncEngine, name: str, role: Role = Role.CALLER, **kw: str) -> Caller:
    async with transaction(db, write=True) as conn:
        new_id = await conn.scalar(
            insert(AccountRow)
            .values(
                name=name,
                name_key=name.casefold(),
                password_hash="x",
                role=role.value,
                country="FR",
                lang="fr",
                created_at=T0,
                disabled=False,
            )
            .returning(AccountRow.id)
        )
    return Caller(account_id=new_id, name=name, role=role, **kw)


async def section_id(db: AsyncEngine, code: str, position: int) -> int:
    forum = await store.forum_by_code(db, code)
    assert forum is not None
    async with transaction(db, write=False) as conn:
        found = await conn.scalar(
            select(ForumSectionRow.id).where(
                ForumSectionRow.forum_id == forum.id, ForumSectionRow.position == position
            )
        )
    assert found is not None
    return int(found)


async def test_the_three_forums_are_seeded_with_sections(db: AsyncEngine) -> None:
    found = await asyncio.wait_for(store.forums(db), WAIT)
    assert [(f.code, f.lang) for f in found] == [
        ("LOTUS", "en"),
        ("LOTGER", "de"),
        ("LOTFRA", "fr"),
    ]
    sections = await store.sections(db, found[2].id, GUEST)
    assert [s.name for s in sections][-1] == "Général"
    assert sum(s.threads for s in sections) >= 2


async def test_post_read_and_replies_in_order(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    bob = await account(db, "Bob")
    sid = await section_id(db, "LOTFRA", 1)
    tid = await asyncio.wait_for(
        store.new_thread(db, sid, alice, "  Macro lente  ", "Ma macro rame.", T0), WAIT
    )
    await store.reply(db, tid, bob, "Essayez {RECALC}.", T0 + timedelta(minutes=5))
    await store.reply(db, tid, alice, "Merci, c'est mieux.", T0 + timedelta(minutes=9))
    thread = await store.thread(db, tid, bob)
    assert thread is not None and thread.subject == "Macro lente"
    assert [(p.author, p.body) for p in thread.posts] == [
        ("Alice", "Ma macro rame."),
        ("Bob", "Essayez {RECALC}."),
        ("Alice", "Merci, c'est mieux."),
    ]
    listed, total = await store.threads(db, sid, bob, since=None)
    # Newest activity first: the new thread before the seeded 1995 one.
    assert listed[0].id == tid and listed[0].posts == 3 and total == len(listed) >= 2


async def test_newest_activity_first_and_paged(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sid = await section_id(db, "LOTUS", 4)
    ids = [
        await store.new_thread(db, sid, alice, f"T{n}", "body", T0 + timedelta(hours=n))
        for n in range(5)
    ]
    await store.reply(db, ids[0], alice, "bump", T0 + timedelta(hours=9))
    first, total = await store.threads(db, sid, alice, since=None, limit=2)
    second, _ = await store.threads(db, sid, alice, since=None, offset=2, limit=2)
    assert total == 5
    assert [t.id for t in first + second] == [ids[0], ids[4], ids[3], ids[2]]


async def test_guests_may_read_but_not_post(db: AsyncEngine) -> None:
    sid = await section_id(db, "LOTFRA", 5)
    with pytest.raises(store.ForumError, match="guest"):
        await store.new_thread(db, sid, GUEST, "Bonjour", "Texte", T0)
    listed, _ = await store.threads(db, sid, GUEST, since=None)
    with pytest.raises(store.ForumError, match="guest"):
        await store.reply(db, listed[0].id, GUEST, "Texte", T0)
    assert await store.thread(db, listed[0].id, GUEST) is not None


async def test_new_since_last_visit_per_section(db: AsyncEngine) -> None:
    forum = await store.forum_by_code(db, "LOTGER")
    assert forum is not None
    visit = (T0 - timedelta(hours=1)).isoformat()
    alice = await account(db, "Alice")
    bob_row = await account(db, "Bob")
    bob = Caller(bob_row.account_id, "Bob", Role.CALLER, last_visit=visit)
    sid = await section_id(db, "LOTGER", 1)
    before = {s.id: s.new for s in await store.sections(db, forum.id, bob)}
    assert before[sid] == 0  # the seeded 1995 threads are older than Bob's last visit
    tid = await store.new_thread(db, sid, alice, "Frage", "Text", T0)
    await store.reply(db, tid, alice, "Noch was", T0 + timedelta(minutes=1))
    await store.reply(db, tid, bob, "Antwort", T0 + timedelta(minutes=2))
    after = {s.id: s.new for s in await store.sections(db, forum.id, bob)}
    assert after[sid] == 2  # Alice's two, not Bob's own
    assert sum(after.values()) == 2
    listed, _ = await store.threads(db, sid, bob, since=store.parse_visit(visit))
    assert next(t for t in listed if t.id == tid).new == 2
    await store.mark_read(db, bob, sid, T0 + timedelta(minutes=3))
    await store.mark_read(db, bob, sid, T0 + timedelta(minutes=3))  # twice: an upsert
    assert {s.id: s.new for s in await store.sections(db, forum.id, bob)}[sid] == 0
    await store.reply(db, tid, alice, "Und noch", T0 + timedelta(minutes=4))
    assert {s.id: s.new for s in await store.sections(db, forum.id, bob)}[sid] == 1


async def test_hidden_posts_vanish_for_callers_and_stay_for_the_sysop(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sysop = await account(db, "Sysop", Role.SYSOP)
    sid = await section_id(db, "LOTFRA", 2)
    tid = await store.new_thread(db, sid, alice, "Sujet", "Premier", T0)
    bad = await store.reply(db, tid, alice, "Insultant", T0 + timedelta(minutes=1))
    with pytest.raises(store.ForumError, match="not_sysop"):
        await store.hide_post(db, bad, alice, T0)
    await store.hide_post(db, bad, sysop, T0 + timedelta(minutes=2))
    seen = await store.thread(db, tid, alice)
    assert seen is not None and [p.body for p in seen.posts] == ["Premier"]
    staff = await store.thread(db, tid, sysop)
    assert staff is not None and [(p.body, p.hidden) for p in staff.posts] == [
        ("Premier", False),
        ("Insultant", True),
    ]
    listed, _ = await store.threads(db, sid, alice, since=None)
    assert next(t for t in listed if t.id == tid).posts == 1
    log = await store.moderation_log(db)
    assert (log[0].action, log[0].actor, log[0].post_id) == ("hide", "Sysop", bad)


async def test_a_thread_all_hidden_is_gone_for_callers(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sysop = await account(db, "Sysop", Role.SYSOP)
    sid = await section_id(db, "LOTFRA", 3)
    tid = await store.new_thread(db, sid, alice, "Pourriel", "Achetez", T0)
    first = await store.thread(db, tid, sysop)
    assert first is not None
    await store.hide_post(db, first.posts[0].id, sysop, T0)
    assert await store.thread(db, tid, alice) is None
    assert tid not in [t.id for t in (await store.threads(db, sid, alice, since=None))[0]]
    assert tid in [t.id for t in (await store.threads(db, sid, sysop, since=None))[0]]


async def test_a_locked_thread_refuses_replies(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sysop = await account(db, "Sysop", Role.SYSOP)
    sid = await section_id(db, "LOTUS", 1)
    tid = await store.new_thread(db, sid, alice, "Subject", "Body", T0)
    with pytest.raises(store.ForumError, match="not_sysop"):
        await store.lock_thread(db, tid, alice, T0)
    await store.lock_thread(db, tid, sysop, T0)
    with pytest.raises(store.ForumError, match="locked"):
        await store.reply(db, tid, alice, "One more", T0)
    thread = await store.thread(db, tid, alice)
    assert thread is not None and thread.locked and len(thread.posts) == 1
    await store.lock_thread(db, tid, sysop, T0, locked=False)
    await store.reply(db, tid, alice, "One more", T0)
    assert [e.action for e in await store.moderation_log(db)][:2] == ["unlock", "lock"]


async def test_the_sysop_moves_a_thread(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sysop = await account(db, "Sysop", Role.SYSOP)
    source = await section_id(db, "LOTFRA", 5)
    target = await section_id(db, "LOTFRA", 2)
    tid = await store.new_thread(db, source, alice, "Notes ne démarre pas", "Aide", T0)
    with pytest.raises(store.ForumError, match="not_sysop"):
        await store.move_thread(db, tid, target, alice, T0)
    with pytest.raises(store.ForumError, match="no_section"):
        await store.move_thread(db, tid, 99999, sysop, T0)
    await store.move_thread(db, tid, target, sysop, T0)
    assert tid in [t.id for t in (await store.threads(db, target, alice, since=None))[0]]
    assert tid not in [t.id for t in (await store.threads(db, source, alice, since=None))[0]]
    log = await store.moderation_log(db)
    assert log[0].action == "move" and log[0].detail == f"{source} -> {target}"


async def test_caps_on_lengths_and_empty_text(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sid = await section_id(db, "LOTFRA", 1)
    with pytest.raises(store.ForumError, match="subject_too_long"):
        await store.new_thread(db, sid, alice, "x" * (store.SUBJECT_MAX + 1), "b", T0)
    with pytest.raises(store.ForumError, match="empty_body"):
        await store.new_thread(db, sid, alice, "Sujet", " \n ", T0)
    with pytest.raises(store.ForumError, match="body_too_long"):
        await store.new_thread(db, sid, alice, "Sujet", "y" * (store.BODY_MAX + 1), T0)


async def test_text_is_stored_as_written(db: AsyncEngine) -> None:
    alice = await account(db, "Alice")
    sid = await section_id(db, "LOTFRA", 1)
    hostile = "a\x1b]52;c;ZXZpbA==\x07b\x1b[2Jc"
    tid = await store.new_thread(db, sid, alice, hostile, hostile, T0)
    thread = await store.thread(db, tid, alice)
    assert thread is not None and thread.subject == hostile and thread.posts[0].body == hostile


async def test_last_callers_newest_first_ten_at_most(db: AsyncEngine) -> None:
    callers = [await account(db, f"Caller{n}") for n in range(12)]
    for n, caller in enumerate(callers):
        await store.record_caller(db, caller, n % 3 + 1, T0 + timedelta(minutes=n))
    await store.record_caller(db, GUEST, 4, T0 + timedelta(hours=1))
    last = await store.last_callers(db)
    assert [c.name for c in last] == [f"Caller{n}" for n in range(11, 1, -1)]
    assert last[0].node == 11 % 3 + 1 and last[0].at == T0 + timedelta(minutes=11)
