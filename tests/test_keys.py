"""The input parser: Enter in all its telnet forms, erase keys, escape sequences, any split."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bbs.session.keys import CursorReport, Key, KeyParser


def parse(*chunks: str) -> list[object]:
    parser = KeyParser()
    events: list[object] = []
    for chunk in chunks:
        events += parser.feed(chunk)
    return events + parser.flush()


def test_every_telnet_enter_counts_once() -> None:
    assert parse("a\r\nb\r\x00c\nd\r") == [
        "a",
        Key.ENTER,
        "b",
        Key.ENTER,
        "c",
        Key.ENTER,
        "d",
        Key.ENTER,
    ]


def test_cr_lf_split_across_packets_is_one_enter() -> None:
    assert parse("abc\r", "\ndef") == ["a", "b", "c", Key.ENTER, "d", "e", "f"]
    assert parse("x\r", "\x00") == ["x", Key.ENTER]


def test_backspace_and_del_both_erase() -> None:
    assert parse("\b\x7f") == [Key.ERASE, Key.ERASE]


def test_cursor_report_and_arrows() -> None:
    assert parse("\x1b[12;40R\x1b[A\x1bOB") == [CursorReport(12, 40), Key.UP, Key.DOWN]


def test_sequence_split_anywhere() -> None:
    assert parse("\x1b", "[", "3", ";", "7", "R") == [CursorReport(3, 7)]


def test_lone_escape_then_text() -> None:
    assert parse("\x1bq") == [Key.ESCAPE, "q"]
    assert parse("\x1b") == [Key.ESCAPE]


def test_overlong_sequence_is_dropped() -> None:
    events = parse("\x1b[" + "1" * 100 + "Ax")
    assert Key.UNKNOWN in events
    assert events[-1] == "x"
    assert all(not (isinstance(e, str) and e == "1") for e in events[:1])


def test_control_characters_are_ignored() -> None:
    assert parse("\x00\x07\x85a") == ["a"]


@given(st.text(max_size=200), st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_any_split_gives_the_same_events(text: str, cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    assert parse(*chunks) == parse(text)


@given(st.text(max_size=300))
def test_events_are_well_formed(text: str) -> None:
    for event in parse(text):
        if isinstance(event, str):
            assert len(event) == 1 and event.isprintable()
