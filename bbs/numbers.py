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


_UNITS = {
    "fr": ("octets", "Ko", "Mo", "Go"),
    "en": ("bytes", "KB", "MB", "GB"),
    "de": ("Bytes", "KB", "MB", "GB"),
}


def human_size(size: int, lang: str) -> str:
    """A size as a caller reads it: "300 octets", "1,5 Mo", "64 MB" (1 Ko = 1024 octets)."""
    units = _UNITS.get(lang, _UNITS["fr"])
    value = float(max(size, 0))
    unit = 0
    while value >= 1024 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} {units[0]}"
    text = f"{value:.1f}" if value < 10 and value != int(value) else f"{round(value)}"
    if lang != "en":
        text = text.replace(".", ",")
    return f"{text} {units[unit]}"
