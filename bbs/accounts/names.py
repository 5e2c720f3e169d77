"""Callers' names: how they are compared (`name_key`) and which ones are refused (`name_problem`).

Two names are the same name when their keys are equal: NFKC, case-folded, accents
dropped, letters that look Latin (Cyrillic, Greek) mapped to their Latin twin, 0 and 1
read as o and l, and the separators a name may hold (space, `-`, `.`, `'`) left out.
So "Sysop", "SYS-OP", "Ѕуѕ0р" and "Sÿsop" are one key, and one of them is reserved.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from bbs.accounts.confusables import skeleton
from bbs.terminal.sanitize import is_clean

MIN_NAME = 3
MAX_NAME = 30
SEPARATORS = " -.'"
"""What a name may hold besides letters and digits."""

# Letters drawn like a Latin one in most fonts, lower case (keys are case-folded first).
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ј": "j", "к": "k",
        "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y",
        "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "n",
        "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ζ": "z", "ϲ": "c", "ϳ": "j",
        # Latin letters that pass for others
        "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d",
        # Digits read as letters
        "0": "o", "1": "l",
    }
)  # fmt: skip
_DROP_SEPARATORS = str.maketrans("", "", SEPARATORS)


def name_key(name: str) -> str:
    """The form two names are compared in (unique in `account.name_key`)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    # Mapping can expose new decompositions only for letters outside the table: once is enough.
    return text.translate(_LOOKALIKES).translate(_DROP_SEPARATORS)


RESERVED = (
    "sysop", "sysadmin", "admin", "administrator", "root", "operator", "lotus",
    "invite", "guest", "gast", "nouveau", "new", "neu",
    "specialist", "specialiste", "spezialist", "support", "all", "tous", "alle",
)  # fmt: skip
"""Names no caller may take: the board's own words and titles of authority."""
RESERVED_KEYS = frozenset(name_key(n) for n in RESERVED)


def look_key(name: str) -> str:
    """What a name looks like: its key and its Unicode confusable skeleton, alternated
    until neither changes it (a prototype may itself fold further, as "ꓢ" becomes "S"
    and then "s"). Every script is covered, not only the letters of `_LOOKALIKES`."""
    # The skeleton first: case folding can take a letter out of the confusables table
    # (Armenian "Տ" looks like S, its small form does not look like s).
    key = name_key(skeleton(name))
    for _ in range(4):
        again = name_key(skeleton(key))
        if again == key:
            break
        key = again
    return key


RESERVED_LOOKS = frozenset(look_key(n) for n in RESERVED)
"""How the reserved names look, for the check that a new name does not imitate one."""

GUEST_WORDS = frozenset(name_key(w) for w in ("invite", "guest", "gast"))
"""Answers to the name prompt that enter as a guest."""
NEW_WORDS = frozenset(name_key(w) for w in ("nouveau", "new", "neu"))
"""Answers to the name prompt that start registration."""


class NameProblem(StrEnum):
    """Why a name is refused; each value is the key of its message in the strings."""

    CONTROL = "acct.name_control"
    LENGTH = "acct.name_length"
    CHARACTERS = "acct.name_chars"
    RESERVED = "acct.name_reserved"


def tidy_name(name: str) -> str:
    """The name as stored: NFC, outer spaces gone, inner runs of spaces made one."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def name_problem(name: str) -> NameProblem | None:
    """Why `name` (as typed) cannot be a caller's name, or None when it can."""
    if not is_clean(name) or any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        return NameProblem.CONTROL
    tidy = " ".join(unicodedata.normalize("NFKC", name).split())
    if not MIN_NAME <= len(tidy) <= MAX_NAME:
        return NameProblem.LENGTH
    if not all(c.isalpha() or c.isdigit() or c in SEPARATORS for c in tidy):
        return NameProblem.CHARACTERS
    key = name_key(tidy)
    if len(key) < 2 or not any(c.isalpha() for c in key):
        return NameProblem.CHARACTERS
    if key in RESERVED_KEYS or look_key(tidy) in RESERVED_LOOKS:
        return NameProblem.RESERVED
    return None
