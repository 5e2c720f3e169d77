"""The search syntax callers type in the library and the Knowledge base, and its SQL forms.

One parser (`parse_query`) for every full-text search of the board:

- words separated by spaces must all be found: ``mémoire windows``;
- ``"une phrase"`` (or « une phrase ») must be found as written, word after word;
  a word with punctuation inside (``1-2-3``, ``cc:Mail``) is such a phrase too;
- ``-mot`` or ``-"une phrase"`` excludes the documents that have it;
- ``OU`` / ``OR`` (capitals) between two words or phrases accepts either;
- a final ``*`` makes the last word a prefix: ``imprim*``;
- case and accents never matter (the index and the query are folded alike).

Anything else (other punctuation, ``*`` alone, a dangling ``OR``, a lone ``-``)
separates words and nothing more, so no query can raise or reach SQL as syntax: the
engines only ever see quoted words (`fts5_query`, `tsquery`). A query without a word
to find (nothing, or only exclusions) finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bbs.directory.text import words

MAX_TERMS = 12
"""Words and phrases of a query beyond this many are ignored."""

MAX_PHRASE_WORDS = 8
"""Words of a phrase beyond this many are ignored."""

MAX_TERM_LENGTH = 64
"""Longer words are cut to this many characters (and then match as prefixes)."""

MIN_PREFIX = 2
"""A shorter word with a final ``*`` is an ordinary word."""

OPERATORS_OR = frozenset({"OR", "OU", "ODER"})
"""Capital words that join two alternatives (French, English, German)."""

# A chunk of text: a quoted phrase (the closing quote may be missing), or a run of
# anything but spaces and opening quotes.
_CHUNK = re.compile(r'(-?)(["«“„])([^"»”“]*)(["»”“]?)(\*?)|(\S+?)(?=\s|["«“„]|$)')


@dataclass(frozen=True, slots=True)
class Term:
    """One folded word to mark in snippets; `prefix`: typed with a final ``*``."""

    word: str
    prefix: bool = False

    def matches(self, word: str) -> bool:
        """Whether a folded word of a document is this term."""
        return word.startswith(self.word) if self.prefix else word == self.word


@dataclass(frozen=True, slots=True)
class Phrase:
    """Folded words that must follow one another; `prefix`: the last one is a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def found_in(self, text: Sequence[str]) -> bool:
        """Whether the folded words `text` (one field of a document) contain this phrase."""
        n = len(self.words)
        for at in range(len(text) - n + 1):
            head_ok = all(text[at + i] == w for i, w in enumerate(self.words[:-1]))
            last, want = text[at + n - 1], self.words[-1]
            if head_ok and (last.startswith(want) if self.prefix else last == want):
                return True
        return False

    def typed(self) -> str:
        """The phrase as a caller would type it."""
        star = "*" if self.prefix else ""
        if len(self.words) == 1:
            return self.words[0] + star
        return '"' + " ".join(self.words) + '"' + star


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every clause (alternatives, any one will do) is required, and no
    `excluded` phrase may be found."""

    clauses: tuple[tuple[Phrase, ...], ...] = ()
    excluded: tuple[Phrase, ...] = ()

    def __bool__(self) -> bool:
        """A query finds something only when it has a clause."""
        return bool(self.clauses)

    @property
    def terms(self) -> tuple[Term, ...]:
        """The words a snippet marks: every word of the wanted phrases, once."""
        out: list[Term] = []
        for clause in self.clauses:
            for phrase in clause:
                for i, word in enumerate(phrase.words):
                    last = i == len(phrase.words) - 1
                    term = Term(word, phrase.prefix and last)
                    if term not in out:
                        out.append(term)
        return tuple(out)

    def matches(self, fields: Sequence[Sequence[str]]) -> bool:
        """Whether a document whose fields have the folded words `fields` is found (what
        the engines compute; a phrase never spans two fields)."""

        def found(phrase: Phrase) -> bool:
            return any(phrase.found_in(field) for field in fields)

        return (
            bool(self.clauses)
            and all(any(found(p) for p in clause) for clause in self.clauses)
            and not any(found(p) for p in self.excluded)
        )

    def typed(self) -> str:
        """The query in the caller's syntax (`parse_query` gives it back)."""
        parts = [" OR ".join(p.typed() for p in clause) for clause in self.clauses]
        parts += ["-" + p.typed() for p in self.excluded]
        return " ".join(parts)


def _phrase(text: str, star: bool) -> Phrase | None:
    found = list(words(text))[:MAX_PHRASE_WORDS]
    if not found:
        return None
    prefix = star and len(found[-1]) >= MIN_PREFIX
    for i, word in enumerate(found):
        if len(word) > MAX_TERM_LENGTH:
            found[i] = word[:MAX_TERM_LENGTH]
            prefix = prefix or i == len(found) - 1
    return Phrase(tuple(found), prefix)


def parse_query(text: str) -> Query:
    """The `Query` a caller typed; an empty one (false) when it has nothing to find."""
    # Items in order: a phrase with its sign, or None for an OR.
    items: list[tuple[Phrase, bool] | None] = []
    for m in _CHUNK.finditer(text):
        if m.group(2):
            phrase = _phrase(m.group(3), bool(m.group(5)))
            if phrase is not None:
                items.append((phrase, bool(m.group(1))))
            continue
        chunk = m.group(6)
        if chunk in OPERATORS_OR:
            items.append(None)
            continue
        excluded = chunk.startswith("-")
        body = chunk.lstrip("-")
        phrase = _phrase(body, body.endswith("*"))
        if phrase is not None:
            items.append((phrase, excluded))
    clauses: list[list[Phrase]] = []
    excluded_list: list[Phrase] = []
    count = 0
    joining = False
    for item in items:
        if item is None:
            joining = bool(clauses)
            continue
        phrase, negative = item
        if count >= MAX_TERMS:
            break
        if negative:
            if phrase not in excluded_list:
                excluded_list.append(phrase)
                count += 1
            joining = False
            continue
        if joining:
            if phrase not in clauses[-1]:
                clauses[-1].append(phrase)
                count += 1
        else:
            clauses.append([phrase])
            count += 1
        joining = False
    unique: list[tuple[Phrase, ...]] = []
    for clause in clauses:
        key = tuple(clause)
        if key not in unique:
            unique.append(key)
    return Query(tuple(unique), tuple(excluded_list))


# --- the engines' forms -----------------------------------------------------------


def _fts5_phrase(phrase: Phrase) -> str:
    quoted = '"' + " ".join(w.replace('"', '""') for w in phrase.words) + '"'
    return quoted + ("*" if phrase.prefix else "")


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression of `query` (every word quoted); "" for an empty query."""
    if not query:
        return ""
    clauses = ["(" + " OR ".join(_fts5_phrase(p) for p in c) + ")" for c in query.clauses]
    out = "(" + " AND ".join(clauses) + ")"
    for phrase in query.excluded:
        out += " NOT " + _fts5_phrase(phrase)
    return out


def _ts_phrase(phrase: Phrase) -> str:
    quoted = ["'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in phrase.words]
    if phrase.prefix:
        quoted[-1] += ":*"
    return "(" + " <-> ".join(quoted) + ")"


def tsquery(query: Query) -> str:
    """The PostgreSQL to_tsquery() text of `query` (every word quoted); "" when empty."""
    if not query:
        return ""
    parts = ["(" + " | ".join(_ts_phrase(p) for p in c) + ")" for c in query.clauses]
    parts += ["!" + _ts_phrase(p) for p in query.excluded]
    return " & ".join(parts)
