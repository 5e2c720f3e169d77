"""Sign-in, registration and the caller's account screens (profile, password, licences)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from bbs.accounts import auth, store
from bbs.accounts.model import GUEST, NO_PREFS, Caller, Prefs, Role
from bbs.accounts.names import GUEST_WORDS, NEW_WORDS, name_key, name_problem, tidy_name
from bbs.accounts.passwords import POOL, password_problem
from bbs.accounts.prefs import load_prefs, save_prefs, set_profile
from bbs.directory.query import find_country
from bbs.directory.text import fold
from bbs.menus.strings import LANGS as LANGS_SPOKEN
from bbs.numbers import parse_number
from bbs.services.registry import Command, Context, Verb
from bbs.session.keys import Key
from bbs.session.session import Hangup
from bbs.store.db import StoreError, transaction
from bbs.support.entitlements import FREE_SUPPORT_DAYS
from bbs.support.products import family_of, product_name, support_products
from bbs.terminal.caps import Encoding, Tier
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import is_clean, user_markup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bbs.services.registry import Node
    from bbs.session.session import Session
    from bbs.ssh import keys as keys_model

log = logging.getLogger(__name__)

TRIES = 3
"""Bad answers to one question before the board gives up."""
LANGS = {"fr": "fr", "en": "en", "de": "de", "francais": "fr", "english": "en", "anglais": "en"}
LANGS |= {"deutsch": "de", "allemand": "de", "french": "fr", "german": "de", "englisch": "en"}
DOOR_KEYS = {"F": "fr", "E": "en", "D": "de"}
"""One key on the welcome screen or at the name prompt: Français, English, Deutsch."""
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


# ------------------------------------------------------------------ preferences


def apply_prefs(session: Session, prefs: Prefs) -> None:
    """Put the caller's choices in force on this line; a value the board no longer
    knows (an old row) is left as detected."""
    if prefs.lang is not None and prefs.lang in DOOR_KEYS.values():
        session.lang = prefs.lang
    if prefs.hotkeys is not None:
        session.hotkeys = prefs.hotkeys
    if prefs.protocol:
        from bbs.services.transfers import PROTOCOLS

        if prefs.protocol in PROTOCOLS:
            session.protocol = prefs.protocol
    changes: dict[str, object] = {}
    if prefs.tier in {t.value for t in Tier}:
        changes["tier"] = Tier(prefs.tier)
    if prefs.encoding in {e.value for e in Encoding}:
        changes["encoding"] = Encoding(prefs.encoding)
    if prefs.eight_bit is not None:
        changes["eight_bit"] = prefs.eight_bit
    if prefs.baud is not None and prefs.baud >= 0:
        changes["baud"] = prefs.baud
    if prefs.cols and prefs.rows:
        from bbs.terminal.caps import clamp_size

        changes["cols"], changes["rows"] = clamp_size(prefs.cols, prefs.rows)
    if changes:
        session.set_caps(session.caps.with_(**changes))
        session.rebuild_decoder()


async def keep_prefs(session: Session, board: Node, prefs: Prefs) -> None:
    """The caller chose `prefs` (already in force): remembered for this call, and kept
    with their account when they are signed in. A database error loses only that."""
    session.chosen = prefs.over(session.chosen)
    if prefs.lang is not None and session.caller.lang != prefs.lang:
        session.caller = replace(session.caller, lang=prefs.lang)
    account_id = session.caller.account_id
    if account_id is None or board.db is None:
        return
    try:
        async with transaction(board.db, write=True, store_lock=False) as conn:
            await save_prefs(conn, account_id, prefs)
    except StoreError as e:
        log.warning("%s: preferences of account %d not kept: %s", session.link.peer, account_id, e)


async def _restore_prefs(session: Session, db: AsyncEngine, caller: Caller) -> Caller:
    """At sign-in: the account's choices in force, under those made on this call before
    it (which the account keeps from now on); the caller with their language."""
    assert caller.account_id is not None
    chosen = session.chosen
    try:
        async with transaction(db, write=not chosen.empty, store_lock=False) as conn:
            stored = await load_prefs(conn, caller.account_id)
            if not chosen.empty:
                await save_prefs(conn, caller.account_id, chosen)
    except StoreError as e:
        log.warning("%s: preferences of account %d: %s", session.link.peer, caller.account_id, e)
        stored = Prefs(lang=caller.lang)
    prefs = chosen.over(stored)
    apply_prefs(session, prefs)
    session.chosen = prefs
    return replace(caller, lang=session.lang)


def lang_asked(text: str) -> str | None:
    """The language a line asks for: "E", "LANG en", "/LANG Deutsch"; "" for a bare or
    unknown `LANG`; None when the line is not about the language (a name)."""
    text = text.strip()
    if text.upper() in DOOR_KEYS:
        return DOOR_KEYS[text.upper()]
    verb, _, rest = text.lstrip("/").partition(" ")
    if verb.upper() != "LANG":
        return None
    rest = rest.strip()
    if not rest:
        return ""
    lang = LANGS.get(fold(rest))
    # "Lang Michel" is someone's name.
    return lang if lang is not None else None


async def switch_lang(session: Session, board: Node, lang: str) -> None:
    """The caller asked for `lang` before the menus: switch and say so in it."""
    session.lang = lang
    await keep_prefs(session, board, Prefs(lang=lang))
    await _say(session, "board.lang_changed", "ok")


async def door(session: Session, board: Node) -> None:
    """The pause after the welcome art: Enter goes on; F, E or D alone first switch the
    language. Other typing is the start of the caller's name, handed to the next prompt."""
    await session.send("{dim}" + escape(session.text("acct.door_keys")) + "{/}\n")
    pause = session.line_text("board.press_enter", "board.press_enter_short")
    await session.send("{dim}" + escape(pause) + "{/}", remember=False)
    while True:
        event = await session.read_event()
        if isinstance(event, (str, Key)):
            break
    await session.write_raw(b"\r\n", content=False)
    if isinstance(event, str) and event.upper() in DOOR_KEYS and not session.typed_ahead():
        session.drop_queued_enter()
        await switch_lang(session, board, DOOR_KEYS[event.upper()])
    elif isinstance(event, str) and event != " ":
        session.push_back([event])


