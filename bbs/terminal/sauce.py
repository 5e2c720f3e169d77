"""SAUCE 00 records of ANSI art files, and art drawn for a session.

A SAUCE file is the art, an EOF byte (0x1A), an optional comment block ("COMNT"
and 64-byte lines) and the 128-byte record ("SAUCE00" ...). Text fields are CP437,
space padded; the font name (TInfoS) is NUL padded.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, replace
from datetime import date as Date
from functools import lru_cache

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.encoding import encode_as
from bbs.terminal.markup import escape
from bbs.terminal.render import render

RECORD_SIZE = 128
COMMENT_ID = b"COMNT"
COMMENT_LINE = 64
MAX_COMMENTS = 255
EOF = b"\x1a"

DATATYPE_CHARACTER = 1
FILETYPE_ANSI = 1

FLAG_ICE_COLOUR = 0x01
"""Non-blink mode: the blink attribute means a bright background."""
FLAG_LETTER_SPACING_8 = 0x02
FLAG_LETTER_SPACING_9 = 0x04
FLAG_ASPECT_STRETCH = 0x08
FLAG_ASPECT_SQUARE = 0x10

_RECORD = struct.Struct("<5s2s35s20s20s8sIBBHHHHBB22s")
_ID = b"SAUCE"
_VERSION = b"00"


@dataclass(frozen=True, slots=True)
class Sauce:
    """The metadata of one art file; for ANSi, `tinfo1` is the width, `tinfo2` the lines."""

    title: str = ""
    author: str = ""
    group: str = ""
    date: str = ""
    """CCYYMMDD, or empty when unknown."""
    datatype: int = DATATYPE_CHARACTER
    filetype: int = FILETYPE_ANSI
    tinfo1: int = 80
    tinfo2: int = 0
    tinfo3: int = 0
    tinfo4: int = 0
    flags: int = 0
    tinfos: str = ""
    """Font name for character files ("IBM VGA"), empty for the default."""
    comments: tuple[str, ...] = ()
    file_size: int = 0
    """Bytes of art before the EOF byte; `with_sauce` fills it in."""

    @property
    def width(self) -> int:
        """Columns the art was drawn for (80 when the file does not say)."""
        return self.tinfo1 or 80

    @property
    def lines(self) -> int:
        """Lines of the art, 0 when the file does not say."""
        return self.tinfo2

    @property
    def ice_colour(self) -> bool:
        """Whether blink means bright background (iCE colour)."""
        return bool(self.flags & FLAG_ICE_COLOUR)

    @property
    def day(self) -> Date | None:
        """`date` as a date, None when empty or invalid."""
        try:
            return Date(int(self.date[:4]), int(self.date[4:6]), int(self.date[6:8]))
        except ValueError:
            return None


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("cp437").rstrip(" ")


def split_sauce(data: bytes) -> tuple[bytes, Sauce | None]:
    """The art without its trailer (EOF byte, comments, record) and the record, if any."""
    if len(data) < RECORD_SIZE or data[-RECORD_SIZE:][:7] != _ID + _VERSION:
        return data, None
    (_, _, title, author, group, day, size, datatype, filetype, t1, t2, t3, t4, count, flags,
     tinfos) = _RECORD.unpack(data[-RECORD_SIZE:])  # fmt: skip
    end = len(data) - RECORD_SIZE
    comments: tuple[str, ...] = ()
    start = end - len(COMMENT_ID) - COMMENT_LINE * count
    if count and start >= 0 and data[start : start + len(COMMENT_ID)] == COMMENT_ID:
        body = data[start + len(COMMENT_ID) : end]
        comments = tuple(
            _text(body[i : i + COMMENT_LINE]) for i in range(0, len(body), COMMENT_LINE)
        )
        end = start
    art = data[:end]
    if art.endswith(EOF):
        art = art[:-1]
    sauce = Sauce(
        title=_text(title),
        author=_text(author),
        group=_text(group),
        date=_text(day),
        datatype=datatype,
        filetype=filetype,
        tinfo1=t1,
        tinfo2=t2,
        tinfo3=t3,
        tinfo4=t4,
        flags=flags,
        tinfos=_text(tinfos),
        comments=comments,
        file_size=size,
    )
    return art, sauce


def _field(text: str, size: int, pad: bytes = b" ") -> bytes:
    return encode_as(text, Encoding.CP437)[:size].ljust(size, pad)


def with_sauce(art: bytes, sauce: Sauce) -> bytes:
    """`art` (any old trailer removed) with `sauce` appended; `file_size` is set for you.

    Text longer than its field is cut; a bad date, more than 255 comment lines or a
    number out of its field's range raise ValueError.
    """
    art, _ = split_sauce(art)
    if sauce.date and not (len(sauce.date) == 8 and sauce.date.isascii() and sauce.date.isdigit()):
        raise ValueError(f"SAUCE date must be CCYYMMDD, not {sauce.date!r}")
    if len(sauce.comments) > MAX_COMMENTS:
        raise ValueError(f"SAUCE holds at most {MAX_COMMENTS} comment lines")
    sauce = replace(sauce, file_size=len(art))
    try:
        record = _RECORD.pack(
            _ID,
            _VERSION,
            _field(sauce.title, 35),
            _field(sauce.author, 20),
            _field(sauce.group, 20),
            _field(sauce.date, 8),
            sauce.file_size,
            sauce.datatype,
            sauce.filetype,
            sauce.tinfo1,
            sauce.tinfo2,
            sauce.tinfo3,
            sauce.tinfo4,
            len(sauce.comments),
            sauce.flags,
            _field(sauce.tinfos, 22, b"\x00"),
        )
    except struct.error as exc:
        raise ValueError(f"SAUCE field out of range: {exc}") from None
    block = b""
    if sauce.comments:
        block = COMMENT_ID + b"".join(_field(line, COMMENT_LINE) for line in sauce.comments)
    return art + EOF + block + record


# ----------------------------------------------------------------- drawing art

_CP437_GLYPHS = " ☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼"
_KEEP = {0x08, 0x09, 0x0A, 0x0D, 0x1B}
"""Control bytes that act the same on every terminal: BS, TAB, LF, CR, ESC."""
_GLYPHS = {code: _CP437_GLYPHS[code] for code in range(0x20) if code not in _KEEP} | {0x7F: "⌂"}
"""Control bytes a DOS screen shows as pictures, for terminals that would obey them."""

_CSI = re.compile(r"\x1b\[([0-?]*)[ -/]*([@-~])|\x1b[ -/]*[0-~]?")
_NEWLINE = re.compile(r"\r?\n")


def _plain_art(text: str, width: int) -> str:
    """Art without its escape sequences: forward moves become spaces, colours vanish."""

    def replace_sequence(match: re.Match[str]) -> str:
        if match.group(2) == "C":
            count = match.group(1)
            return " " * (int(count) if count.isdigit() else 1)
        return ""

    lines: list[str] = []
    for line in _NEWLINE.split(_CSI.sub(replace_sequence, text)):
        line = line.replace("\r", "")
        # Art relies on the terminal wrapping at its width.
        chunks = [line[i : i + width] for i in range(0, len(line), width)] or [""]
        lines += [chunk.rstrip() for chunk in chunks]
    while lines and not lines[-1]:
        lines.pop()
    return "".join(escape(line) + "\n" for line in lines)


@lru_cache(maxsize=64)
def render_art(data: bytes, caps: Caps) -> str:
    """An art file (CP437, SAUCE or not) as text to `encode` for this session.

    ANSI tier: the art's own escape sequences are kept (curated files, not user
    text), so a CP437 session gets the file's bytes unchanged; other encodings get
    the same picture, with the control bytes DOS draws as glyphs (☺ ♥ ...) drawn.
    The art's last colours stay in force: send `Controls.reset()` after it.
    Other tiers: the picture as plain text (escape sequences dropped), rendered
    like markup for the tier. Kept for the next caller with the same art and terminal
    (a welcome screen is drawn for every arrival).
    """
    art, sauce = split_sauce(data)
    art = art.split(EOF, 1)[0]
    text = art.decode("cp437")
    if caps.tier is Tier.ANSI:
        if caps.wire_encoding is Encoding.CP437:
            return text
        return text.translate(_GLYPHS)
    width = sauce.width if sauce is not None else 80
    return render(_plain_art(text.translate(_GLYPHS), width), caps)
