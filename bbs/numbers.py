"""The one parser for numbers a caller types: ASCII digits only, of bounded length."""

from __future__ import annotations

MAX_DIGITS = 9
"""Digits a typed number may have: every number the board asks for fits (a node, a
document, a page, a size); a longer one is refused before any conversion."""


def parse_number(text: str | bytes, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as a whole number, surrounding blanks ignored; None unless it is 1 to
    `max_digits` ASCII digits.

    `str.isdigit` alone accepts "²" and "٣", which `int` refuses or reads in another
    script, and a long string of digits costs `int` time or raises: both are refused here.
    """
    value = text.strip()
    if not 1 <= len(value) <= max_digits or not value.isascii() or not value.isdigit():
        return None
    return int(value)
