"""Text to wire bytes for each session encoding, and wire bytes back to text.

Output (`encode`) never raises. What an encoding lacks is transliterated, then "?":

* CP437 and UTF-8 draw box characters themselves (CP437 lacks heavy and rounded
  lines: they become the light ones); Latin-1 and ASCII draw them as ``+ - |``,
  double horizontal lines as ``=``.
* Punctuation: ’ ‘ → ``'``, “ ” „ → ``"``, … → ``...``, – — − → ``-``,
  • → ∙ (CP437), · (Latin-1), ``*`` (ASCII).
* Letters: œ → ``oe``, æ → ``ae``, ß → ``ss``, ø → ``o``; accented letters lose their
  accent (é → ``e``, É → ``E``, ç → ``c``, ü → ``u``: the French/English "u" style, not
  the German "ue", so that a name reads the same as on the 1990s board).
* Symbols: € → ``EUR``, ® → ``(R)``, © → ``(C)``, ™ → ``TM``, ° → ``o`` (so N° → ``No``),
  « » → ``"`` in ASCII (Latin-1 and CP437 have them).
* ASCII characters, escape sequences included, always pass through unchanged;
  C1 controls (U+0080–U+009F) and lone surrogates become ``?`` so text can never
  smuggle an 8-bit control to the terminal.

Input (`decoder`) never raises either: CP437 and Latin-1 decode every byte; UTF-8
turns invalid bytes into U+FFFD; ASCII sessions read 8-bit input as Latin-1 (a
caller whose terminal sends accented letters gets them, nothing is buffered).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Callable
from enum import Enum
from functools import cache, lru_cache

from bbs.terminal import videotex
from bbs.terminal.caps import Caps, Encoding

REPLACEMENT = "?"
"""What an encoding shows for a character it cannot show at all."""


class BoxMode(Enum):
    """How box-drawing characters (U+2500–U+257F) are to be drawn."""

    CHARSET = "charset"
    """With the encoding's own glyphs when it has them (CP437, UTF-8), else ``+ - |``."""
    DEC = "dec"
    """Kept as they are, for the renderer to draw with DEC Special Graphics (VT-100)."""
    ASCII = "ascii"
    """Always ``+ - |`` and ``=`` (plain text)."""


# ----------------------------------------------------------------- box drawing

_ARM_WORDS = {
    "HORIZONTAL": "LR",
    "VERTICAL": "UD",
    "LEFT": "L",
    "RIGHT": "R",
    "UP": "U",
    "DOWN": "D",
}


@lru_cache(maxsize=512)
def box_arms(ch: str) -> frozenset[str]:
    """The directions (``U D L R``) a box-drawing character reaches; empty for others."""
    if not 0x2500 <= ord(ch) <= 0x257F:
        return frozenset()
    # The Unicode names spell the arms out: "BOX DRAWINGS DOWN SINGLE AND LEFT DOUBLE".
    words = unicodedata.name(ch, "").split()
    if "DIAGONAL" in words:
        return frozenset()
    return frozenset("".join(_ARM_WORDS.get(word, "") for word in words))


_DEC_BY_ARMS = {
    frozenset(arms): letter
    for arms, letter in (
        ("LR", "q"),
        ("UD", "x"),
        ("DR", "l"),
        ("DL", "k"),
        ("UR", "m"),
        ("UL", "j"),
        ("UDR", "t"),
        ("UDL", "u"),
        ("LRD", "w"),
        ("LRU", "v"),
        ("UDLR", "n"),
        ("L", "q"),
        ("R", "q"),
        ("U", "x"),
        ("D", "x"),
    )
}
_LIGHT_BY_ARMS = {
    frozenset(arms): glyph
    for arms, glyph in (
        ("LR", "─"),
        ("UD", "│"),
        ("DR", "┌"),
        ("DL", "┐"),
        ("UR", "└"),
        ("UL", "┘"),
        ("UDR", "├"),
        ("UDL", "┤"),
        ("LRD", "┬"),
        ("LRU", "┴"),
        ("UDLR", "┼"),
        ("L", "─"),
        ("R", "─"),
        ("U", "│"),
        ("D", "│"),
    )
}
_DIAGONALS = {"╱": "/", "╲": "\\", "╳": "X"}


def dec_letter(ch: str) -> str | None:
    """The DEC Special Graphics letter that draws box character `ch`, if any."""
    return _DEC_BY_ARMS.get(box_arms(ch))


