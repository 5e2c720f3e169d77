"""data/ read into a Directory: the values as printed, and bad files refused at their line."""

from __future__ import annotations

import shutil
from datetime import time
from pathlib import Path

import pytest

from bbs.directory.datafiles import DataError, read_data_dir
from bbs.directory.model import Directory, Listing

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

SERVICE_CODES = {
    "telematique",
    "gratuite",
    "fax",
    "latam_filiale",
    "latam_bureau",
    "compuserve",
    "web",
    "ftp",
    "knowledge",
    "assistance_base",
    "passport",
    "minitel",
}


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_data_dir(DATA)


def listings(directory: Directory, service: str, country: str) -> list[Listing]:
    return [li for li in directory.listings if li.service == service and li.country == country]


def texts(items: list[Listing]) -> list[str]:
    return [n.text for li in items for n in li.numbers]


# --- the good data ------------------------------------------------------------------------


def test_services_have_the_codes_menus_use(directory: Directory) -> None:
    assert {s.code for s in directory.services} == SERVICE_CODES
    menus = {s.code: s.menu for s in directory.services}
    assert menus["latam_filiale"] == "gratuite"
    assert menus["latam_bureau"] == "amerique_latine"
    assert menus["assistance_base"] == "canada"
    assert menus["minitel"] == "compuserve"
    for service in directory.services:
        assert service.names.fr and service.names.en and service.names.de


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("fax", {"fax", "télécopie", "telefax"}),
        ("telematique", {"bbs", "télématique", "telematique", "modem", "mailbox"}),
        ("gratuite", {"gratuite", "gratuit", "garantie", "free", "warranty", "kostenlos"}),
    ],
)
def test_service_keywords_in_three_languages(
    directory: Directory, code: str, words: set[str]
) -> None:
    service = directory.service(code)
    assert service is not None
    assert words <= set(service.keywords)


def test_numbers_are_kept_exactly_as_printed(directory: Directory) -> None:
    assert texts(listings(directory, "telematique", "AT")) == ["+ 49 89 78 50 91 12"]
    assert texts(listings(directory, "gratuite", "PH")) == ["102 71 800 650 7304"]
    assert "1-905-479-443" in texts(listings(directory, "gratuite", "CA"))
    toronto = [n for li in listings(directory, "fax", "CA") for n in li.numbers]
    assert any(n.label == "AToronto" and n.text == "1-905-479-4800" for n in toronto)
    (canada_bbs,) = [li for li in listings(directory, "telematique", "CA") if "Canada" in li.source]
    assert canada_bbs.numbers[0].text == "1-905-479-5333"
    assert canada_bbs.languages == ("anglais", "français")


def test_labels_and_notes(directory: Directory) -> None:
    belgium = listings(directory, "telematique", "BE")[0].numbers
    assert [(n.text, n.notes) for n in belgium] == [
        ("+ 31 20 600 4666", ("hollandais & anglais",)),
        ("+ 33 1 3048 9450", ("français & anglais",)),
    ]
    us = [n for li in listings(directory, "gratuite", "US") for n in li.numbers]
    assert ("Bureau OS/2", "1-508-988-2820") in [(n.label, n.text) for n in us]
    compuserve = listings(directory, "compuserve", "CA")[0].numbers[0]
    assert compuserve.notes == ("Représentant N°226",)
    swiss = listings(directory, "gratuite", "CH")[0].numbers
    assert [n.notes for n in swiss] == [("francophones",), ("germanophones",)]
    assert listings(directory, "gratuite", "DE")[0].numbers[0].notes == ("après juillet 1994",)


def test_kinds_and_nd(directory: Directory) -> None:
    assert listings(directory, "web", "CA")[0].numbers[0].kind == "url"
    assert listings(directory, "ftp", "CA")[0].numbers[0].kind == "ftp"
    venezuela = listings(directory, "latam_bureau", "VE")[0].numbers
    assert [n.kind for n in venezuela] == ["phone", "phone", "phone", "fax"]
    for country in ("AU", "GB"):
        (number,) = listings(directory, "telematique", country)[0].numbers
        assert number.nd and number.text == "ND"


def test_hours_are_parsed_per_weekday(directory: Directory) -> None:
    hours = listings(directory, "gratuite", "DE")[0].hours
    assert hours is not None and hours.text == "09:00-17:00 Lundi-jeudi 09:00-15:00 Vendredi"
    spans = {(frozenset(s.days), s.opens, s.closes) for s in hours.spans}
    assert spans == {
        (frozenset({0, 1, 2, 3}), time(9), time(17)),
        (frozenset({4}), time(9), time(15)),
    }
    for country in ("JP", "NZ"):
        assert listings(directory, "gratuite", country)[0].hours is None
    for service in ("telematique", "fax", "web", "ftp"):
        for listing in (li for li in directory.listings if li.service == service):
            assert listing.hours is not None and listing.hours.always, listing


