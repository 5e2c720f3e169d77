"""Checking who a caller is: throttle, password, account state, and the role that follows.

An unknown name, a wrong password and a locked account get the same answer after the
same work (one Argon2 verification each); only the log says which it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.accounts import store, throttle
from bbs.accounts.model import Caller, Role
from bbs.accounts.names import MAX_NAME, name_key
from bbs.accounts.passwords import MAX_PASSWORD, POOL, HashPool
from bbs.store.db import transaction
from bbs.support.entitlements import is_named_contact

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


clock: Callable[[], datetime] = utcnow
"""What sign-in calls for the time; tests replace it so that no test sleeps."""


class Outcome(StrEnum):
    """How a sign-in attempt ended."""

    OK = "ok"
    REFUSED = "refused"
    """Unknown name, wrong password or locked account: one answer for all three."""
    WAIT = "wait"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Attempt:
    """A sign-in attempt's result; `account` only when OK."""

    outcome: Outcome
    account: store.Account | None = None
    wait: int = 0
    previous_login: datetime | None = None


def key_of(typed: str) -> str:
    """The throttle and account key of a typed name (bounded, whatever was typed)."""
    return name_key(typed.strip()[: MAX_NAME * 2])


async def authenticate(
    engine: AsyncEngine,
    name: str,
    password: str,
    *,
    peer: str,
    now: datetime | None = None,
    pool: HashPool = POOL,
) -> Attempt:
    """Check `name` and `password`; StoreError when the database fails."""
    now = now or clock()
    key = key_of(name)
    async with transaction(engine, write=True, store_lock=False) as conn:
        gate = await throttle.claim(conn, key, now)
    if not gate.allowed:
        log.warning(
            "sign-in from %s for %r refused before checking: %s, %d s left",
            peer,
            key,
            "locked" if gate.locked else "too soon after a failure",
            gate.wait,
        )
        return Attempt(Outcome.LOCKED if gate.locked else Outcome.WAIT, wait=gate.wait)
    async with transaction(engine, write=False) as conn:
        account = await store.find_account(conn, key)
    stored = account.password_hash if account is not None else await pool.dummy_hash()
    if len(password) > MAX_PASSWORD:
        # Never matches (no stored password is longer), but costs the same.
        await pool.verify(stored, "")
        matched = False
    else:
        matched = await pool.verify(stored, password)
    if account is not None and matched and not account.disabled:
        new_hash = await pool.hash(password) if pool.needs_rehash(stored) else None
        async with transaction(engine, write=True, store_lock=False) as conn:
            await store.forget_throttle(conn, key)
            await store.signed_in(conn, account.id, now, new_hash)
        if new_hash is not None:
            log.info("password hash of account %d upgraded", account.id)
        log.info("%s signed in as account %d (%s)", peer, account.id, account.role)
        return Attempt(Outcome.OK, account, previous_login=account.last_login_at)
    reason = (
        "no such account"
        if account is None
        else "account locked by the sysop"
        if account.disabled
        else "wrong password"
    )
    async with transaction(engine, write=True, store_lock=False) as conn:
        locked = await throttle.failed(conn, key, now)
    log.warning("failed sign-in from %s for %r: %s", peer, key, reason)
    if locked:
        log.warning(
            "name %r locked for %d minutes after %d failures (last from %s)",
            key,
            int(throttle.LOCK_FOR.total_seconds() // 60),
            throttle.LOCK_AFTER,
            peer,
        )
    return Attempt(Outcome.REFUSED)


async def role_of(conn: AsyncConnection, account: store.Account, today: date) -> Role:
    """The role a signed-in account acts with: its stored one, or contact for a caller named
    on a current contract."""
    role = Role(account.role)
    if role is Role.CALLER and await is_named_contact(conn, account.id, today):
        return Role.CONTACT
    return role


async def caller_for(
    engine: AsyncEngine, account: store.Account, previous_login: datetime | None, now: datetime
) -> Caller:
    """The identity a session acts for once `account` signed in."""
    async with transaction(engine, write=False) as conn:
        role = await role_of(conn, account, now.date())
    return Caller(
        account_id=account.id,
        name=account.name,
        role=role,
        company_id=account.company_id,
        company=account.company,
        country=account.country,
        lang=account.lang,
        last_visit=previous_login.isoformat() if previous_login is not None else None,
    )