# ------------------------------------------------------------------ sign-in


async def sign_in(session: Session, board: Node) -> Caller:
    """Who the caller is: a name and password, a new registration, or a guest.

    A link that authenticated the caller itself (SSH) carries who it is as `preauth`:
    the name prompt is skipped.
    """
    preauth = getattr(session.link, "preauth", None)
    if isinstance(preauth, Caller):
        if preauth.is_guest:
            with session.deferred():
                await _say(session, "acct.guest", "dim")
        elif board.db is not None:
            try:
                return await _welcome(session, board.db, preauth)
            except StoreError as e:
                log.error("%s: accounts unavailable after SSH sign-in: %s", session.link.peer, e)
        return preauth
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


async def _sign_in_title(session: Session) -> None:
    await session.send(
        "\n{title}"
        + escape(session.text("acct.sign_in_title"))
        + "\n{dim}"
        + escape(session.text("acct.sign_in_help"))
        + "{/}\n"
    )


async def _sign_in(session: Session, board: Node, db: AsyncEngine) -> Caller:
    await _sign_in_title(session)
    strikes = 0
    while strikes < TRIES:
        name = (await session.read_line(_prompt(session, "acct.name_prompt"), max_len=60)).strip()
        lang = lang_asked(name)
        if lang is not None:
            # A language asked for, never a name: no sign-in tried, nothing logged.
            if lang:
                await switch_lang(session, board, lang)
                await _sign_in_title(session)
            else:
                await _say(session, "board.lang_usage", "err")
            continue
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
            return await _welcome(session, db, caller)
        if attempt.outcome is auth.Outcome.WAIT:
            await _say(session, "acct.wait", "warn", seconds=attempt.wait)
        elif attempt.outcome is auth.Outcome.LOCKED:
            await _say(session, "acct.locked", "warn", minutes=max(1, -(-attempt.wait // 60)))
        else:
            await _say(session, "acct.refused", "err")
        strikes += 1
    raise GaveUp("name")


async def _welcome(session: Session, db: AsyncEngine, caller: Caller) -> Caller:
    caller = await _restore_prefs(session, db, caller)
    name = user_markup(caller.name)
    if caller.last_visit is None:
        text = escape(session.text("acct.hello_first", name="\x00")).replace("\x00", name)
    else:
        when = _when(caller.last_visit, session)
        text = escape(session.text("acct.hello", name="\x00", when=when)).replace("\x00", name)
    with session.deferred():
        await session.send("{ok}" + text + "{/}\n")
    return caller


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


def _check_company(session: Session) -> Callable[[str], Awaitable[str | Bad]]:
    """The company a caller gives: free text, 2 to 60 characters, shown, never trusted."""

    async def check(answer: str) -> str | Bad:
        company = " ".join(answer.split())
        if not is_clean(answer) or not 2 <= len(company) <= 60:
            return Bad(session.text("acct.company_bad"))
        return company

    return check


def _check_country(session: Session, board: Node) -> Callable[[str], Awaitable[str | Bad]]:
    """A country by name or code, as the directory knows it: its code."""

    async def check(answer: str) -> str | Bad:
        country = find_country(board.index, answer.strip()) if answer.strip() else None
        if country is None:
            return Bad(session.text("acct.country_bad", text=answer.strip()[:30]))
        return country.code

    return check


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

    async def check_lang(answer: str) -> str | Bad:
        lang = LANGS.get(fold(answer.strip()))
        return Bad(session.text("acct.lang_bad")) if lang is None else lang

    name = await _ask(session, "acct.new_name", check_name, max_len=60)
    password = await _new_password(session)
    company = await _ask(session, "acct.company", _check_company(session))
    country = await _ask(session, "acct.country", _check_country(session, board), max_len=40)
    session.lang = await _ask(session, "acct.lang", check_lang, max_len=20)
    session.chosen = replace(session.chosen, lang=session.lang)
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
    return await _welcome(session, db, caller)


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


PROFILE_KEYS = ("1", "2", "3", "4")
"""The profile screen's choices: language, company, country, password."""


async def _profile_screen(session: Session, db: AsyncEngine) -> bool:
    """Draw the caller's profile and licences; False when the database failed."""
    caller = session.caller
    assert caller.account_id is not None
    try:
        async with transaction(db, write=False) as conn:
            account = await store.get_account(conn, caller.account_id)
            licences = await store.licences_of(conn, caller.account_id)
    except StoreError as e:
        log.error("%s: profile: %s", session.link.peer, e)
        await _say(session, "acct.store_error", "err")
        return False
    typed = account.company if account is not None else caller.company
    text = session.text(
        "acct.profile",
        name="\x00",
        role=session.text(f"acct.role.{caller.role.value}"),
        company="\x01",
        country=account.country if account is not None else caller.country,
        lang=session.lang,
        when=_when(caller.last_visit, session),
    )
    body = (
        escape(text).replace("\x00", user_markup(caller.name)).replace("\x01", user_markup(typed))
    )
    lines = ["{title}" + escape(session.text("acct.profile_title")), body, ""]
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
    lines += [""] + [
        f"  {{k}}{key}{{/}}  " + escape(session.text(f"acct.profile_edit_{key}"))
        for key in PROFILE_KEYS
    ]
    await session.clear()
    await session.send("\n".join(lines) + "\n")
    return True


async def profile(ctx: Context, _arg: str | None) -> None:
    """The caller's profile and licences; 1-4 change their language, company (the text
    they gave: belonging to a company is granted elsewhere), country or password."""
    db = await _signed_in(ctx)
    if db is None:
        return
    session = ctx.session
    while True:
        if not await _profile_screen(session, db):
            await session.pause()
            return
        answer = await session.read_line(
            _prompt(session, "acct.profile_choice"),
            max_len=40,
            instant=(lambda ch: ch in PROFILE_KEYS) if session.hotkeys else None,
        )
        choice = answer.strip()
        if not choice or choice.upper() == "Q":
            return
        if choice not in PROFILE_KEYS:
            handled = await ctx.engine.global_command(answer)
            if handled is not None:
                return
            with session.deferred():
                await _say(session, "acct.profile_bad", "err")
            continue
        try:
            await _edit_profile(ctx, db, choice)
        except GaveUp:
            with session.deferred():
                await _say(session, "acct.give_up_menu", "warn")
        except StoreError as e:
            log.error("%s: profile change: %s", session.link.peer, e)
            with session.deferred():
                await _say(session, "acct.store_error", "err")


async def _edit_profile(ctx: Context, db: AsyncEngine, choice: str) -> None:
    """Change one thing on the profile; said at the profile's prompt drawn again."""
    session = ctx.session
    account_id = session.caller.account_id
    assert account_id is not None
    if choice == "1":

        async def check_lang(answer: str) -> str | Bad:
            lang = LANGS.get(fold(answer.strip()))
            return Bad(session.text("acct.lang_bad")) if lang is None else lang

        session.lang = await _ask(session, "acct.lang", check_lang, max_len=20)
        await keep_prefs(session, ctx.board, Prefs(lang=session.lang))
    elif choice == "2":
        company = await _ask(session, "acct.company", _check_company(session))
        async with transaction(db, write=True, store_lock=False) as conn:
            await set_profile(conn, account_id, company_name=company)
        if session.caller.company_id is None:
            session.caller = replace(session.caller, company=company)
    elif choice == "3":
        country = await _ask(
            session, "acct.country", _check_country(session, ctx.board), max_len=40
        )
        async with transaction(db, write=True, store_lock=False) as conn:
            await set_profile(conn, account_id, country=country)
        session.caller = replace(session.caller, country=country)
    else:
        if not await _password_change(session, db, account_id):
            return
    with session.deferred():
        await _say(session, "acct.profile_changed", "ok")


async def _password_change(session: Session, db: AsyncEngine, account_id: int) -> bool:
    """The current password, then the new one twice; whether it was changed. GaveUp
    after three bad answers; StoreError when the database fails."""
    async with transaction(db, write=False) as conn:
        account = await store.get_account(conn, account_id)
    if account is None:
        return False

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
    log.info("%s: account %d changed its password", session.link.peer, account_id)
    return True


async def change_password(ctx: Context, _arg: str | None) -> None:
    """Change the password: the current one first, then the new one twice."""
    db = await _signed_in(ctx)
    if db is None:
        return
    session = ctx.session
    account_id = session.caller.account_id
    assert account_id is not None
    try:
        if not await _password_change(session, db, account_id):
            return
    except GaveUp:
        await _say(session, "acct.give_up_menu", "warn")
        return
    except StoreError as e:
        log.error("%s: password change: %s", session.link.peer, e)
        await _say(session, "acct.store_error", "err")
        return
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


async def ssh_keys(ctx: Context, _arg: str | None) -> None:
    """The caller's SSH public keys: list, add one (pasted), remove one by number."""
    from bbs.ssh import keys

    db = await _signed_in(ctx)
    if db is None:
        return
    session, caller = ctx.session, ctx.session.caller
    account_id = caller.account_id
    assert account_id is not None
    try:
        while True:
            async with transaction(db, write=False) as conn:
                stored = await keys.keys_of(conn, account_id)
            await session.send(_keys_screen(session, ctx.board.config.ssh_port, stored))
            answer = (
                await session.read_line(_prompt(session, "ssh.keys_prompt"), max_len=16)
            ).strip()
            verb, _, rest = answer.upper().partition(" ")
            if verb == "A" and not rest:
                line = await session.read_line(_prompt(session, "ssh.key_paste"))
                try:
                    parsed = keys.parse_key(line)
                except keys.BadKey as bad:
                    await _say(session, bad.reason, "err")
                    continue
                async with transaction(db, write=True, store_lock=False) as conn:
                    refused = await keys.add_key(conn, account_id, parsed, auth.clock())
                if refused:
                    await _say(session, refused, "err")
                    continue
                log.info("account %d registered SSH key %s", account_id, parsed.fingerprint)
                await _say(session, "ssh.key_added", "ok", fingerprint=parsed.fingerprint)
            elif verb == "S" and rest.strip().isdigit():
                number = int(rest.strip())
                removed = False
                if 1 <= number <= len(stored):
                    async with transaction(db, write=True, store_lock=False) as conn:
                        removed = await keys.remove_key(conn, account_id, stored[number - 1].id)
                if removed:
                    log.info("account %d removed an SSH key", account_id)
                    await _say(session, "ssh.key_removed", "ok")
                else:
                    await _say(session, "ssh.key_no_such", "err", number=number)
            else:
                return
    except StoreError as e:
        log.error("%s: SSH keys: %s", session.link.peer, e)
        await _say(session, "acct.store_error", "err")


def _keys_screen(session: Session, port: int, stored: list[keys_model.StoredKey]) -> str:
    """The SSH keys screen as markup."""
    name = session.caller.name.lower().replace(" ", "-")
    lines = [
        "",
        "{title}" + escape(session.text("ssh.keys_title")),
        escape(session.text("ssh.keys_help", port=port or 22, name=name)),
        "",
    ]
    if not stored:
        lines.append("{dim}" + escape(session.text("ssh.no_keys")) + "{/}")
    for number, key in enumerate(stored, 1):
        used = (
            session.text("ssh.used", when=_when(key.last_used_at, session))
            if key.last_used_at is not None
            else session.text("ssh.never_used")
        )
        label = f"{key.algorithm}  {key.fingerprint}  {key.comment}".rstrip()
        lines.append(f"  {{k}}{number}{{/}}  " + escape(label) + "  {dim}" + escape(used) + "{/}")
    return "\n".join(lines) + "\n\n"


async def switch_caller(ctx: Context, _arg: str | None) -> None:
    """Sign in again, as someone else (or register, or become a guest)."""
    from bbs.services.signin import after_sign_in

    session = ctx.session
    session.caller = GUEST
    # What the last caller chose is theirs: it must not go into the next one's account.
    session.chosen = NO_PREFS
    session.caller = await sign_in(session, ctx.board)
    log.info("%s node %d: now %r", session.link.peer, session.node, session.caller.role.value)
    await after_sign_in(session, ctx.board)


async def lang_verb(ctx: Context, argument: str) -> bool:
    """`LANG fr|en|de`: switch the session's language (kept for the account) and redraw."""
    session = ctx.session
    code = argument.strip().lower()
    if code not in LANGS_SPOKEN:
        await session.send("{err}" + escape(session.text("board.lang_usage")) + "{/}\n")
        return False
    session.lang = code
    await keep_prefs(session, ctx.board, Prefs(lang=code))
    # Said under the menu drawn again in the new language, at its prompt.
    session.notify("{ok}" + escape(session.text("board.lang_changed")) + "{/}\n")
    return True


VERBS = [Verb(("LANG",), lang_verb, "verb.lang")]

COMMANDS: list[Command] = [
    Command("account_profile", profile),
    Command("account_password", change_password),
    Command("account_licence", add_licence),
    Command("account_switch", switch_caller),
    Command("account_ssh_keys", ssh_keys),
]
