"""Every number the seed prints is in the directory, found both by itself and by its country.

The expected numbers come from the seed (seed/000_9987a0a7e4d1268d.txt, the shared original), not
from data/: a regex extractor reads every table row, and a short explicit list covers
what a regex cannot attribute (the centres' cells, the Minitel sentence, two numbers
printed without a separator). Conversely, every number, label, note and address in
data/ must be printed in the seed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bbs.directory.datafiles import read_data_dir
from bbs.directory.format import format_answer
from bbs.directory.query import Index, Kind, build_index, country_answer, search
from bbs.menus.strings import Strings, load_strings
from bbs.terminal.markup import escape

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(os.environ.get("LOTUS_SEED", ROOT / "seed" / "000_9987a0a7e4d1268d.txt"))

SEED_TEXT = SEED.read_text(encoding="utf-8")

PHONE = re.compile(r"(?:\+ ?)?\(?\d[\d ().\-]{4,}\d")
VANITY = re.compile(r"\b\d-\d{3}-[A-Z]{2}-[A-Z]+\b")
URL = re.compile(r"https?://\S+")
FTP_HOST = re.compile(r"\bftp\.[\w.]*\w")

CANADA_SECTION = ("Assistance clients au Canada", "Assistance clients en Amérique latine")
"""First and last heading of the table whose rows are services, every row for Canada."""
CENTRES_SECTION = "Centres d'assistance internationaux de Lotus"
"""Heading of the centres' table, whose cells mix addresses, phones and countries."""

CENTRE_PHONES = {
    "331 301 25800": "France",
    "49 89 748 555 11": "Allemagne",
    "44 784 455445": "Angleterre",
    "416-364-8000": "Canada",
    "1-800-GO-LOTUS": "Canada",
}
"""Every number of the centres' table, with the country of the centre's city."""

PROSE = {"3616 LOTUSTEL": "France"}
"""Numbers printed in sentences rather than tables ("... du Minitel, au 3616 LOTUSTEL")."""

NOT_NUMBERS = {"35 8000": "Baierbrunnerstrasse 35 8000 Munchen 70"}
"""Digit runs of the centres' addresses that look like numbers, with their context."""

JOINED = {"1 800 444 9356 886 2 546 3100": ("1 800 444 9356", "886 2 546 3100")}
"""Cells with two numbers and nothing between them (the free-support row of Singapore)."""


@dataclass(frozen=True)
class Printed:
    """A number as the seed prints it, and the country name of its row."""

    text: str
    country: str
    line: int


def _clean_country(cell: str) -> str:
    cell = re.sub(r"</?u>", "", cell).replace("*", "")
    return cell.strip().rstrip(",").strip()


