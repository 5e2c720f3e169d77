"""menus/strings/board.toml: complete, consistent across languages, and what the code asks for."""

from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pytest

from bbs.menus.strings import LANGS, Strings, load_strings
from bbs.terminal.caps import Encoding, Tier

REPO = Path(__file__).resolve().parent.parent
BOARD = REPO / "menus" / "strings" / "board.toml"


@pytest.fixture(scope="module")
def strings(tmp_path_factory: pytest.TempPathFactory) -> Strings:
    folder = tmp_path_factory.mktemp("strings")
    shutil.copy(BOARD, folder)
    return load_strings(folder)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_string_is_translated(strings: Strings) -> None:
    for key, entry in strings.table.items():
        assert key.startswith(("board.", "term.")), key
        for lang in LANGS:
            assert entry[lang].strip(), (key, lang)


def test_placeholders_agree_across_languages(strings: Strings) -> None:
    for key, entry in strings.table.items():
        assert fields(entry["en"]) == fields(entry["fr"]) == fields(entry["de"]), key


def test_no_markup_in_strings(strings: Strings) -> None:
    """Callers escape these strings or style them whole: a brace would show as typed."""
    for key, entry in strings.table.items():
        for lang in LANGS:
            text = entry[lang]
            filled = text.format(**{name: "x" for name in fields(text)}) if fields(text) else text
            assert "{" not in filled and "}" not in filled, (key, lang)


def keys_in_code() -> set[str]:
    """board.* and term.* keys named as string literals anywhere in bbs/."""
    found: set[str] = set()
    for path in (REPO / "bbs").rglob("*.py"):
        found |= set(re.findall(r"[\"']((?:board|term)\.[a-z0-9_.-]+)[\"']", path.read_text()))
    return found


def test_every_key_the_code_uses_is_defined(strings: Strings) -> None:
    missing = sorted(key for key in keys_in_code() if key not in strings)
    assert not missing


def test_settings_screen_names_every_tier_and_encoding(strings: Strings) -> None:
    for tier in Tier:
        assert f"term.tier_{tier.value}" in strings
    for encoding in Encoding:
        assert f"term.encoding_{encoding.value}" in strings


def test_seed_line_settings(strings: Strings) -> None:
    assert "Parité = Sans, Bits = 8, Bit de stop = 1" in strings.get("term.line_settings", "fr")
    assert strings.get("term.speed_unlimited", "fr") == "sans limite"
    assert strings.get("term.title", "fr") == "Paramètres du terminal"


def test_formatting(strings: Strings) -> None:
    assert strings.get("board.go_unknown", "fr", word="XYZ", words="FAX, WEB") == (
        "Mot inconnu : XYZ ; mots connus : FAX, WEB"
    )
    banner = strings.get(
        "board.banner", "en", term="ANSI", cols=80, rows=24, encoding="cp437", tier="ansi"
    )
    assert banner == "Connected - terminal detected: ANSI, 80x24, cp437"
    help_de = strings.get("board.help_tail", "de", words="FAX")
    assert help_de.endswith("GO-Wörter: FAX")
