"""`data/library/*.txt` (see data/library/README.md) and `data/files/` read into a `Library`.

Reading is strict: a file name that is not ``NNNNN-LL.txt``, an unknown or repeated
header key, a bad value, a header that disagrees with the file name, a referenced
file missing from `data/files/`, a body line wider than 76 columns or a control
character refuses the whole library with a `LibraryError` whose message starts
with "path:line:" (line 0: the file as a whole).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bbs.directory.text import fold
from bbs.library.model import (
    NOTE_LANGS,
    Library,
    LibraryFile,
    Note,
    categories,
    category,
    products,
)

LIBRARY_DIR = "library"
"""The notes' folder, inside the data folder."""

FILES_DIR = "files"
"""The downloadable files' folder, inside the data folder."""

MAX_COLUMNS = 76
"""The widest a body line may be."""

FIRST_YEAR, LAST_YEAR = 1993, 1996
"""The years a note may be dated."""

_FILE_NAME = re.compile(r"(\d{5})-([a-z]{2})\.txt")
_DOCUMENT = re.compile(r"\d{5}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DOWNLOAD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_HEADER = re.compile(r"([^:\s][^:]*?)\s*:(.*)")
_PUBLIC = {"oui": True, "non": False}

REQUIRED_KEYS: tuple[str, ...] = (
    "Document",
    "Langue",
    "Produit",
    "Categorie",
    "Titre",
    "Date",
    "Mots-cles",
)
OPTIONAL_KEYS: tuple[str, ...] = ("Fichier", "Public")
KEYS: tuple[str, ...] = REQUIRED_KEYS + OPTIONAL_KEYS


class LibraryError(ValueError):
    """A library file that cannot be used; the message starts with "path:line:"."""


@dataclass(frozen=True, slots=True)
class _Value:
    text: str
    line: int


@dataclass(slots=True)
class _Reader:
    """One note file being read: its header values and where to point at them."""

    path: Path
    header: dict[str, _Value]

    def fail(self, line: int, message: str) -> LibraryError:
        return LibraryError(f"{self.path}:{line}: {message}")

    def value(self, key: str) -> _Value:
        return self.header[key]

    def check(self, key: str, ok: Callable[[str], bool], message: str) -> str:
        value = self.header[key]
        if not ok(value.text):
            raise self.fail(value.line, f"{key}: {message}, not {value.text!r}")
        return value.text


def read_library(path: Path) -> Library:
    """The library held in the data folder `path`: its `library/` notes and the
    `files/` they refer to. Notes come by number then language, files by name."""
    folder = path / LIBRARY_DIR
    files_dir = path / FILES_DIR
    if not folder.is_dir():
        raise LibraryError(f"{folder}:0: missing library folder")
    notes: dict[tuple[int, str], Note] = {}
    where: dict[tuple[int, str], tuple[Path, dict[str, _Value]]] = {}
    for file in sorted(folder.iterdir()):
        if file.suffix != ".txt":
            continue  # README.md and the like
        note, header = _read_note(file, files_dir)
        if note.key in notes:
            raise LibraryError(
                f"{file}:{header['Document'].line}: document {note.document} in {note.lang!r} "
                f"is already {where[note.key][0]}"
            )
        for other_lang in NOTE_LANGS:
            other = notes.get((note.number, other_lang))
            if other is None:
                continue
            for key, mine, theirs in (
                ("Produit", note.product, other.product),
                ("Categorie", note.category, other.category),
            ):
                if mine != theirs:
                    raise LibraryError(
                        f"{file}:{header[key].line}: {key}: {mine!r}, but the "
                        f"{other_lang!r} version of document {note.document} "
                        f"({where[other.key][0]}) says {theirs!r}"
                    )
        notes[note.key] = note
        where[note.key] = (file, header)
    ordered = tuple(notes[key] for key in sorted(notes))
    names = sorted({n.file for n in ordered if n.file is not None})
    return Library(notes=ordered, files=tuple(_library_file(files_dir / name) for name in names))


def _library_file(path: Path) -> LibraryFile:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise LibraryError(f"{path}:0: cannot read: {exc.strerror or exc}") from None
    return LibraryFile(name=path.name, size=size, sha256=digest.hexdigest())


def _read_note(path: Path, files_dir: Path) -> tuple[Note, dict[str, _Value]]:
    named = _FILE_NAME.fullmatch(path.name)
    if named is None:
        raise LibraryError(
            f"{path}:0: a note file is named NNNNN-LL.txt (document number, fr or en)"
        )
    lines = _lines(path)
    header, body_start = _header(path, lines)
    reader = _Reader(path, header)

    document = reader.check("Document", _matches(_DOCUMENT), "must be 5 digits")
    if document != named.group(1):
        raise reader.fail(
            header["Document"].line,
            f"Document: {document} does not match the file name {path.name}",
        )
    lang = reader.check("Langue", lambda v: v in NOTE_LANGS, "must be fr or en")
    if lang != named.group(2):
        raise reader.fail(
            header["Langue"].line, f"Langue: {lang} does not match the file name {path.name}"
        )
    product_codes = [p.code for p in products()]
    product = reader.check(
        "Produit", lambda v: v in product_codes, f"must be one of {', '.join(product_codes)}"
    )
    category_codes = [c.code for c in categories()]
    kind = reader.check(
        "Categorie", lambda v: v in category_codes, f"must be one of {', '.join(category_codes)}"
    )
    title = header["Titre"].text
    published = _date(reader)
    keywords = _keywords(reader)
    file = _download(reader, files_dir, kind)
    public = True
    if "Public" in header:
        public = _PUBLIC[reader.check("Public", lambda v: v in _PUBLIC, "must be oui or non")]
    body = _body(path, lines, body_start)
    note = Note(
        number=int(document),
        lang=lang,
        product=product,
        category=kind,
        title=title,
        date=published,
        keywords=keywords,
        file=file,
        public=public,
        body=body,
    )
    return note, header


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{path}:0: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = raw.count(b"\n", 0, exc.start) + 1
        raise LibraryError(f"{path}:{where}: not UTF-8 (byte {raw[exc.start]:#04x})") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last line
    out = []
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix("\r")  # CRLF files
        for char in line:
            if unicodedata.category(char) == "Cc":
                hint = " (use spaces)" if char == "\t" else ""
                raise LibraryError(f"{path}:{number}: control character U+{ord(char):04X}{hint}")
        out.append(line)
    return out


def _header(path: Path, lines: list[str]) -> tuple[dict[str, _Value], int]:
    """The header's values by key, and the index of the first body line."""
    header: dict[str, _Value] = {}
    known = {fold(k): k for k in KEYS}
    index = 0
    while index < len(lines) and lines[index].strip():
        number = index + 1
        match = _HEADER.fullmatch(lines[index].strip())
        if match is None:
            raise LibraryError(
                f"{path}:{number}: a header line is 'Key: value' (and a blank line ends the header)"
            )
        key, value = match.group(1), match.group(2).strip()
        if key not in KEYS:
            spelled = known.get(fold(key))
            hint = f"write {spelled!r}" if spelled else f"known: {', '.join(KEYS)}"
            raise LibraryError(f"{path}:{number}: unknown key {key!r} ({hint})")
        if key in header:
            raise LibraryError(f"{path}:{number}: {key} given twice (line {header[key].line})")
        if not value:
            raise LibraryError(f"{path}:{number}: {key} has no value")
        header[key] = _Value(value, number)
        index += 1
    if index == 0:
        raise LibraryError(f"{path}:1: the file must start with its header (Document: ...)")
    missing = [k for k in REQUIRED_KEYS if k not in header]
    if missing:
        raise LibraryError(f"{path}:{index}: the header lacks {', '.join(missing)}")
    if index >= len(lines):
        raise LibraryError(f"{path}:{index}: no blank line and body after the header")
    return header, index + 1


def _date(reader: _Reader) -> date:
    value = reader.check("Date", _matches(_DATE), "must be YYYY-MM-DD")
    line = reader.value("Date").line
    try:
        published = date.fromisoformat(value)
    except ValueError:
        raise reader.fail(line, f"Date: {value} is not a day of the calendar") from None
    if not FIRST_YEAR <= published.year <= LAST_YEAR:
        raise reader.fail(line, f"Date: {value} is not between {FIRST_YEAR} and {LAST_YEAR}")
    return published


def _keywords(reader: _Reader) -> tuple[str, ...]:
    value = reader.value("Mots-cles")
    keywords = tuple(" ".join(k.split()) for k in value.text.split(","))
    if not all(keywords):
        raise reader.fail(value.line, "Mots-cles: an empty keyword (two commas in a row?)")
    return keywords


def _download(reader: _Reader, files_dir: Path, kind: str) -> str | None:
    if "Fichier" not in reader.header:
        if category(kind).needs_file:
            raise reader.fail(
                reader.value("Categorie").line,
                f"Categorie: a {kind} note needs a Fichier (the file that goes with it)",
            )
        return None
    value = reader.value("Fichier")
    if not _DOWNLOAD.fullmatch(value.text):
        raise reader.fail(
            value.line, f"Fichier: {value.text!r} must be a plain file name (no folder)"
        )
    if not (files_dir / value.text).is_file():
        raise reader.fail(value.line, f"Fichier: no file {files_dir / value.text}")
    return value.text


def _body(path: Path, lines: list[str], start: int) -> str:
    body = [line.rstrip() for line in lines[start:]]
    while body and not body[0]:
        body.pop(0)
        start += 1
    while body and not body[-1]:
        body.pop()
    if not body:
        raise LibraryError(f"{path}:{start}: the note has no body")
    for offset, line in enumerate(body):
        width = columns(line)
        if width > MAX_COLUMNS:
            raise LibraryError(
                f"{path}:{start + offset + 1}: line is {width} columns wide, at most {MAX_COLUMNS}"
            )
    return "\n".join(body)


def columns(text: str) -> int:
    """How many screen columns `text` takes (combining marks none, wide characters two)."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width
