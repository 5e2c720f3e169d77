"""Look-ups on the real directory: names in three languages, codes, prefixes, services,
numbers, and whether a listing is open at fixed instants in its own time zone."""

from __future__ import annotations

import json
import time as clock
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bbs.directory.datafiles import read_data_dir
from bbs.directory.hours import OpenState
from bbs.directory.query import (
    Answer,
    Entry,
    Index,
    Kind,
    answer_to_json,
    build_index,
    centre_status,
    completion_words,
    country_answer,
    find_country,
    number_answer,
    search,
    service_answer,
)
from bbs.directory.text import fold

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index(read_data_dir(ROOT / "data"))


def card_of(answer: Answer) -> str:
    assert answer.kind is Kind.COUNTRY, answer
    assert len(answer.cards) == 1, [c.country.code for c in answer.cards]
    return answer.cards[0].country.code


def numbers_of(entries: tuple[Entry, ...]) -> set[str]:
    return {n.text for e in entries for n in e.numbers}


BELGIUM = {"+ 31 20 600 4666", "+ 33 1 3048 9450", "+32 2 714 31 34", "+32 2 714 31 29"}


def test_belgique_gives_every_belgian_number(index: Index) -> None:
    answer = search(index, "belgique")
    assert card_of(answer) == "BE"
    card = answer.cards[0]
    assert numbers_of(card.entries) == BELGIUM
    assert [e.service.code for e in card.entries] == ["telematique", "fax", "gratuite"]
    assert [c.code for c in card.centres] == ["paris"]
    assert answer.found


def test_belgique_fax(index: Index) -> None:
    answer = search(index, "belgique fax")
    assert card_of(answer) == "BE"
    assert numbers_of(answer.cards[0].entries) == {"+32 2 714 31 34"}
    assert answer.cards[0].centres == ()
    assert [s.code for s in answer.services] == ["fax"]
    assert card_of(search(index, "fax belgique")) == "BE"


def test_norway_bbs(index: Index) -> None:
    answer = search(index, "norway bbs")
    assert card_of(answer) == "NO"
    assert numbers_of(answer.cards[0].entries) == {"+46 8 750 83 70"}


def test_allemagne_gratuite(index: Index) -> None:
    for text in ("allemagne gratuite", "germany free", "Deutschland kostenlos"):
        answer = search(index, text)
        assert card_of(answer) == "DE", text
        assert numbers_of(answer.cards[0].entries) == {"+49 89 74 85 55 11"}, text


@pytest.mark.parametrize("text", ["BE", "be", "Be", " belgique ", "BELGIQUE"])
def test_iso_codes_and_case(index: Index, text: str) -> None:
    assert card_of(search(index, text)) == "BE"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Belgien", "BE"),
        ("Belgium", "BE"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("Österreich", "AT"),
        ("oesterreich", "AT"),
        ("osterreich", "AT"),
        ("Schweiz", "CH"),
        ("Switzerland", "CH"),
        ("Norwegen", "NO"),
        ("NORVÈGE", "NO"),
        ("norvege", "NO"),
        ("Étâts-Ùnis", "US"),
        ("etats unis", "US"),
        ("United States", "US"),
        ("USA", "US"),
        ("Vereinigtes Königreich", "GB"),
        ("Grande-Bretagne", "GB"),
        ("UK", "GB"),
        ("Pays-bas", "NL"),
        ("Hollande", "NL"),
        ("Südafrika", "ZA"),
        ("afrique du sud", "ZA"),
        ("Chili", "AMLAT-SUD"),
        ("Chili et pays du sud de l'Amérique latine", "AMLAT-SUD"),
        ("Les îles Caïmans", "KY"),
        ("Russie (Moscou)", "RU"),
        ("Slovanie", "SI"),
        ("Yougoslavie", "YU"),
        ("Ecosse", "GB-SCT"),
        ("pays de galles", "GB-WLS"),
        ("Emirats Arabe unie", "AE"),
    ],
)
def test_names_in_every_language_and_as_printed(index: Index, text: str, code: str) -> None:
    assert card_of(search(index, text)) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("belg", "BE"), ("norv", "NO"), ("royaume", "GB"), ("nouvelle", "NZ"), ("afri", "ZA")],
)
def test_prefixes(index: Index, text: str, code: str) -> None:
    assert card_of(search(index, text)) == code


