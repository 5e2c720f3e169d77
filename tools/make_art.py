"""Draw the board's art: menus/art/{welcome,index}.ans (CP437 ANSI + SAUCE) and .txt (markup).

    .venv/bin/python tools/make_art.py [--out menus/art]

The ANSI pieces are for colour terminals: a LOTUS logotype in half blocks with a drop
shadow, shading bars, a double frame. The .txt pieces say the same in board markup for
VT-100 and dumb terminals: single-line box drawing (the only kind DEC special graphics
has), the logotype drawn in strokes, no block shading. Output is deterministic, so the
committed files can be checked against a fresh run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WIDTH = 79
"""Frame width: one column short of the 80-column canvas, so no terminal wraps a line."""
CANVAS = 80
ESC = "\x1b["

SAUCE_AUTHOR = "lotus-bbs"
SAUCE_GROUP = "Lotus Assistance"
SAUCE_DATE = "19950601"
"""A fixed date, so that every run writes the same bytes."""
SAUCE_FONT = "IBM VGA"

# ---------------------------------------------------------------- colours

BLACK, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, WHITE = range(8)


@dataclass(frozen=True, slots=True)
class Pen:
    """A 16-colour attribute: foreground (bright or not) on a dark background."""

    fg: int = WHITE
    bright: bool = False
    bg: int = BLACK

    def sgr(self) -> str:
        bold = "1;" if self.bright else ""
        return f"{ESC}0;{bold}{30 + self.fg};{40 + self.bg}m"


PLAIN = Pen(WHITE)
FRAME = Pen(BLUE, bright=True)
FRAME_DARK = Pen(BLUE)
SHADOW = BLUE
LOGO_ROWS = (
    Pen(WHITE, bright=True),
    Pen(YELLOW, bright=True),
    Pen(YELLOW, bright=True),
    Pen(YELLOW),
    Pen(YELLOW),
)
"""The logotype's colour, top row to bottom: white light on gold."""
TITLE = Pen(WHITE, bright=True)
SUBTITLE = Pen(CYAN, bright=True)
NOTE = Pen(CYAN)
DIM = Pen(BLACK, bright=True)

# ----------------------------------------------------------------- fonts
# Pixel letters, two pixel rows per text row (drawn with the half blocks ▀ ▄ █).

Font = Mapping[str, tuple[str, ...]]

BIG: Font = {
    "L": (
        "###.....",
        "###.....",
        "###.....",
        "###.....",
        "###.....",
        "###.....",
        "###.....",
        "###.....",
        "########",
        "########",
    ),
    "O": (
        "..######..",
        ".########.",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        ".########.",
        "..######..",
    ),
    "T": (
        "#########",
        "#########",
        "...###...",
        "...###...",
        "...###...",
        "...###...",
        "...###...",
        "...###...",
        "...###...",
        "...###...",
    ),
    "U": (
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        "###....###",
        ".########.",
        "..######..",
    ),
    "S": (
        ".########",
        "#########",
        "###......",
        "###......",
        "########.",
        ".########",
        "......###",
        "......###",
        "#########",
        "########.",
    ),
}

SMALL: Font = {
    "L": ("##.....", "##.....", "##.....", "##.....", "##.....", "##.....", "#######", "#######"),
    "O": (
        ".######.",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        ".######.",
    ),
    "T": (
        "########",
        "########",
        "...##...",
        "...##...",
        "...##...",
        "...##...",
        "...##...",
        "...##...",
    ),
    "U": (
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        "##....##",
        ".######.",
    ),
    "S": (
        ".#######",
        "##......",
        "##......",
        ".######.",
        "......##",
        "......##",
        "......##",
        "#######.",
    ),
}

# The same word in strokes, for terminals without block graphics.
STROKES = (
    "│          ┌───────┐  ───┬───  │       │  ┌───────",
    "│          │       │     │     │       │  │",
    "│          │       │     │     │       │  └──────┐",
    "│          │       │     │     │       │         │",
    "└───────   └───────┘     │     └───────┘  ───────┘",
)
STROKES_SMALL = (
    "│     ┌───┐ ─┬─ │   │ ┌───",
    "│     │   │  │  │   │ └──┐",
    "└───  └───┘  │  └───┘ ───┘",
)


def pixels(font: Font, word: str, gap: int) -> list[list[bool]]:
    """The word as a grid of pixels, letters `gap` pixels apart."""
    height = len(next(iter(font.values())))
    grid: list[list[bool]] = [[] for _ in range(height)]
    for n, letter in enumerate(word):
        for y, row in enumerate(font[letter]):
            if n:
                grid[y].extend([False] * gap)
            grid[y].extend(c == "#" for c in row)
    return grid


