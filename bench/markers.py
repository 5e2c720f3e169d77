"""Where a board screen ends: markers taken from the board's own French strings.

A caller knows a screen is complete when the prompt that follows it arrives. The prompts
live in ``menus/strings/*.toml`` (``board.press_enter``, ``board.prompt``, ``dir.prompt``,
``board.more``); the marker is the longest run of plain ASCII in the French text, so it
survives accents being sent as CP437, Latin-1, UTF-8 or transliterated for a dumb terminal.
A string that does not exist (yet) gives no marker: the caller then waits for 300 ms of
quiet instead, and the report says so.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.callers import Markers

KEYS: Mapping[str, tuple[str, ...]] = {
    "press_enter": ("board.press_enter",),
    "menu": ("board.prompt", "board.prompt_keys"),
    "directory": ("dir.prompt",),
    "more": ("board.more",),
}
"""Marker name -> the string keys whose French text may end that screen."""

_FIELD = re.compile(r"\{[^{}]*\}")
_ASCII_RUN = re.compile(r"[\x20-\x7e]+")
MIN_MARKER = 4


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, str], lang: str) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            text = value.get(lang)
            if isinstance(text, str):
                out[name] = text
            else:
                _flatten(value, name + ".", out, lang)


def load_french(folder: Path, lang: str = "fr") -> dict[str, str]:
    """Every string in `folder`'s TOML files, by dotted key (``[a.b]`` or ``["a.b"]``)."""
    out: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        _flatten(data, "", out, lang)
    return out


def marker_of(text: str) -> str | None:
    """The longest plain-ASCII run of `text` once markup and ``{fields}`` are removed."""
    runs = [r.strip() for part in _FIELD.split(text) for r in _ASCII_RUN.findall(part)]
    best = max(runs, key=len, default="")
    return best if len(best) >= MIN_MARKER else None


def board_markers(repo: Path) -> tuple[Markers, list[str]]:
    """Markers for the board's screens, and notes about the ones that fall back to quiet."""
    strings = load_french(repo / "menus" / "strings")
    found: dict[str, list[str]] = {}
    notes: list[str] = []
    for name, keys in KEYS.items():
        texts = [strings[key] for key in keys if key in strings]
        found[name] = list(dict.fromkeys(m for m in map(marker_of, texts) if m))
        if not found[name]:
            why = "missing" if not texts else f"has no usable ASCII: {texts!r}"
            notes.append(f"string {keys[0]} {why}: waiting for output to go quiet instead")
    markers: Markers = {
        "press_enter": found["press_enter"],
        "menu": found["menu"],
        "directory": found["directory"],
        "more": found["more"],
    }
    return markers, notes


NO_MARKERS: Markers = {"press_enter": [], "menu": [], "directory": [], "more": []}