def test_us_free_support_is_split_by_hours_and_zone(directory: Directory) -> None:
    notes, ccmail = listings(directory, "gratuite", "US")
    assert notes.hours is not None and notes.hours.spans[0].opens == time(8)
    assert notes.tz == ""
    assert [n.text for n in ccmail.numbers] == ["1-415-966-4900"]
    assert ccmail.hours is not None and ccmail.hours.spans[0].opens == time(8, 30)
    assert ccmail.tz == "America/Los_Angeles"


def test_errata_are_marked(directory: Directory) -> None:
    marked = {
        (li.service, li.country, n.text)
        for li in directory.listings
        if li.erratum
        for n in li.numbers
    }
    assert ("telematique", "LU", "+ 33 1 3048 9450") in marked
    assert ("telematique", "LU", "+33 1 3048 9450") not in marked
    assert ("gratuite", "CA", "1-905-479-443") in marked
    assert ("gratuite", "CA", "1-905-479-4111") not in marked
    assert ("gratuite", "AU", "886 2 546 3100") in marked
    assert ("gratuite", "AU", "+61 2 350 7711") not in marked
    staines = next(c for c in directory.centres if c.code == "staines")
    assert "Erratum" in staines.remark and staines.phone == "44 784 455445"
    munich = next(c for c in directory.centres if c.code == "munich")
    assert "Slovanie" in munich.served and "SI" in munich.countries


def test_centres(directory: Directory) -> None:
    assert [c.code for c in directory.centres] == ["paris", "munich", "staines", "toronto"]
    paris = directory.centres[0]
    assert paris.address[0] == "Bat. Neptune 5" and paris.phone == "331 301 25800"
    assert paris.tz == "Europe/Paris" and len(paris.served) == len(paris.countries) == 21
    assert "KY" in paris.countries and "Les îles Caïmans" in paris.served
    staines = directory.centres[2]
    assert staines.hours.spans and staines.hours.text.startswith("09:00-17:00 G.M.T")
    assert {"GB-ENG", "GB-SCT", "GB-WLS"} <= set(staines.countries)
    codes = {c.code for c in directory.countries}
    for centre in directory.centres:
        assert set(centre.countries) <= codes


def test_every_country_has_names_a_zone_and_a_use(directory: Directory) -> None:
    used = {li.country for li in directory.listings} | {
        code for c in directory.centres for code in c.countries
    }
    for country in directory.countries:
        assert country.names.fr and country.names.en and country.names.de
        assert country.code in used, f"{country.code} is named nowhere in the seed"
        assert country.iso in (None, country.code)
    assert [c.code for c in directory.countries] == sorted(c.code for c in directory.countries)


def test_sources_name_the_seed_tables(directory: Directory) -> None:
    sources = {li.source for li in directory.listings}
    assert {
        "Services télématiques",
        "Assistance clients gratuite (Garantie)",
        "Fax sur demande",
        "Assistance clients au Canada",
        "Assistance clients en Amérique latine",
    } <= sources


def test_reading_is_deterministic(directory: Directory) -> None:
    again = read_data_dir(DATA)
    assert again == directory
    order = {s.code: s.order for s in directory.services}
    keys = [(order[li.service], li.seq) for li in directory.listings]
    assert keys == sorted(keys)


# --- bad data -----------------------------------------------------------------------------


