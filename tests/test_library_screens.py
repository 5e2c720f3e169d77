"""The library as a caller uses it over a fake line: browse, search, read page by page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bbs.board import Board
from bbs.config import Config
from bbs.directory.datafiles import read_data_dir
from bbs.session.link import Negotiated
from bbs.store.db import make_engine
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.fakes import FakeLink
from tests.test_engine import Caller

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('lib') / 'bbs.db'}"

    async def prepare() -> None:
        await upgrade(url)
        await load_dir(url, ROOT / "data")

    asyncio.run(prepare())
    return url


@pytest.fixture
async def caller(library_db: str) -> AsyncIterator[Caller]:
    config = replace(
        Config(), menus_dir=str(ROOT / "menus"), data_dir=str(ROOT / "data"), probe_timeout=0.1
    )
    engine = make_engine(library_db)
    board = Board.build(config, read_data_dir(ROOT / "data"), engine)
    link = FakeLink(
        Negotiated(terminal_types=("dumb",), rows=24, telnet=True, binary_out=True, echo=True)
    )
    task = asyncio.create_task(board.handle(link))
    who = Caller(link)
    await who.expect("Appuyez sur Entree")
    who.type("\r")
    await who.expect("Votre nom :")
    who.type("INVITE\r")
    await who.expect("Suite")
    who.type("q")
    await who.expect("Votre choix")
    try:
        yield who
    finally:
        link.close()
        await asyncio.wait_for(task, 5)
        await engine.dispose()


async def test_search_then_read_page_by_page(caller: Caller) -> None:
    caller.type("GO BIBLIO\r")
    await caller.expect("Votre choix")
    caller.type("4\r")
    await caller.expect("Chercher :")
    caller.type("memoire insuffisante\r")
    hits = await caller.expect("Document a lire")
    assert "10112" in hits and "Memoire insuffisante" in hits
    caller.type("10112\r")
    first = await caller.expect("Q : quitter")
    assert "Page 1/" in first and "Document 10112" in first
    caller.type(" ")
    second = await caller.expect("Q : quitter")
    assert "Page 2/" in second
    caller.type("B")
    assert "Page 1/" in await caller.expect("Q : quitter")
    caller.type("q")
    # Back to the list of hits, then Enter for another search.
    await caller.expect("Document a lire")
    caller.type("\r")
    await caller.expect("Chercher :")


async def test_find_a_word_inside_a_note(caller: Caller) -> None:
    caller.type("GO BIBLIO\r")
    await caller.expect("Votre choix")
    caller.type("4\r")
    await caller.expect("Chercher :")
    caller.type("memoire insuffisante\r")
    await caller.expect("Document a lire")
    caller.type("10112\r")
    await caller.expect("Q : quitter")
    caller.type("/")
    await caller.expect("/")
    caller.type("introuvablemot\r")
    await caller.expect("Mot introuvable.  Page 1/")
    caller.type("q")


async def test_a_search_counts_every_hit_and_pages_through_them(caller: Caller) -> None:
    caller.type("GO BIBLIO\r")
    await caller.expect("Votre choix")
    caller.type("4\r")
    await caller.expect("Chercher :")
    caller.type("1-2-3\r")
    # More than a page: the real count, and a next page (it silently stopped at 20).
    await caller.expect("33 documents, 1 a 20 affiches")
    await caller.expect("-- Suite")
    caller.type("q")
    assert "S : suite" in await caller.expect("Entree : revenir")
    caller.type("S\r")
    await caller.expect("33 documents, 21 a 33 affiches")
    await caller.expect("-- Suite")
    caller.type("q")
    assert "S : suite" not in await caller.expect("Entree : revenir")


async def test_words_at_document_a_lire_are_a_new_search(caller: Caller) -> None:
    caller.type("GO BIBLIO\r")
    await caller.expect("Votre choix")
    caller.type("4\r")
    await caller.expect("Chercher :")
    caller.type("1-2-3\r")
    await caller.expect("-- Suite")
    caller.type("q")
    await caller.expect("Document a lire")
    caller.type('"memoire insuffisante" -wk3\r')
    hits = await caller.expect("Document a lire")
    assert "n'est pas dans cette liste" not in hits
    assert "10112" not in hits and "Memoire insuffisante" in hits
    caller.type("\r")
    await caller.expect("Chercher :")


async def test_product_numbers_line_up_and_years_have_four_digits(caller: Caller) -> None:
    caller.type("GO LIBRARY\r")
    await caller.expect("Votre choix")
    caller.type("1\r")
    products = (await caller.expect("Produit (numero")).splitlines()
    one = next(line for line in products if "1-2-3 pour DOS" in line)
    ten = next(line for line in products if "SmartSuite" in line)
    # "10  SmartSuite" used to stick out one column to the right of " 1  1-2-3".
    assert one.index("1-2-3") == ten.index("SmartSuite"), (one, ten)
    caller.type("1\r")
    listing = await caller.expect("Document a lire")
    assert re.search(r" \d\d/\d\d/199\d ", listing), listing
    assert not re.search(r" \d\d/\d\d/\d\d ", listing)


async def test_words_at_a_browse_list_are_a_search(caller: Caller) -> None:
    caller.type("GO LIBRARY\r")
    await caller.expect("Votre choix")
    caller.type("1\r")
    await caller.expect("Produit (numero")
    caller.type("1\r")
    await caller.expect("Document a lire")
    caller.type("memoire OU imprimante\r")
    hits = await caller.expect(" affiches")
    assert "n'est pas dans cette liste" not in hits


async def test_browse_by_product_and_category(caller: Caller) -> None:
    caller.type("GO LIBRARY\r")
    await caller.expect("Votre choix")
    caller.type("1\r")
    await caller.expect("Produit (numero")
    caller.type("1\r")
    listing = await caller.expect("Document a lire")
    assert "1-2-3 pour DOS" in listing and "document(s)" in listing
    caller.type("99999\r")
    await caller.expect("Appuyez sur Entree")
    caller.type("\r")
    await caller.expect("Document a lire")
    caller.type("\r")
    await caller.expect("Produit (numero")
    caller.type("42\r")
    await caller.expect("Appuyez sur Entree")
    caller.type("\r")
    await caller.expect("Produit (numero")
    caller.type("\r")
    await caller.expect("Votre choix")


async def test_whats_new_refuses_a_bad_date(caller: Caller) -> None:
    caller.type("GO BIBLIO\r")
    await caller.expect("Votre choix")
    caller.type("3\r")
    await caller.expect("AAAA-MM-JJ")
    caller.type("hier\r")
    await caller.expect("Date non valable")
    caller.type("1996-01-01\r")
    await caller.expect("Document a lire")
