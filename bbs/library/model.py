"""Typed, immutable records of the technical-notes library; its products and categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bbs.catalogue import catalogue
from bbs.catalogue.model import Category, Product

NOTE_LANGS: tuple[str, ...] = ("fr", "en")
"""The languages a note is written in (the board itself also speaks German)."""


def products() -> tuple[Product, ...]:
    """The products the library has notes about, in menu order (`data/catalogue.toml`)."""
    return catalogue().library_products


def categories() -> tuple[Category, ...]:
    """The categories of notes, in menu order (`data/catalogue.toml`)."""
    return catalogue().categories


def product(code: str) -> Product:
    """The product of a code; KeyError for an unknown code."""
    return catalogue().product(code)


def category(code: str) -> Category:
    """The category of a code; KeyError for an unknown code."""
    return catalogue().category(code)


@dataclass(frozen=True, slots=True)
class Note:
    """One technical note in one language (`data/library/NNNNN-LL.txt`).

    (`number`, `lang`) identifies it; a note published in French and English is two
    records with the same number. `file` names a `LibraryFile` that goes with it;
    `public` is false for Knowledge-base-only material. `body` is the text as written
    (lines of at most 76 columns, paragraphs separated by blank lines, no trailing
    blank lines or trailing spaces).
    """

    number: int
    lang: str
    product: str
    category: str
    title: str
    date: date
    keywords: tuple[str, ...]
    file: str | None
    public: bool
    body: str

    @property
    def key(self) -> tuple[int, str]:
        """The natural key: (number, lang)."""
        return (self.number, self.lang)

    @property
    def document(self) -> str:
        """The document number as printed: five digits."""
        return f"{self.number:05d}"


@dataclass(frozen=True, slots=True)
class LibraryFile:
    """A downloadable file of `data/files/` that a note refers to."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Library:
    """All notes (by number, then language) and the files they refer to (by name)."""

    notes: tuple[Note, ...] = ()
    files: tuple[LibraryFile, ...] = ()
    _by_key: dict[tuple[int, str], Note] = field(default_factory=dict, compare=False, repr=False)

    def note(self, number: int, lang: str) -> Note | None:
        """The note `number` in `lang`, if any."""
        if not self._by_key and self.notes:
            self._by_key.update((n.key, n) for n in self.notes)
        return self._by_key.get((number, lang))
