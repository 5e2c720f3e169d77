"""The query normaliser and tokeniser (properties), number keys, and the hours parser."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.directory.datafiles import read_data_dir
from bbs.directory.hours import HoursError, parse_printed, parse_spans, span_to_text
from bbs.directory.query import Index, build_index, search
from bbs.directory.text import fold, keys_match, number_key, spot_numbers, words

ROOT = Path(__file__).resolve().parents[1]

# Text as callers type it: accents, ligatures, digits, punctuation, odd Unicode.
typed = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("éèêëàâäöüßçœÆøÅñ İıǰﬁ+-()./:'’ 0123456789")),
    ),
    max_size=60,
)

INDEX: Index = build_index(read_data_dir(ROOT / "data"))


@given(typed)
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(typed)
def test_fold_has_no_case_and_no_accent(text: str) -> None:
    folded = fold(text)
    assert folded == folded.casefold()
    assert folded == folded.strip() and "  " not in folded


@given(typed)
def test_words_are_stable(text: str) -> None:
    tokens = words(text)
    assert all(tokens) and all(t == fold(t) for t in tokens)
    assert words(" ".join(tokens)) == tokens
    assert words(fold(text)) == tokens


@given(typed)
def test_spotting_numbers_never_loses_text(text: str) -> None:
    spotted = spot_numbers(text)
    assert len(spotted.rest) == len(text)
    for typed_number, key in spotted.numbers:
        assert typed_number and typed_number in text
        assert key.startswith("@") or key.isdigit()


@settings(max_examples=200)
@given(typed)
def test_search_never_fails(text: str) -> None:
    answer = search(INDEX, text)
    assert answer.query == text


def test_fold_examples() -> None:
    assert fold("  Norvège ") == "norvege"
    assert fold("ÉTATS-UNIS") == "etats-unis"
    assert fold("Großbritannien") == "grossbritannien"
    assert fold("Œuvre") == "oeuvre"
    assert words("Chili et pays du sud de l'Amérique latine")[-3:] == ("l", "amerique", "latine")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+46 8 750 8370", "+ 46 8 750 83 70"),
        ("+41 (0) 1 870 10 10", "+41 1 870 10 10"),
        ("1-800-GO-LOTUS", "1 800 465 6887"),
        ("+52 56 31 2061", "+52-5-631-2061"),
        ("49 89 748 555 11", "+49 89 74 85 55 11"),
    ],
)
def test_same_number_same_key(a: str, b: str) -> None:
    assert number_key(a) == number_key(b)
    assert keys_match(number_key(a), number_key(b)) == 2


def test_number_keys() -> None:
    assert number_key("ND") == ""
    assert number_key("http://www.support.lotus.com/", "url") == "@www.support.lotus.com"
    assert keys_match(number_key("750 83 70"), number_key("+46 8 750 83 70")) == 1
    assert keys_match(number_key("00 46 8 750 83 70"), number_key("+46 8 750 83 70")) == 2
    assert keys_match(number_key("83 70"), number_key("+46 8 750 83 70")) == 0
    assert keys_match("@lotus.com", number_key("1 800 465 6887")) == 0
    assert keys_match(number_key("support.lotus.com", "url"), "@ftp.support.lotus.com") == 1


def test_spot_numbers_in_a_sentence() -> None:
    spotted = spot_numbers("fax 46 8 752 34 60 et 1-800-GO-LOTUS ftp.support.lotus.com")
    assert [t for t, _ in spotted.numbers] == [
        "46 8 752 34 60",
        "1-800-GO-LOTUS",
        "ftp.support.lotus.com",
    ]
    assert words(spotted.rest) == ("fax", "et")
    assert spot_numbers("norway 2 bbs").numbers == ()


def test_printed_hours() -> None:
    hours = parse_printed("09:00-17:00 Lundi-jeudi 09:30-17:00 Vendredi")
    assert [span_to_text(s) for s in hours.spans] == ["Mon-Thu 09:00-17:00", "Fri 09:30-17:00"]
    assert not hours.always
    us = parse_printed("Tous les produits à l'exception de cc:Mail : 08:00-20:00 Lundi-vendredi")
    assert [span_to_text(s) for s in us.spans] == ["Mon-Fri 08:00-20:00"]
    centre = parse_printed("08:30-20:00 Heure sur la côte est,Lundi-Vendredi")
    assert centre.spans[0].opens == time(8, 30)
    assert parse_printed("9am-5pm Lundi- Vendredi").spans[0].closes == time(17)
    for text in (
        "7 jours sur 7, 24 h sur 24",
        "24 h sur 24, 7 jour sur 7",
        "7 jours sur 7 et 24 heures sur 24",
    ):
        assert parse_printed(text).always, text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sur rendez-vous",
        "09:00-17:00",
        "Lundi-vendredi",
        "09:00-17:00 Lundi-vendrdi",
        "17:00-09:00 Lundi-vendredi",
        "09:00-17:00 09:00-12:00 Lundi",
        "25:00-26:00 Lundi",
        "9-17 Lundi",
    ],
)
def test_unreadable_hours_are_refused(text: str) -> None:
    with pytest.raises(HoursError):
        parse_printed(text)


def test_explicit_spans() -> None:
    (span,) = parse_spans(["Fri-Mon 10:00-12:00"])
    assert span.days == frozenset({4, 5, 6, 0})
    assert span_to_text(parse_spans(["mon 09:00-17:00"])[0]) == "Mon 09:00-17:00"
    for bad in ("Mon-Fri 9:00-17:00", "Lun 09:00-17:00", "Mon-Fri 17:00-09:00", "Mon-Fri"):
        with pytest.raises(HoursError):
            parse_spans([bad])