def test_an_ambiguous_prefix_offers_a_choice(index: Index) -> None:
    answer = search(index, "hong")
    assert answer.kind is Kind.CHOICE and not answer.found
    assert {c.code for c in answer.choices} == {"HK", "HU"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fax", "fax"),
        ("télécopie", "fax"),
        ("TELEFAX", "fax"),
        ("bbs", "telematique"),
        ("télématique", "telematique"),
        ("telematique", "telematique"),
        ("mailbox", "telematique"),
        ("gratuite", "gratuite"),
        ("free", "gratuite"),
        ("kostenlos", "gratuite"),
        ("minitel", "minitel"),
        ("compuserve", "compuserve"),
        ("passport", "passport"),
        ("knowledge", "knowledge"),
    ],
)
def test_service_words(index: Index, text: str, code: str) -> None:
    answer = search(index, text)
    assert answer.kind is Kind.SERVICE
    assert [s.code for s in answer.services] == [code]
    assert {e.service.code for e in answer.entries} == {code}


def test_a_service_answer_lists_every_country(index: Index) -> None:
    answer = service_answer(index, "fax")
    countries = {e.country.code for e in answer.entries}
    assert {"ZA", "DE", "AT", "AU", "BE", "CA", "US", "SG", "CH", "LU", "NL"} <= countries
    assert answer.entries[0].country.code == "ZA"  # the seed's order
    with pytest.raises(ValueError, match="unknown service"):
        service_answer(index, "telex")


def test_latin_america_means_both_tables(index: Index) -> None:
    answer = search(index, "amérique latine")
    assert {s.code for s in answer.services} == {"latam_filiale", "latam_bureau"}
    mexico = search(index, "mexique amerique latine")
    assert numbers_of(mexico.cards[0].entries) == {
        "+52 56 31 2061",
        "+52-5-631-2061",
        "+525-631-1724",
    }


def test_two_letter_words_are_codes_only_alone(index: Index) -> None:
    assert card_of(search(index, "de")) == "DE"
    assert card_of(search(index, "in")) == "IN"
    answer = search(index, "fax in belgium")
    assert card_of(answer) == "BE" and answer.ignored == ()
    assert card_of(search(index, "numéros de la Belgique")) == "BE"


def test_the_service_argument_narrows(index: Index) -> None:
    answer = search(index, "belgique", service="gratuite")
    assert numbers_of(answer.cards[0].entries) == {"+32 2 714 31 29"}
    with pytest.raises(ValueError, match="unknown service"):
        search(index, "belgique", service="telex")


@pytest.mark.parametrize(
    "text", ["46 8 750 83 70", "+46 8 750 8370", "+ 46 8 750 83 70", "750 83 70"]
)
def test_reverse_lookup_by_digits(index: Index, text: str) -> None:
    answer = search(index, text)
    assert answer.kind is Kind.NUMBER and answer.numbers == (text,)
    assert {(e.service.code, e.country.code) for e in answer.entries} == {
        ("telematique", "DK"),
        ("telematique", "FI"),
        ("telematique", "NO"),
        ("telematique", "SE"),
    }
    assert numbers_of(answer.entries) == {"+ 46 8 750 83 70", "+46 8 750 83 70", "+46 8 750 8370"}


def test_reverse_lookup_finds_centres_too(index: Index) -> None:
    answer = number_answer(index, "+49 89 74 85 55 11")
    assert [(e.service.code, e.country.code) for e in answer.entries] == [("gratuite", "DE")]
    assert [c.code for c in answer.centres] == ["munich"]  # printed "49 89 748 555 11"


def test_reverse_lookup_of_spelt_and_web_numbers(index: Index) -> None:
    for text in ("1-800-GO-LOTUS", "1 800 465 6887", "18004656887"):
        answer = search(index, text)
        assert {e.service.code for e in answer.entries} == {"knowledge", "passport"}, text
    assert {e.service.code for e in search(index, "support.lotus.com").entries} == {"web", "ftp"}
    assert [e.service.code for e in search(index, "3616 LOTUSTEL").entries] == ["minitel"]


def test_an_unknown_number(index: Index) -> None:
    answer = search(index, "+99 123 456 789")
    assert answer.kind is Kind.NOT_FOUND and answer.numbers == ("+99 123 456 789",)


def test_nothing_found_suggests_close_names(index: Index) -> None:
    answer = search(index, "belgik")
    assert answer.kind is Kind.NOT_FOUND and not answer.found
    assert answer.suggestions[0].code == "BE"
    assert search(index, "swizerland").suggestions[0].code == "CH"
    assert search(index, "").kind is Kind.NOT_FOUND
    assert search(index, "xyzzy").kind is Kind.NOT_FOUND


def test_words_not_understood_are_reported(index: Index) -> None:
    answer = search(index, "frnce fax")
    assert answer.kind is Kind.SERVICE and answer.ignored == ("frnce",)
    assert any(s.code == "FR" for s in answer.suggestions)


