"""Markup parsing: tags, blocks, literals, errors, escape round trip, widths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.terminal.markup import (
    Block,
    Line,
    MarkupError,
    Run,
    Style,
    escape,
    parse,
    strip,
    visible_width,
)


def test_plain_text_is_one_run_per_line() -> None:
    assert parse("Bonjour\n\nau revoir") == (
        Line(Block.TEXT, (Run("Bonjour"),)),
        Line(Block.TEXT, ()),
        Line(Block.TEXT, (Run("au revoir"),)),
    )


def test_styles_nest_and_close_innermost_first() -> None:
    (line,) = parse("a{h}b{em}c{/}d{/}e")
    assert line.runs == (
        Run("a"),
        Run("b", (Style.H,)),
        Run("c", (Style.H, Style.EM)),
        Run("d", (Style.H,)),
        Run("e"),
    )


def test_every_style_tag_is_known() -> None:
    for style in Style:
        (line,) = parse(f"{{{style.value}}}x{{/}}")
        assert line.runs == (Run("x", (style,)),)


def test_a_style_may_span_lines() -> None:
    first, second = parse("{dim}un\ndeux{/} trois")
    assert first.runs == (Run("un", (Style.DIM,)),)
    assert second.runs == (Run("deux", (Style.DIM,)), Run(" trois"))


def test_block_directives() -> None:
    title, rule, centre, styled = parse(
        "{title}Services télématiques\n{hr}\n{center}Lotus\n{h}{center}Tête{/}"
    )
    assert title == Line(Block.TITLE, (Run("Services télématiques"),))
    assert rule == Line(Block.HR, ())
    assert centre == Line(Block.CENTER, (Run("Lotus"),))
    assert styled == Line(Block.CENTER, (Run("Tête", (Style.H,)),))


def test_doubled_braces_are_literal() -> None:
    assert strip("{{h}} et }}{{") == "{h} et }{"
    (line,) = parse("{k}{{{/}")
    assert line.runs == (Run("{", (Style.K,)),)


def test_adjacent_text_with_the_same_styles_is_one_run() -> None:
    (line,) = parse("a{{b{h}{/}c")
    assert line.runs == (Run("a{bc"),)


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("{bold}x{/}", "unknown markup tag {bold}"),
        ("ok\n{ H }", "line 2: unknown markup tag { H }"),
        ("{}", "unknown markup tag {}"),
        ("{h}x", "{h} is never closed"),
        ("x{/}", "{/} with no style open"),
        ("a}b", "lone '}'"),
        ("a{b", "lone '{'"),
        ("{{}", "lone '}'"),
        ("x{hr}", "{hr} must start its line"),
        ("{hr} x", "{hr} must stand alone"),
        ("x{title}y", "{title} must start its line"),
        ("{center}{title}y", "{title} must start its line"),
    ],
)
def test_bad_markup_names_the_problem(markup: str, message: str) -> None:
    with pytest.raises(MarkupError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse(markup)


def test_markup_error_is_a_value_error() -> None:
    assert issubclass(MarkupError, ValueError)


@given(st.text())
def test_escape_round_trips_any_text(text: str) -> None:
    lines = parse(escape(text))
    assert strip(escape(text)) == text
    assert all(line.block is Block.TEXT for line in lines)
    assert all(run.styles == () for line in lines for run in line.runs)


@given(st.text(), st.text())
def test_escaped_text_cannot_open_or_close_tags(inside: str, after: str) -> None:
    markup = "{h}" + escape(inside) + "{/}" + escape(after)
    assert strip(markup) == inside + after


def test_strip_shows_rules_as_empty_lines() -> None:
    assert strip("{title}T\n{hr}\n{k}1{/} Un") == "T\n\n1 Un"


@pytest.mark.parametrize(
    ("markup", "width"),
    [
        ("", 0),
        ("{k}1{/}  Numéros", 10),
        ("e\u0301t\u00e9", 3),
        ("日本語", 6),
        ("a\tb", 9),
        ("{{x}}", 3),
        ("{hr}", 0),
        ("court\nbien plus long", 14),
    ],
)
def test_visible_width(markup: str, width: int) -> None:
    assert visible_width(markup) == width
