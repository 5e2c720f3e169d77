"""Full-text search and browsing of the library, on SQLite (FTS5) and PostgreSQL (tsvector).

Title, body and keyword words are found, accents and case ignored, title matches
rank first, snippets mark the words, hostile queries find nothing and raise
nothing, filters filter.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.documents.query import Term, fts5_query, parse_query, tsquery
from bbs.documents.text import MARK_CLOSE, MARK_OPEN, search_text, snippet, to_markup, unmark
from bbs.library.model import Library
from bbs.library.search import (
    Hit,
    get_note,
    note_counts,
    note_languages,
    notes_by_category,
    notes_by_product,
    notes_since,
    search_library,
    search_notes,
)
from bbs.store.db import make_engine
from bbs.store.load import load_directory
from tests.store_data import sample_directory
from tests.test_library_datafiles import sample_library

WAIT = 60.0


@pytest.fixture
async def library(store_url: str, tmp_path: Path) -> Library:
    """The sample library, loaded into `store_url`."""
    loaded = sample_library(tmp_path)
    await asyncio.wait_for(load_directory(store_url, sample_directory(), loaded), WAIT)
    return loaded


@pytest.fixture
async def engine(store_url: str, library: Library) -> AsyncIterator[AsyncEngine]:
    """One engine over the loaded database, as the board would keep."""
    engine = make_engine(store_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def search(engine: AsyncEngine, query: str, **filters: Any) -> list[Hit]:
    return await asyncio.wait_for(search_notes(engine, query, **filters), WAIT)


async def found(engine: AsyncEngine, query: str, **filters: Any) -> list[tuple[int, str]]:
    return [(h.number, h.lang) for h in await search(engine, query, **filters)]


def marked(hit: Hit) -> list[str]:
    """The words a snippet marks."""
    return [part.split(MARK_CLOSE)[0] for part in hit.snippet.split(MARK_OPEN)[1:]]


# --- what is found -------------------------------------------------------------------


async def test_a_title_word(engine: AsyncEngine) -> None:
    hits = await search(engine, "interrompue")
    assert [(h.number, h.lang) for h in hits] == [(20001, "fr")]
    hit = hits[0]
    assert hit.title == "Lotus Notes : réplication interrompue entre deux serveurs"
    assert (hit.product, hit.category, hit.date) == ("notes", "bulletin", date(1995, 9, 2))
    # Not in the body nor the keywords: the snippet shows the title, word marked.
    assert marked(hit) == ["interrompue"]
    assert unmark(hit.snippet) == hit.title


async def test_a_body_word(engine: AsyncEngine) -> None:
    hits = await search(engine, "echange")
    assert [(h.number, h.lang) for h in hits] == [(12041, "fr")]
    assert marked(hits[0]) == ["échange", "échange"]
    assert "fichier d'\x02échange\x03" in hits[0].snippet


async def test_a_keyword(engine: AsyncEngine) -> None:
    hits = await search(engine, "wk4")
    assert sorted((h.number, h.lang) for h in hits) == [(12041, "en"), (12041, "fr")]
    for hit in hits:
        assert marked(hit) == ["WK4"]


async def test_accents_case_and_ligatures_do_not_matter(engine: AsyncEngine) -> None:
    for query in ("memoire", "MÉMOIRE", "Mémoire", "me\u0301moire"):
        hits = await search(engine, query)
        assert [(h.number, h.lang) for h in hits] == [(12041, "fr")], query
        assert "\x02Mémoire\x03" in hits[0].snippet
    assert await found(engine, "oeuvre") == [(40002, "fr")]
    assert await found(engine, "œuvre") == [(40002, "fr")]
    assert await found(engine, "replication") == [(20001, "fr")]


async def test_title_matches_rank_before_body_matches(engine: AsyncEngine) -> None:
    hits = await search(engine, "imprimante")
    assert [(h.number, h.lang) for h in hits] == [(10158, "fr"), (20001, "fr")]
    assert hits[0].rank > hits[1].rank
    assert marked(hits[1]) == ["imprimante"]
    assert all("imprimante" in unmark(h.snippet) for h in hits)


async def test_every_word_must_be_found(engine: AsyncEngine) -> None:
    assert await found(engine, "mémoire windows") == [(12041, "fr")]
    assert await found(engine, "memory windows") == [(12041, "en")]
    assert await found(engine, "mémoire laserjet") == []


async def test_a_final_star_makes_a_prefix(engine: AsyncEngine) -> None:
    assert await found(engine, "imprim") == []
    assert await found(engine, "imprim*") == [(10158, "fr"), (20001, "fr")]
    hits = await search(engine, "serv*")
    assert [(h.number, h.lang) for h in hits] == [(20001, "fr")]
    assert set(marked(hits[0])) == {"serveurs"}


async def test_numbers_and_product_names_are_words(engine: AsyncEngine) -> None:
    assert await found(engine, "1-2-3 swap file") == [(12041, "en")]
    assert await found(engine, "cc:Mail 2.2") == [(40002, "fr")]
    assert await found(engine, "386") == [(12041, "en"), (12041, "fr")]


# --- the query syntax, and counts ----------------------------------------------------


async def test_a_quoted_phrase_must_be_found_as_written(engine: AsyncEngine) -> None:
    assert await found(engine, '"mémoire insuffisante"') == [(12041, "fr")]
    assert await found(engine, "« Memoire insuffisante »") == [(12041, "fr")]
    assert await found(engine, '"insuffisante mémoire"') == []
    assert await found(engine, '"MÉMOIRE insuff"*') == [(12041, "fr")]
    # A word with punctuation inside is a phrase too.
    assert {n for n, _ in await found(engine, "1-2-3")} == {10158, 12041}
    assert await found(engine, "3-2-1") == []


async def test_a_minus_excludes(engine: AsyncEngine) -> None:
    assert await found(engine, "imprimante") == [(10158, "fr"), (20001, "fr")]
    assert await found(engine, "imprimante -laserjet") == [(20001, "fr")]
    assert await found(engine, 'imprimante -"réplication interrompue"') == [(10158, "fr")]
    # Exclusions alone find nothing.
    assert await found(engine, "-laserjet") == []


async def test_ou_and_or_accept_either(engine: AsyncEngine) -> None:
    either = [(10158, "fr"), (20001, "fr")]
    assert sorted(await found(engine, "laserjet OU réplication")) == either
    assert sorted(await found(engine, "laserjet OR replication")) == either
    assert sorted(await found(engine, "imprimante laserjet OR interrompue")) == either
    # Lower case is a word to find, a dangling OR nothing at all.
    assert await found(engine, "laserjet ou replication") == []
    assert await found(engine, "laserjet OR") == [(10158, "fr")]


async def test_the_count_is_every_match_and_pages_follow(engine: AsyncEngine) -> None:
    page1 = await asyncio.wait_for(search_library(engine, "imprimante", limit=1), WAIT)
    page2 = await asyncio.wait_for(search_library(engine, "imprimante", offset=1, limit=1), WAIT)
    assert (page1.total, page2.total) == (2, 2)
    assert [h.number for h in page1.hits + page2.hits] == [10158, 20001]
    assert (await search_library(engine, "imprimante", offset=2)).hits == ()
    assert (await search_library(engine, "imprimante", public=True)).total == 1
    assert (await search_library(engine, "-imprimante")).total == 0


# --- hostile and empty queries -------------------------------------------------------

HOSTILE = [
    '"foo" OR * -- \'',
    "'; DROP TABLE library_note; --",
    "' OR 1=1 --",
    "%",
    "_",
    "%memoire%",
    "*",
    "**",
    '"',
    "NEAR(memoire windows)",
    "memoire AND",
    "OR",
    "NOT memoire",
    "-memoire",
    "title:memoire",
    "^memoire",
    "{title}: memoire",
    "memoire OR laserjet",
    "a & b | !c <-> d",
    "'memoire':*",
    "\\",
    "\x00memoire",
    "x" * 5000,
    " ".join(["memoire"] * 200),
    "(((",
    "memoire*windows*",
    "\u202emoire",
]


async def test_hostile_queries_raise_nothing(engine: AsyncEngine) -> None:
    for query in HOSTILE:
        hits = await search(engine, query)
        assert all(isinstance(h, Hit) for h in hits), query
    # The words still count: quotes and operators are just separators.
    assert await found(engine, '"memoire"') == [(12041, "fr")]
    assert await found(engine, "%memoire%") == [(12041, "fr")]
    assert await found(engine, "'; memoire --") == [(12041, "fr")]
    # And the table is still there.
    assert await found(engine, "memoire") == [(12041, "fr")]


async def test_random_queries_raise_nothing(engine: AsyncEngine) -> None:
    alphabet = "ab é\"'*-%_:^(){}[]\\;|&!<>~.,+=@#$?/\t\n\x00œ²ǅⅫ〇ª·ʼﬁ𝟙ßİ中\u0301\u200b"
    rng = random.Random(1995)
    for _ in range(150):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        await search(engine, query)


async def test_a_query_without_words_finds_nothing(engine: AsyncEngine) -> None:
    for query in ("", "   ", "*", "-- '", '""', "…", "«»"):
        assert await search(engine, query) == [], query


# --- filters and limits --------------------------------------------------------------


async def test_filters(engine: AsyncEngine) -> None:
    assert await found(engine, "wk4", lang="en") == [(12041, "en")]
    assert await found(engine, "wk4", lang="fr") == [(12041, "fr")]
    assert await found(engine, "imprimante", product="123-dos") == [(10158, "fr")]
    assert await found(engine, "imprimante", product="notes") == [(20001, "fr")]
    assert await found(engine, "imprimante", category="bulletin") == [(20001, "fr")]
    assert await found(engine, "imprimante", category="faq") == []
    assert await found(engine, "imprimante", public=True) == [(10158, "fr")]
    assert await found(engine, "imprimante", public=False) == [(20001, "fr")]
    assert await found(engine, "imprimante", product="no-such") == []


async def test_limit(engine: AsyncEngine) -> None:
    assert await found(engine, "imprimante", limit=1) == [(10158, "fr")]
    assert await found(engine, "imprimante", limit=0) == []


async def test_a_url_works_as_well_as_an_engine(store_url: str, library: Library) -> None:
    hits = await asyncio.wait_for(search_notes(store_url, "laserjet"), WAIT)
    assert [(h.number, h.lang) for h in hits] == [(10158, "fr")]


# --- browsing ------------------------------------------------------------------------


async def test_notes_by_product_and_category(engine: AsyncEngine) -> None:
    by_product = await notes_by_product(engine, "123-win")
    assert [(n.number, n.lang) for n in by_product] == [(12041, "en"), (12041, "fr")]
    assert await notes_by_product(engine, "123-win", lang="fr") == by_product[1:]
    assert await notes_by_product(engine, "123-win", category="maj") == []
    drivers = await notes_by_category(engine, "pilote")
    assert [(n.number, n.file, n.public) for n in drivers] == [(10158, "lj4drv.zip", True)]
    assert await notes_by_category(engine, "bulletin", public=True) == []
    assert await notes_by_product(engine, "approach") == []


async def test_notes_since_a_day_newest_first(engine: AsyncEngine) -> None:
    since = await notes_since(engine, date(1995, 9, 2))
    assert [(n.number, n.date) for n in since] == [
        (40002, date(1996, 2, 1)),
        (20001, date(1995, 9, 2)),
    ]
    assert await notes_since(engine, datetime(1995, 9, 2, 23, 59)) == since
    assert await notes_since(engine, date(1995, 9, 3)) == since[:1]
    assert await notes_since(engine, date(1996, 12, 31)) == []
    everything = await notes_since(engine, date(1990, 1, 1))
    assert len(everything) == 6
    assert [n.date for n in everything] == sorted((n.date for n in everything), reverse=True)
    assert len(await notes_since(engine, date(1990, 1, 1), limit=2)) == 2
    assert [n.number for n in await notes_since(engine, date(1990, 1, 1), lang="en")] == [
        12041,
        30010,
    ]


async def test_get_note_and_its_languages(engine: AsyncEngine, library: Library) -> None:
    assert await get_note(engine, 12041, "fr") == library.note(12041, "fr")
    assert await get_note(engine, 30010, "en") == library.note(30010, "en")
    assert await get_note(engine, 30010, "fr") is None
    assert await get_note(engine, 99999, "fr") is None
    assert await note_languages(engine, 12041) == ["fr", "en"]
    assert await note_languages(engine, 30010) == ["en"]
    assert await note_languages(engine, 99999) == []


async def test_note_counts(engine: AsyncEngine) -> None:
    assert await note_counts(engine) == {
        ("123-win", "faq"): 2,
        ("123-dos", "pilote"): 1,
        ("notes", "bulletin"): 1,
        ("amipro", "modele"): 1,
        ("ccmail", "maj"): 1,
    }
    assert await note_counts(engine, lang="en", public=True) == {
        ("123-win", "faq"): 1,
        ("amipro", "modele"): 1,
    }


# --- the pure parts ------------------------------------------------------------------


def test_parse_query_gives_the_words_to_mark() -> None:
    assert parse_query("").terms == ()
    assert parse_query("Mémoire  insuffisante").terms == (Term("memoire"), Term("insuffisante"))
    assert parse_query("imprim* x*").terms == (Term("imprim", prefix=True), Term("x"))
    assert parse_query("l'ouverture, WK4!").terms == (Term("l"), Term("ouverture"), Term("wk4"))
    assert parse_query("a a A").terms == (Term("a"),)
    assert parse_query('"foo" OR * -- \'').terms == (Term("foo"),)
    assert len(parse_query(" ".join(f"w{i}" for i in range(50))).terms) == 12
    assert parse_query("x" * 100).terms == (Term("x" * 64, prefix=True),)
    # Excluded words are not marked.
    assert parse_query("memoire -windows").terms == (Term("memoire"),)


def test_engine_queries_quote_every_term() -> None:
    query = parse_query("or near imprim*")
    assert fts5_query(query) == '(("or") AND ("near") AND ("imprim"*))'
    assert tsquery(query) == "(('or')) & (('near')) & (('imprim':*))"
    assert search_text("« Mémoire insuffisante » (WK4), cc:Mail") == (
        "memoire insuffisante wk4 cc mail"
    )


def test_snippet_windows_on_the_matches() -> None:
    body = "Début. " + "remplissage " * 40 + "ici la mémoire manque " + "fin " * 40
    text = snippet(body, parse_query("memoire").terms, width=60)
    assert text.startswith("…") and text.endswith("…")
    assert "\x02mémoire\x03" in text
    assert len(unmark(text)) <= 64
    # The window prefers the place where most query words meet.
    body = "chat " + "x " * 100 + "chien " + "y " * 100 + "chat et chien ensemble " + "z " * 50
    text = snippet(body, parse_query("chat chien").terms, width=40)
    assert "\x02chat\x03 et \x02chien\x03 ensemble" in text
    # Nothing matched anywhere: the beginning of the body.
    assert snippet("Un deux trois.\nQuatre.", parse_query("zzz").terms) == "Un deux trois. Quatre."


def test_to_markup_escapes_and_emphasises() -> None:
    assert to_markup("a {b} \x02Mémoire\x03 c") == "a {{b}} {em}Mémoire{/} c"
    assert unmark("\x02x\x03", "[", "]") == "[x]"


@settings(max_examples=300, deadline=None)
@given(
    body=st.text(alphabet="ab cdé.\n-'œ", max_size=400),
    query=st.text(alphabet="abcé *", max_size=12),
    width=st.integers(min_value=0, max_value=120),
)
def test_snippets_fit_their_width_and_mark_only_matches(body: str, query: str, width: int) -> None:
    terms = parse_query(query).terms
    text = snippet(body, terms, keywords=("ab", "cd"), title="Titre é", width=width)
    assert len(unmark(text)) <= max(width, 20)
    assert "\n" not in text
    for part in text.split(MARK_OPEN)[1:]:
        word = part.split(MARK_CLOSE)[0]
        assert any(t.matches(w) for t in terms for w in search_text(word).split()), word
