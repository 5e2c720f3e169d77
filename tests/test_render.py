"""Rendering markup per tier: ANSI colour, VT-100 mono, plain text; wrapping; speed."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bbs.terminal import render as render_module
from bbs.terminal.caps import MINITEL_CAPS, Caps, Encoding, Tier
from bbs.terminal.encoding import encode
from bbs.terminal.markup import Style, escape, parse
from bbs.terminal.render import display_width, render, render_bytes, render_lines
from bbs.terminal.width import text_width

ANSI_UTF8 = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
ANSI_CP437 = Caps(tier=Tier.ANSI, encoding=Encoding.CP437)
VT100 = Caps(tier=Tier.VT100, encoding=Encoding.LATIN1)
DUMB = Caps(tier=Tier.DUMB, encoding=Encoding.ASCII)
TEXT_ENCODINGS = [e for e in Encoding if e is not Encoding.VIDEOTEX]
"""Videotex goes with its own tier only (its 7-bit code is made of control sequences)."""
ALL_CAPS = [
    Caps(tier=tier, encoding=encoding)
    for tier in Tier
    if tier is not Tier.VIDEOTEX
    for encoding in TEXT_ENCODINGS
] + [Caps(tier=Tier.ANSI, encoding=Encoding.CP437, eight_bit=False), MINITEL_CAPS]

OUR_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\([0B]|\x1b[@-GLMYZ\\\]]")
"""SGR, charset designations, and the Videotex attribute codes."""
VIDEOTEX_DEFAULTS = {"\x1bG", "\x1bL", "\x1b\\", "\x1bY"}
"""White, normal size, normal polarity, no underline: how every Minitel line ends."""
VIDEOTEX_KIND = {
    "\x1bL": "size",
    "\x1bM": "size",
    "\x1b\\": "polarity",
    "\x1b]": "polarity",
    "\x1bY": "underline",
    "\x1bZ": "underline",
}

SAMPLE_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="abc éèçß «»:!? ─│┌┐└┘═║╔╗╚╝━╭\t日本\u0301"),
    st.sampled_from(["Numéros d'appel", "ci-dessous : 8 et 9", "x" * 90, "  indenté  "]),
)


@st.composite
def markups(draw: st.DrawFn) -> str:
    """Valid markup: escaped text of any kind, nested styles, block directives."""
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "text", "hr", "title", "center"]))
        if kind == "hr":
            lines.append("{hr}")
            continue
        parts = [] if kind == "text" else ["{" + kind + "}"]
        depth = 0
        for _ in range(draw(st.integers(0, 6))):
            choice = draw(st.integers(0, 2))
            if choice == 0:
                parts.append(escape(draw(SAMPLE_TEXT)))
            elif choice == 1:
                parts.append("{" + draw(st.sampled_from([s.value for s in Style])) + "}")
                depth += 1
            elif depth:
                parts.append("{/}")
                depth -= 1
        parts.append("{/}" * depth)
        lines.append("".join(parts))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


def visible(line: str) -> str:
    """A rendered line without the renderer's own escape sequences."""
    return OUR_SEQUENCES.sub("", line)


# ----------------------------------------------------------------- ANSI


def test_ansi_heading_hotkey_and_palette() -> None:
    line = render("{h}Index{/} {k}1{/} {ok}ouvert{/} {warn}fermé{/} {err}erreur{/}", ANSI_UTF8)
    assert line.startswith("\x1b[0;1;36mIndex\x1b[0m ")
    assert "\x1b[0;1;37m1\x1b[0m" in line
    assert "\x1b[0;1;32mouvert\x1b[0m" in line
    assert "\x1b[0;1;33mfermé\x1b[0m" in line
    assert line.endswith("\x1b[0;1;31merreur\x1b[0m")


def test_ansi_dim_and_emphasis() -> None:
    assert render("{dim}x{/}", ANSI_UTF8) == "\x1b[0;1;30mx\x1b[0m"
    assert render("{err}a{em}b{/}{/}", ANSI_UTF8) == "\x1b[0;1;31mab\x1b[0m"
    assert render("{em}a{h}b{/}{/}", ANSI_UTF8) == "\x1b[0;1ma\x1b[0;1;36mb\x1b[0m"


