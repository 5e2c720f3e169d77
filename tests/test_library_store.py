"""The library in the database, on SQLite and PostgreSQL: loaded by `bbs load` in the
directory's transaction, read back equal, diffed by natural keys, atomic, migrated."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from bbs.directory.model import Directory
from bbs.library.datafiles import LibraryError, read_library
from bbs.library.model import Library, LibraryFile
from bbs.library.search import search_notes
from bbs.library.store import FILE_TABLE, LIBRARY_TABLES, NOTE_TABLE
from bbs.store.db import StoreError, engine_scope, is_sqlite, transaction
from bbs.store.load import LoadReport, load_dir, load_directory
from bbs.store.migrate import downgrade, upgrade
from bbs.store.snapshot import read_directory
from bbs.store.snapshot import read_library as read_stored
from tests.store_data import sample_directory
from tests.test_library_datafiles import SAMPLE, sample_library, write_sample

WAIT = 60.0
ROOT = Path(__file__).resolve().parents[1]

Dump = dict[str, list[tuple[Any, ...]]]


async def load(url: str, library: Library | None, directory: Directory | None = None) -> LoadReport:
    return await asyncio.wait_for(
        load_directory(url, directory or sample_directory(), library), WAIT
    )


async def stored(url: str) -> Library:
    return await asyncio.wait_for(read_stored(url), WAIT)


async def dump(url: str) -> Dump:
    async def run() -> Dump:
        async with engine_scope(url) as engine, transaction(engine, write=False) as conn:
            out: Dump = {}
            for table in (FILE_TABLE, NOTE_TABLE):
                rows = await conn.execute(select(table).order_by(table.c.id))
                out[table.name] = [tuple(row) for row in rows]
            return out

    return await asyncio.wait_for(run(), WAIT)


def library_counts(report: LoadReport) -> dict[str, tuple[int, int, int]]:
    return {
        name: (t.inserted, t.updated, t.deleted)
        for name, t in report.tables.items()
        if name in LIBRARY_TABLES
    }


async def check_index(url: str) -> None:
    """SQLite: the FTS5 index agrees with library_note (raises otherwise)."""

    async def run() -> None:
        async with engine_scope(url) as engine, transaction(engine, write=True) as conn:
            if is_sqlite(conn):
                await conn.execute(
                    text("INSERT INTO library_fts(library_fts, rank) VALUES ('integrity-check', 1)")
                )

    await asyncio.wait_for(run(), WAIT)


async def numbers(url: str, query: str) -> list[tuple[int, str]]:
    hits = await asyncio.wait_for(search_notes(url, query), WAIT)
    return [(h.number, h.lang) for h in hits]


def data_folder(tmp_path: Path) -> Path:
    """A copy of the real directory files with the sample library next to them."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("services.toml", "countries.toml", "centres.toml"):
        shutil.copy(ROOT / "data" / name, data / name)
    shutil.copytree(ROOT / "data" / "listings", data / "listings")
    return write_sample(data)


# --- round trip and idempotence ------------------------------------------------------


async def test_load_then_read_gives_the_same_library(store_url: str, tmp_path: Path) -> None:
    library = sample_library(tmp_path)
    report = await load(store_url, library)
    assert library_counts(report) == {"library_file": (2, 0, 0), "library_note": (6, 0, 0)}
    assert await stored(store_url) == library
    assert await asyncio.wait_for(read_directory(store_url), WAIT) == sample_directory()
    await check_index(store_url)


async def test_a_second_identical_load_changes_nothing(store_url: str, tmp_path: Path) -> None:
    library = sample_library(tmp_path)
    await load(store_url, library)
    before = await dump(store_url)
    again = await load(store_url, library)
    assert not again.changed, again.summary()
    assert again.summary() == "data unchanged"
    assert library_counts(again) == {"library_file": (0, 0, 0), "library_note": (0, 0, 0)}
    assert await dump(store_url) == before


async def test_an_empty_database_reads_as_an_empty_library(store_url: str) -> None:
    assert await stored(store_url) == Library()


async def test_load_dir_loads_directory_and_library_in_one_go(
    store_url: str, tmp_path: Path
) -> None:
    data = data_folder(tmp_path)
    report = await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert library_counts(report) == {"library_file": (2, 0, 0), "library_note": (6, 0, 0)}
    assert await stored(store_url) == read_library(data)
    again = await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert not again.changed, again.summary()


async def test_without_a_library_folder_the_stored_library_is_left_alone(
    store_url: str, tmp_path: Path
) -> None:
    data = data_folder(tmp_path)
    await asyncio.wait_for(load_dir(store_url, data), WAIT)
    shutil.rmtree(data / "library")
    report = await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert not report.changed
    assert set(report.tables).isdisjoint(LIBRARY_TABLES)
    assert len((await stored(store_url)).notes) == 6
    # Same for a directory loaded by itself.
    assert not (await load(store_url, None, await read_directory(store_url))).changed
    assert len((await stored(store_url)).notes) == 6


# --- minimal diffs -------------------------------------------------------------------


