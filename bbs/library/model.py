"""Typed, immutable records of the technical-notes library, and its product and category codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bbs.directory.model import Names

NOTE_LANGS: tuple[str, ...] = ("fr", "en")
"""The languages a note is written in (the board itself also speaks German)."""


@dataclass(frozen=True, slots=True)
class Product:
    """A Lotus product the library has notes about."""

    code: str
    names: Names


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of note, as the fax-on-demand catalogue groups them.

    `needs_file`: every note of the category comes with a downloadable file
    (drivers, demos, templates).
    """

    code: str
    names: Names
    needs_file: bool = False


PRODUCTS: tuple[Product, ...] = (
    Product("123-dos", Names("1-2-3 pour DOS", "1-2-3 for DOS", "1-2-3 für DOS")),
    Product("123-win", Names("1-2-3 pour Windows", "1-2-3 for Windows", "1-2-3 für Windows")),
    Product("123-os2", Names("1-2-3 pour OS/2", "1-2-3 for OS/2", "1-2-3 für OS/2")),
    Product("notes", Names("Lotus Notes", "Lotus Notes", "Lotus Notes")),
    Product("ccmail", Names("cc:Mail", "cc:Mail", "cc:Mail")),
    Product("amipro", Names("Ami Pro", "Ami Pro", "Ami Pro")),
    Product("freelance", Names("Freelance Graphics", "Freelance Graphics", "Freelance Graphics")),
    Product("approach", Names("Approach", "Approach", "Approach")),
    Product("organizer", Names("Organizer", "Organizer", "Organizer")),
    Product("smartsuite", Names("SmartSuite", "SmartSuite", "SmartSuite")),
)
"""The products, in menu order."""

CATEGORIES: tuple[Category, ...] = (
    Category(
        "faq",
        Names(
            "Questions les plus fréquentes",
            "Frequently asked questions",
            "Häufig gestellte Fragen",
        ),
    ),
    Category(
        "bulletin",
        Names(
            "Bulletins d'informations techniques",
            "Technical information bulletins",
            "Technische Informationsbulletins",
        ),
    ),
    Category(
        "maj",
        Names(
            "Informations sur les mises à jour",
            "Upgrade information",
            "Informationen zu Updates",
        ),
    ),
    Category(
        "produit",
        Names(
            "Description et caractéristiques",
            "Product descriptions and features",
            "Produktbeschreibungen und Merkmale",
        ),
    ),
    Category("livre-blanc", Names("Livres blancs", "White papers", "White Papers")),
    Category("pilote", Names("Programmes pilotes", "Drivers", "Treiber"), needs_file=True),
    Category(
        "demo",
        Names("Logiciels de démonstration", "Demonstration software", "Demoversionen"),
        needs_file=True,
    ),
    Category("modele", Names("Modèles", "Templates", "Vorlagen"), needs_file=True),
)
"""The categories, in menu order (the seed's order)."""

PRODUCT_CODES: frozenset[str] = frozenset(p.code for p in PRODUCTS)
CATEGORY_CODES: frozenset[str] = frozenset(c.code for c in CATEGORIES)

_PRODUCTS = {p.code: p for p in PRODUCTS}
_CATEGORIES = {c.code: c for c in CATEGORIES}


def product(code: str) -> Product:
    """The product of a code; KeyError for an unknown code."""
    return _PRODUCTS[code]


def category(code: str) -> Category:
    """The category of a code; KeyError for an unknown code."""
    return _CATEGORIES[code]


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
