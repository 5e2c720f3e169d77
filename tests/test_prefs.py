"""Issue 10, symptom 8: the language is chosen at the door and at the name prompt, and a
caller's language, hotkeys and terminal settings are kept with their account; the
profile edits language, company, country and password. Fake line, both databases."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select, update

from bbs.accounts import auth, store
from bbs.accounts.model import Prefs
from bbs.accounts.names import name_key
from bbs.accounts.prefs import load_prefs
from bbs.board import Board
from bbs.services.account import lang_asked
from bbs.session.link import Negotiated
from bbs.store.db import transaction
from tests.fakes import FakeLink
from tests.test_accounts_screens import (  # noqa: F401  (fixtures)
    PASSWORD,
    board,
    clock,
    connect,
    directory,
    hang_up,
    register,
)
from tests.test_engine import Caller


async def _account(of: Board) -> store.Account:
    assert of.db is not None
    async with transaction(of.db, write=False) as conn:
        account = await store.find_account(conn, name_key("Jean Dupont"))
    assert account is not None
    return account


async def _sign_in(who: Caller, prompt: str) -> str:
    who.type("jean dupont\r")
    await who.expect("Mot de passe :")
    who.type(f"{PASSWORD}\r")
    return await who.expect(prompt)


def test_what_a_line_at_the_name_prompt_asks_for() -> None:
    assert lang_asked("E") == "en" and lang_asked("d") == "de" and lang_asked(" F ") == "fr"
    assert lang_asked("LANG en") == "en" and lang_asked("/lang Deutsch") == "de"
    assert lang_asked("LANG") == ""
    assert lang_asked("Lang Michel") is None and lang_asked("Jean Dupont") is None
    assert lang_asked("Ed") is None


async def connect_at_door(on: Board) -> tuple[Caller, FakeLink, asyncio.Task[None]]:
    """A caller on the welcome screen, before its pause is answered."""
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=200, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(on.handle(link))
    who = Caller(link)
    door = await who.expect("Appuyez sur Entree")
    assert "F Francais   E English   D Deutsch" in door
    return who, link, task


async def test_e_on_the_welcome_screen_speaks_english(
    board: Board,  # noqa: F811
    clock: list[datetime],  # noqa: F811
) -> None:
    """The welcome advertised "Français / English / Deutsch" but nothing there switched."""
    who, link, task = await connect_at_door(board)
    try:
        who.type("E")
        shown = await who.expect("Your name:")
        assert "The board now speaks English" in shown and "Votre nom" not in shown
    finally:
        await hang_up(link, task)


async def test_a_name_typed_at_the_welcome_screen_is_not_a_language(
    board: Board,  # noqa: F811
    clock: list[datetime],  # noqa: F811
) -> None:
    who, link, task = await connect_at_door(board)
    try:
        who.type("Eric\r")
        shown = await who.expect("Mot de passe :")
        assert "Eric" in shown and "speaks English" not in shown
    finally:
        await hang_up(link, task)


async def test_lang_at_the_name_prompt_is_not_a_failed_sign_in(
    board: Board,  # noqa: F811
    clock: list[datetime],  # noqa: F811
) -> None:
    """`LANG en` at "Votre nom" was taken as the name 'langen' and logged as a failure."""
    assert board.db is not None
    who, link, task = await connect(board)
    try:
        who.type("LANG en\r")
        shown = await who.expect("Your name:")
        assert "The board now speaks English" in shown and "Mot de passe" not in shown
        who.type("D\r")
        await who.expect("Ihr Name:")
        who.type("LANG\r")
        await who.expect("LANG fr")
        who.type("GAST\r")
        await who.expect("Ihre Wahl")
    finally:
        await hang_up(link, task)
    async with transaction(board.db, write=False) as conn:
        failures = await conn.scalar(select(func.count()).select_from(store.THROTTLE))
    assert failures == 0


async def test_language_hotkeys_and_screen_size_come_back_at_sign_in(
    board: Board,  # noqa: F811
    clock: list[datetime],  # noqa: F811
) -> None:
    who, link, task = await connect(board)
    try:
        await register(who)
        who.type("N\r")
        await who.expect("Votre choix")
        who.type("LANG de\r")
        await who.expect("Ihre Wahl")
        who.type("GO TERMINAL\r")
        await who.expect("Ihre Wahl")
        who.type("6\r")
        await who.expect("Ihre Wahl")
        who.type("3\r")
        await who.expect("x")
        who.type("100x50\r")
        screen = await who.expect("Ihre Wahl")
        assert "100 x 50" in screen
    finally:
        await hang_up(link, task)
    account = await _account(board)
    assert board.db is not None
    async with transaction(board.db, write=False) as conn:
        prefs = await load_prefs(conn, account.id)
    assert prefs == Prefs(lang="de", hotkeys=True, cols=100, rows=50)

    who, link, task = await connect(board)
    try:
        screen = await _sign_in(who, "Ihre Wahl")
        assert "Hilfeindex" in screen
        who.type("/GO TERMINAL\r")
        settings = await who.expect("Ihre Wahl")
        assert "100 x 50" in settings
        hotkeys = next(line for line in settings.splitlines() if "Direkttasten" in line)
        assert "ein" in hotkeys
    finally:
        await hang_up(link, task)


async def test_the_profile_edits_language_company_and_country_not_membership(
    board: Board,  # noqa: F811
    clock: list[datetime],  # noqa: F811
) -> None:
    who, link, task = await connect(board)
    try:
        await register(who)
        who.type("N\r")
        await who.expect("Votre choix")
    finally:
        await hang_up(link, task)
    account = await _account(board)
    assert board.db is not None
    async with transaction(board.db, write=True, store_lock=False) as conn:
        member_of = await store.company_id_for(conn, "Lotus France")
        await conn.execute(
            update(store.ACCOUNT)
            .where(store.ACCOUNT.c.id == account.id)
            .values(company_id=member_of)
        )

    who, link, task = await connect(board)
    try:
        await _sign_in(who, "Votre choix")
        who.type("GO COMPTE\r")
        await who.expect("Votre choix")
        who.type("P\r")
        screen = await who.expect("Entree : retour) :")
        assert "Changer de societe" in screen and "Changer de pays" in screen
        who.type("2\r")
        await who.expect("Societe :")
        who.type("Dupont et Fils\r")
        assert "Profil mis a jour" in await who.expect("Entree : retour) :")
        who.type("3\r")
        await who.expect("Pays")
        who.type("pays imaginaire\r")
        await who.expect("Pays")
        who.type("suisse\r")
        await who.expect("Entree : retour) :")
        who.type("1\r")
        await who.expect("Langue")
        who.type("en\r")
        screen = await who.expect("Enter: back):")
        assert "Profile updated" in screen and "Language: en" in screen
        who.type("\r")
        await who.expect("Your choice")
    finally:
        await hang_up(link, task)
    after = await _account(board)
    assert after.lang == "en" and after.country == "CH"
    # Membership is granted elsewhere: the company the caller types is only shown.
    assert after.company_id == member_of
    async with transaction(board.db, write=False) as conn:
        typed = await conn.scalar(
            select(store.ACCOUNT.c.company_name).where(store.ACCOUNT.c.id == account.id)
        )
    assert typed == "Dupont et Fils"
    attempt = await auth.authenticate(board.db, "Jean Dupont", PASSWORD, peer="t", now=clock[0])
    assert attempt.outcome is auth.Outcome.OK
