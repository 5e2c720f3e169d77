"""The touch-tone dialogue: one pure state machine for telnet's GO FAX and the fax line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bbs.fax.numbers import parse_fax_number
from bbs.fax.tone import (
    KEYS,
    MAX_DOCUMENTS,
    MAX_ENTRY,
    Order,
    Output,
    Say,
    Step,
    ToneMachine,
    parse_keys,
)

KNOWN = frozenset({10112, 10135, 12018, 12036, 1001, 1002, 1003})


def machine() -> ToneMachine:
    m = ToneMachine(KNOWN)
    m.start()
    return m


def keys_said(outputs: list[Output]) -> list[str]:
    return [o.key for o in outputs if isinstance(o, Say)]


def orders(outputs: list[Output]) -> list[Order]:
    return [o for o in outputs if isinstance(o, Order)]


def test_start_greets_and_offers_the_menu() -> None:
    assert keys_said(ToneMachine(KNOWN).start()) == ["fax.tone.welcome", "fax.tone.menu"]


def test_catalogue_order() -> None:
    m = machine()
    said = m.feed("1")
    assert keys_said(said) == ["fax.tone.ask_number"]
    said = m.feed("0144556677#")
    assert said == [Say("fax.tone.confirm_catalogue", (("number", "0144556677"),))]
    assert not m.done
    assert m.feed("#") == [Order(True, (), "0144556677")]
    assert m.done
    assert m.feed("1#") == []


def test_documents_order_with_international_number() -> None:
    m = machine()
    m.feed("2")
    assert m.step is Step.DOCUMENTS
    said = m.feed("10112#")
    assert said == [
        Say("fax.tone.document_added", (("number", "10112"), ("count", "1"), ("max", "5")))
    ]
    m.feed("1001#")
    assert keys_said(m.feed("#")) == ["fax.tone.ask_number"]
    said = m.feed("0033144556677#")
    assert keys_said(said) == ["fax.tone.confirm_documents"]
    assert dict(said[0].values) == {  # type: ignore[union-attr]
        "documents": "10112, 1001",
        "number": "+33144556677",
    }
    assert orders(m.feed("#")) == [Order(False, (10112, 1001), "+33144556677")]


def test_unknown_and_repeated_documents_are_refused() -> None:
    m = machine()
    m.feed("2")
    assert keys_said(m.feed("99999#")) == ["fax.tone.unknown_document"]
    m.feed("10112#")
    assert keys_said(m.feed("10112#")) == ["fax.tone.already"]
    assert m.documents == [10112]


def test_hash_alone_before_any_document_asks_for_one() -> None:
    m = machine()
    m.feed("2")
    assert keys_said(m.feed("#")) == ["fax.tone.none_yet"]
    assert m.step is Step.DOCUMENTS


def test_five_documents_at_most_then_the_number_is_asked() -> None:
    m = machine()
    m.feed("2")
    numbers = sorted(KNOWN)[:MAX_DOCUMENTS]
    said: list[Output] = []
    for n in numbers:
        said = m.feed(f"{n}#")
    assert keys_said(said)[-2:] == ["fax.tone.full", "fax.tone.ask_number"]
    assert m.step is Step.NUMBER
    assert len(m.documents) == MAX_DOCUMENTS


def test_star_goes_back_step_by_step() -> None:
    m = machine()
    m.feed("2")
    m.feed("10112#1001#")
    m.feed("123")
    assert keys_said(m.feed("*")) == ["fax.tone.cleared"]
    assert m.entry == ""
    assert keys_said(m.feed("*")) == ["fax.tone.document_removed"]
    assert m.documents == [10112]
    m.feed("#")  # to the number
    assert m.step is Step.NUMBER
    m.feed("01")
    m.feed("*")  # clears the entry
    assert keys_said(m.feed("*")) == ["fax.tone.ask_document"]
    assert m.step is Step.DOCUMENTS and m.documents == [10112]
    m.feed("*")
    assert keys_said(m.feed("*")) == ["fax.tone.menu"]
    assert m.step is Step.MENU and m.documents == []


def test_star_at_confirmation_asks_the_number_again() -> None:
    m = machine()
    m.feed("1")
    m.feed("0144556677#")
    assert keys_said(m.feed("*")) == ["fax.tone.ask_number"]
    assert m.step is Step.NUMBER and m.number == ""
    assert keys_said(m.feed("5")) == []
    assert keys_said(m.feed("*")) == ["fax.tone.cleared"]
    assert keys_said(m.feed("*")) == ["fax.tone.menu"]


def test_bad_choices_and_bad_numbers() -> None:
    m = machine()
    assert keys_said(m.feed("7")) == ["fax.tone.bad_choice", "fax.tone.menu"]
    assert keys_said(m.feed("#")) == ["fax.tone.menu"]
    m.feed("1")
    assert keys_said(m.feed("123#")) == ["fax.tone.bad_number"]
    assert m.step is Step.NUMBER
    m.feed("0144556677#")
    assert keys_said(m.feed("3")) == ["fax.tone.confirm_keys"]


def test_an_entry_is_bounded() -> None:
    m = machine()
    m.feed("1")
    said = m.feed("1" * (MAX_ENTRY + 3))
    assert keys_said(said) == ["fax.tone.too_long"] * 3
    assert len(m.entry) == MAX_ENTRY


def test_parse_keys_keeps_only_touch_tone_keys() -> None:
    assert parse_keys(b"1\r\n2 3#*A") == ["1", "2", "3", "#", "*"]
    assert parse_keys("١٢#") == ["#"]


@given(st.binary(max_size=200))
def test_parse_keys_on_any_bytes(data: bytes) -> None:
    keys = parse_keys(data)
    assert all(k in KEYS for k in keys)
    assert "".join(keys) == "".join(chr(b) for b in data if chr(b) in KEYS)
    assert parse_keys("".join(keys)) == keys


@given(st.lists(st.sampled_from([*sorted(KEYS), "A", "x", "\r"]), max_size=120))
def test_any_key_sequence_keeps_the_machine_sound(presses: list[str]) -> None:
    m = machine()
    placed: list[Order] = []
    for key in presses:
        out = m.press(key)
        placed += orders(out)
        assert len(m.documents) <= MAX_DOCUMENTS
        assert len(m.entry) <= MAX_ENTRY
        assert set(m.documents) <= KNOWN
        assert len(set(m.documents)) == len(m.documents)
    assert len(placed) <= 1
    if placed:
        order = placed[0]
        assert m.done
        assert parse_fax_number(order.number) == order.number
        assert order.catalogue != bool(order.documents)
        assert 0 < len(order.documents) <= MAX_DOCUMENTS or order.catalogue


@given(st.text(alphabet="0123456789", min_size=6, max_size=15))
def test_whatever_number_is_confirmed_is_valid(digits: str) -> None:
    m = machine()
    m.feed("1")
    m.feed(digits + "#")
    if m.step is Step.CONFIRM:
        assert orders(m.feed("#"))[0].number == parse_fax_number(digits)
    else:
        assert parse_fax_number(digits) is None
