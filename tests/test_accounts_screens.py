"""Sign-in and registration as a caller types them, over a fake line, on both databases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts import auth, store
from bbs.accounts.names import name_key
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.session.link import Negotiated
from bbs.store.db import make_engine, transaction
from tests.fakes import FakeLink
from tests.test_engine import Caller

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Tr0ub4dor&3-lotus"


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


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The sign-in clock, moved by tests instead of sleeping."""
    now = [datetime.now(UTC)]
    monkeypatch.setattr(auth, "clock", lambda: now[0])
    return now


Connect = Callable[[], "asyncio.Future[tuple[Caller, asyncio.Task[None]]]"]


async def connect(board: Board) -> tuple[Caller, FakeLink, asyncio.Task[None]]:
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=200, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    await who.expect("Appuyez sur Entree")
    who.type("\r")
    await who.expect("Votre nom :")
    return who, link, task


async def hang_up(link: FakeLink, task: asyncio.Task[None]) -> None:
    link.close()
    await asyncio.wait_for(task, 5)


async def register(who: Caller, name: str = "Jean Dupont") -> None:
    who.type("NOUVEAU\r")
    await who.expect("Nom choisi")
    who.type(f"{name}\r")
    await who.expect("Mot de passe (8")
    who.type(f"{PASSWORD}\r")
    await who.expect("Retapez")
    who.type(f"{PASSWORD}\r")
    await who.expect("Societe :")
    who.type("ACME SA\r")
    await who.expect("Pays")
    who.type("belgique\r")
    await who.expect("Langue")
    who.type("fr\r")
    await who.expect("licence de produit maintenant")


async def test_guest_entry_reaches_the_index_as_a_guest(
    board: Board, clock: list[datetime]
) -> None:
    who, link, task = await connect(board)
    try:
        who.type("INVITE\r")
        screen = await who.expect("Votre choix")
        assert "invite" in screen and "services gratuits" in screen
    finally:
        await hang_up(link, task)


async def test_register_with_a_licence_then_sign_in_again(
    board: Board, clock: list[datetime], caplog: pytest.LogCaptureFixture
) -> None:
    assert board.db is not None
    with caplog.at_level(logging.DEBUG):
        who, link, task = await connect(board)
        try:
            await register(who)
            who.type("O\r")
            await who.expect("Produit (numero")
            who.type("notes\r")
            await who.expect("Numero de licence")
            who.type("ab12 3456\r")
            await who.expect("Date d'achat")
            who.type("31/02/1995\r")
            await who.expect("Date non valable")
            bought = clock[0].date() - timedelta(days=10)
            who.type(f"{bought:%d/%m/%Y}\r")
            done = await who.expect("Votre choix")
            assert "Licence enregistree" in done and "AB123456" in done
            assert "Assistance gratuite jusqu'au" in done
            assert "premiere visite" in done
        finally:
            await hang_up(link, task)
        output = who.transcript
        assert PASSWORD not in output and "*" * len(PASSWORD) in output
        async with transaction(board.db, write=False) as conn:
            account = await store.find_account(conn, name_key("Jean Dupont"))
            assert account is not None
            assert account.company == "ACME SA" and account.country == "BE"
            assert account.role == "caller" and account.lang == "fr"
            assert account.password_hash.startswith("$argon2id$")
            licences = await store.licences_of(conn, account.id)
        assert [(r.product, r.licence_number, r.family) for r in licences] == [
            ("notes", "AB123456", "notes")
        ]

        clock[0] += timedelta(days=1)
        who, link, task = await connect(board)
        try:
            who.type("jean dupont\r")
            await who.expect("Mot de passe :")
            who.type(f"{PASSWORD}\r")
            screen = await who.expect("Votre choix")
            assert "Bonjour Jean Dupont" in screen and "Derniere visite" in screen
        finally:
            await hang_up(link, task)
        assert PASSWORD not in who.transcript
    for record in caplog.records:
        assert PASSWORD not in record.getMessage() + repr(record.args)


