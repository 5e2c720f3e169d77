"""Sign-in checks against the database (SQLite and PostgreSQL): one answer for unknown names,
wrong passwords and locked accounts, exponential waits, a lock that ends by itself."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts import store, throttle
from bbs.accounts.auth import Outcome, authenticate, caller_for
from bbs.accounts.model import Role
from bbs.accounts.names import name_key
from bbs.accounts.passwords import HASHER, HashPool
from bbs.store.db import make_engine, transaction

T0 = datetime(1995, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "Tr0ub4dor&3-lotus"
PEER = "198.51.100.7:4242"


class SpyPool(HashPool):
    """A light, fast pool that counts verifications and notes which hash each used."""

    def __init__(self) -> None:
        super().__init__(
            workers=2,
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID),
        )
        self.verified: list[str] = []

    async def verify(self, stored: str, password: str) -> bool:
        self.verified.append(stored)
        return await super().verify(stored, password)


@pytest.fixture
async def db(store_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(store_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def pool() -> SpyPool:
    return SpyPool()


async def add(
    db: AsyncEngine, pool: HashPool, name: str = "Jean Dupont", *, role: str = "caller"
) -> int:
    stored = await pool.hash(PASSWORD)
    async with transaction(db, write=True, store_lock=False) as conn:
        return await store.create_account(
            conn,
            name=name,
            key=name_key(name),
            password_hash=stored,
            role=role,
            company="ACME SA",
            country="FR",
            lang="fr",
            now=T0 - timedelta(days=30),
        )


async def test_right_password_signs_in_and_notes_the_visit(db: AsyncEngine, pool: SpyPool) -> None:
    account_id = await add(db, pool)
    first = await authenticate(db, "jean-dupont", PASSWORD, peer=PEER, now=T0, pool=pool)
    assert first.outcome is Outcome.OK and first.account is not None
    assert first.account.id == account_id and first.previous_login is None
    later = T0 + timedelta(days=2)
    second = await authenticate(db, "JEAN DUPONT", PASSWORD, peer=PEER, now=later, pool=pool)
    assert second.previous_login == T0
    assert second.account is not None
    caller = await caller_for(db, second.account, second.previous_login, later)
    assert caller.role is Role.CALLER and caller.company == "ACME SA"
    assert caller.last_visit == T0.isoformat()


async def test_unknown_name_and_wrong_password_look_the_same(
    db: AsyncEngine, pool: SpyPool
) -> None:
    await add(db, pool)
    unknown = await authenticate(db, "Nobody Here", PASSWORD, peer=PEER, now=T0, pool=pool)
    assert len(pool.verified) == 1
    assert pool.verified[0] == await pool.dummy_hash()
    wrong = await authenticate(db, "Jean Dupont", "not-the-password", peer=PEER, now=T0, pool=pool)
    assert len(pool.verified) == 2
    assert pool.verified[1] != await pool.dummy_hash()
    assert unknown == wrong
    assert unknown.outcome is Outcome.REFUSED


async def test_a_too_long_password_costs_one_verification_and_fails(
    db: AsyncEngine, pool: SpyPool
) -> None:
    await add(db, pool)
    attempt = await authenticate(
        db, "Jean Dupont", PASSWORD + "x" * 200, peer=PEER, now=T0, pool=pool
    )
    assert attempt.outcome is Outcome.REFUSED and len(pool.verified) == 1


async def test_a_disabled_account_gets_the_same_answer_and_the_log_says_why(
    db: AsyncEngine, pool: SpyPool, caplog: pytest.LogCaptureFixture
) -> None:
    await add(db, pool)
    async with transaction(db, write=True, store_lock=False) as conn:
        assert await store.set_disabled(conn, name_key("Jean Dupont"), True)
    with caplog.at_level(logging.INFO):
        attempt = await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=T0, pool=pool)
    assert attempt.outcome is Outcome.REFUSED and attempt.account is None
    assert len(pool.verified) == 1
    assert any(
        "locked by the sysop" in r.getMessage() and PEER in r.getMessage() for r in caplog.records
    )


async def test_failures_wait_exponentially_without_checking_the_password(
    db: AsyncEngine, pool: SpyPool
) -> None:
    await add(db, pool)
    now = T0
    for failures in range(1, 7):
        attempt = await authenticate(
            db, "Jean Dupont", "wrong-password", peer=PEER, now=now, pool=pool
        )
        assert attempt.outcome is Outcome.REFUSED
        wait = throttle.delay_after(failures)
        assert wait == min(2 ** (failures - 1), 60)
        checked = len(pool.verified)
        early = await authenticate(
            db,
            "Jean Dupont",
            PASSWORD,
            peer=PEER,
            now=now + timedelta(seconds=wait - 0.5),
            pool=pool,
        )
        assert early.outcome is Outcome.WAIT and early.wait >= 1
        assert len(pool.verified) == checked  # refused before any password check
        now += timedelta(seconds=wait)
    ok = await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=now, pool=pool)
    assert ok.outcome is Outcome.OK
    async with transaction(db, write=False) as conn:
        assert await throttle.throttled(conn, now) == {}  # a success forgets the failures


async def test_the_wait_is_capped_at_a_minute() -> None:
    assert throttle.delay_after(0) == 0
    assert throttle.delay_after(8) == 60
    assert throttle.delay_after(50) == 60


async def lock_out(db: AsyncEngine, pool: SpyPool, name: str) -> datetime:
    now = T0
    for failures in range(1, throttle.LOCK_AFTER + 1):
        attempt = await authenticate(db, name, "wrong-password", peer=PEER, now=now, pool=pool)
        assert attempt.outcome is Outcome.REFUSED, failures
        now += timedelta(seconds=throttle.delay_after(failures))
    return now


async def test_ten_failures_lock_the_name_for_fifteen_minutes_then_it_unlocks(
    db: AsyncEngine, pool: SpyPool, caplog: pytest.LogCaptureFixture
) -> None:
    await add(db, pool)
    with caplog.at_level(logging.WARNING):
        now = await lock_out(db, pool, "Jean Dupont")
    failures = [r for r in caplog.records if "failed sign-in" in r.getMessage()]
    assert len(failures) == throttle.LOCK_AFTER and all(PEER in r.getMessage() for r in failures)
    assert any(
        "locked for 15 minutes" in r.getMessage() and PEER in r.getMessage() for r in caplog.records
    )
    checked = len(pool.verified)
    locked = await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=now, pool=pool)
    assert locked.outcome is Outcome.LOCKED and locked.wait >= 14 * 60
    assert len(pool.verified) == checked
    # The lock ends by itself: a stranger cannot shut the real caller out for good.
    last_failure = now - timedelta(seconds=throttle.delay_after(throttle.LOCK_AFTER))
    still = last_failure + throttle.LOCK_FOR - timedelta(seconds=1)
    assert (
        await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=still, pool=pool)
    ).outcome is Outcome.LOCKED
    after = last_failure + throttle.LOCK_FOR + timedelta(seconds=1)
    assert (
        await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=after, pool=pool)
    ).outcome is Outcome.OK


async def test_names_without_an_account_are_throttled_alike(db: AsyncEngine, pool: SpyPool) -> None:
    now = await lock_out(db, pool, "Nobody Here")
    attempt = await authenticate(db, "nobody-here", "whatever-it-is", peer=PEER, now=now, pool=pool)
    assert attempt.outcome is Outcome.LOCKED


async def test_an_old_hash_is_upgraded_at_sign_in(db: AsyncEngine) -> None:
    weak = SpyPool()
    account_id = await add(db, weak)
    strong = HashPool()
    try:
        attempt = await authenticate(db, "Jean Dupont", PASSWORD, peer=PEER, now=T0, pool=strong)
        assert attempt.outcome is Outcome.OK
        async with transaction(db, write=False) as conn:
            account = await store.get_account(conn, account_id)
        assert account is not None
        assert not HASHER.check_needs_rehash(account.password_hash)
        assert HASHER.verify(account.password_hash, PASSWORD)
    finally:
        strong.shutdown()


async def test_no_password_reaches_any_log(
    db: AsyncEngine, pool: SpyPool, caplog: pytest.LogCaptureFixture
) -> None:
    await add(db, pool)
    with caplog.at_level(logging.DEBUG):
        await authenticate(db, "Jean Dupont", "Wr0ng-but-secret", peer=PEER, now=T0, pool=pool)
        await authenticate(
            db, "Jean Dupont", PASSWORD, peer=PEER, now=T0 + timedelta(seconds=5), pool=pool
        )
        await authenticate(db, "Ghost", "Gh0st-secret-pw", peer=PEER, now=T0, pool=pool)
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        for secret in (PASSWORD, "Wr0ng-but-secret", "Gh0st-secret-pw"):
            assert secret not in text


async def test_a_named_contact_signs_in_as_contact(db: AsyncEngine, pool: SpyPool) -> None:
    from bbs.support.contracts import add_contact, create_contract

    account_id = await add(db, pool)
    today = datetime.now(UTC)
    async with transaction(db, write=True, store_lock=False) as conn:
        contract = await create_contract(
            conn, company="ACME SA", family="notes", kind="unlimited", starts_on=today.date()
        )
        await add_contact(conn, contract.number, "Jean Dupont", today.date())
    async with transaction(db, write=False) as conn:
        account = await store.get_account(conn, account_id)
        assert account is not None
        rows = (await conn.execute(select(store.ACCOUNT.c.role))).all()
    assert rows[0].role == "caller"
    caller = await caller_for(db, account, None, today)
    assert caller.role is Role.CONTACT
