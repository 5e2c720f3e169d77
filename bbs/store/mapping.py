"""How directory records become table rows and back, independent of any database.

The rows here are *logical*: every foreign-key column holds the parent's natural key
(a tuple, e.g. ``("fax",)`` for a service, ``(("fax",), ("FR",), 1)`` for a listing)
instead of its id. The loader and the snapshot translate between ids and natural
keys; this module alone decides which record field goes to which column.

A scalar record field goes to the column of the same name (see `COLUMN_FOR_FIELD`
for the exceptions), in both directions, so a field added to the model with a
default needs only a column of that name, added by a migration.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import Table

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
from bbs.store.db import StoreError
from bbs.store.schema import Base

Key = tuple[Any, ...]
Row = dict[str, Any]
T = TypeVar("T")

COLUMN_FOR_FIELD: Mapping[str, str] = {"order": "sort_order"}
"""Record fields whose column has another name (ORDER is an SQL keyword)."""

WEEKDAYS = range(7)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A directory table as the loader sees it: its name and natural key columns."""

    name: str
    key: tuple[str, ...]

    @property
    def table(self) -> Table:
        """The SQLAlchemy table."""
        return Base.metadata.tables[self.name]

    @property
    def parents(self) -> dict[str, str]:
        """Foreign-key column -> parent table name."""
        return {fk.parent.name: fk.column.table.name for fk in self.table.foreign_keys}

    def key_of(self, row: Mapping[str, Any]) -> Key:
        """The natural key of a logical row."""
        return tuple(row[c] for c in self.key)


DIRECTORY_TABLES: tuple[TableSpec, ...] = (
    TableSpec("service", ("code",)),
    TableSpec("service_name", ("service_id", "lang")),
    TableSpec("service_keyword", ("service_id", "position")),
    TableSpec("country", ("code",)),
    TableSpec("country_name", ("country_id", "lang")),
    TableSpec("country_alias", ("country_id", "position")),
    TableSpec("listing", ("service_id", "country_id", "seq")),
    TableSpec("listing_language", ("listing_id", "position")),
    TableSpec("listing_number", ("listing_id", "position")),
    TableSpec("number_note", ("number_id", "position")),
    TableSpec("centre", ("code",)),
    TableSpec("centre_address", ("centre_id", "position")),
    TableSpec("centre_country", ("centre_id", "position")),
    TableSpec("centre_served", ("centre_id", "position")),
    TableSpec("centre_language", ("centre_id", "position")),
    TableSpec("hour_span", ("listing_id", "centre_id", "position")),
)
"""The tables holding the directory, parents before children."""


def logical_row(
    spec: TableSpec, raw: Mapping[Any, Any], keys: Mapping[str, Mapping[int, Key]]
) -> Row:
    """A stored row with its id dropped and its foreign keys turned into the parents'
    natural keys (`keys`: parent table -> id -> natural key)."""
    row = {name: value for name, value in raw.items() if name != "id"}
    for column, parent in spec.parents.items():
        if row[column] is not None:
            row[column] = keys[parent][row[column]]
    return row


def show_key(key: Any) -> str:
    """A natural key for messages: ``fax/FR/1``."""
    if isinstance(key, tuple):
        return "/".join(show_key(part) for part in key)
    return str(key)


# --- records -> rows -------------------------------------------------------------