def _numbers_in(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    taken = list(text)
    for pattern in (URL, FTP_HOST, VANITY, PHONE):
        for match in pattern.finditer("".join(taken)):
            found.append((match.start(), match.group()))
            taken[match.start() : match.end()] = " " * len(match.group())
    out: list[str] = []
    for _, number in sorted(found):
        out.extend(JOINED.get(number, (number,)))
    return out


def extract(seed: str) -> list[Printed]:
    """Every number of every table of the seed, with the country its row names."""
    printed: list[Printed] = []
    section = ""
    country = ""
    for number, line in enumerate(seed.splitlines(), start=1):
        bare = line.strip()
        if "\t" not in line:
            if bare == CANADA_SECTION[0]:
                section = "canada"
            elif bare == CANADA_SECTION[1] or (bare == CENTRES_SECTION and section != "centres"):
                section = "centres" if bare == CENTRES_SECTION else ""
            if section != "centres":
                continue
        if section == "centres":
            for text in _numbers_in(line):
                if text in NOT_NUMBERS and NOT_NUMBERS[text] in line:
                    continue
                assert text in CENTRE_PHONES, f"seed line {number}: unattributed {text!r}"
                printed.append(Printed(text, CENTRE_PHONES[text], number))
            continue
        first, _, rest = line.partition("\t")
        if section == "canada":
            country = "Canada"
        elif first.strip():
            country = _clean_country(first)
        for text in _numbers_in(rest):
            printed.append(Printed(text, country, number))
    for text, place in PROSE.items():
        assert text in seed, f"{text!r} is not in the seed any more"
        printed.append(Printed(text, place, seed[: seed.index(text)].count("\n") + 1))
    return printed


PRINTED = extract(SEED_TEXT)


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index(read_data_dir(ROOT / "data"))


@pytest.fixture(scope="module")
def strings() -> Strings:
    return load_strings(ROOT / "menus" / "strings")


def test_the_extractor_finds_the_seed_tables() -> None:
    # Guards the extractor itself: a regex that silently stopped matching would make
    # every test below pass on nothing.
    texts = [p.text for p in PRINTED]
    assert len(texts) >= 110
    for sample in ("+27 11 884 7018", "1-4-15-691-0401", "+41 (0) 1 870 10 11", "+525-631-1724"):
        assert sample in texts
    assert "http://www.support.lotus.com/" in texts and "ftp.support.lotus.com" in texts
    assert "886 2 546 3100" in texts and "1 800 444 9356" in texts
    countries = {p.country for p in PRINTED}
    assert {"USA", "Canada", "Pays-bas", "Chili et pays du sud de l'Amérique latine"} <= countries


@pytest.mark.parametrize("printed", PRINTED, ids=lambda p: f"{p.country}:{p.text}@{p.line}")
def test_number_is_found_by_itself(index: Index, printed: Printed) -> None:
    answer = search(index, printed.text)
    assert answer.kind is Kind.NUMBER, f"{printed.text!r} (seed line {printed.line}) not found"
    texts = {n.text for e in answer.entries for n in e.numbers} | {c.phone for c in answer.centres}
    assert printed.text in texts, f"{printed.text!r} (seed line {printed.line}) not in the answer"


@pytest.mark.parametrize("printed", PRINTED, ids=lambda p: f"{p.country}:{p.text}@{p.line}")
def test_number_is_on_its_country_card(index: Index, strings: Strings, printed: Printed) -> None:
    answer = search(index, printed.country)
    assert answer.kind is Kind.COUNTRY, f"country {printed.country!r} not found"
    assert len(answer.cards) == 1, f"country {printed.country!r} is ambiguous"
    card = answer.cards[0]
    texts = {n.text for e in card.entries for n in e.numbers} | {c.phone for c in card.centres}
    texts |= {word for c in card.centres for word in VANITY.findall(c.remark)}
    assert printed.text in texts, (
        f"{printed.text!r} (seed line {printed.line}) missing from the card of {printed.country}"
    )
    assert country_answer(index, printed.country).cards[0].country == card.country
    screen = format_answer(answer, "fr", datetime(1995, 3, 10, 12, tzinfo=UTC), 80, strings)
    assert escape(printed.text) in screen


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_every_value_in_data_is_printed_in_the_seed(index: Index) -> None:
    seed = _squash(SEED_TEXT)
    missing: list[str] = []
    for listing in index.directory.listings:
        where = f"{listing.service}/{listing.country}"
        values = [listing.printed, *listing.languages]
        for number in listing.numbers:
            values += [number.text, number.label, *number.notes]
        missing += [f"{where}: {v!r}" for v in values if v and _squash(v) not in seed]
    for centre in index.directory.centres:
        values = [centre.city, centre.phone, *centre.address, *centre.served, *centre.languages]
        missing += [f"centre {centre.code}: {v!r}" for v in values if _squash(v) not in seed]
    assert not missing, "not in the seed:\n" + "\n".join(missing)


def test_every_seed_number_has_a_home(index: Index) -> None:
    in_data = {n.text for li in index.directory.listings for n in li.numbers if not n.nd}
    in_data |= {c.phone for c in index.directory.centres}
    from_seed = {p.text for p in PRINTED}
    assert in_data - from_seed == set(), "numbers in data/ the extractor did not find"
    assert from_seed - in_data - {"1-800-GO-LOTUS"} == set()
