"""Text callers wrote, made harmless before it reaches anyone's screen.

Everything a caller writes (posts, names, incident text, file descriptions) is
stored as written and passed through `user_markup` when shown: escape sequences
(CSI, OSC such as OSC 52 clipboard writes, DCS, APC, PM, SOS, in their 7-bit and
8-bit forms) are removed whole, not only their ESC, so that no "[2J" debris is
left; other C0 and C1 controls, DEL and the Unicode bidirectional overrides go
too. The renderer would turn a stray control into "?" anyway; this filter is the
first line, and it keeps the text readable.
"""

from __future__ import annotations

import re
import unicodedata

from bbs.terminal.markup import escape

# String sequences run to ST (ESC \ or 0x9C) or BEL; an unterminated one runs to the end.
_STRING = r"(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\x1b]*(?:\x07|\x9c|\x1b\\|$)"
# CSI: parameters, intermediates, one final byte (or the end of the text).
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*(?:[\x40-\x7e]|$)"
# Other escapes: intermediates then one final byte (ESC ( 0, ESC c, ESC 7 ...).
_ESC = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_SEQUENCE = re.compile(f"{_STRING}|{_CSI}|{_ESC}", re.DOTALL)

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROLS = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))) + _BIDI
_DROP = str.maketrans("", "", _CONTROLS.replace("\n", "").replace("\t", ""))
_DROP_LINES = str.maketrans("", "", _CONTROLS.replace("\t", ""))

TAB = "    "

_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
"""Unicode categories dropped from callers' text: they draw nothing reliable."""


def clean(text: str, *, multiline: bool = False) -> str:
    """`text` without escape sequences, controls or invisible characters; newlines kept
    only when `multiline`.

    CR LF and lone CR count as newlines; a tab becomes spaces.
    """
    text = _SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = text.replace("\n", " ")
    text = text.translate(_DROP if multiline else _DROP_LINES).replace("\t", TAB)
    if text.isprintable() or (multiline and text.replace("\n", "").isprintable()):
        return text
    # Rare: format characters (zero-width, soft hyphen...), separators, surrogates and
    # unassigned code points, which terminals draw unpredictably or not at all.
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in _UNSEEN)


def user_markup(text: str, *, multiline: bool = False) -> str:
    """Caller-written `text` as markup that shows it literally and safely."""
    return escape(clean(text, multiline=multiline))


def is_clean(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` would pass `clean` unchanged (for refusing a name outright)."""
    return clean(text, multiline=multiline) == text
