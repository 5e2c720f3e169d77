"""The multi-line editor's line mode: commands, limits, word wrap, cleaning, dumb terminals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bbs.menus.strings import Strings, load_strings
from bbs.session.multiline import Command, edit_text, finish, parse_command, split_text, wrap_line
from bbs.session.session import Hangup, Session, SessionSettings
from bbs.terminal.caps import Caps, Encoding, Tier
from tests.fakes import FakeLink

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
STRINGS: Strings = load_strings(ROOT / "menus" / "strings")
DUMB = Caps()
ANSI = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
LATIN1 = Caps(encoding=Encoding.LATIN1)


async def within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


_open: list[Session] = []


@pytest.fixture(autouse=True)
async def _close_sessions() -> AsyncIterator[None]:
    yield
    while _open:
        await within(_open.pop().close())


def make(caps: Caps = DUMB, *, echo: bool = True, **settings: Any) -> tuple[Session, FakeLink]:
    link = FakeLink()
    session = Session(link, STRINGS, SessionSettings(**settings), caps=caps)  # type: ignore[arg-type]
    session.server_echo = echo
    session.start()
    _open.append(session)
    return session, link


async def typed(
    keys: str | bytes,
    caps: Caps = DUMB,
    *,
    echo: bool = True,
    check: Callable[[bytes], None] | None = None,
    **options: Any,
) -> str | None:
    """What edit_text returns when the caller types `keys` (line mode)."""
    session, link = make(caps, echo=echo)
    link.type(keys)
    result = await within(edit_text(session, **options))
    if check is not None:
        check(bytes(link.output))
    return result


def shown(link_output: bytes) -> str:
    return link_output.decode("latin-1")


# ----------------------------------------------------------------- pure helpers


def test_parse_command() -> None:
    assert parse_command(".") == Command("S")
    assert parse_command(" /s ") == Command("S")
    assert parse_command("/a") == Command("A")
    assert parse_command("/L") == Command("L")
    assert parse_command("/?") == Command("?")
    assert parse_command("/h") == Command("?")
    assert parse_command("/E 3") == Command("E", 3)
    assert parse_command("/d12") == Command("D", 12)
    assert parse_command("/I 1") == Command("I", 1)
    assert parse_command("/E") == Command("E", bad_number=True)
    assert parse_command("/E x") == Command("E", bad_number=True)
    assert parse_command("/E ³") == Command("E", bad_number=True)
    # Text that merely starts like a command stays text.
    assert parse_command("/Suite") is None
    assert parse_command("/etc/hosts") is None
    assert parse_command("..") is None
    assert parse_command("Bonjour.") is None


def test_split_text_cleans_and_limits() -> None:
    assert split_text("a\r\nb\tc\x1b[2Jd\x07", 10, 100) == ["a", "b    cd"]
    assert split_text("1\n2\n3\n4", 2, 100) == ["1", "2"]
    assert split_text("abcdef\nghi", 10, 8) == ["abcdef", "g"]
    assert split_text("", 10, 10) == []


def test_finish_strips_and_treats_empty_as_cancel() -> None:
    assert finish(["", "  ", ""]) is None
    assert finish([]) is None
    assert finish(["a  ", "", "b", "", ""]) == "a\n\nb"


def test_wrap_line_cuts_at_words() -> None:
    assert wrap_line("un deux trois", 7) == ["un deux", "trois"]
    assert wrap_line("court", 80) == ["court"]
    assert all(len(piece) <= 5 for piece in wrap_line("abcdefghijkl mn", 5))


# ----------------------------------------------------------------- saving and abandoning


async def test_dot_saves_the_text() -> None:
    assert await typed("Bonjour,\r\nmon 1-2-3 plante.\r\n.\r\n") == "Bonjour,\nmon 1-2-3 plante."


async def test_slash_s_saves_too() -> None:
    assert await typed("Ligne\r\n/s\r\n") == "Ligne"


async def test_numbered_prompts_and_saved_message() -> None:
    def check(out: bytes) -> None:
        text = shown(out)
        assert "  1: " in text and "  2: " in text and "  3: " in text
        assert "Texte enregistr" in text

    await typed("un\r\ndeux\r\n.\r\n", check=check)


async def test_empty_text_on_save_is_cancel() -> None:
    assert await typed("\r\n   \r\n.\r\n") is None


async def test_abort_asks_and_yes_cancels() -> None:
    def check(out: bytes) -> None:
        assert "Abandonner ce texte ? (O/N)" in shown(out)

    assert await typed("texte\r\n/A\r\no\r\n", check=check) is None


async def test_abort_answered_no_keeps_the_text() -> None:
    assert await typed("texte\r\n/a\r\nn\r\nsuite\r\n.\r\n") == "texte\nsuite"


async def test_control_c_asks_to_abandon() -> None:
    assert await typed("texte\r\n\x03o\r\n") is None


async def test_abort_with_nothing_typed_needs_no_confirmation() -> None:
    assert await typed("/A\r\n") is None


async def test_english_yes_key() -> None:
    session, link = make()
    session.lang = "en"
    link.type("text\r\n/A\r\ny\r\n")
    assert await within(edit_text(session)) is None
    assert "Abandon this text? (Y/N)" in shown(bytes(link.output))


# ----------------------------------------------------------------- commands


async def test_list_shows_numbered_lines() -> None:
    def check(out: bytes) -> None:
        text = shown(out)
        listing = text[text.index("/L") :]
        assert "  1: premier" in listing and "  2: second" in listing

    await typed("premier\r\nsecond\r\n/L\r\n.\r\n", check=check)


async def test_list_shows_caller_braces_literally() -> None:
    def check(out: bytes) -> None:
        assert "{k}x" in shown(out)

    assert await typed("{k}x\r\n/L\r\n.\r\n", check=check) == "{k}x"


async def test_edit_replaces_a_line_starting_from_its_text() -> None:
    # /E 1 puts "premier" back on the line: two erases then "e" make "premie".
    text = await typed("premier\r\nsecond\r\n/E 1\r\n\x7f\x7fe\r\n.\r\n")
    assert text == "premie\nsecond"


async def test_edit_interrupted_keeps_the_line() -> None:
    assert await typed("premier\r\n/E 1\r\nxx\x03.\r\n") == "premier"


async def test_delete_removes_a_line() -> None:
    assert await typed("un\r\ndeux\r\ntrois\r\n/D 2\r\n.\r\n") == "un\ntrois"


async def test_insert_before_a_line_until_an_empty_line() -> None:
    keys = "un\r\nquatre\r\n/I 2\r\ndeux\r\ntrois\r\n\r\ncinq\r\n.\r\n"
    assert await typed(keys) == "un\ndeux\ntrois\nquatre\ncinq"


async def test_bad_line_numbers_change_nothing() -> None:
    def check(out: bytes) -> None:
        text = shown(out)
        assert "Pas de ligne 9" in text
        assert "Indiquez le num" in text

    assert await typed("un\r\n/D 9\r\n/E\r\n/E 0\r\n.\r\n", check=check) == "un"


async def test_help_lists_the_commands() -> None:
    def check(out: bytes) -> None:
        text = shown(out)
        for command in ("/A", "/L", "/E n", "/D n", "/I n"):
            assert command in text

    await typed("/?\r\n.\r\n", check=check)


async def test_text_that_looks_like_a_path_is_text() -> None:
    assert await typed("/etc/hosts\r\n.\r\n") == "/etc/hosts"


async def test_initial_text_is_listed_and_kept() -> None:
    def check(out: bytes) -> None:
        assert "  1: ancien" in shown(out)

    text = await typed("nouveau\r\n.\r\n", initial="ancien\r\ntexte", check=check)
    assert text == "ancien\ntexte\nnouveau"


async def test_title_is_shown_cleaned() -> None:
    def check(out: bytes) -> None:
        assert "Incident 12" in shown(out)
        assert b"\x1b" not in out

    await typed(".\r\n", title="Incident\x1b[2J 12", check=check)


# ----------------------------------------------------------------- limits


async def test_max_lines_refuses_more_with_a_message() -> None:
    def check(out: bytes) -> None:
        assert "limite a 2 lignes" in shown(out)

    assert await typed("a\r\nb\r\nc\r\n.\r\n", max_lines=2, check=check) == "a\nb"


async def test_max_chars_cuts_with_a_message() -> None:
    def check(out: bytes) -> None:
        assert "limite a 10 caracteres" in shown(out)

    text = await typed("abcdef\r\nghijklmn\r\n.\r\n", max_chars=10, check=check)
    assert text == "abcdef\nghi"


async def test_insert_refused_when_full() -> None:
    assert await typed("a\r\nb\r\n/I 1\r\n.\r\n", max_lines=2) == "a\nb"


# ----------------------------------------------------------------- cleaning


async def test_control_and_escape_characters_are_dropped() -> None:
    text = await typed(b"a\x01b\x1b[31mc\x1b]52;c;QUJD\x07d\x9be\x00f\r\n.\r\n", caps=LATIN1)
    assert text is not None
    assert all(ch.isprintable() for ch in text)
    assert text.startswith("ab") and "31m" not in text


async def test_tabs_become_spaces() -> None:
    assert await typed("a\tb\r\n.\r\n") == "a    b"


async def test_pasted_crlf_text_makes_one_line_each() -> None:
    paste = "Premier paragraphe.\r\nDeuxième ligne.\r\n\r\nTroisième.\r\n.\r\n"
    caps = Caps(encoding=Encoding.LATIN1)
    session, link = make(caps)
    link.type(paste.encode("latin-1"))
    text = await within(edit_text(session))
    assert text == "Premier paragraphe.\nDeuxième ligne.\n\nTroisième."


async def test_lone_cr_and_lone_lf_also_end_lines() -> None:
    assert await typed("un\rdeux\ntrois\r\n.\r") == "un\ndeux\ntrois"


# ----------------------------------------------------------------- word wrap


async def test_word_wrap_moves_the_last_word_to_the_next_line() -> None:
    session, link = make(Caps(cols=28))
    # 28 columns: 28 - 1 - 5 = 22 characters a line, "refuse" straddles the end.
    link.type("le tableur 1-2-3 refuse d'ouvrir\r\n.\r\n")
    text = await within(edit_text(session))
    assert text == "le tableur 1-2-3\nrefuse d'ouvrir"
    out = shown(bytes(link.output))
    assert "\b \b" in out  # the moved word was erased from the first line


async def test_word_wrap_without_spaces_breaks_hard() -> None:
    session, link = make(Caps(cols=20))
    link.type("x" * 20 + "\r\n.\r\n")
    assert await within(edit_text(session)) == "x" * 14 + "\n" + "x" * 6


async def test_wrap_on_submit_when_the_terminal_echoes_itself() -> None:
    text = await typed("un deux trois quatre cinq\r\n.\r\n", Caps(cols=20), echo=False)
    assert text == "un deux trois\nquatre cinq"


# ----------------------------------------------------------------- dumb terminals, hang-ups


async def test_dumb_terminal_never_gets_an_escape_sequence() -> None:
    def check(out: bytes) -> None:
        assert b"\x1b" not in out and b"\x9b" not in out

    keys = "un\r\n/?\r\n/L\r\n/E 1\r\nx\r\n/D 1\r\n/I 1\r\n\r\n\x03n\r\nz\r\n.\r\n"
    await typed(keys, title="Description", check=check, max_lines=3, max_chars=50)


async def test_hangup_propagates() -> None:
    session, link = make()
    link.type("texte\r\n")
    link.close()
    with pytest.raises(Hangup):
        await within(edit_text(session))
