"""`bbs user ...`: add, list, lock and unlock accounts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bbs.accounts import store, throttle
from bbs.accounts.auth import clock
from bbs.accounts.model import STORED_ROLES
from bbs.accounts.names import (
    GUEST_WORDS,
    NEW_WORDS,
    NameProblem,
    name_key,
    name_problem,
    tidy_name,
)
from bbs.accounts.passwords import POOL, password_problem
from bbs.errors import UsageError
from bbs.terminal.sanitize import clean

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.config import Config

_PROBLEMS = {
    NameProblem.CONTROL: "it holds control characters or escape sequences",
    NameProblem.LENGTH: "a name has 3 to 30 characters",
    NameProblem.CHARACTERS: "a name holds only letters, digits, spaces and - . '",
    NameProblem.RESERVED: "it is reserved (or looks like a reserved name)",
}
_PASSWORD_PROBLEMS = {
    "acct.password_short": "the password is too short (8 characters at least)",
    "acct.password_long": "the password is too long (128 characters at most)",
}


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add this command's parsers to `sub`; each sets `run(config, args) -> int` (async)."""
    user = sub.add_parser("user", help="callers' accounts")
    usub = user.add_subparsers(dest="user_command", required=True, parser_class=type(user))

    add = usub.add_parser("add", help="a new account; the password is read from stdin")
    common(add)
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=[r.value for r in STORED_ROLES])
    add.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password's line"
    )
    add.add_argument("--company", metavar="C", default="", help="a member of it (sysop's word)")
    add.add_argument("--country", metavar="CC", default="")
    add.add_argument("--lang", choices=("fr", "en", "de"), default="fr")
    add.set_defaults(run=_add)

    listing = usub.add_parser("list", help="every account, with lock and throttle state")
    common(listing)
    listing.set_defaults(run=_list)

    for verb, run, what in (
        ("lock", _lock, "refuse every sign-in of an account until unlocked"),
        ("unlock", _unlock, "allow an account again and forget its failed sign-ins"),
    ):
        one = usub.add_parser(verb, help=what)
        common(one)
        one.add_argument("name", metavar="NAME")
        one.set_defaults(run=run)


def _engine(config: Config) -> AsyncEngine:
    from bbs.store.db import make_engine

    return make_engine(config.db)


async def _country(engine: AsyncEngine, text: str) -> str:
    """The directory's code for a country typed as a code or name."""
    if not text:
        return ""
    from bbs.directory.query import build_index, find_country
    from bbs.store.snapshot import read_directory

    directory = await read_directory(engine)
    if not directory.countries:
        # No directory loaded (a bare database): take a plain two-letter code as given.
        if len(text) == 2 and text.isalpha():
            return text.upper()
        raise UsageError(f"no directory loaded to look up the country {clean(text)!r}")
    country = find_country(build_index(directory), text)
    if country is None:
        raise UsageError(f"unknown country {clean(text)!r} (a code or name of the directory)")
    return country.code


async def _add(config: Config, args: argparse.Namespace) -> int:
    from bbs.store.db import transaction

    name = args.name
    problem = name_problem(name)
    key = name_key(tidy_name(name))
    # The operator may give staff a title such as "Sysop"; the prompt's own words stay out.
    staff_title = (
        problem is NameProblem.RESERVED
        and args.role != "caller"
        and key not in GUEST_WORDS | NEW_WORDS
    )
    if problem is not None and not staff_title:
        raise UsageError(f"name {clean(name)!r} refused: {_PROBLEMS[problem]}")
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    password = password.removesuffix("\r")
    bad = password_problem(password)
    if bad is not None:
        raise UsageError(_PASSWORD_PROBLEMS[bad])
    engine = _engine(config)
    try:
        country = await _country(engine, args.country)
        password_hash = await POOL.hash(password)
        async with transaction(engine, write=True, store_lock=False) as conn:
            account_id = await store.create_account(
                conn,
                name=tidy_name(name),
                key=key,
                password_hash=password_hash,
                role=args.role,
                company=" ".join(args.company.split()),
                country=country,
                lang=args.lang,
                now=clock(),
                # The sysop vouches for the company given here; callers cannot.
                member=bool(args.company.strip()),
            )
    except store.NameTaken:
        raise UsageError(f"an account named {clean(name)!r} (or too much like it) exists") from None
    finally:
        await engine.dispose()
    print(f"account {account_id} added: {clean(tidy_name(name))} ({args.role})")
    return 0


def _when(moment: Any) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


async def _list(config: Config, args: argparse.Namespace) -> int:
    from bbs.store.db import transaction

    engine = _engine(config)
    now = clock()
    try:
        async with transaction(engine, write=False) as conn:
            accounts = await store.list_accounts(conn)
            throttled = await throttle.throttled(conn, now)
    finally:
        await engine.dispose()
    header = ("id", "name", "role", "company", "created", "last login", "state")
    rows = []
    for a in accounts:
        state = []
        if a.disabled:
            state.append("locked by sysop")
        failures, until = throttled.get(a.name_key, (0, None))
        if until is not None:
            state.append(f"locked until {until:%H:%M} UTC")
        elif failures:
            state.append(f"{failures} failed sign-in(s)")
        rows.append(
            (
                str(a.id),
                clean(a.name),
                a.role,
                clean(a.company) or "-",
                _when(a.created_at),
                _when(a.last_login_at),
                ", ".join(state) or "ok",
            )
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


async def _lock(config: Config, args: argparse.Namespace) -> int:
    from bbs.store.db import transaction

    engine = _engine(config)
    try:
        async with transaction(engine, write=True, store_lock=False) as conn:
            found = await store.set_disabled(conn, name_key(tidy_name(args.name)), True)
    finally:
        await engine.dispose()
    if not found:
        raise UsageError(f"no account named {clean(args.name)!r}")
    print(f"{clean(args.name)} is locked: no sign-in until 'bbs user unlock'")
    return 0


async def _unlock(config: Config, args: argparse.Namespace) -> int:
    from bbs.store.db import transaction

    key = name_key(tidy_name(args.name))
    engine = _engine(config)
    try:
        async with transaction(engine, write=True, store_lock=False) as conn:
            found = await store.set_disabled(conn, key, False)
            had_failures = key in await throttle.throttled(conn, clock())
            await store.forget_throttle(conn, key)
    finally:
        await engine.dispose()
    if not found and not had_failures:
        raise UsageError(f"no account named {clean(args.name)!r}")
    print(f"{clean(args.name)} is unlocked and its failed sign-ins are forgotten")
    return 0