@lru_cache(maxsize=512)
def box_ascii(ch: str) -> str:
    """Box character `ch` drawn in ASCII: ``+`` where lines meet, ``-``/``=`` or ``|``."""
    if ch in _DIAGONALS:
        return _DIAGONALS[ch]
    arms = box_arms(ch)
    across = bool(arms & {"L", "R"})
    upright = bool(arms & {"U", "D"})
    if across and not upright:
        words = unicodedata.name(ch, "").split()
        return "=" if "DOUBLE" in words and "DASH" not in words else "-"
    if upright and not across:
        return "|"
    return "+"


DEC_GRAPHICS: dict[int, str] = {
    code: letter for code in range(0x2500, 0x2580) if (letter := dec_letter(chr(code))) is not None
}
"""str.translate table: box characters to the DEC Special Graphics letters drawing them."""


# ----------------------------------------------------------------- transliteration

_SPECIAL: dict[str, tuple[str, ...]] = {
    "‘": ("'",),
    "’": ("'",),
    "‛": ("'",),
    "‚": (",",),
    "′": ("'",),
    "“": ('"',),
    "”": ('"',),
    "„": ('"',),
    "‟": ('"',),
    "″": ('"',),
    "«": ('"',),
    "»": ('"',),
    "‹": ("<",),
    "›": (">",),
    "…": ("...",),
    "‐": ("-",),
    "‑": ("-",),
    "‒": ("-",),
    "–": ("-",),
    "—": ("-",),
    "―": ("-",),
    "−": ("-",),
    "\u00ad": ("",),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY",),
    "¢": ("c",),
    "œ": ("oe",),
    "Œ": ("OE",),
    "æ": ("ae",),
    "Æ": ("AE",),
    "ß": ("ss",),
    "ẞ": ("SS",),
    "ø": ("o",),
    "Ø": ("O",),
    "đ": ("d",),
    "Đ": ("D",),
    "ð": ("d",),
    "Ð": ("D",),
    "þ": ("th",),
    "Þ": ("Th",),
    "ł": ("l",),
    "Ł": ("L",),
    "ı": ("i",),
    "®": ("(R)",),
    "©": ("(C)",),
    "™": ("TM",),
    "°": ("o",),
    "•": ("∙", "·", "*"),
    "∙": ("·", "."),
    "·": (".",),
    "×": ("x",),
    "÷": ("/",),
    "±": ("+/-",),
    "µ": ("u",),
    "¿": ("?",),
    "¡": ("!",),
    "§": ("S",),
    "¶": ("P",),
    "¬": ("-",),
    "¦": ("|",),
    "¨": ('"',),
    "´": ("'",),
    "¸": (",",),
    "¯": ("-",),
    "¼": ("1/4",),
    "½": ("1/2",),
    "¾": ("3/4",),
    "‰": ("0/00",),
    "†": ("+",),
    "‡": ("+",),
    "←": ("<-",),
    "→": ("->",),
    "↑": ("^",),
    "↓": ("v",),
    "↔": ("<->",),
    "≤": ("<=",),
    "≥": (">=",),
    "≠": ("<>",),
    "≈": ("~",),
    "█": ("#",),
    "▓": ("#",),
    "▒": (":",),
    "░": (".",),
    "▀": ('"',),
    "▄": ("_",),
    "▌": ("|",),
    "▐": ("|",),
    "■": ("*",),
    "▪": ("*",),
    "◆": ("*",),
    "▲": ("^",),
    "▼": ("v",),
    "►": (">",),
    "◄": ("<",),
    "\ufffd": ("?",),
}


@lru_cache(maxsize=4096)
def _encodable(text: str, encoding: Encoding) -> bool:
    if encoding is Encoding.UTF8:
        return True
    if encoding is Encoding.VIDEOTEX:
        return videotex.can_show(text)
    try:
        text.encode(encoding.value)
    except UnicodeEncodeError:
        return False
    return True


def _substitute(ch: str, encoding: Encoding) -> str | None:
    """An explicit stand-in for `ch` that `encoding` can carry, if there is one."""
    for candidate in _SPECIAL.get(ch, ()):
        if _encodable(candidate, encoding):
            return candidate
    return None


def _fold_char(ch: str, encoding: Encoding, box: BoxMode) -> str:
    """A printable non-ASCII character as `encoding` (and the box mode) can show it."""
    if 0x2500 <= ord(ch) <= 0x257F:
        if box is BoxMode.DEC and dec_letter(ch) is not None:
            return ch
        if box is BoxMode.CHARSET:
            if _encodable(ch, encoding):
                return ch
            light = _LIGHT_BY_ARMS.get(box_arms(ch))
            if light is not None and _encodable(light, encoding):
                return light
        return box_ascii(ch)
    if _encodable(ch, encoding):
        return ch
    substitute = _substitute(ch, encoding)
    if substitute is not None:
        return substitute
    # Compatibility decomposition drops accents (é → e) and splits ligatures (ﬁ → fi).
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base == ch:
        return REPLACEMENT
    out = []
    for c in base:
        if _encodable(c, encoding):
            out.append(c)
        else:
            out.append(_substitute(c, encoding) or REPLACEMENT)
    return "".join(out)


