"""Fax numbers: E.164 or national digits, bounded, ASCII only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.fax.numbers import E164_MAX, NATIONAL_MAX, NATIONAL_MIN, parse_fax_number


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("+33144556677", "+33144556677"),
        ("0033144556677", "+33144556677"),
        ("0144556677", "0144556677"),
        ("4989783167", "4989783167"),
        ("+" + "1" * E164_MAX, "+" + "1" * E164_MAX),
    ],
)
def test_good_numbers(typed: str, canonical: str) -> None:
    assert parse_fax_number(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "+",
        "00",
        "12345",  # too short for a fax machine
        "+0144556677",  # no country code starts with 0
        "+" + "1" * (E164_MAX + 1),
        "1" * (NATIONAL_MAX + 1),
        "+3314455 6677",
        "01 44 55 66 77",
        "0144556677#",
        "٠١٤٤٥٥٦٦٧٧",  # Arabic-Indic digits: isdigit() but not ASCII
        "０１４４５５６６７７",  # full-width digits
        "+33-1-44-55-66-77",
        "0144556677\n",
    ],
)
def test_bad_numbers(typed: str) -> None:
    assert parse_fax_number(typed) is None


@given(st.text(max_size=40))
def test_anything_accepted_is_plus_and_ascii_digits_of_bounded_length(text: str) -> None:
    number = parse_fax_number(text)
    if number is not None:
        digits = number.removeprefix("+")
        assert digits.isascii() and digits.isdigit()
        assert NATIONAL_MIN <= len(digits) <= max(E164_MAX, NATIONAL_MAX)


@given(st.from_regex(r"[0-9]{6,15}", fullmatch=True))
def test_national_digits_are_kept_or_read_as_international(digits: str) -> None:
    number = parse_fax_number(digits)
    if digits.startswith("00"):
        assert number is None or number == "+" + digits[2:]
    else:
        assert number == digits
