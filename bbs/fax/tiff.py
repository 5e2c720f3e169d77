"""TIFF Class F files: bilevel fax pages compressed by ITU-T T.4 (Group 3), one IFD a page.

Pillow's libtiff does the T.4 coding of each page; this module writes the container
itself, because Class F wants what Pillow cannot be told per page: white as 0
(PhotometricInterpretation 0), a page number in each directory and one strip a page.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps, TiffImagePlugin

_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2


@dataclass(frozen=True, slots=True)
class Coded:
    """One page coded by T.4: its strip, size and the T.4 options libtiff used."""

    data: bytes
    width: int
    height: int
    t4_options: int
    fill_order: int


def t4_code(page: Image.Image) -> Coded:
    """Code a bilevel page (black text on white) as one T.4 strip.

    The page is inverted before coding so that black pixels are the 1 bits: the strip
    then reads right under Class F's "0 is white"."""
    inverted = ImageOps.invert(page.convert("L")).convert("1", dither=Image.Dither.NONE)
    out = io.BytesIO()
    inverted.save(
        out,
        format="TIFF",
        compression="group3",
        tiffinfo={278: page.height, 292: 0},
    )
    out.seek(0)
    with Image.open(out) as coded:
        assert isinstance(coded, TiffImagePlugin.TiffImageFile)
        tags = coded.tag_v2
        offsets = tags[273]
        counts = tags[279]
        t4 = int(tags.get(292, 0))
        fill = int(tags.get(266, 1))
    raw = out.getvalue()
    strip = b"".join(raw[o : o + c] for o, c in zip(offsets, counts, strict=True))
    return Coded(strip, page.width, page.height, t4, fill)


def _blob(out: bytearray, data: bytes) -> int:
    """Append `data` (word-aligned); where it starts."""
    at = len(out)
    out.extend(data)
    if len(out) % 2:
        out.append(0)
    return at


def write_class_f(
    pages: Sequence[Coded],
    dpi: tuple[int, int],
    *,
    software: str = "lotus-bbs",
    stamp: str = "",
    description: str = "",
) -> bytes:
    """A TIFF Class F file (little-endian) of `pages` at `dpi` (x, y)."""
    if not pages:
        raise ValueError("a fax has at least one page")
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    ifd_offsets: list[int] = []
    pending_next: int | None = 4
    total = len(pages)
    for number, page in enumerate(pages):
        strip_at = len(out)
        out += page.data
        if len(out) % 2:
            out += b"\x00"
        # Values longer than 4 bytes live outside the directory: place them first.
        x_at = _blob(out, struct.pack("<II", dpi[0], 1))
        y_at = _blob(out, struct.pack("<II", dpi[1], 1))
        soft = software.encode("ascii", "replace") + b"\x00"
        soft_at = _blob(out, soft)
        texts: list[tuple[int, bytes, int]] = []
        if description:
            desc = description.encode("ascii", "replace") + b"\x00"
            texts.append((270, desc, _blob(out, desc)))
        if stamp:
            when = stamp.encode("ascii", "replace")[:19].ljust(19, b" ") + b"\x00"
            texts.append((306, when, _blob(out, when)))
        entries: list[tuple[int, int, int, int]] = [
            (254, _LONG, 1, 2),  # NewSubfileType: a page of a multi-page document
            (256, _LONG, 1, page.width),
            (257, _LONG, 1, page.height),
            (258, _SHORT, 1, 1),
            (259, _SHORT, 1, 3),  # CCITT T.4
            (262, _SHORT, 1, 0),  # WhiteIsZero
            (266, _SHORT, 1, page.fill_order),
            (273, _LONG, 1, strip_at),
            (277, _SHORT, 1, 1),
            (278, _LONG, 1, page.height),
            (279, _LONG, 1, len(page.data)),
            (282, _RATIONAL, 1, x_at),
            (283, _RATIONAL, 1, y_at),
            (292, _LONG, 1, page.t4_options),
            (296, _SHORT, 1, 2),  # inches
            (297, _SHORT, 2, number | (total << 16)),
            (305, _ASCII, len(soft), soft_at),
        ]
        entries += [(tag, _ASCII, len(data), at) for tag, data, at in texts]
        entries.sort(key=lambda e: e[0])
        ifd_at = len(out)
        ifd_offsets.append(ifd_at)
        assert pending_next is not None
        struct.pack_into("<I", out, pending_next, ifd_at)
        out += struct.pack("<H", len(entries))
        for tag, kind, count, value in entries:
            if kind == _SHORT and count == 1:
                field = struct.pack("<HH", value, 0)
            else:
                field = struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, count) + field
        pending_next = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)