_TABLE_LIMIT = 20_000
"""Characters remembered per table; beyond that (hostile input) they are worked out each time."""


class _FoldTable(dict[int, str]):
    """A str.translate table filled in lazily, one character at a time."""

    __slots__ = ("_rule",)

    def __init__(self, rule: Callable[[str], str]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, code: int) -> str:
        value = self._rule(chr(code))
        if len(self) < _TABLE_LIMIT:
            self[code] = value
        return value


@cache
def _wire_table(encoding: Encoding) -> _FoldTable:
    def rule(ch: str) -> str:
        if ch.isascii():
            return ch
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return REPLACEMENT
        return _fold_char(ch, encoding, BoxMode.CHARSET)

    return _FoldTable(rule)


@cache
def _text_table(encoding: Encoding, box: BoxMode) -> _FoldTable:
    bad = "\ufffd" if encoding is Encoding.UTF8 else REPLACEMENT

    def rule(ch: str) -> str:
        if ch == "\t":
            return ch
        if ch == "\r":
            return ""
        if ch.isascii():
            return ch if ch.isprintable() else bad
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs"):
            return bad
        if category == "Cf":
            return ""
        if category in ("Zl", "Zp"):
            return " "
        return _fold_char(ch, encoding, box)

    return _FoldTable(rule)


_UNPRINTABLE = re.compile("[^\x20-\x7e]+")
_NON_ASCII = re.compile("[^\x00-\x7f]+")


def _apply(table: _FoldTable, pattern: re.Pattern[str], text: str) -> str:
    # Translating only the unusual stretches is several times faster than the whole text.
    return pattern.sub(lambda match: match.group().translate(table), text)


def fold_text(text: str, encoding: Encoding, box: BoxMode = BoxMode.CHARSET) -> str:
    """Text to display, as `encoding` can show it: every control character made harmless.

    Tabs are kept (the renderer expands them), CR dropped, other C0/C1 controls shown
    as U+FFFD (UTF-8) or "?", format characters (bidi overrides, zero-width) dropped.
    The result's characters each take one column, except in UTF-8 (wide, combining).
    """
    if text.isascii() and text.isprintable():
        return text
    return _apply(_text_table(encoding, box), _UNPRINTABLE, text)


def transliterate(text: str, encoding: Encoding) -> str:
    """`text` with what `encoding` lacks replaced (see the module doc); controls kept."""
    if text.isascii():
        return text
    return _apply(_wire_table(encoding), _NON_ASCII, text)


_C1 = re.compile("[\x80-\x9f\ud800-\udfff]")
"""What must never reach the wire even when the encoding could carry it."""
_CP437_MAP = codecs.charmap_build(bytes(range(256)).decode("cp437"))
"""The CP437 codec's own table is a dict, ten times slower than this."""


def _encode(text: str, encoding: Encoding, errors: str) -> bytes:
    if encoding is Encoding.CP437:
        return codecs.charmap_encode(text, errors, _CP437_MAP)[0]
    return text.encode(encoding.value, errors)


def encode_as(text: str, encoding: Encoding) -> bytes:
    """`text` as bytes in `encoding`, transliterated where needed; never raises."""
    if encoding is Encoding.VIDEOTEX:
        return videotex.encode(transliterate(text, encoding))
    if text.isascii():
        return text.encode("ascii")
    if not _C1.search(text):
        # Most screens need no transliteration at all: let the codec try first.
        try:
            return _encode(text, encoding, "strict")
        except UnicodeEncodeError:
            pass
    return _encode(transliterate(text, encoding), encoding, "replace")


def encode(text: str, caps: Caps) -> bytes:
    """Rendered text as the bytes to send to this session (`caps.wire_encoding`)."""
    return encode_as(text, caps.wire_encoding)


def decoder(encoding: Encoding) -> codecs.IncrementalDecoder:
    """An incremental decoder for a session's input; it never raises (see the module doc)."""
    if encoding is Encoding.UTF8:
        return codecs.getincrementaldecoder("utf-8")(errors="replace")
    if encoding is Encoding.CP437:
        return codecs.getincrementaldecoder("cp437")(errors="replace")
    if encoding is Encoding.VIDEOTEX:
        return videotex.Decoder()
    return codecs.getincrementaldecoder("latin-1")(errors="replace")


def decode(data: bytes, encoding: Encoding) -> str:
    """Complete input bytes as text (see `decoder`)."""
    return decoder(encoding).decode(data, final=True)
