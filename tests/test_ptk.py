"""prompt_line over a fake link and a real Session: keys, Enter, completion, history, endings."""

from __future__ import annotations

import asyncio
import gc
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import pyte
import pytest

from bbs.menus.strings import Strings
from bbs.session import ptk
from bbs.session.keys import Key
from bbs.session.link import Negotiated
from bbs.session.ptk import completions, prompt_line
from bbs.session.session import Hangup, Session, SessionSettings
from bbs.terminal.caps import Caps, Encoding, Tier

T = TypeVar("T")

STRINGS = Strings(
    {
        key: {"fr": text, "en": text, "de": text}
        for key, text in {
            "board.idle_warning": "Plus d'activite : deconnexion dans une minute",
            "board.idle_disconnect": "Deconnexion pour inactivite",
            "board.press_enter": "Appuyez sur Entree",
            "board.too_long": "Saisie trop longue ({max} au plus)",
        }.items()
    }
)
ANSI_UTF8 = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
PROMPT = "{k}Pays{/} : "
COUNTRIES = ["Allemagne", "Autriche", "Belgique", "États-Unis", "Estonie"]


class FakeLink:
    """The Link protocol in memory: inbound bytes from a queue, outbound into a bytearray."""

    def __init__(self) -> None:
        self.peer = "test:1"
        self.inbound: asyncio.Queue[bytes] = asyncio.Queue()
        self.output = bytearray()
        self.closed = False
        self.resize_callbacks: list[Callable[[int, int], None]] = []

    def negotiated(self) -> Negotiated:
        return Negotiated(telnet=True, echo=True, binary_out=True)

    async def read(self, n: int) -> bytes:
        data = await self.inbound.get()
        if not data:
            # What a telnet transport does after the caller hangs up.
            self.closed = True
        return data

    def write(self, data: bytes) -> None:
        self.output += data

    async def drain(self) -> None:
        await asyncio.sleep(0)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        self.resize_callbacks.append(callback)

    def type(self, data: bytes) -> None:
        """The caller types `data` (one packet)."""
        self.inbound.put_nowait(data)

    def hang_up(self) -> None:
        self.inbound.put_nowait(b"")


async def within(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    return await asyncio.wait_for(awaitable, seconds)


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await within(poll())


_open: list[Session] = []


@pytest.fixture(autouse=True)
async def _close_sessions() -> AsyncIterator[None]:
    yield
    while _open:
        await within(_open.pop().close())


def make(caps: Caps = ANSI_UTF8, **settings: Any) -> tuple[Session, FakeLink]:
    link = FakeLink()
    session = Session(link, STRINGS, SessionSettings(**settings), caps=caps)
    session.start()
    _open.append(session)
    return session, link


async def start(
    session: Session,
    link: FakeLink,
    words: Sequence[str] = COUNTRIES,
    history: Sequence[str] = (),
    prompt: str = PROMPT,
) -> asyncio.Task[str]:
    """prompt_line running, its prompt on the wire."""
    task = asyncio.create_task(prompt_line(session, prompt, words, history))
    await until(lambda: b"Pays" in link.output or task.done())
    return task


def screen_of(link: FakeLink, cols: int = 80, rows: int = 24) -> list[str]:
    screen = pyte.Screen(cols, rows)
    pyte.ByteStream(screen).feed(bytes(link.output))
    return [line.rstrip() for line in screen.display]


async def line_for(*packets: bytes, **kwargs: Any) -> str:
    session, link = make()
    task = await start(session, link, **kwargs)
    for packet in packets:
        link.type(packet)
    return await within(task)


# ----------------------------------------------------------------- typing and Enter


@pytest.mark.parametrize("enter", [b"\r\n", b"\r\x00", b"\n", b"\r"])
async def test_every_telnet_enter_ends_the_line_once(enter: bytes) -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"belgique" + enter + b"suite\r\n")
    assert await within(task) == "belgique"
    # Typed ahead after Enter: the session reads it next, with no empty line before it.
    assert await within(session.read_line()) == "suite"