def directory_rows(directory: Directory) -> dict[str, list[Row]]:
    """The logical rows of every directory table, in the directory's order."""
    out: dict[str, list[Row]] = {spec.name: [] for spec in DIRECTORY_TABLES}
    for pos, service in enumerate(directory.services):
        key: Key = (service.code,)
        out["service"].append(_scalars(service, "service") | {"position": pos})
        _add_names(out["service_name"], "service_id", key, service.names)
        _add_list(out["service_keyword"], "service_id", key, "keyword", service.keywords)
    for pos, country in enumerate(directory.countries):
        key = (country.code,)
        out["country"].append(_scalars(country, "country") | {"position": pos})
        _add_names(out["country_name"], "country_id", key, country.names)
        _add_list(out["country_alias"], "country_id", key, "alias", country.aliases)
    for pos, listing in enumerate(directory.listings):
        key = ((listing.service,), (listing.country,), listing.seq)
        out["listing"].append(
            _scalars(listing, "listing")
            | _hours_columns(listing.hours)
            | {
                "service_id": (listing.service,),
                "country_id": (listing.country,),
                "position": pos,
            }
        )
        _add_list(out["listing_language"], "listing_id", key, "language", listing.languages)
        for npos, number in enumerate(listing.numbers):
            out["listing_number"].append(
                _scalars(number, "listing_number") | {"listing_id": key, "position": npos}
            )
            _add_list(out["number_note"], "number_id", (key, npos), "note", number.notes)
        if listing.hours is not None:
            _add_spans(out["hour_span"], "listing_id", key, listing.hours)
    for pos, centre in enumerate(directory.centres):
        key = (centre.code,)
        out["centre"].append(
            _scalars(centre, "centre") | _hours_columns(centre.hours) | {"position": pos}
        )
        _add_list(out["centre_address"], "centre_id", key, "line", centre.address)
        _add_list(out["centre_country"], "centre_id", key, "country", centre.countries)
        _add_list(out["centre_served"], "centre_id", key, "name", centre.served)
        _add_list(out["centre_language"], "centre_id", key, "language", centre.languages)
        _add_spans(out["hour_span"], "centre_id", key, centre.hours)
    return out


def keyed_rows(directory: Directory) -> dict[str, dict[Key, Row]]:
    """The directory's logical rows by natural key, checked for duplicates and dangling
    references (a listing naming a country the directory lacks)."""
    all_rows = directory_rows(directory)
    keyed: dict[str, dict[Key, Row]] = {}
    for spec in DIRECTORY_TABLES:
        rows: dict[Key, Row] = {}
        for row in all_rows[spec.name]:
            key = spec.key_of(row)
            if key in rows:
                raise StoreError(f"the directory has two {spec.name} rows {show_key(key)}")
            for column, parent in spec.parents.items():
                ref = row[column]
                if ref is not None and ref not in keyed[parent]:
                    raise StoreError(
                        f"{spec.name} {show_key(key)} refers to {parent} {show_key(ref)}, "
                        "which the directory does not have"
                    )
            rows[key] = row
        keyed[spec.name] = rows
    return keyed


def _scalars(record: Any, table: str) -> Row:
    columns = Base.metadata.tables[table].c
    out: Row = {}
    for f in fields(record):
        column = COLUMN_FOR_FIELD.get(f.name, f.name)
        if column in columns:
            out[column] = getattr(record, f.name)
    return out


def _hours_columns(hours: Hours | None) -> Row:
    if hours is None:
        return {"hours_text": None, "hours_always": False}
    return {"hours_text": hours.text, "hours_always": hours.always}


def _add_names(out: list[Row], fk: str, key: Key, names: Names) -> None:
    for f in fields(names):
        out.append({fk: key, "lang": f.name, "name": getattr(names, f.name)})


def _add_list(out: list[Row], fk: str, key: Key, column: str, values: Sequence[Any]) -> None:
    for pos, value in enumerate(values):
        out.append({fk: key, "position": pos, column: value})


def _add_spans(out: list[Row], fk: str, key: Key, hours: Hours) -> None:
    for pos, span in enumerate(hours.spans):
        bad = sorted(d for d in span.days if d not in WEEKDAYS)
        if bad:
            raise StoreError(f"{fk[:-3]} {show_key(key)}: weekday {bad[0]} is not 0..6")
        out.append(
            {
                "listing_id": key if fk == "listing_id" else None,
                "centre_id": key if fk == "centre_id" else None,
                "position": pos,
                "days": sum(1 << d for d in span.days),
                "opens": span.opens,
                "closes": span.closes,
            }
        )


# --- rows -> records -------------------------------------------------------------


