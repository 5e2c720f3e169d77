"""Localised strings that code needs (prompts, messages), read from menus/strings/*.toml."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LANGS: tuple[str, ...] = ("fr", "en", "de")
"""The board's languages, French first (the seed's); every string exists in each."""


class StringsError(ValueError):
    """A strings file that cannot be used; the message names the file and line."""


def _line_of(text: str, key: str) -> int:
    """Line number (1-based) where a top-level `[key]` table or `key = ` starts, or 0."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped in (f"[{key}]", f'["{key}"]') or stripped.startswith((f"{key} =", f"{key}=")):
            return number
    return 0


_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüœæ")
# A little French word that loses its vowel before one, at the end of a text.
_ELIDES = re.compile(r"(?<![\w'’])(de|que|le|la) $", re.IGNORECASE)
_FORMATTER = string.Formatter()


def elide(before: str, word: str) -> str:
    """French text `before`, which `word` is about to follow, with its last little word
    elided when `word` starts with a vowel: ("Droits de ", "Élodie") -> "Droits d'"."""
    if word[:1].casefold() not in _VOWELS:
        return before
    match = _ELIDES.search(before)
    if match is None:
        return before
    small = match.group(1)
    return before[: match.start()] + small[:-1] + "'"


def format_french(template: str, values: Mapping[str, object]) -> str:
    """`template` formatted with `values`, elided before each value that needs it."""
    out = ""
    for literal, field, spec, conversion in _FORMATTER.parse(template):
        out += literal
        if field is None:
            continue
        value = _FORMATTER.get_field(field, (), values)[0]
        if conversion:
            value = _FORMATTER.convert_field(value, conversion)
        text = _FORMATTER.format_field(value, spec or "")
        out = elide(out, text) + text
    return out


@dataclass(frozen=True, slots=True)
class Strings:
    """Every string in every language; `get` formats one for a session's language."""

    table: Mapping[str, Mapping[str, str]]

    def get(self, key: str, lang: str, /, **values: object) -> str:
        """The string `key` in `lang` (French when missing), formatted with `values`
        (in French, "de Élodie" becomes "d'Élodie")."""
        entry = self.table[key]
        text = entry.get(lang) or entry["fr"]
        if not values:
            return text
        if lang == "fr" or lang not in entry:
            return format_french(text, values)
        return text.format(**values)

    def __contains__(self, key: object) -> bool:
        return key in self.table


def load_strings(folder: Path) -> Strings:
    """Read and validate every `*.toml` in `folder`: each key needs fr, en and de, once."""
    table: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        text = path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise StringsError(f"{path}: {exc}") from None
        for key, entry in data.items():
            line = _line_of(text, key)
            if key in table:
                raise StringsError(f"{path}:{line}: string {key!r} already defined in {where[key]}")
            if not isinstance(entry, dict):
                raise StringsError(f"{path}:{line}: string {key!r} must be a table of languages")
            missing = [lang for lang in LANGS if not isinstance(entry.get(lang), str)]
            if missing:
                raise StringsError(
                    f"{path}:{line}: string {key!r} lacks a translation: {', '.join(missing)}"
                )
            table[key] = {lang: entry[lang] for lang in LANGS}
            where[key] = f"{path}:{line}"
    return Strings(table)