async def test_cr_and_lf_split_across_packets_make_one_enter() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"belg")
    link.type(b"ique\r")
    link.type(b"\n")
    assert await within(task) == "belgique"
    link.type(b"x\r\n")
    assert await within(session.read_line()) == "x"


async def test_lf_arriving_after_the_edit_ended_is_not_another_enter() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"belgique\r")
    assert await within(task) == "belgique"
    link.type(b"\nx\r\n")
    assert await within(session.read_line()) == "x"


async def test_named_keys_typed_before_the_prompt_reach_it_as_keys() -> None:
    session, _ = make()
    typed = ["a", "b", "c", Key.LEFT, Key.LEFT, "y", Key.HOME, "z", Key.END, "w", Key.ENTER]
    session.push_back(typed)
    assert await within(prompt_line(session, PROMPT, COUNTRIES, [])) == "zaybcw"


async def test_control_keys_reach_the_prompt() -> None:
    # ^A: start of line (Emacs), through the session's one parser.
    assert await line_for(b"abc\x01X\r") == "Xabc"


async def test_keys_after_enter_come_back_to_the_session_as_keys() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"ab\rcd\x1b[Dx\r")
    assert await within(task) == "ab"
    assert await within(prompt_line(session, PROMPT, COUNTRIES, [])) == "cxd"


def test_prompt_toolkit_is_not_patched() -> None:
    import prompt_toolkit.application.application as application
    from prompt_toolkit.key_binding.bindings.page_navigation import (
        load_page_navigation_bindings,
    )
    from prompt_toolkit.key_binding.defaults import load_key_bindings

    import bbs.session.multiline  # noqa: F401

    assert application.load_key_bindings is load_key_bindings
    assert application.load_page_navigation_bindings is load_page_navigation_bindings
    assert application.attach_winch_signal_handler.__module__ == application.__name__


async def test_keys_typed_before_the_prompt_are_edited() -> None:
    session, link = make()
    link.type(b"belg\x7fgique\r")
    await until(lambda: link.inbound.empty())
    await asyncio.sleep(0.01)
    assert await within(prompt_line(session, PROMPT, COUNTRIES, [])) == "belgique"


async def test_cr_and_lf_split_between_packets_are_one_enter() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"ab\r")
    assert await within(task) == "ab"
    link.type(b"\ncd\r")
    assert await within(prompt_line(session, PROMPT, COUNTRIES, [])) == "cd"
    link.type(b"\x00ef\r")
    assert await within(prompt_line(session, PROMPT, COUNTRIES, [])) == "ef"


@pytest.mark.parametrize("erase", [b"\x7f", b"\x08"])
async def test_backspace_and_delete_erase(erase: bytes) -> None:
    assert await line_for(b"belgx" + erase + b"ique\r\n") == "belgique"


async def test_control_c_returns_empty() -> None:
    assert await line_for(b"belg\x03") == ""


async def test_a_line_longer_than_max_line_is_refused_and_typed_again() -> None:
    session, link = make(max_line=5)
    task = await start(session, link)
    link.type(b"abcdefgh\r\n")
    await until(lambda: b"Saisie trop longue (5 au plus)" in link.output)
    link.type(b"ok\r")
    assert await within(task) == "ok"


async def test_a_paste_of_megabytes_keeps_the_edit_small() -> None:
    """The guard drops what no line can hold; the editor sees a handful of keys."""
    session, link = make(max_line=64)
    task = await start(session, link)
    for _ in range(32):
        link.type(b"A" * 65536)
    link.type(b"\x15fin\r")
    assert await within(task, 20) == "fin"
    assert link.output.count(b"Saisie trop longue") == 1


async def test_unknown_sequences_and_paste_marks_are_dropped() -> None:
    assert await line_for(b"ab\x1b[99;99Xcd\x1b[200~ef\x1b[201~\r") == "abcdef"


async def test_control_characters_never_reach_the_line() -> None:
    assert await line_for(b"a\x1ab\x16\x07c\r") == "abc"


# ----------------------------------------------------------------- completion and history