def test_ansi_title_is_a_bar_across_the_width() -> None:
    (line,) = render_lines("{title}Services", ANSI_UTF8.with_(cols=40))
    assert line.startswith("\x1b[0;1;37;44m")
    assert line.endswith("\x1b[0m")
    assert visible(line) == " " * 15 + "Services" + " " * 16


def test_ansi_rule_and_boxes() -> None:
    assert render("{hr}", ANSI_UTF8.with_(cols=20)) == "\x1b[0;1;34m" + "─" * 19 + "\x1b[0m"
    assert render("┌─╥─┐", ANSI_CP437) == "┌─╥─┐"
    assert render("┌─╥─┐", ANSI_UTF8) == "┌─╥─┐"


@pytest.mark.parametrize("encoding", [Encoding.LATIN1, Encoding.ASCII])
def test_ansi_without_box_glyphs_draws_boxes_in_ascii(encoding: Encoding) -> None:
    caps = Caps(tier=Tier.ANSI, encoding=encoding, cols=12)
    assert render("╔═╗\n║ ║\n└─┘", caps) == "+=+\r\n| |\r\n+-+"
    assert visible(render("{hr}", caps)) == "-" * 11


def test_unstyled_lines_carry_no_escape_sequences() -> None:
    assert render("Bonjour\n", ANSI_UTF8) == "Bonjour\r\n"


def test_styles_continue_across_wrapped_lines() -> None:
    lines = render_lines("{h}" + "mot " * 15 + "{/}", ANSI_UTF8.with_(cols=20))
    assert len(lines) == 3
    for line in lines:
        assert line.startswith("\x1b[0;1;36m")
        assert line.endswith("\x1b[0m")


# ----------------------------------------------------------------- VT-100


def test_vt100_is_monochrome() -> None:
    line = render("{h}Titre{/} {k}Q{/}uitter {em}x{/} {dim}gris{/}", VT100)
    assert line == "\x1b[0;1mTitre\x1b[0m \x1b[0;1mQ\x1b[0muitter \x1b[0;4mx\x1b[0m gris"


def test_vt100_title_is_reverse_video() -> None:
    (line,) = render_lines("{title}Aide", VT100.with_(cols=10))
    assert line == "\x1b[0;1;7m  Aide   \x1b[0m"


def test_vt100_draws_lines_with_dec_special_graphics() -> None:
    assert render("┌─┬─┐\n│ ┼ │\n└─┴─┘", VT100) == (
        "\x1b(0lqwqk\x1b(B\r\n\x1b(0x n x\x1b(B\r\n\x1b(0mqvqj\x1b(B"
    )
    assert render("╔═╦═╗ ╚═╩═╝ ╠╬╣ ║", VT100) == "\x1b(0lqwqk mqvqj tnu x\x1b(B"
    assert render("{hr}", VT100.with_(cols=6)) == "\x1b(0qqqqq\x1b(B"


def test_vt100_switches_back_before_lowercase_text() -> None:
    assert render("│ a │ B", VT100) == "\x1b(0x\x1b(B a \x1b(0x B\x1b(B"


def test_vt100_on_utf8_draws_unicode_boxes() -> None:
    caps = Caps(tier=Tier.VT100, encoding=Encoding.UTF8, cols=6)
    assert render("┌─┐\n{hr}", caps) == "┌─┐\r\n─────"


# ----------------------------------------------------------------- plain text


def test_dumb_tier() -> None:
    caps = DUMB.with_(cols=21)
    lines = render_lines(
        "{title}Aide\n{h}Rubriques{/}\n  {k}1{/}  Télé\n{hr}\n╔═╗\n║ ║\n└─┘\n{center}fin",
        caps,
    )
    assert lines == [
        "        Aide",
        "        ====",
        "Rubriques",
        "  [1]  Tele",
        "-" * 20,
        "+=+",
        "| |",
        "+-+",
        "        fin",
    ]


