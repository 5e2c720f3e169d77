"""Records <-> rows: every field persisted, round trips for any directory.

The property tests draw random directories (small code alphabets, so that two
draws share keys and a second load updates rows rather than replacing them all).
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbs.directory.model import (
    Centre,
    Country,
    Directory,
    Hours,
    Listing,
    Names,
    Number,
    Service,
    Span,
)
from bbs.store.load import load_directory
from bbs.store.mapping import COLUMN_FOR_FIELD, directory_from_rows, directory_rows
from bbs.store.schema import Base
from bbs.store.snapshot import read_directory
from tests.store_data import sample_directory

WAIT = 60.0

# Fields stored in child tables or as foreign keys rather than in a column of the
# record's own table.
COMPOSITE: dict[type, tuple[str, set[str]]] = {
    Service: ("service", {"names", "keywords"}),
    Country: ("country", {"names", "aliases"}),
    Listing: ("listing", {"service", "country", "numbers", "hours", "languages"}),
    Number: ("listing_number", {"notes"}),
    Centre: ("centre", {"address", "hours", "countries", "served", "languages"}),
}


@pytest.mark.parametrize("record", list(COMPOSITE), ids=lambda c: c.__name__)
def test_every_scalar_field_has_a_column(record: type) -> None:
    table, composite = COMPOSITE[record]
    columns = set(Base.metadata.tables[table].c.keys())
    missing = [
        f.name
        for f in fields(record)
        if f.name not in composite and COLUMN_FOR_FIELD.get(f.name, f.name) not in columns
    ]
    assert not missing, f"add columns to {table} (a new migration) for {missing}"


def test_hours_and_spans_have_the_fields_the_mapping_knows() -> None:
    # Stored by hand (hours_text, hours_always, hour_span rows): a new field needs
    # a column and a line in bbs.store.mapping.
    assert [f.name for f in fields(Hours)] == ["text", "spans", "always"]
    assert [f.name for f in fields(Span)] == ["days", "opens", "closes"]


def test_names_have_one_row_per_language() -> None:
    rows = directory_rows(sample_directory())["service_name"]
    assert {r["lang"] for r in rows} == {f.name for f in fields(Names)}


def test_rows_round_trip_the_sample() -> None:
    assert directory_from_rows(directory_rows(sample_directory())) == sample_directory()


# --- random directories ----------------------------------------------------------

# PostgreSQL text cannot hold NUL; anything else UTF-8 can encode goes.
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
codes = st.text("abXY-", min_size=1, max_size=2)
small = st.integers(min_value=-5, max_value=2**31 - 1)
names = st.builds(Names, texts, texts, texts)
spans = st.builds(Span, days=st.frozensets(st.integers(0, 6)), opens=st.times(), closes=st.times())
hours = st.builds(
    Hours, text=texts, spans=st.lists(spans, max_size=3).map(tuple), always=st.booleans()
)
numbers = st.builds(
    Number,
    text=texts,
    kind=st.sampled_from(["phone", "fax", "url", "ftp"]),
    label=texts,
    notes=st.lists(texts, max_size=2).map(tuple),
    nd=st.booleans(),
)
string_tuples = st.lists(texts, max_size=3).map(tuple)


@st.composite
def directories(draw: st.DrawFn) -> Directory:
    service_codes = draw(st.lists(codes, unique=True, max_size=3))
    country_codes = draw(st.lists(codes, unique=True, max_size=3))
    services = tuple(
        Service(code, draw(names), draw(string_tuples), draw(texts), draw(small))
        for code in service_codes
    )
    countries = tuple(
        Country(code, draw(st.none() | texts), draw(names), draw(texts), draw(string_tuples))
        for code in country_codes
    )
    keys: list[tuple[str, str, int]] = []
    if service_codes and country_codes:
        key = st.tuples(
            st.sampled_from(service_codes), st.sampled_from(country_codes), st.integers(0, 2)
        )
        keys = draw(st.lists(key, unique=True, max_size=5))
    listings = tuple(
        Listing(
            service=service,
            country=country,
            seq=seq,
            printed=draw(texts),
            numbers=tuple(draw(st.lists(numbers, max_size=3))),
            hours=draw(st.none() | hours),
            languages=draw(string_tuples),
            remark=draw(texts),
            erratum=draw(texts),
            tz=draw(texts),
            source=draw(texts),
        )
        for service, country, seq in keys
    )
    centres = tuple(
        Centre(
            code=code,
            city=draw(texts),
            address=draw(string_tuples),
            phone=draw(texts),
            hours=draw(hours),
            tz=draw(texts),
            countries=draw(string_tuples),
            served=draw(string_tuples),
            languages=draw(string_tuples),
            remark=draw(texts),
        )
        for code in draw(st.lists(codes, unique=True, max_size=2))
    )
    return Directory(services, countries, listings, centres)


@settings(max_examples=300, deadline=None)
@given(directories())
def test_rows_round_trip_any_directory(directory: Directory) -> None:
    assert directory_from_rows(directory_rows(directory)) == directory


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=directories(), second=directories())
async def test_any_load_after_any_load_reads_back_the_last(
    store_url: str, first: Directory, second: Directory
) -> None:
    # One database for all examples: a load must reach its directory from any state.
    async def load(d: Directory) -> Any:
        return await asyncio.wait_for(load_directory(store_url, d), WAIT)

    async def read() -> Directory:
        return await asyncio.wait_for(read_directory(store_url), WAIT)

    await load(first)
    assert await read() == first
    await load(second)
    assert await read() == second
    assert not (await load(second)).changed
