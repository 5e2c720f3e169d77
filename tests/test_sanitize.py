"""The filter between what callers write and anyone's screen (bbs.terminal.sanitize)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.caps import Caps, Tier
from bbs.terminal.render import render
from bbs.terminal.sanitize import clean, is_clean, user_markup

ATTACKS = {
    "clear screen": "avant\x1b[2Japrès",
    "OSC 52 clipboard write": "a\x1b]52;c;cm0gLXJmIC8K\x07b",
    "OSC title, ST-terminated": "a\x1b]0;pwned\x1b\\b",
    "title report": "a\x1b[21tb",
    "DCS request status": "a\x1bP$q m\x1b\\b",
    "8-bit CSI": "a\x9b2Jb",
    "8-bit OSC": "a\x9d52;c;eA==\x9cb",
    "APC": "a\x1b_payload\x1b\\b",
    "unterminated OSC": "a\x1b]52;c;AAAA",
    "charset switch": "a\x1b(0b",
    "bell and backspaces": "a\x07\x08\x08b",
    "bidi override": "a\u202eb",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_attacks_leave_no_control_at_all(text: str) -> None:
    out = clean(text)
    assert out.startswith("a") or out.startswith("avant")
    assert all(ch.isprintable() for ch in out), repr(out)
    assert "[2J" not in out and "52;" not in out and "$q" not in out


def test_text_itself_is_kept() -> None:
    assert clean("Déjà vu : 1-2-3 {R3.4} 50 % à 14h") == "Déjà vu : 1-2-3 {R3.4} 50 % à 14h"
    assert user_markup("{err}x{/}") == "{{err}}x{{/}}"


def test_newlines_only_where_wanted() -> None:
    assert clean("l1\r\nl2\rl3\nl4", multiline=True) == "l1\nl2\nl3\nl4"
    assert clean("l1\r\nl2") == "l1 l2"
    assert clean("a\tb") == "a    b"


def test_is_clean() -> None:
    assert is_clean("Jean Dupont")
    assert not is_clean("Jean\x1b[31mDupont")
    assert not is_clean("two\nlines")
    assert is_clean("two\nlines", multiline=True)


_ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x1b", "\x9b", "\x9d", "\x90", "\x07", "[", "]", "\\", ";", "P"]),
    ),
    max_size=200,
)


@given(_ANY_TEXT)
def test_no_control_survives(text: str) -> None:
    out = clean(text, multiline=True)
    kept = {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"}
    assert all(ch == "\n" or unicodedata.category(ch) not in kept for ch in out), repr(out)
    assert is_clean(out, multiline=True)


@given(_ANY_TEXT)
def test_rendered_user_text_carries_only_the_renderers_own_sequences(text: str) -> None:
    for tier in Tier:
        shown = render(user_markup(text, multiline=True), Caps(cols=80, tier=tier))
        # Whatever the caller wrote, the only ESC bytes are the renderer's SGR resets
        # and colours, never an OSC, DCS or a screen clear.
        for marker in ("\x1b]", "\x1bP", "\x1b[2J", "\x9b", "\x9d", "\x90", "\x07"):
            assert marker not in shown
        if tier is Tier.DUMB:
            assert "\x1b" not in shown
