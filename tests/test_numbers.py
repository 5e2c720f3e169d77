"""The one number parser: ASCII digits only, bounded, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.numbers import parse_number
from bbs.transfer.zmodem import _parse_info


@pytest.mark.parametrize(
    "typed",
    ["²", "10²", "٣", "１２", "", " ", "-1", "+1", "1e3", "0x10", "1_000", "1 000", "10" * 10],
)
def test_refused(typed: str) -> None:
    assert parse_number(typed) is None


@pytest.mark.parametrize(
    ("typed", "value"), [("0", 0), (" 10158 ", 10158), ("999999999", 10**9 - 1)]
)
def test_accepted(typed: str, value: int) -> None:
    assert parse_number(typed) == value


def test_the_bound_is_the_caller_s() -> None:
    assert parse_number("1" * 20, max_digits=20) == int("1" * 20)
    assert parse_number(b"12") == 12


@given(st.text(max_size=30))
def test_any_text_gives_a_small_number_or_none(text: str) -> None:
    value = parse_number(text)
    assert value is None or 0 <= value < 10**9
    if value is not None:
        assert text.strip().isascii()


def test_a_zfile_size_of_five_thousand_digits_is_no_size() -> None:
    name, size, mtime = _parse_info(b"note.txt\x00" + b"9" * 5000 + b" " + b"7" * 3000 + b"\x00")
    assert (name, size, mtime) == ("note.txt", None, None)
