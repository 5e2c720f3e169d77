"""Fax numbers as callers key them: E.164 (`+` and digits) or national digits, ASCII only."""

from __future__ import annotations

import re

E164_MAX = 15
"""Digits in an international number at most (ITU-T E.164), country code included."""
E164_MIN = 8
NATIONAL_MIN = 6
"""Shorter national numbers are service codes, not fax machines."""
NATIONAL_MAX = 15

_INTERNATIONAL = re.compile(rf"\+[1-9][0-9]{{{E164_MIN - 1},{E164_MAX - 1}}}")
_NATIONAL = re.compile(rf"[0-9]{{{NATIONAL_MIN},{NATIONAL_MAX}}}")


def parse_fax_number(text: str) -> str | None:
    """The number in canonical form (`+33144556677` or `0144556677`), or None when it is
    not one. A touch-tone caller has no `+` key: `00` then the country code stands for it."""
    if text.startswith("00"):
        text = "+" + text[2:]
    if _INTERNATIONAL.fullmatch(text):
        return text
    if _NATIONAL.fullmatch(text) and not text.startswith("+"):
        return text
    return None
