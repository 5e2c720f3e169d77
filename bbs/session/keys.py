"""Caller input as events: decoded characters, Enter, erase, escape sequences, window changes.

The parser is a pure state machine fed with text already decoded from the wire, so it
can be tested (and fuzzed) without a socket: telnet has already removed IAC commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Key(Enum):
    """A named key: anything that is not a printable character."""

    ENTER = "enter"
    ERASE = "erase"
    """Backspace (^H) or DEL (0x7F): both erase, as callers' terminals disagree on which to send."""
    TAB = "tab"
    INTERRUPT = "interrupt"
    """^C"""
    EOF = "eof"
    """^D"""
    KILL_LINE = "kill-line"
    """^U"""
    KILL_END = "kill-end"
    """^K: from the cursor to the end of the line."""
    KILL_WORD = "kill-word"
    """^W: the word before the cursor."""
    ESCAPE = "escape"
    UP = "up"
    DOWN = "down"
    RIGHT = "right"
    LEFT = "left"
    HOME = "home"
    END = "end"
    DELETE = "delete"
    PAGE_UP = "page-up"
    PAGE_DOWN = "page-down"
    HELP = "help"
    """F1 (a Minitel's GUIDE)."""
    REDRAW = "redraw"
    """^L (a Minitel's REPETITION): draw the screen again."""
    MENU = "menu"
    """The Menu key (xterm ESC [ 29 ~; a Minitel's SOMMAIRE): back to the index."""
    UNKNOWN = "unknown"
    """An escape sequence the board does not use; ignored by editors."""
    TOO_LONG = "too-long"
    """More characters in a row than any prompt takes: the line is refused, and what
    follows is dropped up to the next Enter (which is dropped too)."""


@dataclass(frozen=True, slots=True)
class CursorReport:
    """A terminal's answer to a cursor-position request (ESC [ row ; col R)."""

    row: int
    col: int


@dataclass(frozen=True, slots=True)
class Control:
    """A control character with no named key (^A, ^E, ^Z ...): editing keys of the
    full editors, reported only while one of them reads the input."""

    char: str


@dataclass(frozen=True, slots=True)
class Resize:
    """The caller's window changed size (NAWS)."""

    cols: int
    rows: int


Event = str | Key | Control | CursorReport | Resize
"""One input event: a printable character (str of length 1), a Key, a control character,
a report or a resize."""

_ESC = "\x1b"
_SS3_FINAL = {"P": Key.HELP}
"""ESC O final letters that differ from the CSI ones (F1)."""
_CSI_FINAL = {
    "A": Key.UP,
    "B": Key.DOWN,
    "C": Key.RIGHT,
    "D": Key.LEFT,
    "H": Key.HOME,
    "F": Key.END,
}
_TILDE = {
    "1": Key.HOME,
    "7": Key.HOME,
    "4": Key.END,
    "8": Key.END,
    "3": Key.DELETE,
    "5": Key.PAGE_UP,
    "6": Key.PAGE_DOWN,
    "11": Key.HELP,
    "28": Key.HELP,
    "29": Key.MENU,
}
_CONTROLS = {
    "\b": Key.ERASE,
    "\x7f": Key.ERASE,
    "\t": Key.TAB,
    "\x03": Key.INTERRUPT,
    "\x04": Key.EOF,
    "\x15": Key.KILL_LINE,
    # Emacs keys, as in readline: ^A ^E home and end, ^B ^F left and right, ^P ^N
    # the lines typed before, ^K and ^W cut.
    "\x01": Key.HOME,
    "\x05": Key.END,
    "\x02": Key.LEFT,
    "\x06": Key.RIGHT,
    "\x10": Key.UP,
    "\x0e": Key.DOWN,
    "\x0b": Key.KILL_END,
    "\x17": Key.KILL_WORD,
    "\x0c": Key.REDRAW,
}
MAX_SEQUENCE = 32
"""Longest escape sequence kept; longer ones are dropped so garbage cannot grow a buffer."""


class KeyParser:
    """Turns decoded input text into events, keeping state across packet boundaries.

    CR LF, CR NUL and a lone LF each count as one Enter, even when the pair is split
    between two packets. With `controls`, control characters without a named key become
    `Control` events (NUL, padding, never does); without, they are dropped.
    """

    def __init__(self, *, controls: bool = False) -> None:
        self._after_cr = False
        self._seq = ""
        self.controls = controls

    def feed(self, text: str) -> list[Event]:
        """Events for `text`; an unfinished escape sequence waits for the next call."""
        events: list[Event] = []
        for ch in text:
            if self._seq:
                self._sequence(ch, events)
                continue
            if self._after_cr:
                self._after_cr = False
                if ch in ("\n", "\x00"):
                    continue
            if ch == "\r":
                self._after_cr = True
                events.append(Key.ENTER)
            elif ch == "\n":
                events.append(Key.ENTER)
            elif ch == _ESC:
                self._seq = ch
            elif ch in _CONTROLS:
                events.append(_CONTROLS[ch])
            elif ch.isprintable() and ch != "\ufffd":
                events.append(ch)
            elif self.controls and "\x00" < ch < " ":
                events.append(Control(ch))
            # Other control characters (NUL, C1 ...) carry no meaning for the board.
        return events

    def flush(self) -> list[Event]:
        """Events for a pending lone ESC, once no more input followed it for a while."""
        if self._seq == _ESC:
            self._seq = ""
            return [Key.ESCAPE]
        return []

    @property
    def pending(self) -> bool:
        """Whether an escape sequence is waiting for more input."""
        return bool(self._seq)

    def _sequence(self, ch: str, events: list[Event]) -> None:
        seq = self._seq + ch
        if len(seq) == 2:
            if ch in "[O":
                self._seq = seq
                return
            self._seq = ""
            events.append(Key.ESCAPE)
            if ch == _ESC:
                self._seq = _ESC
            else:
                events.extend(self.feed(ch))
            return
        if len(seq) > MAX_SEQUENCE:
            self._seq = ""
            events.append(Key.UNKNOWN)
            return
        if "\x40" <= ch <= "\x7e":
            self._seq = ""
            events.append(_decode_sequence(seq))
        elif "\x20" <= ch <= "\x3f":
            self._seq = seq
        else:
            # A control character inside a sequence ends it: the terminal sent garbage.
            self._seq = ""
            events.append(Key.UNKNOWN)
            events.extend(self.feed(ch))


def _decode_sequence(seq: str) -> Event:
    """The event for a complete ESC [ ... or ESC O ... sequence."""
    final = seq[-1]
    params = seq[2:-1]
    if seq[1] == "[" and final == "R":
        row, _, col = params.partition(";")
        if row.isdigit() and col.isdigit():
            return CursorReport(int(row), int(col))
        return Key.UNKNOWN
    if final == "~":
        return _TILDE.get(params.split(";")[0], Key.UNKNOWN)
    if seq[1] == "O" and final in _SS3_FINAL:
        return _SS3_FINAL[final]
    return _CSI_FINAL.get(final, Key.UNKNOWN)