def with_shadow(grid: list[list[bool]]) -> list[list[int]]:
    """0 empty, 1 letter, 2 shadow: each letter pixel casts one down and one to the right."""
    height, width = len(grid) + 1, len(grid[0]) + 1
    out = [[0] * width for _ in range(height)]
    for y, row in enumerate(grid):
        for x, lit in enumerate(row):
            if lit:
                out[y][x] = 1
    for y, row in enumerate(grid):
        for x, lit in enumerate(row):
            if lit and out[y + 1][x + 1] == 0:
                out[y + 1][x + 1] = 2
    return out


Cell = tuple[str, Pen]


def half_blocks(cells: list[list[int]], pens: Sequence[Pen]) -> list[list[Cell]]:
    """Pairs of pixel rows as text cells: a half block with the right colours on each side."""
    rows: list[list[Cell]] = []
    if len(cells) % 2:
        cells = [*cells, [0] * len(cells[0])]
    for r in range(0, len(cells), 2):
        pen = pens[min(r // 2, len(pens) - 1)]
        row: list[Cell] = []
        for top, bottom in zip(cells[r], cells[r + 1], strict=True):
            row.append(_cell(top, bottom, pen))
        rows.append(row)
    return rows


def _cell(top: int, bottom: int, pen: Pen) -> Cell:
    shadow = Pen(SHADOW)
    if top == bottom:
        return (" ", PLAIN) if top == 0 else ("█", pen if top == 1 else shadow)
    if top == 1:
        return "▀", Pen(pen.fg, pen.bright, SHADOW if bottom == 2 else BLACK)
    if bottom == 1:
        return "▄", Pen(pen.fg, pen.bright, SHADOW if top == 2 else BLACK)
    return ("▀", shadow) if top == 2 else ("▄", shadow)


# --------------------------------------------------------------- layout


def text_cells(text: str, pen: Pen) -> list[Cell]:
    return [(c, pen) for c in text]


def centred(cells: list[Cell], width: int) -> list[Cell]:
    left = (width - len(cells)) // 2
    right = width - left - len(cells)
    return text_cells(" " * left, PLAIN) + cells + text_cells(" " * right, PLAIN)


def framed(inner: list[Cell]) -> list[Cell]:
    assert len(inner) == WIDTH - 2, len(inner)
    return [("║", FRAME), *inner, ("║", FRAME)]


def shade_bar(width: int) -> list[Cell]:
    """A bar that fades in and out at both ends: ░▒▓███▓▒░."""
    ramp = [("░", FRAME_DARK), ("▒", FRAME_DARK), ("▓", FRAME_DARK)]
    middle = [("▀", FRAME)] * (width - 2 * len(ramp))
    return ramp + middle + ramp[::-1]


def border(left: str, fill: str, right: str) -> list[Cell]:
    return [(left, FRAME), *[(fill, FRAME)] * (WIDTH - 2), (right, FRAME)]


def welcome_ansi() -> list[list[Cell]]:
    inner = WIDTH - 2
    logo = half_blocks(with_shadow(pixels(BIG, "LOTUS", 2)), LOGO_ROWS)
    blank = text_cells(" " * inner, PLAIN)
    lines = [border("╔", "═", "╗"), framed(blank)]
    lines += [framed(centred(row, inner)) for row in logo]
    lines += [framed(blank), framed(centred(shade_bar(61), inner)), framed(blank)]
    for text, pen in WELCOME_TEXT:
        lines.append(framed(centred(text_cells(text, pen), inner) if text else blank))
    lines += [framed(blank), border("╚", "═", "╝")]
    return lines


def index_ansi() -> list[list[Cell]]:
    inner = WIDTH - 2
    logo = half_blocks(with_shadow(pixels(SMALL, "LOTUS", 2)), LOGO_ROWS)
    lines = [border("╔", "═", "╗")]
    width = max(len(text) for text, _ in INDEX_TEXT)
    titles = [[], *[text_cells(text, pen) for text, pen in INDEX_TEXT], shade_bar(width), []]
    for row, title in zip(logo, titles, strict=True):
        cells = text_cells("  ", PLAIN) + row
        cells += text_cells(" " * (INDEX_TEXT_COLUMN - len(cells)), PLAIN)
        cells += title
        cells += text_cells(" " * (inner - len(cells)), PLAIN)
        lines.append(framed(cells))
    lines.append(border("╚", "═", "╝"))
    return lines


WELCOME_TEXT = (
    ("Assistance clients - Services télématiques", TITLE),
    ("Lotus Development", SUBTITLE),
    ("", PLAIN),
    ("7 jours sur 7, 24 h sur 24", NOTE),
    ("VT-100 ou ANSI : Parité = Sans, Bits = 8, Bit de stop = 1", NOTE),
    ("", PLAIN),
    ("Français / English / Deutsch", DIM),
)
INDEX_TEXT = (
    ("Index d'aide", TITLE),
    ("Assistance clients Lotus", SUBTITLE),
)
INDEX_TEXT_COLUMN = 52


def ansi_bytes(lines: list[list[Cell]]) -> bytes:
    """Lines of cells as CP437 bytes with SGR colours, CR LF after each line."""
    out: list[str] = []
    for line in lines:
        pen: Pen | None = None
        # Trailing blanks on a black background need no bytes at all.
        while line and line[-1] == (" ", PLAIN):
            line = line[:-1]
        for char, cell_pen in line:
            if char == " " and cell_pen.bg == BLACK and pen is not None and pen.bg == BLACK:
                out.append(char)
                continue
            if cell_pen != pen:
                out.append(cell_pen.sgr())
                pen = cell_pen
            out.append(char)
        out.append(f"{ESC}0m\r\n")
    return "".join(out).encode("cp437")


# --------------------------------------------------------------- markup


def box_line(text: str, visible: int, inner: int) -> str:
    return "│" + text + " " * (inner - visible) + "│"


def centred_markup(text: str, tag: str, inner: int) -> str:
    left = (inner - len(text)) // 2
    body = " " * left + (f"{{{tag}}}{text}{{/}}" if tag and text else text)
    return box_line(body, left + len(text), inner)


def welcome_markup() -> list[str]:
    inner = WIDTH - 2
    tags = {TITLE: "h", SUBTITLE: "em", NOTE: "", DIM: "dim", PLAIN: ""}
    lines = ["┌" + "─" * inner + "┐", box_line("", 0, inner)]
    lines += [centred_markup(row, "h", inner) for row in _padded(STROKES)]
    lines += [box_line("", 0, inner), "├" + "─" * inner + "┤", box_line("", 0, inner)]
    lines += [centred_markup(text, tags[pen], inner) for text, pen in WELCOME_TEXT]
    lines += [box_line("", 0, inner), "└" + "─" * inner + "┘"]
    return lines


def index_markup() -> list[str]:
    inner = WIDTH - 2
    tags = {TITLE: "h", SUBTITLE: "em", PLAIN: ""}
    rule = "─" * max(len(text) for text, _ in INDEX_TEXT)
    lines = ["┌" + "─" * inner + "┐"]
    for row, (text, pen) in zip(_padded(STROKES_SMALL), (*INDEX_TEXT, (rule, PLAIN)), strict=True):
        logo = "  {h}" + row + "{/}"
        gap = " " * (INDEX_TEXT_COLUMN - 2 - len(row))
        body = logo + gap + (f"{{{tags[pen]}}}{text}{{/}}" if tags[pen] else text)
        lines.append(box_line(body, INDEX_TEXT_COLUMN + len(text), inner))
    lines.append("└" + "─" * inner + "┘")
    return lines


def _padded(rows: Sequence[str]) -> list[str]:
    """Rows padded to the same width, so that centring keeps them aligned."""
    width = max(len(r) for r in rows)
    return [r.ljust(width) for r in rows]


# ----------------------------------------------------------------- SAUCE


def ans_file(lines: list[list[Cell]], title: str) -> bytes:
    """The art with its EOF byte and SAUCE record (written by bbs.terminal.sauce)."""
    from bbs.terminal.sauce import Sauce, with_sauce

    record = Sauce(
        title=title,
        author=SAUCE_AUTHOR,
        group=SAUCE_GROUP,
        date=SAUCE_DATE,
        tinfo1=CANVAS,
        tinfo2=len(lines),
        tinfos=SAUCE_FONT,
    )
    return with_sauce(ansi_bytes(lines), record)


# ------------------------------------------------------------------ main


def pieces() -> dict[str, bytes]:
    """Every file this script writes, by name."""
    return {
        "welcome.ans": ans_file(welcome_ansi(), "Lotus - Services télématiques"),
        "index.ans": ans_file(index_ansi(), "Lotus - Index d'aide"),
        "welcome.txt": ("\n".join(welcome_markup()) + "\n").encode("utf-8"),
        "index.txt": ("\n".join(index_markup()) + "\n").encode("utf-8"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parent.parent / "menus" / "art"
    parser.add_argument("--out", type=Path, default=default, help="folder to write into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in pieces().items():
        (args.out / name).write_bytes(data)
        print(f"{args.out / name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    # Run from a checkout without installing: the SAUCE writer is the board's own.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