def test_parts_of_a_country_borrow_its_listings(index: Index) -> None:
    england = country_answer(index, "GB-ENG").cards[0]
    assert england.parent is not None and england.parent.code == "GB"
    assert numbers_of(england.entries) >= {"+44 17 84 44 58 35", "+44 1784 445 718"}
    assert [c.code for c in england.centres] == ["staines"]
    uk = search(index, "royaume-uni").cards[0]
    assert {r.code for r in uk.regions} == {"GB-ENG", "GB-SCT", "GB-WLS"}
    assert [c.code for c in uk.centres] == ["staines"]


def test_a_country_only_a_centre_serves(index: Index) -> None:
    card = search(index, "portugal").cards[0]
    assert card.entries == () and [c.code for c in card.centres] == ["paris"]


def test_country_answer_by_code_or_name(index: Index) -> None:
    assert card_of(country_answer(index, "SE")) == "SE"
    assert card_of(country_answer(index, "Suède")) == "SE"
    assert country_answer(index, "fax").kind is Kind.NOT_FOUND
    assert (
        country_answer(index, "suisse", services=["fax"]).cards[0].entries[0].service.code == "fax"
    )
    sweden = find_country(index, "sverige")
    assert sweden is not None and sweden.code == "SE"
    assert find_country(index, "atlantis") is None


def test_completion_words(index: Index) -> None:
    french = completion_words(index, "fr")
    assert "Belgique" in french and "fax" in french and "bbs" in french
    assert "Belgien" in completion_words(index, "de")
    assert "Belgium" in completion_words(index, "en")
    assert list(french) == sorted(french, key=fold) and len(set(french)) == len(french)


def test_answer_to_json(index: Index) -> None:
    now = datetime(1995, 3, 10, 10, 0, tzinfo=UTC)
    data = answer_to_json(search(index, "belgique"), now)
    json.dumps(data)
    assert data["kind"] == "country" and data["found"] is True
    entries = data["cards"][0]["entries"]
    assert entries[2]["numbers"][0]["text"] == "+32 2 714 31 29"
    assert entries[2]["status"]["state"] == "open"
    assert entries[2]["hours"]["spans"] == ["Mon-Fri 10:00-17:00"]
    assert "status" not in answer_to_json(search(index, "belgique"))["cards"][0]["entries"][0]
    assert answer_to_json(search(index, "hong"))["choices"][0]["code"] in {"HK", "HU"}


# --- open or closed, at fixed instants ------------------------------------------------------


def one_entry(index: Index, text: str) -> Entry:
    answer = search(index, text)
    entries = answer.cards[0].entries if answer.cards else answer.entries
    assert len(entries) == 1, entries
    return entries[0]


def test_germany_closes_early_on_friday(index: Index) -> None:
    german = one_entry(index, "allemagne gratuite")
    thursday = datetime(1995, 3, 9, 14, 30, tzinfo=UTC)  # 15:30 in Munich (CET)
    friday = datetime(1995, 3, 10, 14, 30, tzinfo=UTC)
    assert german.status(thursday).state is OpenState.OPEN
    closed = german.status(friday)
    assert closed.state is OpenState.CLOSED
    assert closed.local.hour == 15 and closed.local.minute == 30
    assert closed.change is not None and (closed.change.weekday(), closed.change.hour) == (0, 9)
    assert german.status(datetime(1995, 3, 10, 13, 59, tzinfo=UTC)).state is OpenState.OPEN
    # Summer time: 14:30 in Munich is 12:30 UTC.
    assert german.status(datetime(1995, 7, 7, 12, 30, tzinfo=UTC)).state is OpenState.OPEN
    assert german.status(datetime(1995, 7, 7, 13, 30, tzinfo=UTC)).state is OpenState.CLOSED


def test_cc_mail_keeps_california_hours(index: Index) -> None:
    notes, ccmail = search(index, "usa gratuite").cards[0].entries
    morning = datetime(1995, 3, 10, 16, 5, tzinfo=UTC)  # 11:05 in Boston, 08:05 in California
    assert notes.status(morning).state is OpenState.OPEN
    assert ccmail.tz == "America/Los_Angeles"
    waiting = ccmail.status(morning)
    assert waiting.state is OpenState.CLOSED and waiting.local.hour == 8
    assert waiting.change is not None and (waiting.change.hour, waiting.change.minute) == (8, 30)
    assert ccmail.status(datetime(1995, 3, 10, 16, 45, tzinfo=UTC)).state is OpenState.OPEN


