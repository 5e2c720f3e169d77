"""The look-up prompt's screens are shared between callers asking the same thing in the
same minute, and made again for a new minute, language, width or a reloaded directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bbs.directory.datafiles import read_data_dir
from bbs.directory.format import format_answer
from bbs.directory.query import build_index, search
from bbs.menus.strings import load_strings
from bbs.services.directory import answer_screen

ROOT = Path(__file__).resolve().parents[1]
NOON = datetime(1995, 3, 10, 12, 0, 7, tzinfo=UTC)


def test_same_look_up_same_minute_is_one_screen() -> None:
    index = build_index(read_data_dir(ROOT / "data"))
    strings = load_strings(ROOT / "menus" / "strings")
    first = answer_screen(index, "belgique", "fr", NOON, 80, strings)
    assert first == format_answer(search(index, "belgique"), "fr", NOON, 80, strings)
    again = answer_screen(index, "belgique", "fr", NOON + timedelta(seconds=40), 80, strings)
    assert again is first
    assert answer_screen(index, "belgique", "en", NOON, 80, strings) is not first
    assert answer_screen(index, "belgique", "fr", NOON, 60, strings) is not first
    later = NOON + timedelta(minutes=1)
    assert answer_screen(index, "belgique", "fr", later, 80, strings) is not first
    reloaded = build_index(read_data_dir(ROOT / "data"))
    fresh = answer_screen(reloaded, "belgique", "fr", NOON, 80, strings)
    assert fresh is not first and fresh == first