async def test_a_licence_is_one_holders(board: Board, clock: list[datetime]) -> None:
    assert board.db is not None
    async with transaction(board.db, write=True, store_lock=False) as conn:
        other = await store.create_account(
            conn, name="Anne", key="anne", password_hash="x", role="caller",
            company="", country="FR", lang="fr", now=clock[0],
        )  # fmt: skip
        await store.add_licence(
            conn, other, product="notes", family="notes", number="NOTES-0001",
            purchased_on=clock[0].date(), now=clock[0],
        )  # fmt: skip
    who, link, task = await connect(board)
    try:
        await register(who, "Paul Martin")
        who.type("O\r")
        await who.expect("Produit (numero")
        who.type("notes\r")
        await who.expect("Numero de licence")
        who.type("notes-0001\r")
        refused = await who.expect("Numero de licence")
        assert "deja enregistree au nom d'un autre utilisateur" in refused
        who.type("\r")
        await who.expect("Numero de licence")
        who.type("x\r")
        await who.expect("Trois essais sans succes")
    finally:
        await hang_up(link, task)


async def test_registration_refuses_impostors_and_taken_names(
    board: Board, clock: list[datetime]
) -> None:
    assert board.db is not None
    async with transaction(board.db, write=True, store_lock=False) as conn:
        await store.create_account(
            conn, name="Jean Dupont", key=name_key("Jean Dupont"), password_hash="x",
            role="caller", company="", country="FR", lang="fr", now=clock[0],
        )  # fmt: skip
    who, link, task = await connect(board)
    try:
        who.type("NOUVEAU\r")
        await who.expect("Nom choisi")
        who.type("SYS-0P\r")
        assert "reserve" in await who.expect("Nom choisi")
        who.type("jean-dupont\r")
        assert "deja pris" in await who.expect("Nom choisi")
        who.type("ab\r")
        assert "de 3 a 30 caracteres" in await who.expect("Trois essais sans succes")
        await asyncio.wait_for(task, 5)
    finally:
        await hang_up(link, task)


async def test_wrong_and_unknown_get_one_message_then_a_wait_and_a_polite_hang_up(
    board: Board, clock: list[datetime]
) -> None:
    who, link, task = await connect(board)
    try:
        await register(who)
        who.type("N\r")
        await who.expect("Votre choix")
    finally:
        await hang_up(link, task)
    who, link, task = await connect(board)
    try:
        who.type("Nobody Known\r")
        await who.expect("Mot de passe :")
        who.type("wrong-password\r")
        unknown = await who.expect("Votre nom :")
        who.type("Jean Dupont\r")
        await who.expect("Mot de passe :")
        who.type("wrong-password\r")
        wrong = await who.expect("Votre nom :")
        assert "Nom ou mot de passe incorrect." in wrong
        assert unknown.split("\n")[-2:] == wrong.split("\n")[-2:]
        who.type("Jean Dupont\r")  # no time has passed: the name must wait
        await who.expect("Mot de passe :")
        who.type(f"{PASSWORD}\r")
        assert "reessayez dans 1 secondes" in await who.expect("Trois essais sans succes")
        await asyncio.wait_for(task, 5)
        assert link.closed
    finally:
        await hang_up(link, task)


async def test_without_a_database_everyone_is_a_guest(directory: object) -> None:
    config = replace(
        Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"), probe_timeout=0.1
    )
    board = Board.build(config, directory)  # type: ignore[arg-type]
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=200, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    try:
        await who.expect("Appuyez sur Entree")
        who.type("\r")
        assert "indisponibles" in await who.expect("Votre choix")
    finally:
        await hang_up(link, task)


async def test_account_menu_changes_the_password(board: Board, clock: list[datetime]) -> None:
    who, link, task = await connect(board)
    try:
        await register(who)
        who.type("N\r")
        await who.expect("Votre choix")
        who.type("GO COMPTE\r")
        menu = await who.expect("Votre choix")
        assert "Changer de mot de passe" in menu
        who.type("M\r")
        await who.expect("Mot de passe actuel")
        who.type(f"{PASSWORD}\r")
        await who.expect("Mot de passe (8")
        who.type("short\r")
        await who.expect("Trop court")
        who.type("N3w-password-ok\r")
        await who.expect("Retapez")
        who.type("N3w-password-ok\r")
        await who.expect("Mot de passe change")
    finally:
        await hang_up(link, task)
    assert board.db is not None
    async with transaction(board.db, write=False) as conn:
        account = await store.find_account(conn, name_key("Jean Dupont"))
    assert account is not None
    attempt = await auth.authenticate(
        board.db, "Jean Dupont", "N3w-password-ok", peer="test", now=clock[0]
    )
    assert attempt.outcome is auth.Outcome.OK


def _engine_of(board: Board) -> AsyncEngine:
    assert board.db is not None
    return board.db
