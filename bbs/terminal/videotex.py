"""Videotex (Télétel, CEPT profile 2) for Minitel callers: the character sets on the wire,
the attribute codes the renderer uses, and the function keys they type.

Output, from text the renderer made (printable characters, CR LF, and ESC + letter
attribute codes):

* G0 is ASCII; accented lowercase letters go as SS2 (0x19), the accent's G2 code and
  the base letter (é = 19 42 65); the Minitel draws no accent on capitals, so É is E;
  £ § ° ± ÷ ¼ ½ ¾ Œ œ ß and four arrows are G2 symbols; the rest is transliterated.
* The Unicode 2x3 sextants (U+1FB00-U+1FB3B) with ▌ ▐ █ are the G1 mosaic set, entered
  with SO (0x0E) and left with SI (0x0F) before any other character or line control.
* Four or more copies of one character go as the character and REP (0x12, 0x40 + n).

Input: SS2 sequences become the accented letters or symbols; the function keys (SEP,
0x13, then a letter) become what an ANSI terminal sends for the key the board already
knows: ENVOI Enter, CORRECTION erase, ANNULATION erase the line, SUITE and RETOUR the
next and previous pages, SOMMAIRE the Menu key, GUIDE F1, REPETITION ^L (redraw), CONNEXION/FIN
^D.
"""

from __future__ import annotations

import codecs
import unicodedata
from functools import lru_cache

SO = "\x0e"
SI = "\x0f"
SS2 = "\x19"
SEP = "\x13"
REP = "\x12"
ESC = "\x1b"
US = "\x1f"
CAN = "\x18"
FF = "\x0c"

COLS = 40
ROWS = 24
"""Rows 1-24 carry the pages; row 0 is the status line."""

# ----------------------------------------------------------------- attributes

FOREGROUND = {
    "black": "\x1b@",
    "red": "\x1bA",
    "green": "\x1bB",
    "yellow": "\x1bC",
    "blue": "\x1bD",
    "magenta": "\x1bE",
    "cyan": "\x1bF",
    "white": "\x1bG",
}
"""Character colours; a monochrome Minitel shows them as grey levels, darkest first:
black, blue, red, magenta, green, cyan, yellow, white."""
DOUBLE_HEIGHT = "\x1bM"
"""The character spreads over its row and the one above."""
NORMAL_SIZE = "\x1bL"
INVERSE = "\x1b]"
NORMAL_POLARITY = "\x1b\\"
UNDERLINE = "\x1bZ"
NO_UNDERLINE = "\x1bY"
ROLL_MODE = "\x1b:iC"
"""PRO2 START ROULEAU: past row 24 the screen scrolls instead of going back to row 1."""
NO_LOCAL_ECHO = "\x1b;`XR"
"""PRO3 aiguillage OFF, modem to screen: the board echoes what is typed, as on telnet."""
CURSOR_ON = "\x11"

_UNDO = {
    DOUBLE_HEIGHT: NORMAL_SIZE,
    INVERSE: NORMAL_POLARITY,
    UNDERLINE: NO_UNDERLINE,
    **{code: FOREGROUND["white"] for code in FOREGROUND.values()},
}


@lru_cache(maxsize=128)
def undo(codes: str) -> str:
    """The codes that put back the default look after `codes` (ESC + letter pairs)."""
    out: list[str] = []
    for i in range(0, len(codes) - 1, 2):
        back = _UNDO.get(codes[i : i + 2])
        if back is not None and back not in out:
            out.append(back)
    return "".join(out)


def position(row: int, col: int) -> str:
    """US row col: move the cursor (row 0 is the status line, columns from 1)."""
    return US + chr(0x40 + row) + chr(0x40 + col)


def status_line(text: str) -> str:
    """Write `text` on row 0, clear the rest of it, and come back to row 1 column 1."""
    return position(0, 1) + text[: COLS - 1] + CAN + position(1, 1)


