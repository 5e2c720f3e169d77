"""Wrong or untranslated text (issue 10, symptom 11), through the functions that format it.

Each test failed on the text the board used to show: the detection line in English on
French screens, the seed's notes in French on English and German screens, "Pas de
Assistance", "de Élodie", sizes in bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bbs.directory.datafiles import read_data_dir
from bbs.directory.format import format_answer, seed_key
from bbs.directory.query import Index, build_index, search
from bbs.menus.strings import Strings, elide, format_french, load_strings
from bbs.numbers import human_size
from bbs.services.forums import _where
from bbs.terminal.detect import Utf8Probe, choose
from bbs.terminal.markup import strip

ROOT = Path(__file__).resolve().parents[1]
NOON = datetime(1995, 3, 10, 11, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def strings() -> Strings:
    return load_strings(ROOT / "menus" / "strings")


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index(read_data_dir(ROOT / "data"))


def screen(index: Index, strings: Strings, text: str, lang: str) -> str:
    return strip(format_answer(search(index, text), lang, NOON, 80, strings))


# --- the detection line ----------------------------------------------------------------


def test_the_detection_line_speaks_the_callers_language(strings: Strings) -> None:
    found = choose(("xterm",), cpr=True, utf8=Utf8Probe.ONE_COLUMN, binary=True, cols=80, rows=24)
    assert found.reason == "xterm: passed the UTF-8 probe"  # the log stays English

    def in_(lang: str) -> str:
        return found.describe(lambda key: strings.get(key, lang))

    assert in_("fr") == "xterm: a réussi le test UTF-8"
    assert in_("de") == "xterm: hat den UTF-8-Test bestanden"
    assert in_("en") == "xterm: passed the UTF-8 probe"
    seven = choose(("vt220",), cpr=True, utf8=Utf8Probe.NOT_RUN, binary=False, cols=80, rows=24)
    assert seven.describe(lambda key: strings.get(key, "fr")) == (
        "vt220: DEC 8 bits, Latin-1; ligne sans 8 bits, ASCII"
    )
    nameless = choose((), cpr=False, utf8=Utf8Probe.NOT_RUN, binary=True, cols=80, rows=24)
    assert nameless.describe(lambda key: strings.get(key, "de")) == "kein Terminaltyp: reiner Text"


# --- the seed's notes, sources and remarks ------------------------------------------------


def test_every_seed_note_has_three_languages_french_as_printed(strings: Strings) -> None:
    directory = read_data_dir(ROOT / "data")
    printed: set[str] = set()
    for listing in directory.listings:
        for number in listing.numbers:
            printed.update(number.notes)
        printed.update(t for t in (listing.source, listing.remark) if t)
    printed.update(c.remark for c in directory.centres if c.remark)
    keys = {seed_key(text): text for text in printed}
    assert len(keys) == len(printed)  # no two notes share a key
    for key, text in keys.items():
        assert key in strings, text
        assert strings.get(key, "fr") == text


def test_notes_and_sources_are_translated(index: Index, strings: Strings) -> None:
    belgium = screen(index, strings, "belgique bbs", "en")
    assert "Dutch & English" in belgium and "hollandais" not in belgium
    assert "Niederländisch & Englisch" in screen(index, strings, "belgique bbs", "de")
    assert "hollandais & anglais" in screen(index, strings, "belgique bbs", "fr")
    canada = screen(index, strings, "canada bbs", "de")
    assert "Quelle: Kundendienst in Kanada" in canada and "Assistance clients" not in canada
    paris = screen(index, strings, "Paris", "en")
    assert "is dialled +33 1 30 12 58 00" in paris and "se compose" not in paris


def test_who_says_where_in_the_readers_language(strings: Strings) -> None:
    def where(lang: str, place: str) -> str:
        session = SimpleNamespace(lang=lang, text=lambda key, **v: strings.get(key, lang, **v))
        ctx = SimpleNamespace(board=SimpleNamespace(menus={}))
        return _where(ctx, session, place)  # type: ignore[arg-type]

    assert where("de", "annuaire") == "Verzeichnis"
    assert where("en", "annuaire") == "directory"
    assert where("fr", "annuaire") == "annuaire"
    assert where("de", "transfert ZMODEM") == "Download ZMODEM"


# --- French grammar ---------------------------------------------------------------------


def test_no_service_line_reads_well(index: Index, strings: Strings) -> None:
    text = screen(index, strings, "islande gratuite", "fr")
    assert "Pas de Assistance" not in text
    assert (
        "Assistance clients gratuite (Garantie) : rien pour ce pays dans l'annuaire."
        in " ".join(text.split())
    )


def test_french_elides_before_a_vowel() -> None:
    assert format_french("Droits à l'assistance de {name}", {"name": "Élodie"}) == (
        "Droits à l'assistance d'Élodie"
    )
    assert format_french("Droits à l'assistance de {name}", {"name": "Marie"}) == (
        "Droits à l'assistance de Marie"
    )
    assert format_french("Parce que {x}", {"x": "il"}) == "Parce qu'il"
    assert format_french("la {x}", {"x": "Hollande"}) == "la Hollande"  # h aspiré: kept
    assert elide("code de ", "8000") == "code de "
    assert elide("mode ", "Élodie") == "mode "  # "mode" is not "de"


def test_strings_elide_in_french_only(strings: Strings) -> None:
    assert strings.get("asst.for", "fr", name="Élodie") == "Droits à l'assistance d'Élodie"
    assert strings.get("asst.for", "en", name="Élodie") == "Support entitlements of Élodie"


# --- sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "lang", "text"),
    [
        (16777216, "fr", "16 Mo"),
        (16777216, "en", "16 MB"),
        (1536, "fr", "1,5 Ko"),
        (1536, "en", "1.5 KB"),
        (700, "fr", "700 octets"),
        (700, "de", "700 Bytes"),
        (1024, "de", "1 KB"),
        (3 * 1024**3, "fr", "3 Go"),
    ],
)
def test_human_sizes(size: int, lang: str, text: str) -> None:
    assert human_size(size, lang) == text


def test_the_deposit_limit_is_a_human_size(strings: Strings) -> None:
    intro = strings.get("xfer.deposit_intro", "fr", limit=human_size(16777216, "fr"))
    assert "jusqu'à 16 Mo chacun" in intro and "octets" not in intro