def test_dumb_brackets_a_hotkey_once_across_nested_styles() -> None:
    assert render("{k}a{em}b{/}{/}c", DUMB) == "[ab]c"
    assert render("{k}{{Q}}{/}", DUMB) == "[{Q}]"


@given(markups(), st.sampled_from(TEXT_ENCODINGS), st.integers(1, 120))
def test_dumb_never_emits_an_escape_or_control(markup: str, encoding: Encoding, cols: int) -> None:
    caps = Caps(tier=Tier.DUMB, encoding=encoding, cols=cols)
    text = render(markup, caps)
    assert not any((ord(ch) < 0x20 and ch not in "\r\n") or 0x7F <= ord(ch) <= 0x9F for ch in text)
    data = encode(text, caps)
    assert not any(byte < 0x20 and byte not in b"\r\n" for byte in data)
    assert b"\x7f" not in data


# ----------------------------------------------------------------- properties of every tier


@settings(max_examples=300)
@given(markups(), st.sampled_from(ALL_CAPS), st.sampled_from([80, 40, 20, 21, 132]))
def test_every_line_fits_and_stands_alone(markup: str, caps: Caps, cols: int) -> None:
    caps = caps.with_(cols=cols)
    for line in render_lines(markup, caps):
        shown = visible(line)
        # Only the renderer's own sequences: user text can never inject one.
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
        assert text_width(shown) <= cols - 1
        # Whatever the line set, it is back to normal at its end.
        sgr = re.findall(r"\x1b\[[0-9;]*m", line)
        assert not sgr or sgr[-1] == "\x1b[0m"
        charsets = re.findall(r"\x1b\([0B]", line)
        assert not charsets or charsets[-1] == "\x1b(B"
        if caps.tier is Tier.VT100:
            for params in re.findall(r"\x1b\[([0-9;]*)m", line):
                assert set(params.split(";")) <= {"0", "1", "4", "7"}
        if caps.tier is Tier.VIDEOTEX:
            codes = re.findall(r"\x1b[@-GLMYZ\\\]]", line)
            set_last: dict[str, str] = {}
            for code in codes:
                set_last[VIDEOTEX_KIND.get(code, "colour")] = code
            assert set(set_last.values()) <= VIDEOTEX_DEFAULTS, repr(line)


@given(markups(), st.sampled_from(ALL_CAPS))
def test_render_is_render_lines_joined(markup: str, caps: Caps) -> None:
    lines = render_lines(markup, caps)
    ending = "\r\n" if markup.endswith("\n") else ""
    assert render(markup, caps) == "\r\n".join(lines) + ending
    assert render_bytes(markup, caps) == encode(render(markup, caps), caps)


def test_line_ends() -> None:
    assert render("", DUMB) == ""
    assert render_lines("", DUMB) == []
    assert render("\n", DUMB) == "\r\n"
    assert render("a\nb\n", DUMB) == "a\r\nb\r\n"
    assert render_lines("a\nb\n", DUMB) == ["a", "b"]
    assert render_lines("a\n\n", DUMB) == ["a", ""]
    assert render("{h}Choix :{/} ", DUMB) == "Choix : "


def test_markup_with_crlf_line_ends() -> None:
    assert render("a\r\n{hr}\r\n{title}T\r\n", DUMB.with_(cols=6)) == "a\r\n-----\r\n  T\r\n  =\r\n"


# ----------------------------------------------------------------- wrapping


@pytest.mark.parametrize("cols", [80, 40, 20])
def test_wrapping_keeps_lines_within_the_width(cols: int) -> None:
    text = (
        "Soucieuse de vous offrir une assistance technique de qualité, la société "
        "Lotus a créé une large gamme de services d'assistance clients dans un grand "
        "nombre de pays : Belgique, France, Suisse. Anticonstitutionnellementissimes !"
    )
    for caps in ALL_CAPS:
        lines = render_lines(escape(text), caps.with_(cols=cols))
        assert len(lines) > 1 or cols == 80
        assert all(text_width(visible(line)) <= cols - 1 for line in lines)
        words = " ".join(visible(line).strip() for line in lines).split()
        if caps.wire_encoding is Encoding.UTF8 and cols > 30:
            assert words == text.split()


