"""The few terminal controls a session sends besides rendered markup, per tier.

Plain-text terminals never get an escape sequence: their controls are CR LF and
spaces, or nothing. BEL and BS are sent to every tier (teletypes had them too).
A Minitel gets Videotex controls: FF, US addressing, CAN, and row 0 as a status line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bbs.terminal import videotex
from bbs.terminal.caps import Caps, Tier

STATUS = "3616 LOTUSTEL - Assistance Lotus"
"""What a Minitel's status line (row 0) says."""
MINITEL_CLEAR = (
    videotex.ROLL_MODE
    + videotex.NO_LOCAL_ECHO
    + videotex.FF
    + videotex.CURSOR_ON
    + videotex.status_line(STATUS)
)
"""Scrolling on (a board writes lines), the board's echo only, a clear page, the status
line; said at every clear, so that a Minitel switched on mid-call comes right again."""

CPR_REQUEST = "\x1b[6n"
"""Device Status Report 6: "where is the cursor?" — for probes, whatever the tier."""

_CPR = re.compile(r"(?:\x1b\[|\x9b)([0-9]{0,4})(?:;([0-9]{0,4}))?R")


def parse_cursor_position(data: bytes | str) -> tuple[int, int] | None:
    """(row, column), 1-based, from the last cursor position report in `data`, if any.

    Anything around the report is ignored. Empty or zero parameters mean 1, as
    ECMA-48 says. Note a modified F3 key (``ESC [ 1 ; 2 R``) looks just like a report.
    """
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    found = [(m.group(1), m.group(2) or "") for m in _CPR.finditer(data)]
    if not found:
        return None
    row, col = found[-1]
    return (int(row or 0) or 1, int(col or 0) or 1)


@dataclass(frozen=True, slots=True)
class Controls:
    """Terminal controls for one set of capabilities, as text to `encode`."""

    caps: Caps

    @property
    def _escapes(self) -> bool:
        return self.caps.tier not in (Tier.DUMB, Tier.VIDEOTEX)

    @property
    def _minitel(self) -> bool:
        return self.caps.tier is Tier.VIDEOTEX

    def clear(self) -> str:
        """Clear the screen, cursor home; plain text: a blank line."""
        if self._minitel:
            return MINITEL_CLEAR
        return "\x1b[0m\x1b[H\x1b[2J" if self._escapes else "\r\n\r\n"

    def home(self) -> str:
        """Cursor to the top left; plain text: a new line."""
        if self._minitel:
            return videotex.position(1, 1)
        return "\x1b[H" if self._escapes else "\r\n"

    def cursor_position_request(self) -> str:
        """Ask where the cursor is (the answer arrives as input); nothing in plain text
        nor to a Minitel (its answer is no ANSI report)."""
        return CPR_REQUEST if self._escapes else ""

    def parse_cursor_position(self, data: bytes | str) -> tuple[int, int] | None:
        """See `parse_cursor_position`."""
        return parse_cursor_position(data)

    def erase_line(self) -> str:
        """Blank the cursor's line and go to its start; plain text: overwrite with spaces."""
        if self._escapes:
            return "\x1b[2K\r"
        if self._minitel:
            return "\r" + videotex.CAN
        return "\r" + " " * max(0, self.caps.cols - 1) + "\r"

    def bell(self) -> str:
        """Ring the bell."""
        return "\x07"

    def reset(self) -> str:
        """Default attributes (and on a VT-100 the ASCII character set); nothing in plain text."""
        if self.caps.tier is Tier.VT100:
            return "\x1b[0m\x1b(B"
        if self._minitel:
            return videotex.FOREGROUND["white"] + videotex.NORMAL_SIZE + videotex.NORMAL_POLARITY
        return "\x1b[0m" if self._escapes else ""

    def backspace_erase(self) -> str:
        """Rub out the character left of the cursor (line editing)."""
        return "\b \b"

    @property
    def can_move(self) -> bool:
        """Whether the cursor can be moved about (not on a plain-text terminal)."""
        return self._escapes

    def cursor_up(self, rows: int) -> str:
        """Cursor `rows` rows up, same column; nothing for 0."""
        return f"\x1b[{rows}A" if rows > 0 and self._escapes else ""

    def cursor_down(self, rows: int) -> str:
        """Cursor `rows` rows down, same column; nothing for 0."""
        return f"\x1b[{rows}B" if rows > 0 and self._escapes else ""

    def cursor_forward(self, columns: int) -> str:
        """Cursor `columns` columns right; nothing for 0."""
        return f"\x1b[{columns}C" if columns > 0 and self._escapes else ""

    def erase_below(self) -> str:
        """Blank from the cursor to the end of the screen."""
        return "\x1b[J" if self._escapes else ""
