"""The data/ folder (human-edited TOML, see data/README.md) read into a `Directory`.

Reading is strict: a syntax error, an unknown key, an unknown service or country
code, hours that cannot be read, a missing translation or a duplicate refuses the
whole folder with a `DataError` whose message starts with "path:line:".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bbs.directory.hours import HoursError, parse_printed, parse_spans, zone
from bbs.directory.model import (
    Centre,
    Country,
    Directory,
    Hours,
    Listing,
    Names,
    Number,
    Service,
)
from bbs.directory.text import words
from bbs.menus.strings import LANGS

KINDS: tuple[str, ...] = ("phone", "fax", "url", "ftp")
"""What a number can be: a telephone, a fax line, a web address or an FTP host."""

_SERVICE_CODE = re.compile(r"[a-z][a-z0-9_]*")
_COUNTRY_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
_CENTRE_CODE = re.compile(r"[a-z][a-z0-9_]*")
_TOML_WHERE = re.compile(r"\(at line (\d+), column \d+\)")

T = TypeVar("T")


class DataError(ValueError):
    """A data file that cannot be used; the message starts with "path:line:"."""


@dataclass(slots=True)
class DataFile:
    """One parsed TOML file, with what it takes to point at a line of it."""

    path: Path
    text: str
    data: dict[str, Any]
    _headers: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> DataFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataError(f"{path}:0: missing data file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}:0: cannot read: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            where = _TOML_WHERE.search(message)
            line = int(where.group(1)) if where else max(1, text.count("\n"))
            message = _TOML_WHERE.sub("", message).replace("(at end of document)", "").strip()
            raise DataError(f"{path}:{line}: TOML syntax error: {message}") from None
        return cls(path, text, data)

    def header_line(self, table: str, index: int) -> int:
        """Line of the `index`-th (0-based) `[[table]]` header."""
        if table not in self._headers:
            pattern = re.compile(rf"\s*\[\[\s*{re.escape(table)}\s*\]\]\s*(?:#.*)?")
            self._headers[table] = [
                number
                for number, line in enumerate(self.text.splitlines(), start=1)
                if pattern.fullmatch(line)
            ]
        lines = self._headers[table]
        return lines[index] if index < len(lines) else 0

    def line_in(self, table: str | None, index: int, needle: str | None) -> int:
        """Line of `needle` (a key or a value) inside an entry, else the entry's header."""
        lines = self.text.splitlines()
        start = self.header_line(table, index) if table else 1
        end = len(lines)
        if table:
            following = self.header_line(table, index + 1)
            end = following - 1 if following else end
        if needle:
            key = re.compile(rf"\s*{re.escape(needle)}\s*[=.]")
            quoted = f'"{needle}"'
            for number in range(max(start, 1), end + 1):
                line = lines[number - 1]
                if key.match(line) or quoted in line:
                    return number
        return start

    def error(
        self, message: str, table: str | None = None, index: int = 0, at: str = ""
    ) -> DataError:
        return DataError(f"{self.path}:{self.line_in(table, index, at or None)}: {message}")


@dataclass(slots=True)
class DataEntry:
    """One table of a file (a `[[listing]]` entry, or the file's top level), read with checks."""

    file: DataFile
    table: str | None
    index: int
    data: Mapping[str, Any]
    what: str

    def fail(self, message: str, at: str = "") -> DataError:
        return self.file.error(f"{self.what}: {message}", self.table, self.index, at)

    def only(self, allowed: Iterable[str]) -> None:
        known = set(allowed)
        for key in self.data:
            if key not in known:
                raise self.fail(f"unknown key {key!r} (known: {', '.join(sorted(known))})", key)

    def _get(self, key: str, kind: type[T], kind_name: str, default: T | None) -> T:
        if key not in self.data:
            if default is None:
                raise self.fail(f"missing {key!r}")
            return default
        value = self.data[key]
        # bool is an int to Python, never to a data file.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{key!r} must be {kind_name}, not {value!r}", key)
        return value

    def text(self, key: str, default: str | None = None, *, empty: bool = True) -> str:
        value = self._get(key, str, "a string", default)
        if not empty and not value.strip():
            raise self.fail(f"{key!r} must not be empty", key)
        return value

    def integer(self, key: str) -> int:
        return self._get(key, int, "an integer", None)

    def texts(self, key: str, default: Sequence[str] | None = ()) -> tuple[str, ...]:
        if key not in self.data:
            if default is None:
                raise self.fail(f"missing {key!r}")
            return tuple(default)
        values = self.data[key]
        if not isinstance(values, list) or not all(
            isinstance(v, str) and v.strip() for v in values
        ):
            raise self.fail(f"{key!r} must be a list of non-empty strings", key)
        return tuple(values)

    def table_of(self, key: str) -> Mapping[str, Any]:
        return self._get(key, dict, "a table", None)

    def names(self, key: str) -> Names:
        table = self.table_of(key)
        for lang in table:
            if lang not in LANGS:
                raise self.fail(f"{key!r}: unknown language {lang!r}", key)
        missing = [
            lang for lang in LANGS if not isinstance(table.get(lang), str) or not table[lang]
        ]
        if missing:
            raise self.fail(f"{key!r} lacks a translation: {', '.join(missing)}", key)
        return Names(fr=table["fr"], en=table["en"], de=table["de"])

    def tz(self, key: str, default: str | None = None) -> str:
        name = self.text(key, default)
        if name:
            try:
                zone(name)
            except HoursError as exc:
                raise self.fail(str(exc), key) from None
        return name