async def test_editing_one_note_updates_just_that_row_and_its_index(
    store_url: str, tmp_path: Path
) -> None:
    library = sample_library(tmp_path)
    await load(store_url, library)
    before = await dump(store_url)
    assert await numbers(store_url, "planifiée") == [(20001, "fr")]

    index = next(i for i, n in enumerate(library.notes) if n.key == (20001, "fr"))
    note = library.notes[index]
    edited_note = dataclasses.replace(
        note, body=note.body.replace("planifiée", "programmée"), public=True
    )
    notes = (*library.notes[:index], edited_note, *library.notes[index + 1 :])
    edited = dataclasses.replace(library, notes=notes)

    report = await load(store_url, edited)
    assert library_counts(report) == {"library_file": (0, 0, 0), "library_note": (0, 1, 0)}
    after = await dump(store_url)
    assert after["library_file"] == before["library_file"]
    changed = [row for row in after["library_note"] if row not in before["library_note"]]
    assert len(changed) == 1
    assert [r[0] for r in after["library_note"]] == [r[0] for r in before["library_note"]]
    assert await stored(store_url) == edited
    assert await numbers(store_url, "planifiee") == []
    assert await numbers(store_url, "programmee") == [(20001, "fr")]
    await check_index(store_url)


async def test_notes_and_files_come_and_go(store_url: str, tmp_path: Path) -> None:
    library = sample_library(tmp_path)
    await load(store_url, library)

    # The driver note goes, and its file with it; the template's file changes.
    notes = tuple(n for n in library.notes if n.number != 10158)
    amisty = dataclasses.replace(library.files[0], size=1, sha256="0" * 64)
    smaller = Library(notes=notes, files=(amisty,))
    report = await load(store_url, smaller)
    assert library_counts(report) == {"library_file": (0, 1, 1), "library_note": (0, 0, 1)}
    assert await stored(store_url) == smaller
    assert await numbers(store_url, "laserjet") == []
    await check_index(store_url)

    report = await load(store_url, library)
    assert library_counts(report) == {"library_file": (1, 1, 0), "library_note": (1, 0, 0)}
    assert await stored(store_url) == library
    assert await numbers(store_url, "laserjet") == [(10158, "fr")]
    await check_index(store_url)

    report = await load(store_url, Library())
    assert library_counts(report) == {"library_file": (0, 0, 2), "library_note": (0, 0, 6)}
    assert await stored(store_url) == Library()
    assert await numbers(store_url, "memoire") == []
    await check_index(store_url)


# --- refusals leave the database alone -----------------------------------------------


async def test_a_library_that_names_a_missing_file_is_refused_whole(
    store_url: str, tmp_path: Path
) -> None:
    library = sample_library(tmp_path)
    broken = dataclasses.replace(library, files=library.files[1:])
    with pytest.raises(StoreError, match=r"refers to file 'amisty\.zip'"):
        await load(store_url, broken)
    # Nothing of the directory either: one transaction.
    assert await asyncio.wait_for(read_directory(store_url), WAIT) == Directory((), (), (), ())
    assert await stored(store_url) == Library()


async def test_a_library_refused_inside_the_transaction_rolls_the_directory_back(
    store_url: str, tmp_path: Path
) -> None:
    library = sample_library(tmp_path)
    await load(store_url, library)
    before = await dump(store_url)
    smaller = dataclasses.replace(sample_directory(), centres=())
    twice = dataclasses.replace(
        library,
        files=(*library.files, LibraryFile("zz.zip", 1, "x"), LibraryFile("zz.zip", 1, "x")),
    )
    with pytest.raises(StoreError, match=r"two files 'zz\.zip'"):
        await load(store_url, twice, smaller)
    assert await asyncio.wait_for(read_directory(store_url), WAIT) == sample_directory()
    assert await dump(store_url) == before


async def test_a_bad_note_file_refuses_the_whole_load(store_url: str, tmp_path: Path) -> None:
    data = data_folder(tmp_path)
    await asyncio.wait_for(load_dir(store_url, data), WAIT)
    before = await dump(store_url)
    (data / "library" / "40002-fr.txt").write_text(
        SAMPLE["40002-fr.txt"].replace("Produit: ccmail", "Produit: wordpro"), encoding="utf-8"
    )
    with pytest.raises(LibraryError, match=r"40002-fr\.txt:3: Produit"):
        await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert await dump(store_url) == before


# --- migrations ----------------------------------------------------------------------


async def test_downgrading_to_0001_drops_the_library_and_keeps_the_directory(
    store_url: str, tmp_path: Path
) -> None:
    await load(store_url, sample_library(tmp_path))
    await asyncio.wait_for(downgrade(store_url, "0001"), WAIT)

    async def tables() -> set[str]:
        async with engine_scope(store_url) as engine, transaction(engine, write=False) as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    left = await asyncio.wait_for(tables(), WAIT)
    assert not {name for name in left if name.startswith("library")}
    await asyncio.wait_for(upgrade(store_url), WAIT)
    assert await asyncio.wait_for(read_directory(store_url), WAIT) == sample_directory()
    assert await stored(store_url) == Library()
    library = sample_library(tmp_path)
    await load(store_url, library)
    assert await numbers(store_url, "memoire") == [(12041, "fr")]
    await check_index(store_url)