def test_continuation_lines_keep_the_indentation() -> None:
    lines = render_lines("    " + "mot " * 10, DUMB.with_(cols=20))
    assert lines[0].startswith("    mot")
    assert all(line.startswith("    mot") for line in lines)


def test_a_word_longer_than_the_line_is_cut() -> None:
    assert render_lines("a " + "x" * 25, DUMB.with_(cols=11)) == ["a", "x" * 10, "x" * 10, "xxxxx"]


def test_french_spacing_never_breaks_before_punctuation() -> None:
    caps = Caps(tier=Tier.DUMB, encoding=Encoding.LATIN1, cols=13)
    lines = render_lines("ci-dessous : 8 et 9 « ici » ok ?", caps)
    assert lines == ["ci-dessous :", "8 et 9", "« ici » ok ?"]


def test_centre_each_wrapped_line() -> None:
    assert render_lines("{center}un deux trois", DUMB.with_(cols=11)) == [" un deux", "  trois"]


def test_wide_characters_count_double() -> None:
    lines = render_lines("日本語" * 5, ANSI_UTF8.with_(cols=11))
    assert lines == ["日本語日本", "語日本語日", "本語日本語"]
    assert render_lines("日本語", ANSI_CP437) == ["???"]


def test_user_text_cannot_inject_escape_sequences() -> None:
    hostile = escape("\x1b[2J\x1b]0;pwned\x07\x9b31m{h}")
    for caps in ALL_CAPS:
        shown = visible(render(hostile, caps))
        assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown


def test_tabs_expand_to_eight_columns() -> None:
    assert render("a\tb\t{h}c{/}\td", DUMB) == "a       b       c       d"


def test_display_width_counts_what_the_session_shows() -> None:
    assert display_width("{k}1{/}  Numéros…", DUMB) == 15
    assert display_width("{k}1{/}  Numéros…", ANSI_UTF8) == 11
    assert display_width("日本", ANSI_UTF8) == 4


def test_narrow_and_general_wrapping_agree() -> None:
    @settings(max_examples=500)
    @given(
        st.text(alphabet=" abcdefgh:«»!?;", max_size=120),
        st.integers(1, 40),
        st.integers(0, 20),
    )
    def agree(text: str, limit: int, indent: int) -> None:
        indent = 0 if indent * 2 > limit else indent
        general = render_module._breaks(text, limit, indent, narrow=False)
        assert render_module._narrow_breaks(text, limit, indent) == general

    agree()


# ----------------------------------------------------------------- speed


def _screen(number: int) -> str:
    items = "\n".join(f"  {{k}}{n}{{/}}  Assistance clients numéro {n}" for n in range(1, 10))
    text = (
        "Soucieuse de vous offrir une assistance technique de qualité, la société Lotus "
        "a créé une large gamme de services d'assistance clients dans un grand nombre "
        "de pays."
    )
    return (
        f"{{title}}Index d'aide - Assistance clients Lotus {number}\n\n"
        + "\n".join([text] * 4)
        + "\n\n{hr}\n"
        + items
        + "\n"
    )


@pytest.mark.parametrize("caps", [ANSI_CP437, ANSI_UTF8, VT100, DUMB])
def test_a_screen_renders_fast(caps: Caps) -> None:
    count = 50
    started = time.perf_counter()
    for number in range(count):
        encode(render(_screen(number), caps), caps)
    fresh = (time.perf_counter() - started) / count
    started = time.perf_counter()
    for _ in range(count):
        encode(render(_screen(0), caps), caps)
    cached = (time.perf_counter() - started) / count
    # Generous bounds so a busy test machine does not fail; typical is ~0.2 ms / 0.02 ms.
    assert fresh < 0.005
    assert cached < 0.001


def test_render_checks_markup() -> None:
    with pytest.raises(ValueError, match="unknown markup tag"):
        render("{blink}x{/}", DUMB)
    assert parse("{h}x{/}")
