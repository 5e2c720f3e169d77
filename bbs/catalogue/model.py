"""Typed, immutable records of the catalogue: products, families, library categories, KB kinds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bbs.directory.model import Names


@dataclass(frozen=True, slots=True)
class Family:
    """A product family of the support contracts; `covers_all`: a contract of it
    covers every family (Working Together)."""

    code: str
    names: Names
    covers_all: bool = False


@dataclass(frozen=True, slots=True)
class Product:
    """A Lotus product the support desk knows; `library`: the technical library has
    notes about it (its menus list it)."""

    code: str
    names: Names
    family: str
    library: bool = True


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of library note, as the fax-on-demand catalogue groups them.

    `needs_file`: every note of the category comes with a downloadable file
    (drivers, demos, templates).
    """

    code: str
    names: Names
    needs_file: bool = False


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of Knowledge-base article, as the seed lists what the base holds."""

    code: str
    names: Names


class _Coded(Protocol):
    @property
    def code(self) -> str: ...


_T = TypeVar("_T", bound=_Coded)


def _find(items: Sequence[_T], code: str) -> _T:
    for item in items:
        if item.code == code:
            return item
    raise KeyError(code)


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Everything of `data/catalogue.toml`, each list in menu order."""

    families: tuple[Family, ...] = ()
    products: tuple[Product, ...] = ()
    categories: tuple[Category, ...] = ()
    kinds: tuple[Kind, ...] = ()

    def family(self, code: str) -> Family:
        """The family of a code; KeyError for an unknown code."""
        return _find(self.families, code)

    def product(self, code: str) -> Product:
        """The product of a code; KeyError for an unknown code."""
        return _find(self.products, code)

    def category(self, code: str) -> Category:
        """The category of a code; KeyError for an unknown code."""
        return _find(self.categories, code)

    def kind(self, code: str) -> Kind:
        """The article kind of a code; KeyError for an unknown code."""
        return _find(self.kinds, code)

    @property
    def library_products(self) -> tuple[Product, ...]:
        """The products the library has notes about, in menu order."""
        return tuple(p for p in self.products if p.library)
