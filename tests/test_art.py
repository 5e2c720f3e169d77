"""menus/art/: the ANSI pieces carry a proper SAUCE record, fit 80 columns, and are regenerable."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bbs.terminal.caps import Caps, Encoding, Tier
from bbs.terminal.markup import parse, visible_width
from bbs.terminal.render import render_lines

REPO = Path(__file__).resolve().parent.parent
ART = REPO / "menus" / "art"
SCRIPT = REPO / "tools" / "make_art.py"
PIECES = ("welcome", "index")
MAX_LINES = 22

_SGR = re.compile(rb"\x1b\[[0-9;]*m")
_ANY_ESCAPE = re.compile(rb"\x1b")
BLOCKS = "░▒▓█▀▄▌▐"
SINGLE_BOX = set("─│┌┐└┘├┤┬┴┼")


def sauce(data: bytes) -> dict[str, Any]:
    record = data[-128:]
    fields = struct.unpack("<5s2s35s20s20s8sIBBHHHHBB22s", record)
    names = [
        "id",
        "version",
        "title",
        "author",
        "group",
        "date",
        "size",
        "datatype",
        "filetype",
        "tinfo1",
        "tinfo2",
        "tinfo3",
        "tinfo4",
        "comments",
        "flags",
        "tinfos",
    ]
    return dict(zip(names, fields, strict=True))


@pytest.mark.parametrize("name", PIECES)
def test_sauce_record(name: str) -> None:
    data = (ART / f"{name}.ans").read_bytes()
    record = sauce(data)
    body = data[: -128 - 1]
    assert record["id"] == b"SAUCE" and record["version"] == b"00"
    assert data[-129:-128] == b"\x1a"
    assert b"\x1a" not in body
    assert record["size"] == len(body)
    assert (record["datatype"], record["filetype"]) == (1, 1)
    assert record["tinfo1"] == 80
    assert record["tinfo2"] == body.count(b"\r\n")
    assert record["comments"] == 0
    assert record["author"].rstrip(b" ") == b"lotus-bbs"
    assert record["title"].strip()
    assert record["date"] == b"19950601"


@pytest.mark.parametrize("name", PIECES)
def test_ansi_fits_the_screen(name: str) -> None:
    data = (ART / f"{name}.ans").read_bytes()
    body = data[: -128 - 1]
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    assert 0 < len(lines) <= MAX_LINES
    for raw in lines:
        # Colours only: no cursor movement, so the art draws the same anywhere.
        plain = _SGR.sub(b"", raw)
        assert not _ANY_ESCAPE.search(plain), raw
        assert len(plain.decode("cp437")) <= 80


@pytest.mark.parametrize("name", PIECES)
def test_ansi_is_block_art_in_colour(name: str) -> None:
    text = (ART / f"{name}.ans").read_bytes()[: -128 - 1].decode("cp437")
    assert "█" in text and "▀" in text and "▄" in text
    assert set("░▒▓") <= set(text)
    assert "\x1b[0;1;33;40m" in text  # the gold of the logotype


def test_welcome_says_what_the_board_is() -> None:
    text = _SGR.sub(b"", (ART / "welcome.ans").read_bytes()).decode("cp437")
    assert "Assistance clients - Services télématiques" in text
    assert "Index d'aide" in _SGR.sub(b"", (ART / "index.ans").read_bytes()).decode("cp437")


@pytest.mark.parametrize("name", PIECES)
def test_markup_version(name: str) -> None:
    markup = (ART / f"{name}.txt").read_text(encoding="utf-8")
    parse(markup)
    lines = markup.rstrip("\n").split("\n")
    assert 0 < len(lines) <= MAX_LINES
    for line in lines:
        assert visible_width(line) <= 79, line
    drawn = set(markup)
    assert not drawn & set(BLOCKS)
    # DEC special graphics has single lines only.
    assert not {c for c in drawn if "\u2500" <= c <= "\u257f"} - SINGLE_BOX


@pytest.mark.parametrize("name", PIECES)
def test_markup_version_on_a_dumb_terminal(name: str) -> None:
    markup = (ART / f"{name}.txt").read_text(encoding="utf-8")
    caps = Caps(tier=Tier.DUMB, encoding=Encoding.ASCII)
    lines = render_lines(markup, caps)
    assert len(lines) == markup.rstrip("\n").count("\n") + 1, "no line may wrap"
    for line in lines:
        assert line.isascii()
        assert len(line) <= 80


def test_regenerating_is_byte_identical(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{n}.{ext}" for n in PIECES for ext in ("ans", "txt"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (ART / name).read_bytes(), name
