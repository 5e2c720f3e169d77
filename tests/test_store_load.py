"""Loading and reading back the directory, on SQLite and PostgreSQL.

Round trip, idempotence, minimal diffs, atomic failure and snapshot isolation.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

import bbs.store.load as load_module
import bbs.store.snapshot as snapshot_module
from bbs.directory.model import Directory, Number, Span
from bbs.store.db import StoreError, engine_scope, make_engine, transaction
from bbs.store.load import CHECKSUM_KEY, LOADED_AT_KEY, LoadReport, load_dir, load_directory
from bbs.store.mapping import DIRECTORY_TABLES
from bbs.store.migrate import upgrade
from bbs.store.schema import LIVE_TABLES, Base
from bbs.store.snapshot import read_directory, read_meta
from tests.store_data import replace_listing, sample_directory, without

WAIT = 60.0

Dump = dict[str, list[tuple[Any, ...]]]


async def load(url: str, directory: Directory) -> LoadReport:
    return await asyncio.wait_for(load_directory(url, directory), WAIT)


async def read(url: str) -> Directory:
    return await asyncio.wait_for(read_directory(url), WAIT)


async def dump(url: str) -> Dump:
    """Every row of every table, ids included, in id order."""
    return await asyncio.wait_for(_dump(url), WAIT)


async def _dump(url: str) -> Dump:
    out: Dump = {}
    async with engine_scope(url) as engine, transaction(engine, write=False) as conn:
        for name, table in Base.metadata.tables.items():
            if name in LIVE_TABLES:
                continue
            order = list(table.primary_key.columns)
            result = await conn.execute(select(table).order_by(*order))
            out[name] = [tuple(row) for row in result]
    return out


def counts(report: LoadReport) -> dict[str, tuple[int, int, int]]:
    """The tables a load changed: name -> (inserted, updated, deleted)."""
    return {
        name: (t.inserted, t.updated, t.deleted) for name, t in report.tables.items() if t.changed
    }


# --- round trip ------------------------------------------------------------------


async def test_load_then_read_gives_the_same_directory(store_url: str) -> None:
    directory = sample_directory()
    report = await load(store_url, directory)
    assert report.changed
    assert report.inserted == sum(len(rows) for rows in (await dump(store_url)).values())
    assert await read(store_url) == directory


async def test_read_keeps_the_loaded_order(store_url: str) -> None:
    directory = sample_directory()
    shuffled = dataclasses.replace(
        directory,
        services=directory.services[::-1],
        countries=directory.countries[::-1],
        listings=directory.listings[::-1],
        centres=directory.centres[::-1],
        _by_code={},
    )
    await load(store_url, shuffled)
    assert await read(store_url) == shuffled


async def test_an_empty_database_reads_as_an_empty_directory(store_url: str) -> None:
    assert await read(store_url) == Directory((), (), (), ())


async def test_the_memory_database_works_through_one_engine() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        await asyncio.wait_for(upgrade(engine), WAIT)
        await asyncio.wait_for(load_directory(engine, sample_directory()), WAIT)
        assert await asyncio.wait_for(read_directory(engine), WAIT) == sample_directory()
    finally:
        await engine.dispose()


# --- idempotence and minimal diffs -----------------------------------------------


async def test_a_second_identical_load_changes_nothing(store_url: str) -> None:
    first = await load(store_url, sample_directory())
    before = await dump(store_url)
    second = await load(store_url, sample_directory())
    assert not second.changed
    assert (second.inserted, second.updated, second.deleted) == (0, 0, 0)
    assert set(second.tables) == {spec.name for spec in DIRECTORY_TABLES} | {"meta"}
    assert second.summary() == "data unchanged"
    assert second.checksum == first.checksum
    # Same rows, same ids, and the load time of the first load.
    assert await dump(store_url) == before


async def test_editing_one_number_updates_just_that_row(store_url: str) -> None:
    directory = sample_directory()
    await load(store_url, directory)
    before = await dump(store_url)
    listing = directory.listings[2]
    numbers = (
        listing.numbers[0],
        dataclasses.replace(listing.numbers[1], text="1-617-693-7002"),
        *listing.numbers[2:],
    )
    edited = replace_listing(directory, 2, numbers=numbers)

    report = await load(store_url, edited)

    assert counts(report) == {"listing_number": (0, 1, 0), "meta": (0, 2, 0)}
    after = await dump(store_url)
    changed = [(name, row) for name in after for row in after[name] if row not in before[name]]
    assert sorted(name for name, _ in changed) == ["listing_number", "meta", "meta"]
    assert after["listing_number"][0][0] == before["listing_number"][0][0]
    assert [r[0] for r in after["listing_number"]] == [r[0] for r in before["listing_number"]]
    assert await read(store_url) == edited


async def test_editing_listing_fields_and_hours(store_url: str) -> None:
    directory = sample_directory()
    await load(store_url, directory)
    hours = directory.listings[2].hours
    assert hours is not None
    edited = replace_listing(
        directory,
        2,
        erratum="",
        tz="",
        hours=dataclasses.replace(
            hours, spans=(*hours.spans, Span(frozenset({6}), time(10), time(12)))
        ),
    )
    report = await load(store_url, edited)
    assert counts(report) == {"listing": (0, 1, 0), "hour_span": (1, 0, 0), "meta": (0, 2, 0)}
    assert await read(store_url) == edited


async def test_hours_removed_and_notes_added(store_url: str) -> None:
    directory = sample_directory()
    await load(store_url, directory)
    number = dataclasses.replace(directory.listings[2].numbers[0], notes=("après 18 h",))
    edited = replace_listing(
        directory, 2, hours=None, numbers=(number, *directory.listings[2].numbers[1:])
    )
    report = await load(store_url, edited)
    assert counts(report) == {
        "listing": (0, 1, 0),
        "hour_span": (0, 0, 2),
        "number_note": (1, 0, 0),
        "meta": (0, 2, 0),
    }
    assert await read(store_url) == edited


async def test_removed_records_are_deleted_with_their_rows(store_url: str) -> None:
    directory = sample_directory()
    await load(store_url, directory)
    smaller = without(without(directory, centre="toronto"), country="US")

    report = await load(store_url, smaller)

    assert counts(report) == {
        "country_name": (0, 0, 3),
        "country_alias": (0, 0, 3),
        "listing": (0, 2, 2),  # the two US listings go; two later ones move up
        "listing_language": (0, 0, 1),
        "listing_number": (0, 0, 4),
        "hour_span": (0, 0, 4),  # two of the US listing, two of Toronto
        "centre": (0, 0, 1),
        "centre_address": (0, 0, 3),
        "centre_country": (0, 0, 1),
        "centre_served": (0, 0, 1),
        "centre_language": (0, 0, 2),
        "country": (0, 2, 1),  # CA and latam-sud move up
        "meta": (0, 2, 0),
    }
    assert await read(store_url) == smaller


async def test_added_records_are_inserted(store_url: str) -> None:
    directory = sample_directory()
    smaller = without(directory, country="CA")
    await load(store_url, smaller)
    report = await load(store_url, directory)
    assert report.inserted > 0 and report.deleted == 0
    assert await read(store_url) == directory


async def test_loading_an_empty_directory_empties_the_tables(store_url: str) -> None:
    await load(store_url, sample_directory())
    report = await load(store_url, Directory((), (), (), ()))
    assert report.deleted > 0
    rows = await dump(store_url)
    assert all(not rows[spec.name] for spec in DIRECTORY_TABLES)
    assert await read(store_url) == Directory((), (), (), ())


async def test_meta_records_checksum_and_load_time(store_url: str) -> None:
    report = await load(store_url, sample_directory())
    meta = await asyncio.wait_for(read_meta(store_url), WAIT)
    assert meta[CHECKSUM_KEY] == report.checksum
    assert meta[LOADED_AT_KEY]
    other = await load(store_url, without(sample_directory(), centre="paris"))
    assert other.checksum != report.checksum
    assert (await asyncio.wait_for(read_meta(store_url), WAIT))[CHECKSUM_KEY] == other.checksum


# --- bad directories -------------------------------------------------------------


async def test_a_listing_of_an_unknown_country_is_refused(store_url: str) -> None:
    directory = sample_directory()
    bad = replace_listing(directory, 0, country="XX")
    with pytest.raises(StoreError, match="listing fax/XX/1 refers to country XX"):
        await load(store_url, bad)
    assert await read(store_url) == Directory((), (), (), ())


async def test_duplicate_listings_are_refused(store_url: str) -> None:
    directory = sample_directory()
    twice = dataclasses.replace(
        directory, listings=(*directory.listings, directory.listings[0]), _by_code={}
    )
    with pytest.raises(StoreError, match="two listing rows fax/FR/1"):
        await load(store_url, twice)


async def test_weekdays_outside_the_week_are_refused(store_url: str) -> None:
    directory = sample_directory()
    hours = directory.listings[2].hours
    assert hours is not None
    bad_hours = dataclasses.replace(hours, spans=(Span(frozenset({7}), time(9), time(17)),))
    with pytest.raises(StoreError, match="weekday 7"):
        await load(store_url, replace_listing(directory, 2, hours=bad_hours))


# --- atomicity -------------------------------------------------------------------


def _changed_directory() -> Directory:
    """A directory whose load inserts, updates and deletes rows in many tables."""
    d = without(sample_directory(), centre="toronto")
    extra = dataclasses.replace(d.listings[0], seq=2, numbers=(Number("+33 1 00 00 00 00"),))
    d = replace_listing(d, 1, printed="Luxembourg (Grand-Duché)")
    return dataclasses.replace(d, listings=(*d.listings, extra), _by_code={})


async def test_an_error_midway_leaves_the_database_as_it_was(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load(store_url, sample_directory())
    before = await dump(store_url)
    real_insert = load_module.insert_rows
    calls = 0

    async def failing_insert(conn: AsyncConnection, table: Table, rows: Any) -> None:
        nonlocal calls
        await real_insert(conn, table, rows)
        if rows:
            calls += 1
            if calls == 2:
                raise RuntimeError("disk on fire")

    monkeypatch.setattr(load_module, "insert_rows", failing_insert)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await load(store_url, _changed_directory())
    assert calls == 2
    assert await dump(store_url) == before
    assert await read(store_url) == sample_directory()


async def test_a_constraint_violation_midway_leaves_the_database_as_it_was(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load(store_url, sample_directory())
    before = await dump(store_url)
    real_delete = load_module.delete_ids

    async def delete_then_violate(conn: AsyncConnection, table: Table, ids: Any) -> None:
        await real_delete(conn, table, ids)
        if table.name == "country":
            # A second service with an existing code: the database itself refuses.
            await conn.execute(
                insert(Base.metadata.tables["service"]),
                {"code": "fax", "position": 9, "menu": "x", "sort_order": 9},
            )

    monkeypatch.setattr(load_module, "delete_ids", delete_then_violate)
    with pytest.raises(StoreError) as info:
        await load(store_url, _changed_directory())
    assert "\n" not in str(info.value)
    assert await dump(store_url) == before


# --- concurrency -----------------------------------------------------------------


async def test_a_reader_during_a_load_sees_the_old_directory(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = sample_directory(), _changed_directory()
    await load(store_url, old)
    writing = asyncio.Event()
    release = asyncio.Event()
    real_delete = load_module.delete_ids

    async def paused_delete(conn: AsyncConnection, table: Table, ids: Any) -> None:
        # Every insert and update is done by the first delete: pause there.
        if not writing.is_set():
            writing.set()
            await release.wait()
        await real_delete(conn, table, ids)

    monkeypatch.setattr(load_module, "delete_ids", paused_delete)
    loader = asyncio.create_task(load_directory(store_url, new))
    try:
        await asyncio.wait_for(writing.wait(), WAIT)
        assert await read(store_url) == old
    finally:
        release.set()
        await asyncio.wait_for(loader, WAIT)
    assert await read(store_url) == new


async def test_a_load_committing_during_a_read_is_not_seen_by_it(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = sample_directory(), _changed_directory()
    await load(store_url, old)
    reading = asyncio.Event()
    release = asyncio.Event()
    real_rows = snapshot_module._rows

    async def paused_rows(conn: AsyncConnection, table: Table) -> Any:
        rows = await real_rows(conn, table)
        if table.name == "service" and not reading.is_set():
            reading.set()
            await release.wait()
        return rows

    monkeypatch.setattr(snapshot_module, "_rows", paused_rows)
    reader = asyncio.create_task(read_directory(store_url))
    try:
        await asyncio.wait_for(reading.wait(), WAIT)
        await load(store_url, new)  # commits while the reader is half way
    finally:
        release.set()
    assert await asyncio.wait_for(reader, WAIT) == old
    monkeypatch.undo()
    assert await read(store_url) == new


async def test_concurrent_loads_queue_and_one_wins_whole(store_url: str) -> None:
    a, b = sample_directory(), _changed_directory()
    reports = await asyncio.wait_for(
        asyncio.gather(load_directory(store_url, a), load_directory(store_url, b)), WAIT
    )
    assert all(r.changed for r in reports)
    final = await read(store_url)
    assert final in (a, b)
    assert not (await load(store_url, final)).changed


# --- the real data files ---------------------------------------------------------


async def test_the_real_data_files_load_and_read_back(store_url: str) -> None:
    from bbs.directory.datafiles import read_data_dir

    data = Path(__file__).resolve().parent.parent / "data"
    report = await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert report.changed
    assert await read(store_url) == read_data_dir(data)
    again = await asyncio.wait_for(load_dir(store_url, data), WAIT)
    assert not again.changed, again.summary()
