"""Text as the directory compares it: folded words, number keys, numbers spotted in a query."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters NFKD leaves whole; callers type "oe" for "œ", "o" for "ø".
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ı": "i", "þ": "th"}
)

_WORD = re.compile(r"[^\W_]+")

# A keypad number such as "1-800-GO-LOTUS": digit groups, then letter groups.
_VANITY = re.compile(r"(?<![\w])\d{1,4}(?:-\d{1,4})*(?:-[^\W\d_]{2,})+(?![\w])")
# A host or URL such as "ftp.support.lotus.com" or "http://www.support.lotus.com/".
_ADDRESS = re.compile(r"(?:(?:https?|ftp)://)?(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}(?:/\S*)?")
# A phone number as people write them: digits with spaces, dots, dashes, slashes, parentheses.
_PHONE = re.compile(r"(?:\+\s*)?(?:\(\s*)?\d(?:[\d\s().\-/]*\d)?\)?")
_DIGITS = "0123456789"
_KEYPAD = {
    letter: digit
    for digit, letters in (
        ("2", "abc"),
        ("3", "def"),
        ("4", "ghi"),
        ("5", "jkl"),
        ("6", "mno"),
        ("7", "pqrs"),
        ("8", "tuv"),
        ("9", "wxyz"),
    )
    for letter in letters
}

MIN_NUMBER_DIGITS = 4
"""Fewer digits than this in a query are words (a "2" in a sentence), not a number."""


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().translate(_LIGATURES).split())


def fold(text: str) -> str:
    """`text` lower-cased, without accents, with single spaces: "Norvège" -> "norvege"."""
    if text.isascii():
        return " ".join(text.lower().split())
    # Case folding can produce new combining marks (and NFKD new capitals), so fold to
    # a fixed point: then fold(fold(x)) == fold(x) for any text.
    for _ in range(8):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def words(text: str) -> tuple[str, ...]:
    """The folded words of `text`; punctuation and apostrophes separate words."""
    return tuple(_WORD.findall(fold(text)))


def german_variants(text: str) -> tuple[str, ...]:
    """Other spellings a German name is typed with: "Österreich" -> "Oesterreich"."""
    if not any(c in text for c in "äöüÄÖÜ"):
        return ()
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
    return (text.translate(table),)


def is_vanity(text: str) -> bool:
    """True for a keypad number spelt with letters, such as "1-800-GO-LOTUS"."""
    return _VANITY.fullmatch(text.strip()) is not None


def number_key(text: str, kind: str = "phone") -> str:
    """What two spellings of the same number or address have in common.

    Phones: the digits, letters of a keypad number turned into digits, and a "(0)"
    trunk prefix dropped, so "+46 8 750 8370" and "+ 46 8 750 83 70" share a key.
    Addresses: "@" and the folded host and path without scheme or final slash.
    "" when there is nothing to compare (the seed's "ND").
    """
    if kind in ("url", "ftp"):
        address = fold(text)
        address = re.sub(r"^(?:https?|ftp)://", "", address).rstrip("/")
        return "@" + address if address else ""
    if is_vanity(text):
        return "".join(_KEYPAD.get(c, c) for c in fold(text) if c in _DIGITS or c in _KEYPAD)
    plain = re.sub(r"\(\s*0\s*\)", "", text)
    return "".join(c for c in plain if c in _DIGITS)


def keys_match(query: str, key: str) -> int:
    """How well a query key matches a number key: 2 same number, 1 one ends the other, 0 not.

    Leading zeros (international and trunk prefixes) are ignored, and a query may
    leave out the country code ("750 83 70") or add one the seed leaves out.
    """
    if not query or not key or query.startswith("@") != key.startswith("@"):
        return 0
    if query.startswith("@"):
        if query == key:
            return 2
        short, long = sorted((query[1:], key[1:]), key=len)
        return 1 if len(short) >= 6 and long.endswith(short) else 0
    a, b = query.lstrip("0"), key.lstrip("0")
    if a == b:
        return 2 if a else 0
    short, long = sorted((a, b), key=len)
    return 1 if len(short) >= 6 and long.endswith(short) else 0


@dataclass(frozen=True, slots=True)
class Spotted:
    """A query split into the numbers or addresses it contains and the remaining words."""

    numbers: tuple[tuple[str, str], ...]
    """(text as typed, number key) for each number or address found."""
    rest: str
    """The query with the numbers taken out."""


def spot_numbers(query: str) -> Spotted:
    """Find numbers ("+46 8 750 83 70", "1-800-GO-LOTUS") and addresses in a query."""
    found: list[tuple[int, str, str]] = []
    rest = list(query)

    def take(match: re.Match[str], kind: str) -> None:
        text = match.group().strip()
        key = number_key(text, kind)
        if kind == "phone" and len(key) < MIN_NUMBER_DIGITS:
            return
        found.append((match.start(), text, key))
        rest[match.start() : match.end()] = " " * (match.end() - match.start())

    for match in _ADDRESS.finditer(query):
        take(match, "url")
    for match in _VANITY.finditer("".join(rest)):
        take(match, "phone")
    for match in _PHONE.finditer("".join(rest)):
        take(match, "phone")
    found.sort()
    return Spotted(tuple((text, key) for _, text, key in found), "".join(rest))
