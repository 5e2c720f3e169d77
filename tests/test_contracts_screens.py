""" "Mon assistance" as callers see it over a fake line, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bbs.accounts.passwords import POOL
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.services import assistance
from bbs.session.link import Negotiated
from bbs.store.db import StoreError, make_engine
from bbs.support.entitlements import FREE_SUPPORT_DAYS, contract_ends, today_utc
from tests.fakes import FakeLink
from tests.test_engine import Caller
from tests.test_entitlements_rules import (
    add_account,
    add_company,
    add_contact,
    add_contract,
    add_licence,
    writing,
)

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Lotus-1-2-3-pour-DOS"


@pytest.fixture(scope="module")
def directory() -> object:
    return read_data_dir(ROOT / "data")


@pytest.fixture
async def board(store_url: str, directory: object) -> AsyncIterator[Board]:
    config = replace(
        Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"), probe_timeout=0.1
    )
    engine = make_engine(store_url)
    try:
        yield Board.build(config, directory, engine)  # type: ignore[arg-type]
    finally:
        await engine.dispose()


async def session(board: Board, name: str | None) -> tuple[Caller, FakeLink, asyncio.Task[None]]:
    """A caller on a dumb terminal signed in as `name` (None: a guest), at the index."""
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=200, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    await who.expect("Appuyez sur Entree")
    who.type("\r")
    await who.expect("Votre nom :")
    if name is None:
        who.type("INVITE\r")
    else:
        who.type(f"{name}\r")
        await who.expect("Mot de passe :")
        who.type(f"{PASSWORD}\r")
    await who.expect("Votre choix", timeout=15)
    return who, link, task


async def hang_up(link: FakeLink, task: asyncio.Task[None]) -> None:
    link.close()
    await asyncio.wait_for(task, 5)


def flat(screen: str) -> str:
    """The screen with line breaks and runs of spaces as one space (lines wrap)."""
    return " ".join(screen.split())


async def my_support(board: Board, name: str | None, go: str = "GO ASSISTANCE") -> str:
    who, link, task = await session(board, name)
    try:
        who.type(f"{go}\r")
        return flat(await who.expect("Votre choix"))
    finally:
        await hang_up(link, task)


async def test_guest_is_told_to_sign_in_and_what_the_services_are(board: Board) -> None:
    screen = await my_support(board, None)
    assert "identifiez-vous ou inscrivez-vous" in screen
    # The seed's own words for each service.
    assert "dont la duree est generalement de 60 jours" in screen
    assert "l'option limitee, qui permet a 5 Contacts nominatifs" in screen
    assert "un seul incident impliquant les produits de bureau Lotus" in screen
    assert "la formule la plus avancee d'assistance technique automatisee" in screen
    assert "Contrat" not in screen


async def test_contact_of_a_limited_contract_sees_days_credits_and_contacts(
    board: Board, store_url: str
) -> None:
    today = today_utc()
    start = today - timedelta(days=10)
    ends = contract_ends(start)
    hashed = await POOL.hash(PASSWORD)
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        marie = await add_account(conn, "Marie Durand", company_id=company, password_hash=hashed)
        paul = await add_account(conn, "Paul Durand", company_id=company)
        await add_licence(conn, marie, today - timedelta(days=3), product="amipro", number="AP-77")
        await add_licence(conn, marie, today - timedelta(days=FREE_SUPPORT_DAYS), number="L-1")
        await add_licence(
            conn, marie, today, product="notes", family="notes", via_passport=True, number="N-9"
        )
        limited = await add_contract(conn, company, "PP-95-00042", credits=7, starts_on=start)
        unlimited = await add_contract(
            conn, company, "PP-95-00043", kind="unlimited", family="wt", starts_on=start
        )
        expired = await add_contract(
            conn, company, "PP-93-00001", starts_on=start - timedelta(days=800)
        )
        for contract in (limited, unlimited, expired):
            await add_contact(conn, contract, marie)
        await add_contact(conn, limited, paul)
    screen = await my_support(board, "Marie Durand")
    left = (ends - today).days + 1
    assert "Droits a l'assistance de Marie Durand" in screen
    # Free support: days left, expired, Passport.
    assert "Ami Pro, licence AP-77" in screen
    assert f"{FREE_SUPPORT_DAYS - 3} jour(s) restant(s)" in screen
    assert "assistance gratuite expiree le" in screen
    assert "produit achete dans le cadre du programme Passport" in screen
    # Contracts: family, kind, end date, days left, credits, contacts used.
    assert "Contrat PP-95-00042 - Durand SA" in screen
    assert "Produits de bureau Lotus - Support Passport Premium, option limitee" in screen
    assert f"jusqu'au {ends:%d/%m/%Y} : {left} jour(s) restant(s)" in screen
    assert "Credit d'incidents : 7 restant(s)" in screen
    assert "Contacts nominatifs : 2/5" in screen
    assert "Working Together - Support Passport Premium, option illimitee" in screen
    assert "Credit d'incidents : illimite" in screen
    assert "Contacts nominatifs : 1 (nombre illimite)" in screen
    assert "PP-93-00001" in screen and "expire le" in screen
    # The Knowledge base, from the Premium contracts.
    assert f"Acces ouvert jusqu'au {ends:%d/%m/%Y}" in screen
    # Current contracts first.
    assert screen.index("PP-95-00042") < screen.index("PP-93-00001")


async def test_caller_without_rights_and_used_up_credit(board: Board, store_url: str) -> None:
    hashed = await POOL.hash(PASSWORD)
    async with writing(store_url) as conn:
        company = await add_company(conn, "Martin")
        luc = await add_account(conn, "Luc Martin", company_id=company, password_hash=hashed)
        await add_account(conn, "Anne Seule", password_hash=hashed)
        contract = await add_contract(
            conn, company, "PI-95-00001", kind="incident", credits=0, starts_on=today_utc()
        )
        await add_contact(conn, contract, luc)
    screen = await my_support(board, "Anne Seule")
    assert "Aucune licence enregistree" in screen
    assert "Vous n'etes Contact nominatif d'aucun contrat" in screen
    assert "Pas d'acces" in screen
    screen = await my_support(board, "Luc Martin")
    assert "Cout par incident de Lotus" in screen
    assert "Credit d'incidents epuise" in screen
    assert "Contacts nominatifs : 1/1" in screen
    assert "Pas d'acces" in screen


async def test_names_written_by_callers_are_filtered(board: Board, store_url: str) -> None:
    hashed = await POOL.hash(PASSWORD)
    async with writing(store_url) as conn:
        company = await add_company(conn, "Evil\x1b[2J{err}Corp")
        evil = await add_account(conn, "Eve Durand", company_id=company, password_hash=hashed)
        contract = await add_contract(conn, company, "PP-95-00001", kind="unlimited")
        await add_contact(conn, contract, evil)
        await add_licence(conn, evil, today_utc(), number="X\x1b]52;c;AAAA\x07Y")
    screen = await my_support(board, "Eve Durand")
    assert "\x1b" not in screen
    assert "Evil{err}Corp" in screen
    assert "licence XY" in screen


async def test_french_elides_before_a_name_with_a_vowel(board: Board, store_url: str) -> None:
    hashed = await POOL.hash(PASSWORD)
    async with writing(store_url) as conn:
        company = await add_company(conn, "Martin SARL")
        await add_account(conn, "Odile Martin", company_id=company, password_hash=hashed)
    screen = await my_support(board, "Odile Martin")
    assert "Droits a l'assistance d'Odile Martin" in screen
    assert "de Odile" not in screen


async def test_reached_from_the_passport_and_free_support_rubriques(board: Board) -> None:
    for place in ("PASSPORT", "GRATUITE"):
        who, link, task = await session(board, None)
        try:
            who.type(f"GO {place}\r")
            await who.expect("Votre choix")
            who.type("M\r")
            # The answer stays on the screen until a key: the menu is drawn after it.
            screen = await who.expect("Appuyez sur Entree")
            assert "identifiez-vous ou inscrivez-vous" in screen
            who.type("\r")
            await who.expect("Votre choix")
        finally:
            await hang_up(link, task)


async def test_store_trouble_is_one_line(
    board: Board, store_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hashed = await POOL.hash(PASSWORD)
    async with writing(store_url) as conn:
        await add_account(conn, "Marie Durand", password_hash=hashed)

    async def broken(*args: object) -> None:
        raise StoreError("database sqlite:///x: disk I/O error")

    monkeypatch.setattr(assistance, "support_summary", broken)
    screen = await my_support(board, "Marie Durand")
    assert "ne peuvent pas etre lus pour le moment" in screen
    assert "disk I/O" not in screen and "Traceback" not in screen
    assert "disk I/O error" in caplog.text
