"""A Minitel screen for tests: a Videotex (Télétel, STUM 1B) decoder written from the
specification, independent of the board's renderer, into a 40x25 grid (row 0 is the
status line).

It knows what the board may send and what a page needs to be read back: the C0
controls (BS HT LF VT FF CR SO SI REP SS2 CAN US RS, cursor on/off), ESC attribute
codes (colours, size, polarity, underline, blink, masking), the PRO1/2/3 protocol
sequences (PRO2 START/STOP ROULEAU is honoured), the G0 set, G1 mosaics as 2x3
cells, and the G2 set with the accents it puts on the next letter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

COLS = 40
ROWS = 24

# G2 (after SS2 0x19): the diacritical marks, as the combining characters they put on
# the letter that follows, and the symbols.
G2_MARKS = {0x41: "\u0300", 0x42: "\u0301", 0x43: "\u0302", 0x48: "\u0308", 0x4B: "\u0327"}
G2_SYMBOLS = {
    0x23: "£",
    0x24: "$",
    0x26: "#",
    0x27: "§",
    0x2C: "←",
    0x2D: "↑",
    0x2E: "→",
    0x2F: "↓",
    0x30: "°",
    0x31: "±",
    0x38: "÷",
    0x3C: "¼",
    0x3D: "½",
    0x3E: "¾",
    0x6A: "Œ",
    0x7A: "œ",
    0x7B: "ß",
}
GREY = {
    0: "black",
    4: "blue",
    1: "red",
    5: "magenta",
    2: "green",
    6: "cyan",
    3: "yellow",
    7: "white",
}
"""Colour numbers (ESC 0x40 + n) by name; a monochrome screen shows them as greys."""


@dataclass
class Cell:
    """One character position as the screen shows it."""

    char: str = " "
    fg: int = 7
    inverse: bool = False
    underline: bool = False
    double: str = ""
    """"top" or "bottom" for the halves of a double-height character, else ""."""
    mosaic: int | None = None
    """The lit cells of a G1 character (bit 0 top left ... bit 5 bottom right)."""


@dataclass
class Attributes:
    fg: int = 7
    inverse: bool = False
    underline: bool = False
    double_height: bool = False


def _blank_row() -> list[Cell]:
    return [Cell() for _ in range(COLS)]


@dataclass
class Screen:
    """The 25 rows of a Minitel and its cursor, fed with the bytes a server sends."""

    rows: list[list[Cell]] = field(default_factory=lambda: [_blank_row() for _ in range(ROWS + 1)])
    row: int = 1
    col: int = 1
    mosaic_set: bool = False
    roll: bool = False
    attrs: Attributes = field(default_factory=Attributes)
    saved: tuple[int, int] = (1, 1)
    last: tuple[str, int | None] | None = None
    pending: bytearray = field(default_factory=bytearray)
    unknown: list[bytes] = field(default_factory=list)
    """Sequences the decoder did not know (a test may insist there are none)."""

    # ------------------------------------------------------------ reading back

    def text(self, row: int) -> str:
        """What row `row` shows (mosaic cells as their sextant shapes, blank as space)."""
        return "".join(cell.char for cell in self.rows[row]).rstrip()

    def lines(self) -> list[str]:
        return [self.text(r) for r in range(ROWS + 1)]

    def display(self) -> str:
        """The whole screen, row 0 first, framed, for messages and the README."""
        border = "+" + "-" * COLS + "+"
        body = ["|" + "".join(c.char for c in row) + "|" for row in self.rows]
        return "\n".join([border, body[0], border, *body[1:], border])

    def find(self, text: str, start: int = 1) -> int | None:
        """The first row from `start` (row 1: below the status line) showing `text`."""
        for number in range(start, ROWS + 1):
            if text in self.text(number):
                return number
        return None

    # ------------------------------------------------------------ decoding

    def feed(self, data: bytes) -> None:
        """Interpret bytes from the server (a sequence cut between two calls waits)."""
        buffer = self.pending + bytes(b & 0x7F for b in data)
        self.pending = bytearray()
        i = 0
        while i < len(buffer):
            used = self._one(buffer, i)
            if used == 0:
                self.pending = bytearray(buffer[i:])
                return
            i += used

    def _one(self, buf: bytearray, i: int) -> int:
        """Interpret what starts at buf[i]; bytes used, or 0 when more must arrive."""
        b = buf[i]
        left = len(buf) - i
        if b == 0x1B:
            if left < 2:
                return 0
            return self._escape(buf, i)
        if b == 0x1F:  # US: cursor addressing
            if left < 3:
                return 0
            row, col = buf[i + 1] - 0x40, buf[i + 2] - 0x40
            if 0 <= row <= ROWS and 1 <= col <= COLS:
                if row == 0 and self.row != 0:
                    self.saved = (self.row, self.col)
                self.row, self.col = row, col
            self._defaults()
            return 3
        if b == 0x12:  # REP
            if left < 2:
                return 0
            count = buf[i + 1] - 0x40
            if self.last is not None:
                for _ in range(max(0, count)):
                    self._put(*self.last)
            return 2
        if b == 0x19:  # SS2: one G2 character, or an accent on the next letter
            if left < 2:
                return 0
            code = buf[i + 1]
            if code in G2_MARKS:
                if left < 3:
                    return 0
                letter = chr(buf[i + 2])
                self._put(unicodedata.normalize("NFC", letter + G2_MARKS[code]), None)
                return 3
            symbol = G2_SYMBOLS.get(code)
            if symbol is None:
                self.unknown.append(bytes(buf[i : i + 2]))
            else:
                self._put(symbol, None)
            return 2
        if b == 0x13:  # SEP: only ever sent by a Minitel, never to it
            if left < 2:
                return 0
            self.unknown.append(bytes(buf[i : i + 2]))
            return 2
        if b < 0x20:
            self._control(b)
            return 1
        if self.mosaic_set and not 0x40 <= b <= 0x5F:
            mask = (b & 0x1F) | (0x20 if b & 0x40 else 0)
            self._put(_sextant(mask), mask)
        elif b == 0x7F:
            self._put("█", None)
        else:
            self._put(chr(b), None)
        return 1

    def _escape(self, buf: bytearray, i: int) -> int:
        code = buf[i + 1]
        length = {0x39: 3, 0x3A: 4, 0x3B: 5}.get(code, 2)
        if len(buf) - i < length:
            return 0
        if code == 0x3A:  # PRO2
            if bytes(buf[i + 2 : i + 4]) == b"\x69\x43":
                self.roll = True
            elif bytes(buf[i + 2 : i + 4]) == b"\x6a\x43":
                self.roll = False
            return length
        if length > 2:
            return length
        a = self.attrs
        if 0x40 <= code <= 0x47:
            a.fg = code - 0x40
        elif code == 0x4C:
            a.double_height = False
        elif code == 0x4D:
            a.double_height = True
        elif code == 0x5A:
            a.underline = True
        elif code == 0x59:
            a.underline = False
        elif code == 0x5D:
            a.inverse = True
        elif code == 0x5C:
            a.inverse = False
        elif code in (0x48, 0x49, 0x4E, 0x4F, 0x58, 0x5F) or 0x50 <= code <= 0x57:
            pass  # blink, double width/size, masking, background: not checked here
        else:
            self.unknown.append(bytes(buf[i : i + 2]))
        return 2

    def _control(self, b: int) -> None:
        if b == 0x08:
            if self.col > 1:
                self.col -= 1
            elif self.row > 1:
                self.row, self.col = self.row - 1, COLS
        elif b == 0x09:
            self._advance()
        elif b == 0x0A:
            if self.row == 0:
                self.row, self.col = self.saved
                self._defaults()
            else:
                self._down()
        elif b == 0x0B:
            if self.row > 1:
                self.row -= 1
        elif b == 0x0C:
            for number in range(1, ROWS + 1):
                self.rows[number] = _blank_row()
            self.row, self.col = 1, 1
            self._defaults()
        elif b == 0x0D:
            self.col = 1
        elif b == 0x0E:
            self.mosaic_set = True
        elif b == 0x0F:
            self.mosaic_set = False
        elif b == 0x18:
            for col in range(self.col, COLS + 1):
                self.rows[self.row][col - 1] = Cell()
        elif b == 0x1E:
            self.row, self.col = 1, 1
            self._defaults()
        elif b in (0x00, 0x07, 0x11, 0x14):
            pass
        else:
            self.unknown.append(bytes([b]))

    def _defaults(self) -> None:
        self.attrs = Attributes()
        self.mosaic_set = False

    def _down(self) -> None:
        if self.row < ROWS:
            self.row += 1
        elif self.roll:
            del self.rows[1]
            self.rows.append(_blank_row())
        else:
            self.row = 1

    def _advance(self) -> None:
        if self.col < COLS:
            self.col += 1
        elif self.row != 0:
            self.col = 1
            self._down()

    def _put(self, char: str, mask: int | None) -> None:
        a = self.attrs
        cell = Cell(char, a.fg, a.inverse, a.underline, "", mask)
        if a.double_height and mask is None and self.row > 1:
            cell.double = "bottom"
            top = Cell(char, a.fg, a.inverse, a.underline, "top", None)
            self.rows[self.row - 1][self.col - 1] = top
        self.rows[self.row][self.col - 1] = cell
        self.last = (char, mask)
        self._advance()


def _sextant(mask: int) -> str:
    """A Unicode character drawing a 2x3 mosaic (for the display only)."""
    if mask == 0:
        return " "
    if mask == 0x3F:
        return "█"
    if mask == 0x15:
        return "▌"
    if mask == 0x2A:
        return "▐"
    index = mask - 1 - (mask > 0x15) - (mask > 0x2A)
    return chr(0x1FB00 + index)


def pixels(screen: Screen, rows: range) -> list[str]:
    """The mosaic cells of `rows` as a bitmap: two pixels a column, three a row ('#' lit)."""
    out: list[str] = []
    for number in rows:
        lines = ["", "", ""]
        for cell in screen.rows[number]:
            mask = cell.mosaic or 0
            for dy in range(3):
                for dx in range(2):
                    lines[dy] += "#" if mask & (1 << (dy * 2 + dx)) else "."
        out += lines
    return out