@pytest.fixture
def data(tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    return copy


def edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace `old` in the file; the 1-based line where the change starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    at = text.index(old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[:at].count("\n") + 1


def refused(folder: Path) -> str:
    with pytest.raises(DataError) as caught:
        read_data_dir(folder)
    return str(caught.value)


def test_toml_syntax_error(data: Path) -> None:
    path = data / "countries.toml"
    line = edit(path, 'code = "FR"', 'code = "FR" oops')
    assert refused(data).startswith(f"{path}:{line}: TOML syntax error")


def test_toml_duplicate_key(data: Path) -> None:
    path = data / "countries.toml"
    line = edit(path, 'code = "FR"\n', 'code = "FR"\ncode = "FR"\n') + 1
    assert refused(data).startswith(f"{path}:{line}:")


def test_unknown_service(data: Path) -> None:
    path = data / "listings" / "canada.toml"
    line = edit(path, 'service = "ftp"', 'service = "ftpp"')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "unknown service 'ftpp'" in message


def test_unknown_country(data: Path) -> None:
    path = data / "listings" / "fax.toml"
    line = edit(path, 'country = "BE"', 'country = "XB"')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "unknown country 'XB'" in message


def test_unknown_country_in_a_centre(data: Path) -> None:
    path = data / "centres.toml"
    line = edit(
        path, '{ printed = "Malte", country = "MT" }', '{ printed = "Malte", country = "QQ" }'
    )
    assert refused(data).startswith(f"{path}:{line}:")


def test_bad_hours(data: Path) -> None:
    path = data / "listings" / "gratuite.toml"
    line = edit(path, '"10:00-17:00 Lundi-vendredi"', '"10:00-17:00 Lundi-vendrdi"')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "bad hours" in message


def test_hours_closing_before_opening(data: Path) -> None:
    path = data / "listings" / "gratuite.toml"
    line = edit(path, '"08:30-18:00 Lundi-vendredi"', '"18:30-08:00 Lundi-vendredi"')
    assert refused(data).startswith(f"{path}:{line}:")


def test_ambiguous_hours_need_spans(data: Path) -> None:
    path = data / "centres.toml"
    edit(path, 'spans = ["Mon-Fri 09:00-17:00"]\n', "")
    header = edit(path, 'code = "staines"', 'code = "staines"') - 1
    message = refused(data)
    assert message.startswith(f"{path}:") and "two time ranges" in message
    assert int(message.split(":")[1]) > header


def test_bad_spans(data: Path) -> None:
    path = data / "centres.toml"
    line = edit(path, 'spans = ["Mon-Fri 09:00-17:00"]', 'spans = ["Mon-Fry 09:00-17:00"]')
    assert refused(data).startswith(f"{path}:{line}:")


def test_missing_translation(data: Path) -> None:
    path = data / "services.toml"
    line = edit(path, ', de = "Fax-Abruf" }', " }")
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "lacks a translation: de" in message


def test_missing_keyword_language(data: Path) -> None:
    path = data / "services.toml"
    edit(path, 'keywords.de = ["telefax", "faxabruf", "fax-abruf", "fernkopie"]\n', "")
    assert "keywords lack a list for 'de'" in refused(data)


def test_duplicate_country_code(data: Path) -> None:
    path = data / "countries.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + '\n[[country]]\ncode = "FR"\niso = "FR"\ntz = "Europe/Paris"\n'
        'names = { fr = "Gaule", en = "Gaul", de = "Gallien" }\n',
        encoding="utf-8",
    )
    line = text.count("\n") + 3
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "duplicate country code" in message


def test_a_spelling_shared_by_two_countries(data: Path) -> None:
    path = data / "countries.toml"
    # Sweden comes after Finland in the file: its alias is the second use.
    line = edit(path, 'aliases = ["Sverige"]', 'aliases = ["Suomi"]')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "also names country 'FI'" in message


def test_duplicate_listing(data: Path) -> None:
    path = data / "listings" / "fax.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + '\n[[listing]]\ncountry = "US"\nprinted = "USA"\nnumbers = ["1-800-346-3508"]\n',
        encoding="utf-8",
    )
    line = text.count("\n") + 5
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "duplicate listing" in message


def test_unknown_key(data: Path) -> None:
    path = data / "listings" / "telematique.toml"
    line = edit(path, 'country = "JP"', 'countyr = "JP"')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "unknown key 'countyr'" in message


def test_bad_number_kind(data: Path) -> None:
    path = data / "listings" / "latam_bureau.toml"
    line = edit(
        path,
        '{ text = "+54-1-311-3438", kind = "fax" }',
        '{ text = "+54-1-311-3438", kind = "telex" }',
    )
    assert refused(data).startswith(f"{path}:{line}:")


def test_unknown_time_zone(data: Path) -> None:
    path = data / "countries.toml"
    line = edit(path, 'tz = "Europe/Oslo"', 'tz = "Europe/Atlantis"')
    message = refused(data)
    assert message.startswith(f"{path}:{line}:") and "Europe/Atlantis" in message


def test_wrong_type(data: Path) -> None:
    path = data / "services.toml"
    line = edit(path, "order = 9\n", 'order = "9"\n')
    assert refused(data).startswith(f"{path}:{line}:")


def test_missing_file(data: Path) -> None:
    (data / "centres.toml").unlink()
    assert refused(data).startswith(f"{data / 'centres.toml'}:0: missing data file")