# ----------------------------------------------------------------- character sets

ACCENTS = {"\u0300": "A", "\u0301": "B", "\u0302": "C", "\u0308": "H", "\u0327": "K"}
"""G2 codes of the diacritical marks, combined with the lowercase letter that follows."""
ACCENTABLE = {
    "\u0300": "aeu",
    "\u0301": "e",
    "\u0302": "aeiou",
    "\u0308": "aeiou",
    "\u0327": "c",
}
"""The accented letters a Minitel draws (French ones)."""
G2 = {
    "£": "#",
    "§": "'",
    "←": ",",
    "↑": "-",
    "→": ".",
    "↓": "/",
    "°": "0",
    "±": "1",
    "÷": "8",
    "¼": "<",
    "½": "=",
    "¾": ">",
    "Œ": "j",
    "œ": "z",
    "ß": "{",
}
"""G2 symbols by character (their code after SS2)."""
_G2_BACK = {code: ch for ch, code in G2.items()}
_ACCENT_BACK = {code: mark for mark, code in ACCENTS.items()}
_SPECIAL_MOSAICS = {"\u2588": 0x3F, "\u258c": 0x15, "\u2590": 0x2A}
"""Full block, left half and right half, which Unicode keeps outside the sextants."""


def sextant_mask(ch: str) -> int | None:
    """The 2x3 cells (bit 0 top left ... bit 5 bottom right) of a block character."""
    if ch in _SPECIAL_MOSAICS:
        return _SPECIAL_MOSAICS[ch]
    code = ord(ch) - 0x1FB00
    if not 0 <= code <= 0x3B:
        return None
    # The sextants run through the masks in order, without the four that exist elsewhere.
    mask = code + 1
    for skipped in (0x15, 0x2A):
        if mask >= skipped:
            mask += 1
    return mask


def mosaic_byte(mask: int) -> int:
    """The G1 code of a 2x3 mask: bits 0-4 in place, the bottom right cell is 0x40."""
    return 0x20 | (mask & 0x1F) | (0x40 if mask & 0x20 else 0)


def mosaic_char(mask: int) -> str:
    """The Unicode character for a 2x3 mask (space when empty)."""
    if mask == 0:
        return " "
    for ch, special in _SPECIAL_MOSAICS.items():
        if special == mask:
            return ch
    index = mask - 1 - sum(1 for skipped in (0x15, 0x2A) if mask > skipped)
    return chr(0x1FB00 + index)


