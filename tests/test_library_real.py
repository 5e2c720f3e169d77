"""The real data/library folder: it reads, loads with the directory, reads back equal, a
second load changes nothing, and searches over it find what a caller would look for.

(What the notes say is `tests/test_library_content.py`'s business.)
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from bbs.directory.text import fold
from bbs.documents.text import unmark
from bbs.library.datafiles import read_library
from bbs.library.model import NOTE_LANGS, Library
from bbs.library.search import get_note, search_notes
from bbs.store.load import load_dir
from bbs.store.snapshot import read_library as read_stored
from tests.test_library_store import check_index

WAIT = 120.0
DATA = Path(__file__).resolve().parents[1] / "data"

MIN_NOTES = 60


@pytest.fixture(scope="module")
def library() -> Library:
    return read_library(DATA)


def test_the_real_library_reads(library: Library) -> None:
    assert len(library.notes) >= MIN_NOTES
    assert {n.lang for n in library.notes} == set(NOTE_LANGS)
    assert {n.file for n in library.notes if n.file} == {f.name for f in library.files}
    for file in library.files:
        content = (DATA / "files" / file.name).read_bytes()
        assert (file.size, file.sha256) == (len(content), hashlib.sha256(content).hexdigest())


async def test_the_real_library_loads_reads_back_and_is_searchable(
    store_url: str, library: Library
) -> None:
    report = await asyncio.wait_for(load_dir(store_url, DATA), WAIT)
    assert report.tables["library_note"].inserted == len(library.notes)
    assert await asyncio.wait_for(read_stored(store_url), WAIT) == library
    again = await asyncio.wait_for(load_dir(store_url, DATA), WAIT)
    assert not again.changed, again.summary()
    await check_index(store_url)

    hits = await asyncio.wait_for(search_notes(store_url, "imprimante"), WAIT)
    assert hits
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
    for hit in hits:
        assert hit.lang == "fr"
        note = await asyncio.wait_for(get_note(store_url, hit.number, hit.lang), WAIT)
        assert note == library.note(hit.number, hit.lang)
        assert "imprimante" in fold(unmark(hit.snippet))
    # Accents: the folded spelling finds the same notes as the accented one.
    accented = await asyncio.wait_for(search_notes(store_url, "mémoire", limit=100), WAIT)
    folded = await asyncio.wait_for(search_notes(store_url, "MEMOIRE", limit=100), WAIT)
    assert accented and [h.number for h in accented] == [h.number for h in folded]
    english = await asyncio.wait_for(search_notes(store_url, "printer", lang="en"), WAIT)
    assert english and all(h.lang == "en" for h in english)
