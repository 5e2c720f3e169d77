"""Fax pages: documents laid out in a monospace font on 1728-pixel T.4 pages, with a cover.

Pages are drawn at fine resolution (204 x 196 dpi, nearly square pixels) and halved in
height for standard resolution (204 x 98 dpi), as a fax machine's scanner would see them.
Page heights follow T.4's 3.85 and 7.7 lines per millimetre.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bbs.fax.tiff import Coded, t4_code, write_class_f

WIDTH = 1728
"""Pixels in a T.4 scan line (215 mm at 8 pixels a millimetre), whatever the paper."""

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
"""The monospace font (Debian's fonts-dejavu-core)."""
FONT_BOLD = FONT.with_name("DejaVuSansMono-Bold.ttf")

COLUMNS = 80
"""Characters a body line holds; longer lines wrap."""

_BODY_SIZE = 30
_LINE = 38
_HEADER_SIZE = 28
_HEADER_Y = 16
_RULE_Y = 58
_TOP = 100
_BOTTOM = 90
_LEFT = 140


class FaxError(Exception):
    """A fax cannot be made (font missing, nothing to send); one line for the sysop."""


class Resolution(Enum):
    """Vertical resolution: T.4 standard (3.85 lines/mm) or fine (7.7 lines/mm)."""

    STANDARD = "standard"
    FINE = "fine"

    @property
    def dpi(self) -> tuple[int, int]:
        """Horizontal and vertical dots per inch, as Class F records them."""
        return (204, 98) if self is Resolution.STANDARD else (204, 196)

    @property
    def lines_per_mm(self) -> float:
        return 3.85 if self is Resolution.STANDARD else 7.7


class Paper(Enum):
    """The paper the page is scanned from; only its length matters to the page."""

    A4 = "a4"
    LETTER = "letter"

    @property
    def length_mm(self) -> float:
        return 297.0 if self is Paper.A4 else 279.4


def page_height(paper: Paper, resolution: Resolution) -> int:
    """Scan lines in one page: A4 1143 (standard) or 2287 (fine), Letter 1076 or 2151."""
    return round(paper.length_mm * resolution.lines_per_mm)


@dataclass(frozen=True, slots=True)
class FaxDocument:
    """A document as the fax prints it: the number a caller dials, a title, text lines."""

    number: int
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A finished fax: the TIFF Class F bytes and how many pages it holds."""

    data: bytes
    pages: int


CoverText = Callable[[int], Sequence[str]]
"""The cover page's lines, given the total number of pages (the cover included)."""


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONT_BOLD if bold and FONT_BOLD.exists() else FONT
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        raise FaxError(
            f"cannot load the fax font {path} (Debian package fonts-dejavu-core)"
        ) from None


def wrap(text: str, width: int = COLUMNS) -> list[str]:
    """Lines of at most `width` characters, blank lines kept, tabs as spaces."""
    lines: list[str] = []
    for line in text.expandtabs(4).splitlines() or [""]:
        if len(line) <= width:
            lines.append(line.rstrip())
        else:
            lines.extend(
                textwrap.wrap(line, width, break_long_words=True, replace_whitespace=False) or [""]
            )
    return lines


def lines_per_page(paper: Paper) -> int:
    """Body lines on one page of `paper` (the layout is the same at both resolutions)."""
    height = page_height(paper, Resolution.FINE)
    return (height - _TOP - _BOTTOM) // _LINE


def paginate(documents: Sequence[FaxDocument], paper: Paper) -> list[list[str]]:
    """The body lines of each page; every document starts on a page of its own."""
    per_page = lines_per_page(paper)
    pages: list[list[str]] = []
    for document in documents:
        lines = [*wrap(document.title), "=" * min(COLUMNS, len(document.title)), ""]
        lines += [line for text in document.lines for line in wrap(text)]
        while lines and not lines[-1].strip():
            lines.pop()
        for start in range(0, len(lines), per_page):
            pages.append(lines[start : start + per_page])
    return pages


def _canvas(paper: Paper) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    page = Image.new("L", (WIDTH, page_height(paper, Resolution.FINE)), 255)
    return page, ImageDraw.Draw(page)


def _header(draw: ImageDraw.ImageDraw, header: str) -> None:
    draw.text((_LEFT - 60, _HEADER_Y), header, font=_font(_HEADER_SIZE), fill=0)
    draw.line((_LEFT - 60, _RULE_Y, WIDTH - _LEFT + 60, _RULE_Y), fill=0, width=2)


def _draw_cover(draw: ImageDraw.ImageDraw, lines: Sequence[str]) -> None:
    # The Lotus banner: white letters on a black band, as the period's cover sheets had.
    top = _TOP + 40
    draw.rectangle((_LEFT, top, WIDTH - _LEFT, top + 200), fill=0)
    draw.text((_LEFT + 60, top + 30), "LOTUS", font=_font(130, bold=True), fill=255)
    draw.text(
        (_LEFT + 600, top + 95), "Development Corporation", font=_font(40, bold=True), fill=255
    )
    y = top + 280
    for line in lines:
        for part in wrap(line, 60):
            draw.text((_LEFT, y), part, font=_font(40), fill=0)
            y += 56


def _draw_body(draw: ImageDraw.ImageDraw, lines: Sequence[str]) -> None:
    y = _TOP
    for line in lines:
        if line:
            draw.text((_LEFT, y), line, font=_font(_BODY_SIZE), fill=0)
        y += _LINE


def _bilevel(page: Image.Image, paper: Paper, resolution: Resolution) -> Image.Image:
    if resolution is Resolution.STANDARD:
        page = page.resize((WIDTH, page_height(paper, Resolution.STANDARD)), Image.Resampling.BOX)
    return page.point(lambda v: 255 if v >= 160 else 0).convert("1", dither=Image.Dither.NONE)


def header_line(sender: str, when: datetime, number: int, total: int) -> str:
    """The line printed at the top of every page, as a fax machine stamps it."""
    return f"{when:%d/%m/%Y %H:%M}   {sender[:20]}   Page {number}/{total}"


def draw_pages(
    documents: Sequence[FaxDocument],
    cover: CoverText,
    *,
    sender: str,
    when: datetime,
    resolution: Resolution,
    paper: Paper,
) -> list[Image.Image]:
    """Every page of the fax as a bilevel image: the cover, then the documents."""
    if not documents:
        raise FaxError("nothing to send")
    bodies = paginate(documents, paper)
    total = len(bodies) + 1
    images: list[Image.Image] = []
    for index in range(total):
        page, draw = _canvas(paper)
        _header(draw, header_line(sender, when, index + 1, total))
        if index == 0:
            _draw_cover(draw, cover(total))
        else:
            _draw_body(draw, bodies[index - 1])
        images.append(_bilevel(page, paper, resolution))
    return images


def render_fax(
    documents: Sequence[FaxDocument],
    cover: CoverText,
    *,
    sender: str,
    when: datetime,
    resolution: Resolution = Resolution.FINE,
    paper: Paper = Paper.A4,
) -> Rendered:
    """The fax as a TIFF Class F file: a cover page, then every document."""
    images = draw_pages(
        documents, cover, sender=sender, when=when, resolution=resolution, paper=paper
    )
    coded: list[Coded] = [t4_code(image) for image in images]
    data = write_class_f(
        coded,
        resolution.dpi,
        stamp=f"{when:%Y:%m:%d %H:%M:%S}",
        description=f"Lotus fax on demand, {len(coded)} pages",
    )
    return Rendered(data, len(coded))
