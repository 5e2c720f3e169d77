"""Directory screens as markup: the right numbers, open/closed, errata, escaping, widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bbs.directory.datafiles import read_data_dir
from bbs.directory.format import format_answer, format_centres, format_service_table
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
from bbs.directory.query import Index, build_index, country_answer, search
from bbs.directory.text import fold
from bbs.menus.strings import Strings, load_strings
from bbs.terminal.caps import Caps, Tier
from bbs.terminal.markup import escape, parse, strip, visible_width
from bbs.terminal.render import render_lines

ROOT = Path(__file__).resolve().parents[1]
FRIDAY_NOON = datetime(1995, 3, 10, 11, 0, tzinfo=UTC)  # 12:00 in Brussels
SUNDAY = datetime(1995, 3, 12, 11, 0, tzinfo=UTC)
LANGS = ("fr", "en", "de")


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index(read_data_dir(ROOT / "data"))


@pytest.fixture(scope="module")
def strings() -> Strings:
    return load_strings(ROOT / "menus" / "strings")


def screen(index: Index, strings: Strings, text: str, lang: str = "fr", width: int = 80) -> str:
    markup = format_answer(search(index, text), lang, FRIDAY_NOON, width, strings)
    parse(markup)
    return markup


def test_belgian_card(index: Index, strings: Strings) -> None:
    markup = screen(index, strings, "belgique")
    for number in ("+ 31 20 600 4666", "+ 33 1 3048 9450", "+32 2 714 31 34", "+32 2 714 31 29"):
        assert f"{{em}}{number}{{/}}" in markup
    for heading in ("Services télématiques", "Fax sur demande", "Assistance clients gratuite"):
        assert "{h}" + heading in markup
    assert "{dim}(hollandais & anglais){/}" in markup
    assert "10:00-17:00 Lundi-vendredi  {ok}ouvert maintenant{/} {dim}(jusqu'à 17:00){/}" in markup
    assert "Centre d'assistance international : Paris" in markup
    assert markup.startswith("{title}Belgique\n")


def test_closed_says_when_it_opens(index: Index, strings: Strings) -> None:
    markup = format_answer(search(index, "belgique gratuite"), "fr", SUNDAY, 80, strings)
    assert "{warn}fermé{/} {dim}(ouvre lun. à 10:00){/}" in markup
    english = format_answer(search(index, "belgique gratuite"), "en", SUNDAY, 80, strings)
    assert "Mon–Fri 10:00–17:00" in english and "{warn}closed{/}" in english
    assert "opens Mon at 10:00" in english
    german = format_answer(search(index, "allemagne gratuite"), "de", SUNDAY, 80, strings)
    assert "Mo–Do 09:00–17:00, Fr 09:00–15:00" in german and "geschlossen" in german


def test_other_time_zone_is_named(index: Index, strings: Strings) -> None:
    markup = format_answer(
        search(index, "usa gratuite"), "fr", datetime(1995, 3, 10, 16, 5, tzinfo=UTC), 80, strings
    )
    assert "heure de Los Angeles" in markup
    assert "{em}cc:mail : 1-415-966-4900{/}" in markup


def test_errata_are_dim_notes(index: Index, strings: Strings) -> None:
    markup = screen(index, strings, "luxembourg bbs")
    assert "{dim}Erratum : Numéro français donné pour le hollandais" in markup
    english = screen(index, strings, "canada gratuite", "en")
    assert "{dim}Erratum (in French): Il manque un chiffre" in english


def test_nd_and_sources(index: Index, strings: Strings) -> None:
    assert "ND (non disponible)" in screen(index, strings, "royaume-uni bbs")
    canada = screen(index, strings, "canada bbs")
    assert "(416) 364-4941" in canada and "1-905-479-5333" in canada
    assert "Source : Assistance clients au Canada" in canada


def test_region_card_names_its_country(index: Index, strings: Strings) -> None:
    markup = format_answer(country_answer(index, "GB-SCT"), "fr", FRIDAY_NOON, 80, strings)
    assert "Numéros de : Royaume-Uni" in markup and "+44 17 84 44 58 35" in markup
    assert "Staines" in markup


def test_number_answer(index: Index, strings: Strings) -> None:
    markup = screen(index, strings, "46 8 750 83 70", "de")
    for country in ("Dänemark", "Finnland", "Norwegen", "Schweden"):
        assert f"{country} — Mailbox-Dienste" in markup
    unknown = screen(index, strings, "+99 123 456 789")
    assert "Le numéro +99 123 456 789 n'est pas dans l'annuaire." in unknown


def test_choice_not_found_and_suggestions(index: Index, strings: Strings) -> None:
    choice = screen(index, strings, "hong", "de")
    assert "Hongkong" in choice and "Ungarn" in choice
    missing = screen(index, strings, "belgik", "de")
    assert "Meinten Sie: Belgien?" in missing
    ignored = screen(index, strings, "frnce fax")
    assert "Mots non compris : frnce" in ignored and "France" in ignored


def test_service_table(index: Index, strings: Strings) -> None:
    markup = format_service_table(index.directory, "fax", "fr", FRIDAY_NOON, 80, strings)
    parse(markup)
    assert markup.startswith("{title}Fax sur demande\n")
    for listing in index.directory.listings:
        if listing.service == "fax":
            for number in listing.numbers:
                assert escape(number.text) in markup
    # Automated: the hours are said once, at the top.
    assert markup.count("7 jours sur 7 et 24 heures sur 24") == 1
    assert re.search(r"^\{h\}Afrique du Sud\{/\} +\{em\}\+27 11 884 7001\{/\}$", markup, re.M)
    narrow = format_service_table(index, "fax", "fr", FRIDAY_NOON, 40, strings)
    assert "{h}Afrique du Sud{/}\n  {em}+27 11 884 7001{/}" in narrow
    with pytest.raises(ValueError, match="unknown service"):
        format_service_table(index, "telex", "fr", FRIDAY_NOON, 80, strings)


def test_centres(index: Index, strings: Strings) -> None:
    french = format_centres(index.directory, "fr", FRIDAY_NOON, 80, strings)
    for centre in index.directory.centres:
        assert escape(centre.phone) in french
        for line in centre.address:
            assert escape(line) in french
    assert "Slovanie" in french and "Les îles Caïmans" in french
    german = format_centres(index, "de", FRIDAY_NOON, 80, strings)
    assert "Slowenien" in german and "Kaimaninseln" in german and "Niederländisch" in german


def _every_screen(index: Index, strings: Strings, lang: str, width: int) -> list[str]:
    screens = [
        format_answer(country_answer(index, c.code), lang, FRIDAY_NOON, width, strings)
        for c in index.directory.countries
    ]
    screens += [
        format_service_table(index, s.code, lang, FRIDAY_NOON, width, strings)
        for s in index.directory.services
    ]
    screens.append(format_centres(index, lang, FRIDAY_NOON, width, strings))
    for text in ("46 8 750 83 70", "hong", "xyzzy", "frnce fax", "amerique latine"):
        screens.append(format_answer(search(index, text), lang, FRIDAY_NOON, width, strings))
    return screens


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", [40, 80])
def test_every_screen_renders(index: Index, strings: Strings, lang: str, width: int) -> None:
    for markup in _every_screen(index, strings, lang, width):
        parse(markup)
        render_lines(markup, Caps(tier=Tier.ANSI, cols=width))
        for line in render_lines(markup, Caps(tier=Tier.DUMB, cols=width)):
            assert len(line.rstrip("\r\n")) <= width - 1, line


@pytest.mark.parametrize("lang", LANGS)
def test_number_lines_fit_80_columns(index: Index, strings: Strings, lang: str) -> None:
    for markup in _every_screen(index, strings, lang, 80):
        for line in markup.splitlines():
            if "{em}" in line and not line.startswith("{title}"):
                assert visible_width(line) <= 79, line


def test_data_is_escaped(strings: Strings) -> None:
    hours = Hours("09:00-17:00 Lundi-vendredi", (Span(frozenset(range(5)), time(9), time(17)),))
    directory = Directory(
        services=(Service("fax", Names("Fax {x}", "Fax {x}", "Fax {x}"), ("fax",), "fax", 1),),
        countries=(
            Country("BE", "BE", Names("Bel{gique}", "Belgium", "Belgien"), "Europe/Brussels"),
        ),
        listings=(
            Listing(
                service="fax",
                country="BE",
                seq=1,
                printed="Belgique",
                numbers=(Number("+32 {h}1", label="{warn}", notes=("a}b",)),),
                hours=hours,
                erratum="{err}",
            ),
        ),
        centres=(
            Centre(
                code="x",
                city="{city}",
                address=("{addr}",),
                phone="1 {2}",
                hours=hours,
                tz="Europe/Brussels",
                countries=("BE",),
                served=("{served}",),
                languages=("{lang}",),
                remark="{remark}",
            ),
        ),
    )
    index = build_index(directory)
    for markup in (
        format_answer(search(index, "belgium"), "fr", FRIDAY_NOON, 80, strings),
        format_service_table(index, "fax", "fr", FRIDAY_NOON, 80, strings),
        format_centres(index, "fr", FRIDAY_NOON, 80, strings),
    ):
        parse(markup)
        plain = strip(markup)
        assert "{" in plain  # the data's braces survive as text ...
        assert "{{" not in plain  # ... once
    card = format_answer(search(index, "belgium"), "fr", FRIDAY_NOON, 80, strings)
    assert "{{warn}} : +32 {{h}}1" in card and "{{err}}" in card and "Bel{{gique}}" in card


def test_every_string_the_screens_use_exists(strings: Strings, index: Index) -> None:
    source = (ROOT / "bbs" / "directory" / "format.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'"(dir\.[a-z_.]+)"', source))
    keys |= {f"dir.kind.{kind}" for kind in ("fax", "url", "ftp")}
    keys |= {"dir.prompt_title", "dir.prompt_help", "dir.prompt"}
    missing = [key for key in sorted(keys) if key not in strings and not key.endswith(".")]
    assert not missing
    languages = {name for li in index.directory.listings for name in li.languages}
    languages |= {name for c in index.directory.centres for name in c.languages}
    for name in languages:
        assert "dir.language." + "_".join(fold(name).split()) in strings, name
    canada = format_answer(search(index, "canada"), "en", FRIDAY_NOON, 80, strings)
    assert "English, French" in canada


def test_nd_lines_never_say_open(index: Index, strings: Strings) -> None:
    for text in ("australie bbs", "royaume-uni bbs"):
        for lang in LANGS:
            markup = strip(screen(index, strings, text, lang))
            assert "ND" in markup
            for opened in ("ouvert maintenant", "open now", "jetzt geöffnet"):
                assert opened not in markup, (text, lang)


def test_a_centre_found_by_its_city(index: Index, strings: Strings) -> None:
    markup = strip(screen(index, strings, "Munich"))
    assert "Baierbrunnerstrasse 35" in markup and "49 89 748 555 11" in markup
    assert "Rien dans l'annuaire" not in markup