async def test_tab_completes_a_unique_prefix() -> None:
    assert await line_for(b"alle\t\r", words=["Allemagne", "Autriche"]) == "Allemagne"


async def test_tab_completion_ignores_accents_and_case() -> None:
    assert await line_for(b"etats\t\r") == "États-Unis"


async def test_tab_lists_choices_when_nothing_can_be_added() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"a\t")
    await until(lambda: b"Autriche" in link.output)
    link.type(b"u\t\r")
    assert await within(task) == "Autriche"
    rows = screen_of(link)
    listing = next(row for row in rows if "Allemagne" in row)
    assert "Autriche" in listing
    assert "Pays : Autriche" in rows


async def test_long_choice_lists_fit_the_screen() -> None:
    words = [f"Pays numero {n:03}" for n in range(200)]
    session, link = make()
    task = await start(session, link, words=words)
    # The first Tab adds what all choices share, the second lists them.
    link.type(b"p\t")
    await until(lambda: b"numero" in link.output)
    link.type(b"\t")
    await until(lambda: b"(+" in link.output)
    link.type(b"\x03")
    assert await within(task) == ""
    rows = screen_of(link)
    assert sum("Pays numero" in row for row in rows) <= 22


def test_completions_match_folded_prefixes() -> None:
    assert completions(COUNTRIES, "alle") == ["Allemagne"]
    assert completions(COUNTRIES, "ETATS u") == ["États-Unis"]
    assert completions(COUNTRIES, "e") == ["États-Unis", "Estonie"]
    assert completions(COUNTRIES, "x") == []


async def test_up_recalls_history() -> None:
    history = ["france", "belgique"]
    assert await line_for(b"\x1b[A\r", history=history) == "belgique"
    assert await line_for(b"\x1b[A\x1b[A\r", history=history) == "france"
    assert await line_for(b"\x1b[A\x1b[A\x1b[B\r", history=history) == "belgique"


# ----------------------------------------------------------------- what the caller sees


async def test_prompt_and_typed_text_share_a_row() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"belgique")
    await until(lambda: b"belgique" in link.output)
    assert "Pays : belgique" in screen_of(link)
    link.type(b"\r\n")
    await within(task)


async def test_no_256_colours_private_modes_or_cursor_requests() -> None:
    session, link = make()
    task = await start(session, link, history=["x"])
    link.type(b"a\tbc\x1b[D\x1b[A\x7f\r")
    await within(task)
    out = bytes(link.output)
    assert b"38;5" not in out
    assert b"48;5" not in out
    assert b"\x1b[?" not in out  # ?2004h, ?25l, ?7l, ?1l ...
    assert b"\x1b[6n" not in out


async def test_ascii_session_shows_accents_transliterated() -> None:
    session, link = make(Caps(tier=Tier.ANSI, encoding=Encoding.ASCII))
    task = await start(session, link)
    link.type("é".encode("latin-1"))
    await until(lambda: "Pays : e" in screen_of(link))
    link.type(b"\r\n")
    assert await within(task) == "é"
    assert all(byte < 0x80 for byte in link.output)
    assert "Pays : e" in screen_of(link)


async def test_multi_line_prompt_keeps_its_first_lines() -> None:
    session, link = make()
    task = await start(session, link, prompt="{h}Recherche{/}\n" + PROMPT)
    link.type(b"abc\r")
    await within(task)
    rows = screen_of(link)
    assert rows[0] == "Recherche"
    assert rows[1] == "Pays : abc"


async def test_vt100_terminal_gets_no_colour() -> None:
    session, link = make(Caps(tier=Tier.VT100, encoding=Encoding.ASCII))
    task = await start(session, link)
    link.type(b"abc\r")
    await within(task)
    assert b"\x1b[3" not in link.output


# ----------------------------------------------------------------- endings


async def test_hang_up_raises_hangup() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"belg")
    link.hang_up()
    # Told by the session, not noticed by polling: the edit ends at once.
    with pytest.raises(Hangup):
        await within(task, 0.5)


