"""The technical-notes library as shipped: data/library/*.txt and data/files/*.zip.

The notes are read with a small reader of their own (header, blank line, body), written
from data/library/README.md, so that these checks do not depend on the board's parser.
The archives are checked as files a caller downloads: real ZIPs, a read-me, every byte
value present, and the same bytes as a fresh run of tools/make_files.py.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "data" / "library"
FILES = ROOT / "data" / "files"
MAKE_FILES = ROOT / "tools" / "make_files.py"

PRODUCTS = {
    "123-dos",
    "123-win",
    "123-os2",
    "notes",
    "ccmail",
    "amipro",
    "freelance",
    "approach",
    "organizer",
    "smartsuite",
}
CATEGORIES = {"faq", "bulletin", "maj", "produit", "livre-blanc", "pilote", "demo", "modele"}
REQUIRED = ("Document", "Langue", "Produit", "Categorie", "Titre", "Date", "Mots-cles")
OPTIONAL = ("Fichier", "Public")
WITH_FILE = {"pilote", "demo", "modele"}
FIRST_DAY = dt.date(1993, 1, 1)
LAST_DAY = dt.date(1996, 12, 31)
WIDTH = 76
NAME = re.compile(r"^(\d{5})-(fr|en)\.txt$")
ARCHIVE_NAME = re.compile(r"^[a-z0-9_-]{1,8}\.zip$")
README_MEMBERS = {"LISEZMOI.TXT", "README.TXT"}


@dataclass(frozen=True)
class Note:
    path: Path
    header: dict[str, str]
    body: str

    @property
    def lines(self) -> list[str]:
        return self.body.rstrip("\n").split("\n")


def read_note(path: Path) -> Note:
    """Header of `Key: value` lines up to the first blank line, then the body."""
    text = path.read_bytes().decode("utf-8")
    head, sep, body = text.partition("\n\n")
    assert sep, f"{path.name}: no blank line after the header"
    header: dict[str, str] = {}
    for line in head.split("\n"):
        key, colon, value = line.partition(": ")
        assert colon and key and value.strip() == value and value, f"{path.name}: {line!r}"
        assert key not in header, f"{path.name}: {key} twice"
        header[key] = value
    return Note(path, header, body)


NOTE_PATHS = sorted(p for p in LIBRARY.glob("*.txt"))
NOTES = [read_note(p) for p in NOTE_PATHS]
ARCHIVES = sorted(FILES.glob("*.zip"))


def note_id(note: Note) -> str:
    return note.path.name


# ------------------------------------------------------------------ the collection


def test_at_least_64_documents() -> None:
    numbers = {n.header["Document"] for n in NOTES}
    assert len(NOTES) >= 64
    assert len(numbers) >= 64


def test_every_product_and_category_is_present() -> None:
    assert {n.header["Produit"] for n in NOTES} == PRODUCTS
    assert {n.header["Categorie"] for n in NOTES} == CATEGORIES


def test_mostly_french_with_english() -> None:
    langs = Counter(n.header["Langue"] for n in NOTES)
    assert langs["en"] >= 15
    assert langs["fr"] > langs["en"]


def test_documents_in_both_languages() -> None:
    by_number: dict[str, dict[str, Note]] = defaultdict(dict)
    for note in NOTES:
        by_number[note.header["Document"]][note.header["Langue"]] = note
    pairs = [langs for langs in by_number.values() if set(langs) == {"fr", "en"}]
    assert len(pairs) >= 6
    for langs in pairs:
        fr, en = langs["fr"], langs["en"]
        for key in ("Produit", "Categorie", "Date", "Fichier", "Public"):
            assert fr.header.get(key) == en.header.get(key), (fr.path.name, key)


def test_at_least_12_notes_have_a_file() -> None:
    assert sum("Fichier" in n.header for n in NOTES) >= 12


def test_cross_references_name_existing_documents() -> None:
    numbers = {n.header["Document"] for n in NOTES}
    for note in NOTES:
        for ref in re.findall(r"\bdocuments? (\d{5})\b", note.body):
            assert ref in numbers, (note.path.name, ref)


# ------------------------------------------------------------------ each note


@pytest.mark.parametrize("note", NOTES, ids=note_id)
def test_header_keys_and_values(note: Note) -> None:
    h = note.header
    assert set(h) >= set(REQUIRED), note.path.name
    assert set(h) <= set(REQUIRED + OPTIONAL), note.path.name
    assert re.fullmatch(r"\d{5}", h["Document"])
    assert h["Langue"] in {"fr", "en"}
    assert h["Produit"] in PRODUCTS
    assert h["Categorie"] in CATEGORIES
    assert h["Titre"] and "\n" not in h["Titre"]
    keywords = [k.strip() for k in h["Mots-cles"].split(",")]
    assert len(keywords) >= 3 and all(keywords)
    assert h.get("Public", "oui") in {"oui", "non"}


@pytest.mark.parametrize("note", NOTES, ids=note_id)
def test_file_name_matches_document_and_language(note: Note) -> None:
    match = NAME.match(note.path.name)
    assert match, note.path.name
    assert match.groups() == (note.header["Document"], note.header["Langue"])


@pytest.mark.parametrize("note", NOTES, ids=note_id)
def test_date_in_range(note: Note) -> None:
    date = dt.date.fromisoformat(note.header["Date"])
    assert FIRST_DAY <= date <= LAST_DAY


@pytest.mark.parametrize("note", NOTES, ids=note_id)
def test_body_is_plain_narrow_text(note: Note) -> None:
    text = note.path.read_text("utf-8")
    assert "\t" not in text and "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert 25 <= len(note.lines) <= 80, len(note.lines)
    assert note.lines[0].strip(), "body starts with a blank line"
    for number, line in enumerate(note.lines, 1):
        assert len(line) <= WIDTH, f"line {number} is {len(line)} columns"
        assert line == line.rstrip(), f"line {number} has trailing spaces"
        assert all(ch.isprintable() for ch in line), f"line {number} has a control character"


@pytest.mark.parametrize("note", NOTES, ids=note_id)
def test_downloadable_file_exists(note: Note) -> None:
    if note.header["Categorie"] in WITH_FILE:
        assert "Fichier" in note.header
    if "Fichier" in note.header:
        name = note.header["Fichier"]
        assert ARCHIVE_NAME.match(name), name
        assert (FILES / name).is_file(), name


# ------------------------------------------------------------------ the archives


def notes_for(archive: Path) -> list[Note]:
    return [n for n in NOTES if n.header.get("Fichier") == archive.name]


def test_at_least_12_archives_every_one_with_a_note() -> None:
    assert len(ARCHIVES) >= 12
    for archive in ARCHIVES:
        assert notes_for(archive), f"{archive.name} is not the Fichier of any note"


def test_archive_sizes_and_compression_vary() -> None:
    sizes = [a.stat().st_size for a in ARCHIVES]
    assert min(sizes) <= 4_096
    assert max(sizes) >= 250_000
    methods = set()
    for archive in ARCHIVES:
        with zipfile.ZipFile(archive) as zf:
            methods |= {info.compress_type for info in zf.infolist()}
    assert methods == {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
def test_archive_opens_and_covers_every_byte(archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        contents = [zf.read(name) for name in names]
    seen = set()
    for data in contents:
        seen |= set(data)
    assert seen == set(range(256))
    everything = b"".join(contents)
    for run in (b"\xff" * 8, b"\x18" * 8, b"\x11" * 8, b"\x13" * 8, b"\x10" * 8, b"\x40\x0d"):
        assert run in everything, run


@pytest.mark.parametrize("archive", ARCHIVES, ids=lambda p: p.name)
def test_archive_read_me_is_ascii_and_names_its_note(archive: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        readmes = [n for n in names if n in README_MEMBERS]
        assert len(readmes) == 1, names
        text = zf.read(readmes[0])
        dates = {info.date_time[:3] for info in zf.infolist()}
    assert all(b < 0x80 for b in text), "read-me is not plain ASCII"
    body = text.rstrip(b"\x1a").decode("ascii")
    assert all(len(line) <= WIDTH for line in body.split("\r\n"))
    for note in notes_for(archive):
        assert f"Document {note.header['Document']}" in body
        assert dates == {tuple(int(x) for x in note.header["Date"].split("-"))}


def test_make_files_is_deterministic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(MAKE_FILES), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    built = sorted(tmp_path.glob("*.zip"))
    assert [p.name for p in built] == [p.name for p in ARCHIVES]
    for fresh in built:
        assert fresh.read_bytes() == (FILES / fresh.name).read_bytes(), fresh.name