@lru_cache(maxsize=4096)
def _glyph(ch: str) -> str | None:
    """`ch` as G0/G2 text (SS2 sequences), or None when the Minitel cannot draw it."""
    if " " <= ch <= "~":
        return ch
    if ch in G2:
        return SS2 + G2[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    if (
        len(decomposed) == 2
        and decomposed[1] in ACCENTS
        and decomposed[0] in ACCENTABLE.get(decomposed[1], "")
    ):
        return SS2 + ACCENTS[decomposed[1]] + decomposed[0]
    return None


def can_show(text: str) -> bool:
    """Whether every character of `text` has a Videotex form (accents on capitals do not)."""
    return all(_glyph(ch) is not None or sextant_mask(ch) is not None for ch in text)


_FOLLOWERS = {ESC: 1, US: 2, REP: 1, SS2: 1}
"""Bytes that belong to a control that starts a sequence (PRO1-3 take more, below)."""
_PRO = {"9": 2, ":": 3, ";": 4}
"""ESC 0x39/0x3A/0x3B (PRO1/PRO2/PRO3): how many bytes follow the ESC in all."""


def _tokens(text: str) -> list[str]:
    """`text` as wire pieces: one displayed character each (an SS2 sequence for an
    accent), controls with their parameters, SO and SI where the set changes."""
    out: list[str] = []
    mosaic = False
    i = 0
    size = len(text)
    while i < size:
        ch = text[i]
        if ch < " " or ch == "\x7f":
            follow = _FOLLOWERS.get(ch, 0)
            if ch == ESC and i + 1 < size and text[i + 1] in _PRO:
                follow = _PRO[text[i + 1]]
            if not text[i + 1 : i + 1 + follow].isascii():
                follow = 0
            if ch in (SO, SI):
                mosaic = ch == SO
            elif mosaic and follow == 0:
                # A line control: whatever a terminal does with the set at a new row,
                # the next line starts from G0 here.
                out.append(SI)
                mosaic = False
            out.append(text[i : i + 1 + follow])
            i += 1 + follow
            continue
        mask = sextant_mask(ch)
        if mask is not None:
            if not mosaic:
                out.append(SO)
                mosaic = True
            out.append(chr(mosaic_byte(mask)))
        else:
            glyph = _glyph(ch) or fallback(ch)
            if mosaic and glyph != " ":
                out.append(SI)
                mosaic = False
            out.append(glyph)
        i += 1
    if mosaic:
        out.append(SI)
    return out


MIN_REPEAT = 4
"""Copies of one character from which REP is shorter than writing them out."""


def encode(text: str) -> bytes:
    """Text (with the renderer's controls) as Videotex bytes; never raises."""
    tokens = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        piece = tokens[i]
        j = i + 1
        if len(piece) == 1 and piece >= " ":
            while j < len(tokens) and tokens[j] == piece:
                j += 1
        count = j - i
        if count >= MIN_REPEAT:
            out.append(piece)
            left = count - 1
            while left > 0:
                step = min(left, 63)
                out.append(REP + chr(0x40 + step))
                left -= step
        else:
            out.append(piece * count)
        i = j
    return "".join(out).encode("latin-1", "replace")


@lru_cache(maxsize=1024)
def fallback(ch: str) -> str:
    """What stands for a character the Minitel lacks (text already transliterated for
    it, see `bbs.terminal.encoding`): the letter without its accent, or "?"."""
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and all(_glyph(c) is not None for c in base):
        return "".join(_glyph(c) or "?" for c in base)
    return "?"


# ----------------------------------------------------------------- input

FUNCTION_KEYS = {
    "A": "\r",
    "B": "\x1b[5~",
    "C": "\x0c",
    "D": "\x1bOP",
    "E": "\x15",
    "F": "\x1b[29~",
    "G": "\x08",
    "H": "\x1b[6~",
    "I": "\x04",
}
"""SEP + letter: ENVOI, RETOUR, REPETITION, GUIDE, ANNULATION, SOMMAIRE, CORRECTION,
SUITE, CONNEXION/FIN, as the text an ANSI terminal sends for the board's matching key."""


class Decoder(codecs.IncrementalDecoder):
    """Minitel keyboard bytes to text, across packet boundaries; never raises."""

    def __init__(self, errors: str = "replace") -> None:
        super().__init__(errors)
        self._held = ""

    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
        """Text for `data` (an unfinished SS2 or SEP sequence waits for the next call)."""
        text = self._held + bytes(b & 0x7F for b in data).decode("ascii")
        self._held = ""
        out: list[str] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == SEP:
                if i + 1 >= len(text):
                    self._held = text[i:]
                    break
                out.append(FUNCTION_KEYS.get(text[i + 1], ""))
                i += 2
                continue
            if ch == SS2:
                if i + 1 >= len(text):
                    self._held = text[i:]
                    break
                code = text[i + 1]
                if code in _ACCENT_BACK:
                    if i + 2 >= len(text):
                        self._held = text[i:]
                        break
                    letter = text[i + 2]
                    out.append(unicodedata.normalize("NFC", letter + _ACCENT_BACK[code]))
                    i += 3
                    continue
                out.append(_G2_BACK.get(code, ""))
                i += 2
                continue
            out.append(ch)
            i += 1
        if final:
            self._held = ""
        return "".join(out)

    def reset(self) -> None:
        """Forget a held sequence."""
        self._held = ""
