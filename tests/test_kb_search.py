"""The base in the database, on SQLite and PostgreSQL: loading, search, the checksum."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bbs.documents.text import MARK_CLOSE, MARK_OPEN
from bbs.kb.datafiles import read_kb
from bbs.kb.search import search_base, search_kb
from bbs.kb.store import CHECKSUM_KEY, get_article
from bbs.store.db import engine_scope, transaction
from bbs.store.load import load_dir
from bbs.store.snapshot import read_meta

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60


@pytest.fixture
async def kb_url(store_url: str) -> str:
    """The schema with the whole of data/ loaded (directory, library, Knowledge base)."""
    await asyncio.wait_for(load_dir(store_url, ROOT / "data"), WAIT)
    return store_url


async def refs(url: str, query: str) -> list[str]:
    hits = await asyncio.wait_for(search_base(url, query, limit=50), WAIT)
    return [h.reference for h in hits]


async def test_loading_twice_changes_nothing_and_keeps_every_article(kb_url: str) -> None:
    again = await asyncio.wait_for(load_dir(kb_url, ROOT / "data"), WAIT)
    assert not again.changed
    base = read_kb(ROOT / "data")
    async with engine_scope(kb_url) as engine, transaction(engine, write=False) as conn:
        for article in base.articles:
            assert await get_article(conn, article.number) == article


async def test_a_changed_article_is_updated_and_changes_the_checksum(
    kb_url: str, tmp_path: Path
) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    before = (await read_meta(kb_url))[CHECKSUM_KEY]
    path = data / "kb" / "KB-1001.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nUne ligne de plus.\n", encoding="utf-8")
    (data / "kb" / "KB-1044.txt").unlink()
    report = await asyncio.wait_for(load_dir(kb_url, data), WAIT)
    changes = report.tables["kb_article"]
    assert (changes.inserted, changes.updated, changes.deleted) == (0, 1, 1)
    assert (await read_meta(kb_url))[CHECKSUM_KEY] != before


async def test_search_finds_articles_and_library_notes_ranked(kb_url: str) -> None:
    found = await refs(kb_url, "memoire insuffisante")
    assert found[0] == "KB-1001"  # the title matches: it comes first
    assert {"KB-1001", "10112"} <= set(found)


async def test_accents_are_optional_and_every_word_is_required(kb_url: str) -> None:
    assert await refs(kb_url, "réplication conflit") == await refs(kb_url, "REPLICATION conflit")
    assert "KB-1030" in await refs(kb_url, "replication conflit")
    assert "KB-1029" not in await refs(kb_url, "replication conflit")
    assert await refs(kb_url, "replication zzzzintrouvable") == []


async def test_a_star_makes_a_prefix(kb_url: str) -> None:
    assert await refs(kb_url, "reclai") == []
    assert "KB-1025" in await refs(kb_url, "reclai*")


async def test_the_base_includes_knowledge_only_library_notes(kb_url: str) -> None:
    assert "20127" in await refs(kb_url, "KitType")


async def test_snippets_mark_the_words_found(kb_url: str) -> None:
    hits = await search_base(kb_url, "RECLAIM", limit=5)
    article = next(h for h in hits if h.reference == "KB-1025")
    assert f"{MARK_OPEN}RECLAIM{MARK_CLOSE}" in article.snippet


async def test_queries_that_are_not_words_find_nothing(kb_url: str) -> None:
    for query in ("", "*", "\"'", "--", "%"):
        assert await refs(kb_url, query) == []
    assert await refs(kb_url, "'RECLAIM' -- OR") == await refs(kb_url, "reclaim")
    assert await refs(kb_url, "-reclaim") == []


async def test_the_query_syntax_and_the_real_count(kb_url: str) -> None:
    # On SQLite and PostgreSQL alike (store_url runs both).
    assert set(await refs(kb_url, "ANALYZE RECLAIM")) == {"KB-1025", "30122"}
    assert await refs(kb_url, "ANALYZE RECLAIM -analyze") == []
    assert set(await refs(kb_url, "NSFDbOpen OR RECLAIM")) == {"KB-1042", "KB-1025", "30122"}
    everything = await refs(kb_url, "smartcenter")
    first = await asyncio.wait_for(search_kb(kb_url, "smartcenter", limit=2), WAIT)
    rest = await asyncio.wait_for(search_kb(kb_url, "smartcenter", offset=2, limit=50), WAIT)
    assert first.total == rest.total == len(everything) == 5  # 80110 in two languages
    assert [h.reference for h in first.hits + rest.hits] == everything


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ANALYZE RECLAIM", {"KB-1025", "30122"}),
        ("SmartCenter", {"KB-1023", "KB-1024", "80110", "80182"}),
        ("NSFDbOpen", {"KB-1042"}),
    ],
)
async def test_the_same_documents_on_both_backends(
    kb_url: str, query: str, expected: set[str]
) -> None:
    # store_url runs this on SQLite and on PostgreSQL: the same sets must come back.
    assert set(await refs(kb_url, query)) == expected