def directory_from_rows(rows: Mapping[str, Iterable[Mapping[str, Any]]]) -> Directory:
    """The directory from the logical rows of every directory table (any row order)."""
    get: dict[str, list[Mapping[str, Any]]] = {
        spec.name: list(rows.get(spec.name, ())) for spec in DIRECTORY_TABLES
    }
    service_names = _names(get["service_name"], "service_id")
    keywords = _lists(get["service_keyword"], "service_id", "keyword")
    services = tuple(
        _record(
            Service,
            row,
            names=service_names.get((row["code"],), _no_names()),
            keywords=keywords.get((row["code"],), ()),
        )
        for row in _in_order(get["service"], "code")
    )

    country_names = _names(get["country_name"], "country_id")
    aliases = _lists(get["country_alias"], "country_id", "alias")
    countries = tuple(
        _record(
            Country,
            row,
            names=country_names.get((row["code"],), _no_names()),
            aliases=aliases.get((row["code"],), ()),
        )
        for row in _in_order(get["country"], "code")
    )

    spans: dict[tuple[str, Key], list[tuple[int, Span]]] = defaultdict(list)
    for row in get["hour_span"]:
        if row["listing_id"] is not None:
            owner = ("listing", row["listing_id"])
        else:
            owner = ("centre", row["centre_id"])
        days = frozenset(d for d in WEEKDAYS if row["days"] >> d & 1)
        spans[owner].append((row["position"], Span(days, row["opens"], row["closes"])))

    def hours(owner: str, key: Key, row: Mapping[str, Any]) -> Hours:
        return Hours(
            text=row["hours_text"],
            spans=tuple(s for _, s in sorted(spans.get((owner, key), ()), key=_first)),
            always=row["hours_always"],
        )

    notes = _lists(get["number_note"], "number_id", "note")
    numbers: dict[Key, list[tuple[int, Number]]] = defaultdict(list)
    for row in get["listing_number"]:
        number_key = (row["listing_id"], row["position"])
        number = _record(Number, row, notes=notes.get(number_key, ()))
        numbers[row["listing_id"]].append((row["position"], number))
    languages = _lists(get["listing_language"], "listing_id", "language")
    listings = []
    for row in _in_order(get["listing"], "service_id", "country_id", "seq"):
        key = (row["service_id"], row["country_id"], row["seq"])
        listings.append(
            _record(
                Listing,
                row,
                service=row["service_id"][0],
                country=row["country_id"][0],
                numbers=tuple(n for _, n in sorted(numbers.get(key, ()), key=_first)),
                hours=None if row["hours_text"] is None else hours("listing", key, row),
                languages=languages.get(key, ()),
            )
        )

    address = _lists(get["centre_address"], "centre_id", "line")
    served_codes = _lists(get["centre_country"], "centre_id", "country")
    served = _lists(get["centre_served"], "centre_id", "name")
    spoken = _lists(get["centre_language"], "centre_id", "language")
    centres = []
    for row in _in_order(get["centre"], "code"):
        centre_key = (row["code"],)
        centres.append(
            _record(
                Centre,
                row,
                address=address.get(centre_key, ()),
                hours=hours("centre", centre_key, row),
                countries=served_codes.get(centre_key, ()),
                served=served.get(centre_key, ()),
                languages=spoken.get(centre_key, ()),
            )
        )
    return Directory(
        services=services,
        countries=countries,
        listings=tuple(listings),
        centres=tuple(centres),
    )


def _record(cls: type[T], row: Mapping[str, Any], **composite: Any) -> T:
    kwargs = dict(composite)
    for f in fields(cls):  # type: ignore[arg-type]
        column = COLUMN_FOR_FIELD.get(f.name, f.name)
        if f.name not in kwargs and column in row:
            kwargs[f.name] = row[column]
    return cls(**kwargs)


def _in_order(rows: Iterable[Mapping[str, Any]], *key: str) -> list[Mapping[str, Any]]:
    # The natural key breaks ties, so that hand-edited positions still read back stably.
    return sorted(rows, key=lambda r: (r["position"], *(show_key(r[k]) for k in key)))


def _first(item: tuple[int, Any]) -> int:
    return item[0]


def _lists(rows: Iterable[Mapping[str, Any]], fk: str, column: str) -> dict[Key, tuple[Any, ...]]:
    grouped: dict[Key, list[tuple[int, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row[fk]].append((row["position"], row[column]))
    return {k: tuple(v for _, v in sorted(items, key=_first)) for k, items in grouped.items()}


def _names(rows: Iterable[Mapping[str, Any]], fk: str) -> dict[Key, Names]:
    grouped: dict[Key, dict[str, str]] = defaultdict(dict)
    for row in rows:
        grouped[row[fk]][row["lang"]] = row["name"]
    return {
        k: Names(**{f.name: by_lang.get(f.name, "") for f in fields(Names)})
        for k, by_lang in grouped.items()
    }


def _no_names() -> Names:
    return Names(**{f.name: "" for f in fields(Names)})