async def test_session_end_stops_the_edit() -> None:
    session, link = make()
    task = await start(session, link)
    session.end("shutdown")
    with pytest.raises(Hangup) as ended:
        await within(task, 0.5)
    assert ended.value.reason == "shutdown"


async def test_idle_caller_is_warned_then_hung_up() -> None:
    session, link = make(idle_timeout=0.6, idle_warning=0.3)
    task = await start(session, link)
    link.type(b"belg")
    with pytest.raises(Hangup) as ended:
        await within(task)
    assert ended.value.reason == "idle"
    text = "\n".join(screen_of(link))
    assert "deconnexion dans une minute" in text
    assert "Deconnexion pour inactivite" in text
    # The prompt came back under the warning, with what had been typed.
    rows = screen_of(link)
    warning = next(i for i, row in enumerate(rows) if "dans une minute" in row)
    assert any("Pays : belg" in row for row in rows[warning + 1 :])


async def test_typing_keeps_the_caller_from_idling_out() -> None:
    session, link = make(idle_timeout=0.4, idle_warning=0.2)
    task = await start(session, link)
    for ch in b"belgique":
        link.type(bytes([ch]))
        await asyncio.sleep(0.1)
    link.type(b"\r")
    assert await within(task) == "belgique"


async def test_caller_who_stops_reading_ends_the_edit() -> None:
    session, link = make()

    async def broken() -> None:
        raise ConnectionResetError

    link.drain = broken  # type: ignore[method-assign]
    task = asyncio.create_task(prompt_line(session, PROMPT, COUNTRIES, []))
    with pytest.raises(Hangup):
        await within(task)


async def test_window_change_redraws_at_the_new_width() -> None:
    session, link = make()
    task = await start(session, link)
    link.type(b"x" * 50)
    await until(lambda: link.output.count(b"x") >= 50)
    link.resize_callbacks[0](40, 24)
    await until(lambda: b"\x1b[J" in link.output[-200:] and link.output.count(b"x") >= 100)
    link.type(b"\r")
    assert await within(task) == "x" * 50


# ----------------------------------------------------------------- resources


async def test_application_is_collected_after_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    apps: list[weakref.ref[Any]] = []

    class Watched(ptk.LineApp):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            apps.append(weakref.ref(self))

    monkeypatch.setattr(ptk, "LineApp", Watched)
    assert await line_for(b"alle\t\r", history=["belgique"]) == "Allemagne"
    assert await line_for(b"a\t\x03") == ""
    gc.collect()
    assert len(apps) == 2
    assert all(ref() is None for ref in apps)


async def test_overlapping_edits_leave_no_signal_handler_behind() -> None:
    loop = asyncio.get_running_loop()
    first, first_link = make()
    second, second_link = make()
    a = await start(first, first_link)
    b = await start(second, second_link)
    first_link.type(b"a\r")
    assert await within(a) == "a"
    second_link.type(b"b\r")
    assert await within(b) == "b"
    handlers = getattr(loop, "_signal_handlers", {})
    assert not any(
        isinstance(getattr(h._callback, "__self__", None), ptk.LineApp) for h in handlers.values()
    )


def test_other_applications_keep_their_own_default_bindings() -> None:
    from prompt_toolkit.application import Application
    from prompt_toolkit.input import DummyInput
    from prompt_toolkit.output import DummyOutput

    other: Application[None] = Application(input=DummyInput(), output=DummyOutput())
    ours = ptk.LineApp(input=DummyInput(), output=DummyOutput())
    theirs = ptk.LineApp(input=DummyInput(), output=DummyOutput())
    assert ours._default_bindings is theirs._default_bindings
    assert ours._page_navigation_bindings is theirs._page_navigation_bindings
    assert other._default_bindings is not ours._default_bindings


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_no_file_descriptor_is_opened() -> None:
    session, link = make()
    before = len(os.listdir("/proc/self/fd"))
    task = await start(session, link)
    during = len(os.listdir("/proc/self/fd"))
    link.type(b"a\r")
    await within(task)
    assert during == before
