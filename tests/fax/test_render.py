"""Faxes as files: TIFF Class F, T.4 coded, 1728 pixels wide, both resolutions, A4 and
Letter, a cover, a header line on every page; and what OCR reads on a fine page."""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from difflib import SequenceMatcher
from pathlib import Path

import pytest
from PIL import Image, TiffImagePlugin

from bbs.fax.documents import CATALOGUE, catalogue_entries, cover_text, fetch_documents
from bbs.fax.render import (
    WIDTH,
    FaxDocument,
    Paper,
    Rendered,
    Resolution,
    draw_pages,
    page_height,
    render_fax,
)
from bbs.menus.strings import Strings
from bbs.store.db import engine_scope

WHEN = datetime(2026, 12, 6, 17, 30, tzinfo=UTC)
NOTE = 10112
TESSERACT = shutil.which("tesseract")
HEIGHTS = {
    (Paper.A4, Resolution.STANDARD): 1143,
    (Paper.A4, Resolution.FINE): 2287,
    (Paper.LETTER, Resolution.STANDARD): 1076,
    (Paper.LETTER, Resolution.FINE): 2151,
}


async def documents(url: str, strings: Strings, numbers: list[int]) -> list[FaxDocument]:
    async with engine_scope(url) as db:
        return await asyncio.wait_for(
            fetch_documents(db, numbers, "fr", strings, date(2026, 12, 6)), 30
        )


def fax(
    docs: list[FaxDocument],
    strings: Strings,
    resolution: Resolution = Resolution.FINE,
    paper: Paper = Paper.A4,
) -> Rendered:
    cover = cover_text(
        strings, "fr", number="+33144556677", when=WHEN, job=7, numbers=[d.number for d in docs]
    )
    return render_fax(
        docs, cover, sender="LOTUS FAX", when=WHEN, resolution=resolution, paper=paper
    )


def frames(data: bytes) -> list[Image.Image]:
    image = Image.open(io.BytesIO(data))
    assert isinstance(image, TiffImagePlugin.TiffImageFile)
    pages = []
    for n in range(image.n_frames):
        image.seek(n)
        tags = image.tag_v2
        assert image.info["compression"] == "group3"
        assert tags[259] == 3  # Compression: CCITT T.4
        assert tags[262] == 0  # Class F: white is zero
        assert tags[258] in (1, (1,))  # one bit a pixel
        assert tags[254] == 2  # a page of a multi-page document
        assert tags[297] == (n, image.n_frames)
        pages.append(image.copy())
    return pages


def ink(page: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Black pixels inside `box`."""
    return page.convert("L").crop(box).histogram()[0]


@pytest.mark.parametrize("paper", list(Paper))
@pytest.mark.parametrize("resolution", list(Resolution))
async def test_a_note_as_a_class_f_file(
    loaded_url: str, strings: Strings, paper: Paper, resolution: Resolution
) -> None:
    (note,) = await documents(loaded_url, strings, [NOTE])
    rendered = fax([note], strings, resolution, paper)
    pages = frames(rendered.data)
    assert rendered.pages == len(pages) >= 2  # the cover, then the note
    image = Image.open(io.BytesIO(rendered.data))
    assert image.info["dpi"] == resolution.dpi
    assert page_height(paper, resolution) == HEIGHTS[(paper, resolution)]
    header = round(70 * resolution.dpi[1] / 196)
    for page in pages:
        assert page.size == (WIDTH, HEIGHTS[(paper, resolution)])
        assert ink(page, (0, 0, WIDTH, header)) > 500, "every page has its header line"
    # The cover's banner: a black band under the header.
    assert ink(pages[0], (200, header * 2, WIDTH - 200, header * 4)) > 50_000


async def test_a_long_note_takes_several_pages_all_numbered(
    loaded_url: str, strings: Strings
) -> None:
    (note,) = await documents(loaded_url, strings, [NOTE])
    long = FaxDocument(note.number, note.title, note.lines * 4)
    rendered = fax([long], strings)
    assert rendered.pages >= 4
    pages = frames(rendered.data)
    assert len(pages) == rendered.pages
    drawn = draw_pages(
        [long], lambda n: [], sender="X", when=WHEN, resolution=Resolution.FINE, paper=Paper.A4
    )
    assert len(drawn) == rendered.pages


async def test_the_catalogue_lists_every_public_note_and_kb_article(
    loaded_url: str, strings: Strings
) -> None:
    async with engine_scope(loaded_url) as db:
        entries = await catalogue_entries(db, "fr")
    numbers = {e.number for e in entries}
    assert NOTE in numbers and 1001 in numbers
    data_dir = Path(__file__).resolve().parents[2] / "data"
    kb = {int(p.stem[3:]) for p in (data_dir / "kb").glob("KB-*.txt")}
    assert kb <= numbers
    (catalogue,) = await documents(loaded_url, strings, [CATALOGUE])
    text = "\n".join(catalogue.lines)
    assert "1-2-3 pour DOS" in text and "Lotus Notes" in text
    assert re.search(rf"^{NOTE}  ", text, re.M)
    assert re.search(r"^ 1001  KB ", text, re.M)
    for resolution in Resolution:
        rendered = fax([catalogue], strings, resolution, Paper.LETTER)
        pages = frames(rendered.data)
        assert rendered.pages == len(pages) >= 3
        assert all(p.size == (WIDTH, HEIGHTS[(Paper.LETTER, resolution)]) for p in pages)


# --- OCR -------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, no accents, letters and digits separated by single spaces."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def found(needle: str, haystack: str, at_least: float = 0.9) -> bool:
    """Whether `needle` appears in `haystack` but for OCR noise (normalised, fuzzy)."""
    needle, haystack = normalise(needle), normalise(haystack)
    if needle in haystack:
        return True
    size = len(needle)
    best = 0.0
    for start in range(0, max(1, len(haystack) - size + 1)):
        ratio = SequenceMatcher(None, needle, haystack[start : start + size]).ratio()
        best = max(best, ratio)
    return best >= at_least


def ocr(page: Image.Image, path: Path) -> str:
    assert TESSERACT, "tesseract is not installed (make setup installs tesseract-ocr)"
    page.convert("L").save(path)
    result = subprocess.run(
        [TESSERACT, str(path), "-", "-l", "fra"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def first_sentence(body: tuple[str, ...]) -> str:
    """The note's first sentence: its text after any heading in capitals, to the first dot."""
    text = " ".join(line for line in body if line.strip() and not line.isupper())
    return text.split(". ")[0]


async def test_ocr_reads_the_title_and_first_sentence_of_a_fine_page(
    loaded_url: str, strings: Strings, tmp_path: Path
) -> None:
    (note,) = await documents(loaded_url, strings, [NOTE])
    pages = frames(fax([note], strings, Resolution.FINE, Paper.A4).data)
    text = ocr(pages[1], tmp_path / "page2.png")
    body = note.lines[3:]  # after the document number, product and date
    sentence = first_sentence(body)
    assert len(normalise(sentence)) > 60
    assert found(note.title, text), text
    assert found(sentence, text), text
    assert found("Page 2/2", text), text
    assert found("LOTUS FAX", text), text
    cover = ocr(pages[0], tmp_path / "page1.png")
    assert found("+33144556677", cover) and found("Page 1/2", cover), cover
    assert found("Nombre de pages : 2", cover), cover
