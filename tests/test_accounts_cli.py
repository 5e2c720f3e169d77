"""`bbs user add/list/lock/unlock` through `bbs.cli.main`, on both databases."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest

from bbs.accounts import store, throttle
from bbs.accounts.auth import Outcome, authenticate
from bbs.accounts.names import name_key
from bbs.cli import main
from bbs.store.db import make_engine, transaction

Capture = pytest.CaptureFixture[str]
PASSWORD = "Tr0ub4dor&3-lotus"


async def bbs(url: str, *argv: str, stdin: str = "") -> int:
    """Run one `bbs` command against `url` (in a thread: it runs its own event loop)."""

    def run() -> int:
        import sys

        saved = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            return main([*argv, "--db", url])
        finally:
            sys.stdin = saved

    return await asyncio.wait_for(asyncio.to_thread(run), 60)


async def test_add_list_lock_unlock(store_url: str, capsys: Capture) -> None:
    add = ("user", "add", "Marie Curie", "--role", "specialist", "--password-stdin")
    assert await bbs(store_url, *add, "--company", "Lotus", stdin=PASSWORD + "\n") == 0
    assert "Marie Curie (specialist)" in capsys.readouterr().out
    assert await bbs(store_url, "user", "add", "Sysop", "--role", "sysop", "--password-stdin",
                     stdin=PASSWORD + "\n") == 0  # fmt: skip
    engine = make_engine(store_url)
    try:
        async with transaction(engine, write=False) as conn:
            marie = await store.find_account(conn, name_key("marie curie"))
        assert marie is not None and marie.role == "specialist" and marie.company == "Lotus"
        assert PASSWORD not in marie.password_hash
        ok = await authenticate(engine, "Marie Curie", PASSWORD, peer="t")
        assert ok.outcome is Outcome.OK

        assert await bbs(store_url, "user", "lock", "MARIE CURIE") == 0
        locked = await authenticate(engine, "Marie Curie", PASSWORD, peer="t")
        assert locked.outcome is Outcome.REFUSED
        capsys.readouterr()
        assert await bbs(store_url, "user", "list") == 0
        listing = capsys.readouterr().out
        assert "last login" in listing and "locked by sysop" in listing
        assert "Sysop" in listing and "sysop" in listing

        assert await bbs(store_url, "user", "unlock", "marie-curie") == 0
        async with transaction(engine, write=False) as conn:
            assert await throttle.throttled(conn, datetime.now(UTC)) == {}
        again = await authenticate(engine, "Marie Curie", PASSWORD, peer="t")
        assert again.outcome is Outcome.OK
    finally:
        await engine.dispose()


async def test_unlock_ends_a_throttle_lock_at_once(store_url: str) -> None:
    add = ("user", "add", "Paul Martin", "--role", "caller", "--password-stdin")
    assert await bbs(store_url, *add, stdin=PASSWORD) == 0
    engine = make_engine(store_url)
    now = datetime.now(UTC)
    try:
        async with transaction(engine, write=True, store_lock=False) as conn:
            for _ in range(throttle.LOCK_AFTER):
                await conn.execute(
                    store.THROTTLE.update().values(last_failure_at=now.replace(year=2000))
                )
                assert (await throttle.claim(conn, name_key("Paul Martin"), now)).allowed
            assert await throttle.failed(conn, name_key("Paul Martin"), now)
        refused = await authenticate(engine, "Paul Martin", PASSWORD, peer="t", now=now)
        assert refused.outcome is Outcome.LOCKED
        assert await bbs(store_url, "user", "unlock", "Paul Martin") == 0
        ok = await authenticate(engine, "Paul Martin", PASSWORD, peer="t", now=now)
        assert ok.outcome is Outcome.OK
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (("add", "Sysop", "--role", "caller"), PASSWORD, "reserved"),
        (("add", "Invite", "--role", "sysop"), PASSWORD, "reserved"),
        (("add", "Bob\x1b[2J", "--role", "caller"), PASSWORD, "control"),
        (("add", "Bob Short", "--role", "caller"), "short", "too short"),
        (("add", "Bob Long", "--role", "caller"), "x" * 129, "too long"),
        (("add", "Bob Role", "--role", "contact"), PASSWORD, "invalid choice"),
        (("lock", "Nobody"), "", "no account named"),
        (("unlock", "Nobody"), "", "no account named"),
    ],
)
async def test_clear_one_line_errors(
    store_url: str, capsys: Capture, argv: tuple[str, ...], stdin: str, message: str
) -> None:
    extra = ("--password-stdin",) if argv[0] == "add" else ()
    assert await bbs(store_url, "user", *argv, *extra, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert "\x1b" not in err


async def test_a_taken_name_is_refused(store_url: str, capsys: Capture) -> None:
    add = ("user", "add", "--role", "caller", "--password-stdin")
    assert await bbs(store_url, *add, "Anne Marie", stdin=PASSWORD) == 0
    assert await bbs(store_url, *add, "anne-marie", stdin=PASSWORD) == 2
    assert "exists" in capsys.readouterr().err
