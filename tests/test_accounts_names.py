"""Callers' names: one key for look-alikes, refusals for impostors and terminal tricks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.accounts.names import (
    GUEST_WORDS,
    NEW_WORDS,
    RESERVED,
    NameProblem,
    name_key,
    name_problem,
    tidy_name,
)


@pytest.mark.parametrize(
    "variant",
    [
        "Sysop",
        "SYSOP",
        "sys op",
        "Sys-Op",
        "Ѕуѕор",  # Cyrillic dze, u, dze, o, er
        "SYS0P",  # digit zero
        "Sÿsöp",
        "Ｓｙｓｏｐ",  # fullwidth, NFKC
        "ѕуѕор",
    ],
)
def test_look_alikes_of_sysop_share_its_key_and_are_reserved(variant: str) -> None:
    assert name_key(variant) == "sysop"
    assert name_problem(variant) is NameProblem.RESERVED


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Jean Dupont", "jean-dupont"),
        ("Paul", "Раul"),  # Cyrillic Er and a
        ("ALICE", "ΑLICE"),  # Greek capital alpha
        ("Olle", "0lle"),
        ("Bill", "Bi11"),
        ("Zoë", "Zoe"),
    ],
)
def test_names_that_look_alike_have_one_key(a: str, b: str) -> None:
    assert a != b
    assert name_key(a) == name_key(b)


def test_every_reserved_word_is_refused() -> None:
    for word in RESERVED:
        assert name_problem(word) is NameProblem.RESERVED, word
        assert name_problem(word.upper()) is NameProblem.RESERVED, word


def test_guest_and_new_words() -> None:
    assert {name_key(w) for w in ("INVITE", "guest", "Gast", "invité")} <= GUEST_WORDS
    assert {name_key(w) for w in ("NOUVEAU", "new", "NEU")} <= NEW_WORDS


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", NameProblem.LENGTH),
        ("a" * 31, NameProblem.LENGTH),
        ("Jean_Dupont", NameProblem.CHARACTERS),
        ("Jean<b>", NameProblem.CHARACTERS),
        ("...", NameProblem.CHARACTERS),
        ("Bob\x1b[2J", NameProblem.CONTROL),
        ("Bob\x07", NameProblem.CONTROL),
        ("Bob\u202eevil", NameProblem.CONTROL),
        ("Bob\x9b31m", NameProblem.CONTROL),
        ("Bob\nAlice", NameProblem.CONTROL),
    ],
)
def test_bad_names_are_refused_with_their_reason(name: str, problem: NameProblem) -> None:
    assert name_problem(name) is problem


@pytest.mark.parametrize("name", ["Jean Dupont", "Anne-Marie O'Neil", "J. Müller", "Søren 2"])
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None


def test_tidy_name_keeps_the_name_as_chosen_but_tidy() -> None:
    assert tidy_name("  Jean   Dupont ") == "Jean Dupont"


_CONTROLS = st.sampled_from(
    [chr(c) for c in range(0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
)


@given(st.text(max_size=12), _CONTROLS, st.text(max_size=12))
def test_no_name_with_a_control_character_passes(before: str, control: str, after: str) -> None:
    assert name_problem(before + control + after) is not None


@given(st.text(max_size=10), st.sampled_from(["\x1b[2J", "\x1b]52;c;AAAA\x07", "\x1bP1$r\x1b\\"]))
def test_no_name_with_an_escape_sequence_passes(text: str, sequence: str) -> None:
    assert name_problem(text + sequence) is not None
    assert name_problem(sequence + text) is not None


@given(st.text(max_size=40))
def test_any_accepted_name_is_tidy_clean_and_not_reserved(name: str) -> None:
    if name_problem(name) is None:
        # What is stored is the tidy form: any Unicode space inside becomes one space.
        assert all(c.isalnum() or c in " -.'" for c in tidy_name(name))
        assert name_key(name) not in {name_key(w) for w in RESERVED}


@given(st.text(max_size=30))
def test_the_key_is_stable(name: str) -> None:
    assert name_key(name_key(name)) == name_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "ꓢysop",  # Lisu LETTER SA
        "Ꮪysop",  # Cherokee LETTER DU
        "Տysop",  # Armenian CAPITAL TIWN
        "𝐒ysop",  # mathematical bold
        "Ⅼotus",  # Roman numeral fifty
        "Ꮐuest",  # Cherokee LETTER NAH
        "Ιnvite",  # Greek capital iota
        "Aꓓmin",  # Lisu LETTER DA
        "rοοt",  # Greek omicron
    ],
)
def test_reserved_names_are_refused_in_every_script(name: str) -> None:
    """Compared by Unicode confusable skeleton (UTS #39), not by a hand-made table."""
    assert name_problem(name) is NameProblem.RESERVED


@pytest.mark.parametrize("name", ["Marie Dupont", "Jean-Luc", "Müller", "Ólafur", "Ирина", "Σοφία"])
def test_ordinary_names_in_any_script_pass(name: str) -> None:
    assert name_problem(name) is None