def test_weekends_automated_services_and_missing_hours(index: Index) -> None:
    sunday = datetime(1995, 3, 12, 12, 0, tzinfo=UTC)
    belgian = one_entry(index, "belgique gratuite")
    state = belgian.status(sunday)
    assert state.state is OpenState.CLOSED and not state.is_open
    assert state.change is not None and state.change.weekday() == 0
    bbs = search(index, "belgique bbs").cards[0].entries[0]
    assert bbs.status(sunday).state is OpenState.ALWAYS and bbs.status(sunday).is_open
    japan = one_entry(index, "japon gratuite")
    assert japan.status(sunday).state is OpenState.UNKNOWN


def test_far_east_time_zones(index: Index) -> None:
    taiwan = one_entry(index, "taiwan gratuite")
    # 01:00 UTC is 09:00 in Taipei, when Europe sleeps.
    assert taiwan.status(datetime(1995, 3, 10, 1, 0, tzinfo=UTC)).state is OpenState.OPEN
    assert taiwan.status(datetime(1995, 3, 10, 12, 0, tzinfo=UTC)).state is OpenState.CLOSED


def test_swiss_friday_hours_are_missing_in_the_seed(index: Index) -> None:
    swiss = one_entry(index, "suisse gratuite")
    assert swiss.listing.erratum
    assert swiss.status(datetime(1995, 3, 10, 9, 0, tzinfo=UTC)).state is OpenState.CLOSED
    assert swiss.status(datetime(1995, 3, 9, 9, 0, tzinfo=UTC)).state is OpenState.OPEN


def test_centres_open_in_their_own_zone(index: Index) -> None:
    centres = {c.code: c for c in index.directory.centres}
    at = datetime(1995, 3, 10, 9, 30, tzinfo=UTC)
    assert centre_status(centres["staines"], at).state is OpenState.OPEN
    toronto = centre_status(centres["toronto"], at)
    assert toronto.state is OpenState.CLOSED and toronto.local.hour == 4
    assert toronto.change is not None and toronto.change.day == 10


def test_now_must_be_aware(index: Index) -> None:
    with pytest.raises(ValueError, match="aware"):
        one_entry(index, "belgique gratuite").status(datetime(1995, 3, 10, 12, 0))


def test_searches_are_fast(index: Index) -> None:
    queries = [
        "belgique",
        "belgique fax",
        "norway bbs",
        "46 8 750 83 70",
        "allemagne gratuite",
        "hong",
        "BE",
        "1-800-GO-LOTUS",
        "chili et pays du sud de l'Amérique latine",
        "fax",
    ]
    rounds = 200
    start = clock.perf_counter()
    for _ in range(rounds):
        for text in queries:
            search(index, text)
    average = (clock.perf_counter() - start) / (rounds * len(queries))
    assert average < 0.001, f"{average * 1e6:.0f} µs a search"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Munich", "munich"),
        ("München", "munich"),
        ("Paris", "paris"),
        ("Staines", "staines"),
        ("Toronto", "toronto"),
        ("lotus park", "staines"),
        ("Lotus Dev GmbH", "munich"),
        ("Saint-Quentin", "paris"),
        ("Baierbrunner", "munich"),
    ],
)
def test_centres_are_found_by_city_company_and_address(index: Index, text: str, code: str) -> None:
    answer = search(index, text)
    assert answer.kind is Kind.CENTRE and answer.found, answer
    assert [c.code for c in answer.centres] == [code]
    assert not answer.suggestions


def test_a_company_word_shared_by_centres_lists_them_all(index: Index) -> None:
    codes = [c.code for c in search(index, "Lotus Dev").centres]
    assert codes == ["munich", "staines", "toronto"]  # Paris prints no company name


def test_did_you_mean_only_suggests_close_names(index: Index) -> None:
    # "paris" shares four letters with Pakistan, which is not what anyone meant.
    assert search(index, "paris").suggestions == ()
    assert search(index, "parisse").suggestions == ()  # was Passport, Suisse
    assert [s.code for s in search(index, "rome").suggestions] == []  # was Roumanie, Knowledge
    assert search(index, "pakistn").suggestions[0].code == "PK"
    assert search(index, "frnace").suggestions[0].code == "FR"


def test_nd_listings_are_never_open(index: Index) -> None:
    # Telematic boards are open 24 hours a day, but Australia's and the UK's are "ND".
    for name in ("australie", "royaume-uni"):
        entries = [e for e in search(index, f"{name} bbs").cards[0].entries if e.numbers]
        nd = [e for e in entries if all(n.nd for n in e.numbers)]
        assert nd, name
        for entry in nd:
            state = entry.status(datetime(1995, 3, 10, 11, 0, tzinfo=UTC))
            assert not state.is_open and state.state is OpenState.UNKNOWN
