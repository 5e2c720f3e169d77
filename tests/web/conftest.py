"""Fixtures for the web and FTP tests: one loaded database with accounts, and a board."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from bbs.accounts.names import name_key
from bbs.accounts.passwords import POOL
from bbs.board import Board
from bbs.config import Config
from bbs.store.db import make_engine, transaction
from bbs.store.schema import AccountRow, CompanyRow, ContractContactRow, ContractRow
from bbs.web.app import make_app
from tests.e2e.harness import ROOT, loaded_database

NOW = datetime(2020, 1, 1, tzinfo=UTC)
PASSWORD = "Lotus-1995!"


@dataclass(frozen=True)
class Person:
    """An account the tests sign in with."""

    id: int
    name: str
    role: str
    company_id: int | None


SUBSCRIBER = Person(1, "Abonne Web", "caller", 1)
"""A named contact of a current unlimited Premium contract: Knowledge base and incidents."""
PLAIN = Person(2, "Simple Web", "caller", None)
"""An account without any contract or licence."""
SPECIALIST = Person(3, "Expert Web", "specialist", None)


async def add_people(url: str) -> None:
    """The test accounts (real Argon2id hashes), a company and its current contract."""
    engine = make_engine(url)
    hashed = await POOL.hash(PASSWORD)
    async with transaction(engine, write=True) as conn:
        await conn.execute(insert(CompanyRow).values(id=1, name="Societe Web", name_key="sw"))
        for person in (SUBSCRIBER, PLAIN, SPECIALIST):
            await conn.execute(
                insert(AccountRow).values(
                    id=person.id,
                    name=person.name,
                    name_key=name_key(person.name),
                    password_hash=hashed,
                    role=person.role,
                    company_id=person.company_id,
                    country="FR",
                    lang="fr",
                    created_at=NOW,
                )
            )
        await conn.execute(
            insert(ContractRow).values(
                id=1,
                number="PP-WEB-1",
                company_id=1,
                family="wt",
                kind="unlimited",
                starts_on=date(2020, 1, 1),
                ends_on=date(2099, 12, 31),
                credits=None,
                kb_until=date(2099, 12, 31),
                created_at=NOW,
            )
        )
        await conn.execute(
            insert(ContractContactRow).values(contract_id=1, account_id=1, added_at=NOW)
        )
    await engine.dispose()


@pytest.fixture(scope="module")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the repository's data and the test accounts (one per module)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'bbs.db'}"

    async def prepare() -> None:
        await loaded_database(url)
        await add_people(url)

    asyncio.run(prepare())
    return url


def web_config(url: str, work: Path, **changes: object) -> Config:
    """Settings for a test board: the repository's menus and data, uploads under `work`."""
    config = replace(
        Config(),
        db=url,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        upload_dir=str(work / "uploads"),
        probe_timeout=0.3,
        shutdown_grace=0.2,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def board(web_db: str, tmp_path: Path) -> AsyncIterator[Board]:
    """A board on the test database (no telnet server)."""
    from bbs.board import read_board_directory

    config = web_config(web_db, tmp_path)
    engine = make_engine(web_db)
    built = Board.build(config, await read_board_directory(config), engine)
    try:
        yield built
    finally:
        await engine.dispose()


@pytest.fixture
async def client(board: Board) -> AsyncIterator[TestClient[object, object]]:
    """An HTTP client on the board's web site (a real socket on 127.0.0.1)."""
    server = TestServer(make_app(board), host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client
