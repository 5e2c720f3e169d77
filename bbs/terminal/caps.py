"""What a session knows about the caller's terminal: tier, encoding, size, speed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Tier(StrEnum):
    """How much of a terminal the renderer may use."""

    ANSI = "ansi"
    """ANSI colour (SGR 16 colours), cursor addressing, line drawing in the session's charset."""
    VT100 = "vt100"
    """VT-100 monochrome: bold, underline, reverse; DEC special graphics for line drawing."""
    DUMB = "dumb"
    """Plain text: no escape sequence at all, line drawing as + - |."""
    VIDEOTEX = "videotex"
    """Minitel (Télétel, CEPT profile 2): 40 columns, grey levels, double height, G1 mosaic."""

    @property
    def ansi(self) -> bool:
        """Whether the terminal obeys ANSI/VT-100 sequences (full-screen editing, probes)."""
        return self in (Tier.ANSI, Tier.VT100)


class Encoding(StrEnum):
    """How characters become bytes on the wire."""

    CP437 = "cp437"
    UTF8 = "utf-8"
    LATIN1 = "latin-1"
    ASCII = "ascii"
    VIDEOTEX = "videotex"
    """The Minitel's 7-bit sets: G0, G2 accents by SS2, G1 mosaic by SO/SI."""


SPEEDS: tuple[int, ...] = (300, 1200, 2400, 4800, 9600, 14400, 19200, 28800)
"""Emulated modem speeds in baud; 0 means no limit."""


@dataclass(frozen=True, slots=True)
class Caps:
    """Terminal capabilities of one session; replaced (never mutated) when they change.

    `eight_bit` false forces 7-bit output (ASCII with transliteration) whatever the
    encoding says; `baud` 0 means no pacing.
    """

    tier: Tier = Tier.DUMB
    encoding: Encoding = Encoding.ASCII
    cols: int = 80
    rows: int = 24
    eight_bit: bool = True
    baud: int = 0

    @property
    def wire_encoding(self) -> Encoding:
        """The encoding actually used on the wire, after the 7/8-bit setting."""
        if self.encoding is Encoding.VIDEOTEX:
            # Videotex is a 7-bit code: the 7/8-bit setting changes nothing.
            return self.encoding
        return self.encoding if self.eight_bit else Encoding.ASCII

    def with_(self, **changes: object) -> Caps:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_CAPS = Caps()

MINITEL_CAPS = Caps(tier=Tier.VIDEOTEX, encoding=Encoding.VIDEOTEX, cols=40, rows=24)
"""A Minitel: 40x24 below the status line (no pacing here; the node's minitel_baud)."""
"""With nothing learned: 80x24 dumb ASCII."""

MIN_COLS, MAX_COLS = 20, 255
MIN_ROWS, MAX_ROWS = 5, 255


def clamp_size(cols: int, rows: int) -> tuple[int, int]:
    """Window size bounded to what the renderer supports; 0 (unknown) becomes 80x24."""
    cols = 80 if cols <= 0 else min(max(cols, MIN_COLS), MAX_COLS)
    rows = 24 if rows <= 0 else min(max(rows, MIN_ROWS), MAX_ROWS)
    return cols, rows
