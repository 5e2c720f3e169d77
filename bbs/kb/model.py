"""Typed, immutable records of the Lotus Knowledge base: its own articles and their kinds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bbs.catalogue import catalogue
from bbs.catalogue.model import Kind

ARTICLE_LANGS: tuple[str, ...] = ("fr", "en")
"""The languages an article is written in."""

PREFIX = "KB-"
"""How an article number is printed: KB-1042."""

_REFERENCE = re.compile(r"(?:KB)?[-\s]*(\d{4})", re.IGNORECASE | re.ASCII)


def kinds() -> tuple[Kind, ...]:
    """The kinds of article, in menu order (`data/catalogue.toml`)."""
    return catalogue().kinds


def kind(code: str) -> Kind:
    """The kind of a code; KeyError for an unknown code."""
    return catalogue().kind(code)


def parse_reference(text: str) -> int | None:
    """The article number a caller typed ("KB-1042", "kb1042", "1042"), or None."""
    match = _REFERENCE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Article:
    """One article of the base (`data/kb/KB-NNNN.txt`), in one language.

    `number` identifies it (printed `KB-1042`); `body` is the text as written
    (lines of at most `bbs.kb.datafiles.MAX_COLUMNS` columns, no tabs, no trailing
    blank lines or spaces).
    """

    number: int
    lang: str
    product: str
    kind: str
    title: str
    date: date
    keywords: tuple[str, ...]
    body: str

    @property
    def reference(self) -> str:
        """The number as printed: KB-1042."""
        return f"{PREFIX}{self.number:04d}"


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every article of the base, by number."""

    articles: tuple[Article, ...] = ()
