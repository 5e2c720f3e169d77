"""Typed, immutable records of the Lotus Knowledge base: its own articles and their kinds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bbs.directory.model import Names

ARTICLE_LANGS: tuple[str, ...] = ("fr", "en")
"""The languages an article is written in."""

PREFIX = "KB-"
"""How an article number is printed: KB-1042."""

_REFERENCE = re.compile(r"(?:KB)?[-\s]*(\d{4})", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of article, as the seed lists what the base holds."""

    code: str
    names: Names


KINDS: tuple[Kind, ...] = (
    Kind(
        "script",
        Names("Scripts de dépannage", "Troubleshooting scripts", "Skripts zur Fehlerbehebung"),
    ),
    Kind("mise_a_jour", Names("Mises à jour", "Updates", "Updates")),
    Kind(
        "reponse", Names("Questions et réponses", "Questions and answers", "Fragen und Antworten")
    ),
    Kind("modele", Names("Modèles", "Templates", "Vorlagen")),
)
"""The kinds, in menu order."""

KIND_CODES: frozenset[str] = frozenset(k.code for k in KINDS)
_KINDS = {k.code: k for k in KINDS}


def kind(code: str) -> Kind:
    """The kind of a code; KeyError for an unknown code."""
    return _KINDS[code]


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
