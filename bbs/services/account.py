"""Sign-in, registration and the caller's account screens (profile, password, licences)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from bbs.accounts import auth, store
from bbs.accounts.model import GUEST, Caller, Role
from bbs.accounts.names import GUEST_WORDS, NEW_WORDS, name_key, name_problem, tidy_name
from bbs.accounts.passwords import POOL, password_problem
from bbs.directory.query import find_country
from bbs.directory.text import fold
from bbs.numbers import parse_number
from bbs.services.registry import Command, Context
from bbs.session.session import Hangup
from bbs.store.db import StoreError, transaction
from bbs.support.entitlements import FREE_SUPPORT_DAYS
from bbs.support.products import family_of, product_name, support_products
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import is_clean, user_markup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.services.registry import Node
    from bbs.session.session import Session

log = logging.getLogger(__name__)

TRIES = 3
"""Bad answers to one question before the board gives up."""
LANGS = {"fr": "fr", "en": "en", "de": "de", "francais": "fr", "english": "en", "anglais": "en"}
LANGS |= {"deutsch": "de", "allemand": "de", "french": "fr", "german": "de", "englisch": "en"}
_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", re.ASCII)
_LICENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 /-]{2,29}")
FIRST_PURCHASE = date(1982, 1, 1)
"""No Lotus product was sold before the company was founded."""

T = TypeVar("T")


class GaveUp(Exception):
    """Three bad answers to one question."""


@dataclass(frozen=True, slots=True)
class Bad:
    """A refused answer and why (already in the caller's language)."""

    message: str


# ------------------------------------------------------------------ helpers


def _prompt(session: Session, key: str) -> str:
    return "{h}" + escape(session.text(key)) + "{/} "


async def _say(session: Session, key: str, style: str = "", **values: object) -> None:
    text = escape(session.text(key, **values))
    await session.send(("{" + style + "}" + text + "{/}" if style else text) + "\n")


async def _ask(
    session: Session,
    key: str,
    check: Callable[[str], Awaitable[T | Bad]],
    *,
    secret: bool = False,
    max_len: int = 80,
) -> T:
    """Ask until `check` accepts an answer; GaveUp after TRIES refusals."""
    for _ in range(TRIES):
        answer = await session.read_line(_prompt(session, key), max_len=max_len, secret=secret)
        result = await check(answer)
        if not isinstance(result, Bad):
            return result
        await session.send("{err}" + escape(result.message) + "{/}\n")
    raise GaveUp(key)


async def _hang_up(session: Session) -> None:
    await _say(session, "acct.give_up", "warn")
    raise Hangup("sign-in given up")


def _when(moment: datetime | str | None, session: Session) -> str:
    if moment is None:
        return session.text("acct.never")
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%d/%m/%Y %H:%M UTC")


# ------------------------------------------------------------------ sign-in


async def sign_in(session: Session, board: Node) -> Caller:
    """Who the caller is: a name and password, a new registration, or a guest."""
    if board.db is None:
        with session.deferred():
            await _say(session, "acct.unavailable", "warn")
        return GUEST
    try:
        return await _sign_in(session, board, board.db)
    except GaveUp:
        await _hang_up(session)
        raise  # unreachable: _hang_up raises
    except StoreError as e:
        log.error("%s: accounts unavailable at sign-in: %s", session.link.peer, e)
        with session.deferred():
            await _say(session, "acct.unavailable", "warn")
        return GUEST


async def _sign_in(session: Session, board: Node, db: AsyncEngine) -> Caller:
    await session.send(
        "\n{title}"
        + escape(session.text("acct.sign_in_title"))
        + "\n{dim}"
        + escape(session.text("acct.sign_in_help"))
        + "{/}\n"
    )
    strikes = 0
    while strikes < TRIES:
        name = (await session.read_line(_prompt(session, "acct.name_prompt"), max_len=60)).strip()
        key = name_key(name)
        if key in GUEST_WORDS:
            with session.deferred():
                await _say(session, "acct.guest", "dim")
            return GUEST
        if key in NEW_WORDS:
            caller = await register(session, board, db)
            if caller is not None:
                return caller
            continue
        if not name:
            strikes += 1
            continue
        password = await session.read_line(
            _prompt(session, "acct.password_prompt"), max_len=256, secret=True
        )
        attempt = await auth.authenticate(db, name, password, peer=session.link.peer)
        del password
        if attempt.outcome is auth.Outcome.OK and attempt.account is not None:
            caller = await auth.caller_for(
                db, attempt.account, attempt.previous_login, auth.clock()
            )
            await _welcome(session, caller)
            return caller
        if attempt.outcome is auth.Outcome.WAIT:
            await _say(session, "acct.wait", "warn", seconds=attempt.wait)
        elif attempt.outcome is auth.Outcome.LOCKED:
            await _say(session, "acct.locked", "warn", minutes=max(1, -(-attempt.wait // 60)))
        else:
            await _say(session, "acct.refused", "err")
        strikes += 1
    raise GaveUp("name")


async def _welcome(session: Session, caller: Caller) -> None:
    session.lang = caller.lang
    name = user_markup(caller.name)
    if caller.last_visit is None:
        text = escape(session.text("acct.hello_first", name="\x00")).replace("\x00", name)
    else:
        when = _when(caller.last_visit, session)
        text = escape(session.text("acct.hello", name="\x00", when=when)).replace("\x00", name)
    with session.deferred():
        await session.send("{ok}" + text + "{/}\n")


# ------------------------------------------------------------------ registration


async def _new_password(session: Session) -> str:
    """A new password typed twice; GaveUp after TRIES bad tries."""
    for _ in range(TRIES):
        first = await session.read_line(
            _prompt(session, "acct.new_password"), max_len=256, secret=True
        )
        problem = password_problem(first)
        if problem is not None:
            await _say(session, problem, "err")
            continue
        second = await session.read_line(
            _prompt(session, "acct.again_password"), max_len=256, secret=True
        )
        if second == first:
            return first
        await _say(session, "acct.password_mismatch", "err")
    raise GaveUp("password")


async def register(session: Session, board: Node, db: AsyncEngine) -> Caller | None:
    """Register a new caller; their identity, or None when the name was taken meanwhile."""
    await session.send(
        "\n{title}"
        + escape(session.text("acct.register_title"))
        + "\n"
        + escape(session.text("acct.register_help"))
        + "\n"
    )

    async def check_name(answer: str) -> str | Bad:
        problem = name_problem(answer)
        if problem is not None:
            return Bad(session.text(problem.value))
        name = tidy_name(answer)
        async with transaction(db, write=False) as conn:
            if await store.name_taken(conn, name_key(name)):
                return Bad(session.text("acct.name_taken"))
        return name

    async def check_company(answer: str) -> str | Bad:
        company = " ".join(answer.split())
        if not is_clean(answer) or not 2 <= len(company) <= 60:
            return Bad(session.text("acct.company_bad"))
        return company

    async def check_country(answer: str) -> str | Bad:
        country = find_country(board.index, answer.strip()) if answer.strip() else None
        if country is None:
            return Bad(session.text("acct.country_bad", text=answer.strip()[:30]))
        return country.code

    async def check_lang(answer: str) -> str | Bad:
        lang = LANGS.get(fold(answer.strip()))
        return Bad(session.text("acct.lang_bad")) if lang is None else lang

    name = await _ask(session, "acct.new_name", check_name, max_len=60)
    password = await _new_password(session)
    company = await _ask(session, "acct.company", check_company)
    country = await _ask(session, "acct.country", check_country, max_len=40)
    session.lang = await _ask(session, "acct.lang", check_lang, max_len=20)
    password_hash = await POOL.hash(password)
    del password
    now = auth.clock()
    try:
        async with transaction(db, write=True, store_lock=False) as conn:
            account_id = await store.create_account(
                conn,
                name=name,
                key=name_key(name),
                password_hash=password_hash,
                role=Role.CALLER.value,
                company=company,
                country=country,
                lang=session.lang,
                now=now,
            )
            await store.signed_in(conn, account_id, now)
    except store.NameTaken:
        await _say(session, "acct.taken_meanwhile", "err")
        return None
    log.info("%s registered account %d", session.link.peer, account_id)
    await _say(session, "acct.registered", "ok")
    answer = await session.read_line(_prompt(session, "acct.licence_offer"), max_len=5)
    if answer.strip()[:1].upper() == session.text("board.yes_key").upper():
        await licence_form(session, board, db, account_id)
    async with transaction(db, write=False) as conn:
        account = await store.get_account(conn, account_id)
    assert account is not None
    caller = await auth.caller_for(db, account, None, now)
    await _welcome(session, caller)
    return caller


# ------------------------------------------------------------------ licences


def parse_date(text: str) -> date | None:
    """A JJ/MM/AAAA date (also with . or -), or None."""
    found = _DATE.fullmatch(text.strip())
    if found is None:
        return None
    day, month, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


async def licence_form(session: Session, board: Node, db: AsyncEngine, account_id: int) -> bool:
    """Ask for a product, licence number and purchase date and register them; whether done."""
    products = list(support_products())
    lines = ["", "{title}" + escape(session.text("acct.licence_title"))]
    lines += [
        f"  {{k}}{n:2d}{{/}} " + escape(product_name(code, session.lang))
        for n, code in enumerate(products, 1)
    ]
    await session.send("\n".join(lines) + "\n")

    async def check_product(answer: str) -> str | Bad | None:
        answer = answer.strip()
        if not answer:
            return None
        choice = parse_number(answer)
        if choice is not None and 1 <= choice <= len(products):
            return products[choice - 1]
        if answer.lower() in support_products():
            return answer.lower()
        return Bad(session.text("acct.product_bad"))

    product = await _ask(session, "acct.product", check_product, max_len=20)
    if product is None:
        return False

    async def check_number(answer: str) -> str | Bad:
        number = store.normal_licence(answer)
        if _LICENCE.fullmatch(answer.strip()) is None or len(number) < 4:
            return Bad(session.text("acct.licence_number_bad"))
        async with transaction(db, write=False) as conn:
            if await store.licence_taken(conn, product, number):
                log.warning(
                    "%s: licence %s %r already registered", session.link.peer, product, number
                )
                return Bad(session.text("acct.licence_taken"))
        return number

    async def check_date(answer: str) -> date | Bad:
        bought = parse_date(answer)
        if bought is None or not FIRST_PURCHASE <= bought <= auth.clock().date():
            return Bad(session.text("acct.purchase_date_bad"))
        return bought

    number = await _ask(session, "acct.licence_number", check_number, max_len=40)
    bought = await _ask(session, "acct.purchase_date", check_date, max_len=20)
    try:
        async with transaction(db, write=True, store_lock=False) as conn:
            await store.add_licence(
                conn,
                account_id,
                product=product,
                family=family_of(product),
                number=number,
                purchased_on=bought,
                now=auth.clock(),
            )
    except store.LicenceTaken:
        await _say(session, "acct.licence_taken", "err")
        return False
    name = product_name(product, session.lang)
    # Said at the next prompt, under the screen drawn next, so that nothing wipes it.
    with session.deferred():
        await _say(
            session,
            "acct.licence_done",
            "ok",
            product=name,
            number=number,
            date=f"{bought:%d/%m/%Y}",
        )
        free_until = bought + timedelta(days=FREE_SUPPORT_DAYS)
        if free_until >= auth.clock().date():
            await _say(session, "acct.free_until", "", date=f"{free_until:%d/%m/%Y}")
    return True


# ------------------------------------------------------------------ account menu


async def _signed_in(ctx: Context) -> AsyncEngine | None:
    """The database when a caller (not a guest) is signed in; else says why not."""
    session = ctx.session
    if ctx.board.db is None:
        await _say(session, "acct.store_error", "err")
        await session.pause()
        return None
    if session.caller.is_guest:
        await _say(session, "acct.guest_only", "warn")
        await session.pause()
        return None
    return ctx.board.db


async def profile(ctx: Context, _arg: str | None) -> None:
    """Show the caller's name, role, company, country, language and licences."""
    db = await _signed_in(ctx)
    if db is None:
        return
    session, caller = ctx.session, ctx.session.caller
    assert caller.account_id is not None
    try:
        async with transaction(db, write=False) as conn:
            licences = await store.licences_of(conn, caller.account_id)
    except StoreError as e:
        log.error("%s: profile: %s", session.link.peer, e)
        await _say(session, "acct.store_error", "err")
        return
    text = session.text(
        "acct.profile",
        name="\x00",
        role=session.text(f"acct.role.{caller.role.value}"),
        company="\x01",
        country=caller.country,
        lang=caller.lang,
        when=_when(caller.last_visit, session),
    )
    body = (
        escape(text)
        .replace("\x00", user_markup(caller.name))
        .replace("\x01", user_markup(caller.company))
    )
    lines = ["", "{title}" + escape(session.text("acct.profile_title")), body, ""]
    if licences:
        lines.append("{h}" + escape(session.text("acct.licences")) + "{/}")
        lines += [
            "  "
            + escape(f"{product_name(r.product, session.lang)}  {r.licence_number}  ")
            + f"{r.purchased_on:%d/%m/%Y}"
            for r in licences
        ]
    else:
        lines.append(escape(session.text("acct.no_licence")))
    await session.send("\n".join(lines) + "\n")
    await session.pause()


async def change_password(ctx: Context, _arg: str | None) -> None:
    """Change the password: the current one first, then the new one twice."""
    db = await _signed_in(ctx)
    if db is None:
        return
    session = ctx.session
    account_id = session.caller.account_id
    assert account_id is not None
    try:
        async with transaction(db, write=False) as conn:
            account = await store.get_account(conn, account_id)
        if account is None:
            return

        async def check_current(answer: str) -> bool | Bad:
            if await POOL.verify(account.password_hash, answer):
                return True
            log.warning("%s: wrong current password for account %d", session.link.peer, account_id)
            return Bad(session.text("acct.password_wrong"))

        await _ask(session, "acct.current_password", check_current, secret=True, max_len=256)
        password = await _new_password(session)
        new_hash = await POOL.hash(password)
        del password
        async with transaction(db, write=True, store_lock=False) as conn:
            await store.set_password(conn, account_id, new_hash)
    except GaveUp:
        await _say(session, "acct.give_up_menu", "warn")
        return
    except StoreError as e:
        log.error("%s: password change: %s", session.link.peer, e)
        await _say(session, "acct.store_error", "err")
        return
    log.info("%s: account %d changed its password", session.link.peer, account_id)
    await _say(session, "acct.password_changed", "ok")
    await session.pause()


async def add_licence(ctx: Context, _arg: str | None) -> None:
    """Register one more product licence."""
    db = await _signed_in(ctx)
    if db is None:
        return
    account_id = ctx.session.caller.account_id
    assert account_id is not None
    try:
        await licence_form(ctx.session, ctx.board, db, account_id)
    except GaveUp:
        await _say(ctx.session, "acct.give_up_menu", "warn")
    except StoreError as e:
        log.error("%s: licence: %s", ctx.session.link.peer, e)
        await _say(ctx.session, "acct.store_error", "err")
    await ctx.session.pause()


async def switch_caller(ctx: Context, _arg: str | None) -> None:
    """Sign in again, as someone else (or register, or become a guest)."""
    from bbs.services.signin import after_sign_in

    session = ctx.session
    session.caller = GUEST
    session.caller = await sign_in(session, ctx.board)
    log.info("%s node %d: now %r", session.link.peer, session.node, session.caller.role.value)
    await after_sign_in(session, ctx.board)


COMMANDS: list[Command] = [
    Command("account_profile", profile, "Compte : mon profil"),
    Command("account_password", change_password, "Compte : changer de mot de passe"),
    Command("account_licence", add_licence, "Compte : enregistrer une licence"),
    Command("account_switch", switch_caller, "Compte : s'identifier sous un autre nom"),
]