def data_entries(
    file: DataFile, table: str, what: Callable[[int, Mapping[str, Any]], str]
) -> list[DataEntry]:
    """The `[[table]]` entries of a file, each named in errors by `what`."""
    raw = file.data.get(table, [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise file.error(f"{table!r} must be written as [[{table}]] tables", None, 0, table)
    return [DataEntry(file, table, i, e, what(i, e)) for i, e in enumerate(raw)]


def entry_label(kind: str, key: str) -> Callable[[int, Mapping[str, Any]], str]:
    """How errors name an entry: "service 'fax'" (by its `key`), else "service #3"."""

    def label(index: int, entry: Mapping[str, Any]) -> str:
        value = entry.get(key)
        return f"{kind} {value!r}" if isinstance(value, str) else f"{kind} #{index + 1}"

    return label


def top_level(file: DataFile, allowed: Iterable[str], what: str) -> DataEntry:
    """A file's top level, refusing keys other than `allowed`."""
    top = DataEntry(file, None, 0, file.data, what)
    top.only(allowed)
    return top


def _hours(entry: DataEntry, text: str | None, spans: Sequence[str] | None) -> Hours | None:
    """Hours from printed text (parsed) or printed text plus explicit spans."""
    if spans is not None:
        if not text:
            raise entry.fail("'spans' need the printed 'hours' text too", "spans")
        try:
            return Hours(text=text, spans=parse_spans(spans))
        except HoursError as exc:
            raise entry.fail(f"bad hours: {exc}", "spans") from None
    if not text:
        return None
    try:
        return parse_printed(text)
    except HoursError as exc:
        raise entry.fail(f"bad hours: {exc} (or give 'spans')", "hours") from None


def _read_services(path: Path) -> tuple[Service, ...]:
    file = DataFile.read(path)
    top_level(file, ["service"], "services")
    services: list[Service] = []
    seen_order: dict[int, str] = {}
    for entry in data_entries(file, "service", entry_label("service", "code")):
        entry.only(["code", "order", "menu", "names", "keywords"])
        code = entry.text("code")
        if not _SERVICE_CODE.fullmatch(code):
            raise entry.fail("code must be lower-case letters, digits and '_'", "code")
        if any(s.code == code for s in services):
            raise entry.fail("duplicate service code", "code")
        order = entry.integer("order")
        if order in seen_order:
            raise entry.fail(f"order {order} already used by {seen_order[order]!r}", "order")
        seen_order[order] = code
        keywords = entry.table_of("keywords")
        flat: list[str] = []
        for lang in LANGS:
            words_of = keywords.get(lang)
            if not isinstance(words_of, list) or not words_of:
                raise entry.fail(f"keywords lack a list for {lang!r}", "keywords")
            for word in words_of:
                if not isinstance(word, str) or not words(word):
                    raise entry.fail(f"keyword {word!r} has no word in it", "keywords")
                if word not in flat:
                    flat.append(word)
        unknown = set(keywords) - set(LANGS)
        if unknown:
            raise entry.fail(f"keywords: unknown language {sorted(unknown)[0]!r}", "keywords")
        services.append(
            Service(
                code=code,
                names=entry.names("names"),
                keywords=tuple(flat),
                menu=entry.text("menu", empty=False),
                order=order,
            )
        )
    if not services:
        raise file.error("no [[service]] at all")
    return tuple(sorted(services, key=lambda s: s.order))


def _read_countries(path: Path) -> tuple[Country, ...]:
    file = DataFile.read(path)
    top_level(file, ["country"], "countries")
    countries: dict[str, Country] = {}
    spelled: dict[tuple[str, ...], str] = {}
    for entry in data_entries(file, "country", entry_label("country", "code")):
        entry.only(["code", "iso", "tz", "names", "aliases"])
        code = entry.text("code")
        if not _COUNTRY_CODE.fullmatch(code):
            raise entry.fail("code must be upper-case letters and digits (ISO 3166-1)", "code")
        if code in countries:
            raise entry.fail("duplicate country code", "code")
        iso = entry.text("iso", "") or None
        if iso is not None and (iso != code or len(iso) != 2):
            raise entry.fail(f"iso {iso!r} must be the two-letter code, equal to code", "iso")
        if iso is None and len(code) == 2:
            raise entry.fail("a two-letter code is an ISO code: give iso = code too", "code")
        names = entry.names("names")
        aliases = entry.texts("aliases")
        for spelling in (names.fr, names.en, names.de, *aliases):
            key = words(spelling)
            other = spelled.setdefault(key, code)
            if not key or other != code:
                raise entry.fail(f"{spelling!r} also names country {other!r}", spelling)
        countries[code] = Country(
            code=code, iso=iso, names=names, tz=entry.tz("tz"), aliases=aliases
        )
    if not countries:
        raise file.error("no [[country]] at all")
    return tuple(countries[code] for code in sorted(countries))


def _number(entry: DataEntry, raw: object) -> Number:
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict):
        raise entry.fail(f"a number must be a string or a table, not {raw!r}", "numbers")
    text = raw.get("text")
    where = text if isinstance(text, str) and text else "numbers"
    unknown = set(raw) - {"text", "kind", "label", "notes"}
    if unknown:
        raise entry.fail(f"number: unknown key {sorted(unknown)[0]!r}", where)
    kind = raw.get("kind", "phone")
    label = raw.get("label", "")
    notes = raw.get("notes", [])
    if not isinstance(text, str) or not text.strip():
        raise entry.fail("a number needs a non-empty 'text'", where)
    if kind not in KINDS:
        raise entry.fail(f"number {text!r}: kind must be one of {', '.join(KINDS)}", where)
    if not isinstance(label, str):
        raise entry.fail(f"number {text!r}: label must be a string", where)
    if not isinstance(notes, list) or not all(isinstance(n, str) and n for n in notes):
        raise entry.fail(f"number {text!r}: notes must be a list of strings", where)
    nd = text == "ND"
    if not nd:
        if kind in ("phone", "fax") and not any(c.isdigit() for c in text):
            raise entry.fail(f"number {text!r} has no digit", where)
        if kind == "url" and not re.match(r"[a-z]+://\S+$", text):
            raise entry.fail(f"address {text!r} must be a URL (scheme://...)", where)
        if kind == "ftp" and not re.fullmatch(r"[\w.-]+\.[a-z]{2,}", text):
            raise entry.fail(f"FTP host {text!r} must be a host name", where)
    return Number(text=text, kind=kind, label=label, notes=tuple(notes), nd=nd)


_LISTING_KEYS = (
    "service",
    "country",
    "printed",
    "numbers",
    "hours",
    "spans",
    "languages",
    "remark",
    "erratum",
    "tz",
)


def _read_listings(
    folder: Path, services: Mapping[str, Service], countries: Mapping[str, Country]
) -> tuple[Listing, ...]:
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise DataError(f"{folder}:0: no listing file (*.toml)")
    tables: list[tuple[int, DataFile, DataEntry]] = []
    orders: dict[int, Path] = {}
    for path in files:
        file = DataFile.read(path)
        top = top_level(
            file,
            ["order", "source", "service", "hours", "spans", "languages", "listing"],
            "listing file",
        )
        order = top.integer("order")
        if order in orders:
            raise top.fail(f"order {order} already used by {orders[order]}", "order")
        orders[order] = path
        tables.append((order, file, top))
    listings: list[Listing] = []
    seen: dict[tuple[str, str, tuple[str, ...]], str] = {}
    for _, file, top in sorted(tables, key=lambda t: t[0]):
        source = top.text("source", empty=False)
        default_service = top.text("service", "")
        if default_service and default_service not in services:
            raise top.fail(f"unknown service {default_service!r}", "service")
        default_hours = top.text("hours", "")
        default_spans = top.texts("spans", None) if "spans" in top.data else None
        default_languages = top.texts("languages")
        _hours(top, default_hours, default_spans)  # refuse bad defaults at their own line
        entries = data_entries(file, "listing", entry_label("listing", "country"))
        if not entries:
            raise top.fail("no [[listing]] at all")
        for entry in entries:
            entry.only(_LISTING_KEYS)
            service = entry.text("service", default_service)
            if service not in services:
                raise entry.fail(
                    f"unknown service {service!r}" if service else "missing 'service'", "service"
                )
            country = entry.text("country")
            if country not in countries:
                raise entry.fail(f"unknown country {country!r}", "country")
            numbers_raw = entry.data.get("numbers")
            if not isinstance(numbers_raw, list) or not numbers_raw:
                raise entry.fail("'numbers' must be a non-empty list", "numbers")
            numbers = tuple(_number(entry, raw) for raw in numbers_raw)
            texts = tuple(n.text for n in numbers)
            if len(set(texts)) != len(texts):
                raise entry.fail("the same number twice", "numbers")
            key = (service, country, texts)
            if key in seen:
                raise entry.fail(f"duplicate listing (same as {seen[key]})", "numbers")
            seen[key] = f"{file.path}:{file.header_line('listing', entry.index)}"
            own_hours = "hours" in entry.data or "spans" in entry.data
            hours = _hours(
                entry,
                entry.text("hours", "") if own_hours else default_hours,
                (entry.texts("spans") if "spans" in entry.data else None)
                if own_hours
                else default_spans,
            )
            listings.append(
                Listing(
                    service=service,
                    country=country,
                    seq=len(listings) + 1,
                    printed=entry.text("printed", empty=False),
                    numbers=numbers,
                    hours=hours,
                    languages=entry.texts("languages", default_languages),
                    remark=entry.text("remark", ""),
                    erratum=entry.text("erratum", ""),
                    tz=entry.tz("tz", ""),
                    source=source,
                )
            )
    return tuple(sorted(listings, key=lambda li: (services[li.service].order, li.seq)))


def _read_centres(path: Path, countries: Mapping[str, Country]) -> tuple[Centre, ...]:
    file = DataFile.read(path)
    top_level(file, ["centre"], "centres")
    centres: list[Centre] = []
    for entry in data_entries(file, "centre", entry_label("centre", "code")):
        entry.only(
            [
                *("code", "city", "address", "phone", "hours", "spans", "tz"),
                *("served", "languages", "remark"),
            ]
        )
        code = entry.text("code")
        if not _CENTRE_CODE.fullmatch(code):
            raise entry.fail("code must be lower-case letters, digits and '_'", "code")
        if any(c.code == code for c in centres):
            raise entry.fail("duplicate centre code", "code")
        served_raw = entry.data.get("served")
        if not isinstance(served_raw, list) or not served_raw:
            raise entry.fail("'served' must be a non-empty list", "served")
        printed: list[str] = []
        codes: list[str] = []
        for item in served_raw:
            if not isinstance(item, dict) or set(item) != {"printed", "country"}:
                raise entry.fail(
                    'each of \'served\' is { printed = "...", country = "CODE" }', "served"
                )
            if item["country"] not in countries:
                raise entry.fail(f"unknown country {item['country']!r}", str(item["country"]))
            if item["country"] in codes:
                raise entry.fail(f"country {item['country']!r} served twice", item["country"])
            printed.append(str(item["printed"]))
            codes.append(item["country"])
        hours = _hours(
            entry,
            entry.text("hours", empty=False),
            entry.texts("spans") if "spans" in entry.data else None,
        )
        assert hours is not None  # "hours" is required and not empty
        centres.append(
            Centre(
                code=code,
                city=entry.text("city", empty=False),
                address=entry.texts("address", None),
                phone=entry.text("phone", empty=False),
                hours=hours,
                tz=entry.tz("tz"),
                countries=tuple(codes),
                served=tuple(printed),
                languages=entry.texts("languages"),
                remark=entry.text("remark", ""),
            )
        )
    return tuple(centres)


def _check_words(services: Sequence[Service], countries: Sequence[Country], path: Path) -> None:
    # A word that means both a country and a service would make searches guess.
    names = {words(n): c.code for c in countries for n in (*_all_names(c.names), *c.aliases)}
    for service in services:
        for keyword in service.keywords:
            if words(keyword) in names:
                file = DataFile.read(path)
                index = [e.get("code") for e in file.data["service"]].index(service.code)
                raise file.error(
                    f"service {service.code!r}: keyword {keyword!r} also names "
                    f"country {names[words(keyword)]!r}",
                    "service",
                    index,
                    keyword,
                )


def _all_names(names: Names) -> tuple[str, ...]:
    return (names.fr, names.en, names.de)


def read_data_dir(path: Path) -> Directory:
    """The directory held in the data folder `path` (services, countries, listings, centres)."""
    services = _read_services(path / "services.toml")
    countries = _read_countries(path / "countries.toml")
    _check_words(services, countries, path / "services.toml")
    listings = _read_listings(
        path / "listings",
        {s.code: s for s in services},
        {c.code: c for c in countries},
    )
    centres = _read_centres(path / "centres.toml", {c.code: c for c in countries})
    return Directory(services=services, countries=countries, listings=listings, centres=centres)
