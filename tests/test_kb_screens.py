"""The base over a fake line: subscribers search and read; nobody else sees any of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

import bbs.board as board_module
from bbs.accounts.model import GUEST, Caller, Role
from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.directory.text import fold
from bbs.kb.datafiles import read_kb
from bbs.library.datafiles import read_library
from bbs.session.link import Negotiated
from bbs.store.db import make_engine, transaction
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from bbs.store.schema import AccountRow, CompanyRow, ContractContactRow, ContractRow
from tests.fakes import FakeLink
from tests.test_engine import Caller as Line

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 1, 1, tzinfo=UTC)

SUBSCRIBER = Caller(account_id=1, name="Abonne", role=Role.CALLER, company_id=1)
EXPIRED = Caller(account_id=2, name="Echu", role=Role.CONTACT, company_id=2)
PLAIN = Caller(account_id=3, name="Sans", role=Role.CALLER)


@pytest.fixture(scope="module")
def kb_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'bbs.db'}"

    async def prepare() -> None:
        await upgrade(url)
        await load_dir(url, ROOT / "data")
        engine = make_engine(url)
        async with transaction(engine, write=True) as conn:
            for cid in (1, 2):
                await conn.execute(
                    insert(CompanyRow).values(id=cid, name=f"Societe {cid}", name_key=f"s{cid}")
                )
            for caller in (SUBSCRIBER, EXPIRED, PLAIN):
                await conn.execute(
                    insert(AccountRow).values(
                        id=caller.account_id,
                        name=caller.name,
                        name_key=caller.name.lower(),
                        password_hash="x",
                        role="caller",
                        company_id=caller.company_id,
                        country="FR",
                        lang="fr",
                        created_at=NOW,
                    )
                )
            terms = [
                # A Knowledge subscription of company 1, current.
                (1, 1, "knowledge", date(2020, 1, 1), date(2099, 12, 31)),
                # A Premium contract of company 2 that ended: its contact is out.
                (2, 2, "unlimited", date(2020, 1, 1), date(2021, 1, 1)),
            ]
            for cid, company, kind, start, end in terms:
                await conn.execute(
                    insert(ContractRow).values(
                        id=cid,
                        number=f"C{cid}",
                        company_id=company,
                        family="wt",
                        kind=kind,
                        starts_on=start,
                        ends_on=end,
                        credits=None,
                        kb_until=end,
                        created_at=NOW,
                    )
                )
            await conn.execute(
                insert(ContractContactRow).values(contract_id=2, account_id=2, added_at=NOW)
            )
        await engine.dispose()

    asyncio.run(prepare())
    return url


@pytest.fixture
async def connect(
    kb_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[[Caller], object]]:
    """Connect as a given caller (sign-in is the accounts area's: it is bypassed here)."""
    config = replace(
        Config(),
        menus_dir=str(ROOT / "menus"),
        data_dir=str(ROOT / "data"),
        upload_dir=str(tmp_path / "uploads"),
        probe_timeout=0.1,
    )
    engine = make_engine(kb_db)
    board = Board.build(config, read_data_dir(ROOT / "data"), engine)
    tasks: list[asyncio.Task[None]] = []
    links: list[FakeLink] = []
    who: dict[str, Caller] = {}

    async def sign_in(session: object, board: object) -> Caller:
        return who["caller"]

    async def nothing(session: object, board: object) -> None:
        return None

    monkeypatch.setattr(board_module, "sign_in", sign_in)
    monkeypatch.setattr(board_module, "after_sign_in", nothing)

    async def start(caller: Caller) -> Line:
        who["caller"] = caller
        link = FakeLink(
            Negotiated(
                terminal_types=("dumb",), cols=80, rows=200, telnet=True, binary_out=True, echo=True
            )
        )
        links.append(link)
        tasks.append(asyncio.create_task(board.handle(link)))
        line = Line(link)
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        await line.expect("Votre choix")
        return line

    try:
        yield start
    finally:
        for link in links:
            link.close()
        for task in tasks:
            await asyncio.wait_for(task, 5)
        await engine.dispose()


def secrets_of_the_base() -> list[str]:
    """Text only the base shows: article titles and lines, Knowledge-only notes."""
    out: list[str] = []
    for article in read_kb(ROOT / "data").articles:
        out.append(article.title[:40])
        out += [line.strip()[:40] for line in article.body.splitlines() if len(line) > 50][:3]
    for note in read_library(ROOT / "data").notes:
        if not note.public:
            out.append(note.title[:40])
            out += [line.strip()[:40] for line in note.body.splitlines() if len(line) > 50][:3]
    return [fold(s) for s in out]


@pytest.mark.parametrize("caller", [GUEST, PLAIN, EXPIRED], ids=["guest", "plain", "expired"])
async def test_no_text_of_the_base_reaches_a_non_subscriber(
    connect: Callable[[Caller], object], caller: Caller
) -> None:
    line: Line = await connect(caller)  # type: ignore[misc]
    line.type("GO KB\r")
    await line.expect("Votre choix")
    for key in ("C", "L", "D", "A"):
        line.type(f"{key}\r")
        refused = await line.expect("Appuyez sur Entree")
        assert "reservee a ses abonnes" in refused or key == "A"
        assert "1-800-GO-LOTUS" in refused  # how to subscribe: the seed's number
        line.type("\r")
        await line.expect("Votre choix")
    for typed in ("GO LKB", "KB-1001", "1001", "DL 20127 Z", "CAP 20127", "TAG 20127", "GO KB"):
        line.type(typed + "\r")
        await line.expect("Votre choix")
    seen = fold(line.transcript)
    leaks = [secret for secret in secrets_of_the_base() if secret in seen]
    assert leaks == []


async def test_a_subscriber_searches_and_reads_page_by_page(
    connect: Callable[[Caller], object],
) -> None:
    line: Line = await connect(SUBSCRIBER)  # type: ignore[misc]
    line.type("GO LKB\r")
    await line.expect("Votre choix")
    line.type("C\r")
    await line.expect("Chercher dans la base :")
    line.type("reclaim\r")
    hits = await line.expect("Document a lire")
    assert "KB-1025" in hits and "30122" in hits
    line.type("KB-1025\r")
    page = await line.expect("Q : quitter")
    assert "Lotus Knowledge KB-1025" in page and "RECLAIM chemin mot_de_passe" in page
    line.type("q")
    # Back at the hits: other words are a new search, not "no document".
    await line.expect("Document a lire")
    line.type("NSFDbOpen OR -reclaim\r")
    again = await line.expect("Document a lire")
    assert "KB-1042" in again and "KB-1025" not in again and "Aucun document" not in again
    assert "1 document\r\n" in again
    line.type("\r")
    await line.expect("Chercher dans la base :")
    line.type("\r")
    await line.expect("Votre choix")
    line.type("L\r")
    await line.expect("Numero du document")
    line.type("20127\r")
    note = await line.expect("Q : quitter")
    assert "NOTES.INI" in note
    line.type("q")
    await line.expect("Numero du document")
    line.type("KB-9999\r")
    await line.expect("Aucun document KB-9999 dans la base.")
    line.type("\r")
    await line.expect("Votre choix")
    line.type("A\r")
    standing = await line.expect("Appuyez sur Entree")
    assert "31/12/2099" in standing and "reservee" not in standing


async def test_the_cdrom_screen_offers_the_edition(connect: Callable[[Caller], object]) -> None:
    line: Line = await connect(SUBSCRIBER)  # type: ignore[misc]
    line.type("GO KB\r")
    await line.expect("Votre choix")
    line.type("D\r")
    offer = await line.expect("Protocole d'envoi")
    assert "LKB9511.ZIP" in offer and "LISEZMOI.TXT" in offer
    line.type("Q\r")
    await line.expect("Protocole inconnu")
