"""`data/kb/KB-NNNN.txt` read into a `KnowledgeBase` (the format: data/README.md).

The format is the library's (`bbs.library.datafiles`): a header of `Key: value`
lines, a blank line, then the body. Reading is strict: a bad file name, an unknown,
missing or repeated key, a bad value, a body line wider than `MAX_COLUMNS`, a tab
or another control character refuses the whole base with a `KbError` whose message
starts with "path:line:" (line 0: the file as a whole).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from bbs.directory.text import fold
from bbs.kb.model import ARTICLE_LANGS, Article, KnowledgeBase, kinds
from bbs.library.datafiles import LibraryError, columns
from bbs.library.datafiles import _lines as library_lines
from bbs.support.products import support_products

KB_DIR = "kb"
"""The articles' folder, inside the data folder."""

MAX_COLUMNS = 80
"""The widest a body line may be."""

FIRST_YEAR, LAST_YEAR = 1993, 1995
"""The years an article may be dated."""

KEYS: tuple[str, ...] = ("Article", "Langue", "Produit", "Type", "Titre", "Date", "Mots-cles")
"""The header's keys, every one required, in the order files write them."""

_FILE_NAME = re.compile(r"KB-(\d{4})\.txt")
_NUMBER = re.compile(r"KB-(\d{4})")
_KEY_VALUE = re.compile(r"([A-Za-z-]+)\s*:\s*(.*)")


class KbError(ValueError):
    """A Knowledge base file that cannot be used; the message starts with "path:line:"."""


def read_kb(path: Path) -> KnowledgeBase:
    """The base held in the data folder `path` (its `kb/` folder), articles by number."""
    folder = path / KB_DIR
    if not folder.is_dir():
        raise KbError(f"{folder}:0: missing Knowledge base folder")
    articles: list[Article] = []
    for file in sorted(folder.iterdir()):
        if file.suffix == ".txt":  # README.md and the like are not articles
            articles.append(read_article(file))
    return KnowledgeBase(articles=tuple(sorted(articles, key=lambda a: a.number)))


def read_article(path: Path) -> Article:
    """One article file; KbError naming the file and line when anything is wrong."""
    named = _FILE_NAME.fullmatch(path.name)
    if named is None:
        raise KbError(f"{path}:0: an article file is named KB-NNNN.txt (four digits)")
    try:
        lines = library_lines(path)
    except LibraryError as exc:
        raise KbError(str(exc)) from None
    values: dict[str, tuple[str, int]] = {}
    at = 0
    for at, line in enumerate(lines):
        if not line.strip():
            break
        where = f"{path}:{at + 1}:"
        found = _KEY_VALUE.fullmatch(line.strip())
        if found is None:
            raise KbError(f"{where} expected 'Key: value' (a blank line ends the header)")
        key, value = found.group(1), found.group(2).strip()
        if key not in KEYS:
            near = [k for k in KEYS if fold(k) == fold(key)]
            raise KbError(f"{where} unknown key {key!r} (keys: {', '.join(near or KEYS)})")
        if key in values:
            raise KbError(f"{where} {key} repeated (first on line {values[key][1]})")
        if not value:
            raise KbError(f"{where} {key} is empty")
        values[key] = (value, at + 1)
    else:
        raise KbError(f"{path}:{len(lines)}: no blank line and body after the header")
    missing = [k for k in KEYS if k not in values]
    if missing:
        raise KbError(f"{path}:{at + 1}: the header lacks {', '.join(missing)}")

    def bad(key: str, why: str) -> KbError:
        value, line = values[key]
        return KbError(f"{path}:{line}: {key}: {why}, not {value!r}")

    number = _NUMBER.fullmatch(values["Article"][0])
    if number is None:
        raise bad("Article", "must be KB- and four digits")
    if number.group(1) != named.group(1):
        raise bad("Article", f"must match the file name {path.name}")
    lang = values["Langue"][0]
    if lang not in ARTICLE_LANGS:
        raise bad("Langue", f"must be one of {', '.join(ARTICLE_LANGS)}")
    product = values["Produit"][0]
    known_products = support_products()
    if product not in known_products:
        raise bad("Produit", f"must be one of {', '.join(known_products)}")
    kind = values["Type"][0]
    known_kinds = [k.code for k in kinds()]
    if kind not in known_kinds:
        raise bad("Type", f"must be one of {', '.join(known_kinds)}")
    try:
        published = date.fromisoformat(values["Date"][0])
    except ValueError:
        raise bad("Date", "must be a day written YYYY-MM-DD") from None
    if not FIRST_YEAR <= published.year <= LAST_YEAR or len(values["Date"][0]) != 10:
        raise bad("Date", f"must be YYYY-MM-DD between {FIRST_YEAR} and {LAST_YEAR}")
    keywords = tuple(" ".join(k.split()) for k in values["Mots-cles"][0].split(","))
    if not all(keywords):
        raise bad("Mots-cles", "has an empty keyword (two commas in a row?)")
    return Article(
        number=int(number.group(1)),
        lang=lang,
        product=product,
        kind=kind,
        title=values["Titre"][0],
        date=published,
        keywords=keywords,
        body=_text(path, lines, at + 1),
    )


def _text(path: Path, lines: list[str], start: int) -> str:
    """The body from line index `start`, blank edges dropped, widths checked."""
    numbered = [(n + 1, line.rstrip()) for n, line in enumerate(lines) if n >= start]
    while numbered and not numbered[0][1]:
        numbered.pop(0)
    while numbered and not numbered[-1][1]:
        numbered.pop()
    if not numbered:
        raise KbError(f"{path}:{start}: the article has no body")
    for number, line in numbered:
        if columns(line) > MAX_COLUMNS:
            raise KbError(
                f"{path}:{number}: line is {columns(line)} columns wide, at most {MAX_COLUMNS}"
            )
    return "\n".join(line for _, line in numbered)
