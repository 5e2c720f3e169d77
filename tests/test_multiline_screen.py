"""The multi-line editor's full-screen mode (prompt_toolkit) and its choice by terminal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pyte
import pytest

from bbs.session.multiline import edit_text, screen_possible
from bbs.session.session import Hangup, Session
from bbs.terminal.caps import Caps, Encoding, Tier
from tests.fakes import FakeLink
from tests.test_multiline import ANSI, DUMB, _close_sessions, make, within

__all__ = ["_close_sessions"]  # the fixture closing sessions, used here too

VT100 = Caps(tier=Tier.VT100, encoding=Encoding.LATIN1)


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await within(poll())


def screen_of(link: FakeLink, cols: int = 80, rows: int = 24) -> list[str]:
    screen = pyte.Screen(cols, rows)
    pyte.ByteStream(screen).feed(bytes(link.output))
    return [line.rstrip() for line in screen.display]


def on_screen(link: FakeLink, text: str) -> Callable[[], bool]:
    return lambda: any(text in line for line in screen_of(link))


async def started(
    caps: Caps = ANSI, **options: Any
) -> tuple[Session, FakeLink, asyncio.Task[str | None]]:
    """edit_text running full-screen, its status line drawn."""
    session, link = make(caps)
    task = asyncio.create_task(edit_text(session, **options))
    await until(lambda: b"^Z" in link.output or task.done())
    assert not task.done()
    return session, link, task


async def result_of(*packets: bytes, caps: Caps = ANSI, **options: Any) -> str | None:
    _, link, task = await started(caps, **options)
    for packet in packets:
        link.type(packet)
    return await within(task)


# ----------------------------------------------------------------- which editor


@pytest.mark.parametrize(
    ("caps", "echo", "expected"),
    [
        (ANSI, True, True),
        (VT100, True, True),
        (DUMB, True, False),
        (ANSI, False, False),
        (ANSI.with_(cols=39), True, False),
        (ANSI.with_(rows=11), True, False),
        (ANSI.with_(cols=40, rows=12), True, True),
    ],
)
async def test_screen_editor_only_where_the_terminal_allows(
    caps: Caps, echo: bool, expected: bool
) -> None:
    session, _ = make(caps, echo=echo)
    assert screen_possible(session) is expected


async def test_small_ansi_window_gets_the_line_editor() -> None:
    session, link = make(ANSI.with_(cols=39))
    link.type("texte\r\n.\r\n")
    assert await within(edit_text(session)) == "texte"
    assert b"^Z" not in link.output


# ----------------------------------------------------------------- typing and saving


async def test_typing_newlines_and_ctrl_z_save() -> None:
    assert await result_of(b"Bonjour,\r\nle 1-2-3 plante.\r\n\x1a") == "Bonjour,\nle 1-2-3 plante."


async def test_escape_then_enter_saves() -> None:
    assert await result_of(b"texte\x1b\r") == "texte"


async def test_vt100_terminal_edits_too() -> None:
    assert await result_of(b"un\rdeux\x1a", caps=VT100) == "un\ndeux"


async def test_title_and_keys_are_on_screen() -> None:
    _, link, task = await started(title="Incident\x1b[2J 42")
    link.type(b"abc")
    await until(on_screen(link, "abc"))
    screen = screen_of(link)
    assert "Incident 42" in screen[0]
    assert "^Z" in screen[22] and "^C" in screen[22]
    assert "ligne 1/1" in screen[22]
    link.type(b"\x1a")
    assert await within(task) == "abc"


async def test_initial_text_is_in_the_buffer() -> None:
    assert await result_of(b" suite\x1a", initial="debut") == "debut suite"


async def test_saved_message_and_clean_screen_after() -> None:
    _, link, task = await started()
    link.type(b"abc\x1a")
    await within(task)
    assert "Texte enregistré" in bytes(link.output).decode("utf-8")


async def test_keys_typed_after_saving_go_to_the_next_prompt() -> None:
    session, link, task = await started()
    link.type(b"abc\x1anext\r\n")
    assert await within(task) == "abc"
    assert await within(session.read_line()) == "next"


async def test_empty_text_saved_is_cancel() -> None:
    assert await result_of(b"\r\n   \r\n\x1a") is None


# ----------------------------------------------------------------- cancelling


async def test_ctrl_c_on_empty_text_cancels_at_once() -> None:
    assert await result_of(b"\x03") is None


async def test_ctrl_c_twice_abandons_the_text() -> None:
    _, link, task = await started()
    link.type(b"texte\x03")
    await until(on_screen(link, "^C de nouveau"))
    assert not task.done()
    link.type(b"\x03")
    assert await within(task) is None


async def test_ctrl_c_then_another_key_keeps_the_text() -> None:
    _, link, task = await started()
    link.type(b"texte\x03")
    await until(on_screen(link, "^C de nouveau"))
    link.type(b"!")
    await until(on_screen(link, "texte!"))
    link.type(b"\x03")
    await until(on_screen(link, "^C de nouveau"))
    link.type(b"x\x1a")
    assert await within(task) == "texte!x"


# ----------------------------------------------------------------- limits and cleaning


async def test_max_chars_stops_typing_with_a_notice() -> None:
    _, link, task = await started(max_chars=5)
    link.type(b"abcdefgh")
    await until(on_screen(link, "Limite atteinte"))
    link.type(b"\x1a")
    assert await within(task) == "abcde"


async def test_max_lines_refuses_more_newlines() -> None:
    assert await result_of(b"a\rb\rc\rd\x1a", max_lines=2) == "a\nbcd"


async def test_crlf_paste_makes_one_newline_each() -> None:
    paste = "Premier.\r\nDeuxième.\r\n\r\nTroisième.\r\n".encode()
    assert await result_of(paste + b"\x1a") == "Premier.\nDeuxième.\n\nTroisième."


async def test_control_and_escape_characters_stay_out() -> None:
    keys = b"a\x1b[31mb\x1b]52;c;QUJD\x07c\x00d\x11\x16\x07e\x1b[200~f\tg\x1a"
    text = await result_of(keys)
    assert text is not None
    assert all(ch == "\n" or ch.isprintable() for ch in text)
    assert "\x1b" not in text and "[31m" not in text
    assert "    g" in text


async def test_resize_redraws_at_the_new_size() -> None:
    _, link, task = await started()
    link.type(b"abc")
    await until(on_screen(link, "abc"))
    link.resize(60, 15)
    link.type(b"d")
    await until(lambda: any("abcd" in line for line in screen_of(link, 60, 15)))
    link.type(b"\x1a")
    assert await within(task) == "abcd"


async def test_hangup_ends_the_edit() -> None:
    _, link, task = await started()
    link.type(b"abc")
    link.close()
    with pytest.raises(Hangup):
        await within(task)


async def test_idle_caller_is_warned_then_hung_up() -> None:
    session, link = make(ANSI, idle_timeout=0.4, idle_warning=0.2)
    task = asyncio.create_task(edit_text(session))
    with pytest.raises(Hangup) as ended:
        await within(task)
    assert ended.value.reason == "idle"
    out = bytes(link.output).decode("utf-8")
    assert "Plus d'activité" in out and "Aucune activité" in out
