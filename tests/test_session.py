"""Sessions over a fake transport: line editing, Enter forms, idle timeout, pacing, detection."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.menus.strings import Strings
from bbs.session.link import Negotiated
from bbs.session.probe import detect
from bbs.session.session import Hangup, LineGuard, Session, SessionSettings
from bbs.terminal.caps import Caps, Encoding, Tier
from tests.fakes import FakeLink

STRINGS = Strings(
    {
        key: {"fr": text, "en": text, "de": text}
        for key, text in {
            "board.idle_warning": "Plus d'activité : déconnexion dans une minute",
            "board.idle_disconnect": "Déconnexion pour inactivité",
            "board.press_enter": "Appuyez sur Entrée",
            "board.too_long": "Saisie trop longue ({max} au plus)",
        }.items()
    }
)


def make(link: FakeLink, **settings: float) -> Session:
    session = Session(link, STRINGS, SessionSettings(**settings))  # type: ignore[arg-type]
    session.start()
    return session


async def within(coro: object, seconds: float = 3.0) -> object:
    return await asyncio.wait_for(coro, seconds)  # type: ignore[arg-type]


async def until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    """Wait, at most `seconds`, for `condition` to hold."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), seconds)


@pytest.mark.parametrize("enter", [b"\r\n", b"\r\x00", b"\n", b"\r"])
async def test_read_line_accepts_every_enter(enter: bytes) -> None:
    link = FakeLink()
    session = make(link)
    link.type(b"abc" + enter + b"def\r\n")
    assert await within(session.read_line()) == "abc"
    assert await within(session.read_line()) == "def"
    await session.close()


async def test_erase_with_backspace_and_del_and_echo() -> None:
    link = FakeLink()
    session = make(link)
    link.type(b"abx\x7fc\x08d\r\n")
    assert await within(session.read_line()) == "abd"
    echoed = link.take()
    assert echoed.startswith(b"abx\b \bc\b \bd")
    await session.close()


async def test_no_echo_when_the_client_echoes_itself() -> None:
    link = FakeLink(Negotiated(telnet=True, echo=False))
    session = make(link)
    session.server_echo = False
    link.type(b"secret\r\n")
    assert await within(session.read_line()) == "secret"
    assert b"secret" not in link.take()
    await session.close()


async def test_a_line_longer_than_the_cap_is_refused_not_cut() -> None:
    link = FakeLink()
    session = make(link, max_line=20)
    link.type(b"x" * 50 + b"\r\n" + b"ok\r\n")
    assert await within(session.read_line()) == "ok"
    assert b"Saisie trop longue (20 au plus)" in link.output
    await session.close()


async def test_a_paste_of_megabytes_without_enter_is_dropped_at_the_guard() -> None:
    """Nothing past the cap is parsed into keys: the queue stays empty whatever comes."""
    link = FakeLink()
    session = make(link, max_line=20)
    for _ in range(64):
        link.type(b"A" * 65536)
    link.type(b"\rafter\r")
    assert await within(session.read_line()) == "after"
    assert link.output.count(b"Saisie trop longue") == 1
    await session.close()


async def test_hangup_ends_reads() -> None:
    link = FakeLink()
    session = make(link)
    link.close()
    with pytest.raises(Hangup):
        await within(session.read_line())
    with pytest.raises(Hangup):
        await within(session.read_event())


async def test_idle_warning_then_disconnect() -> None:
    link = FakeLink()
    session = make(link, idle_timeout=0.4, idle_warning=0.2)
    with pytest.raises(Hangup) as ended:
        await within(session.read_line())
    assert ended.value.reason == "idle"
    out = link.take().decode("ascii")
    assert out.index("deconnexion dans une minute") < out.index("Deconnexion pour inactivite")
    await session.close()


async def test_typing_postpones_the_idle_timeout() -> None:
    link = FakeLink()
    session = make(link, idle_timeout=0.5, idle_warning=0.2)

    async def typist() -> None:
        for ch in b"hello":
            await asyncio.sleep(0.2)
            link.type(bytes([ch]))
        link.type(b"\r")

    task = asyncio.create_task(typist())
    assert await within(session.read_line()) == "hello"
    await task
    await session.close()


async def test_pacing_at_2400_baud_is_240_characters_a_second() -> None:
    link = FakeLink()
    session = make(link)
    session.set_caps(session.caps.with_(baud=2400))
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    session.sleep = fake_sleep
    await within(session.write_raw(b"x" * 480))
    assert sum(waited) == pytest.approx(2.0)
    assert len(link.take()) == 480
    assert all(s <= 0.06 for s in waited)
    await session.close()


async def test_no_pacing_by_default() -> None:
    link = FakeLink()
    session = make(link)
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    session.sleep = fake_sleep
    await within(session.write_raw(b"x" * 480))
    assert waited == []
    await session.close()


async def test_dumb_terminal_gets_no_probe_and_no_escape() -> None:
    link = FakeLink(Negotiated(terminal_types=("dumb",), telnet=True, binary_out=True, echo=True))
    link.answer_cpr = (1, 2)
    session = make(link)
    detection = await within(detect(session, 0.3))
    assert detection.caps.tier is Tier.DUMB
    assert detection.caps.encoding is Encoding.ASCII
    await session.send("{title}Index\n{h}Belgique{/} é ─")
    assert b"\x1b" not in link.take()
    await session.close()


async def test_xterm_passing_the_utf8_probe_gets_utf8() -> None:
    link = FakeLink(
        Negotiated(
            terminal_types=("xterm-256color",),
            cols=100,
            rows=30,
            telnet=True,
            binary_out=True,
            echo=True,
        )
    )
    link.answer_cpr = (5, 2)
    session = make(link)
    detection = await within(detect(session, 0.5))
    assert detection.caps == Caps(tier=Tier.ANSI, encoding=Encoding.UTF8, cols=100, rows=30)
    link.take()
    await session.send("é")
    assert link.take() == b"\xc3\xa9"
    await session.close()


async def test_xterm_failing_the_utf8_probe_gets_latin1() -> None:
    link = FakeLink(Negotiated(terminal_types=("xterm",), telnet=True, binary_out=True, echo=True))
    link.answer_cpr = (5, 3)
    session = make(link)
    detection = await within(detect(session, 0.5))
    assert detection.caps.encoding is Encoding.LATIN1
    await session.close()


async def test_ansi_bbs_client_gets_cp437() -> None:
    link = FakeLink(
        Negotiated(terminal_types=("syncterm", "ansi"), telnet=True, binary_out=True, echo=True)
    )
    link.answer_cpr = (1, 1)
    session = make(link)
    detection = await within(detect(session, 0.5))
    assert (detection.caps.tier, detection.caps.encoding) == (Tier.ANSI, Encoding.CP437)
    link.take()
    await session.send("é")
    assert link.take() == b"\x82"
    await session.close()


async def test_nothing_learned_is_dumb_80x24() -> None:
    link = FakeLink(Negotiated())
    session = make(link)
    detection = await within(detect(session, 0.3))
    caps = detection.caps
    assert (caps.tier, caps.wire_encoding, caps.cols, caps.rows) == (
        Tier.DUMB,
        Encoding.ASCII,
        80,
        24,
    )
    assert link.take() == b""
    await session.close()


async def test_silent_terminal_times_out_to_ascii() -> None:
    link = FakeLink(Negotiated(terminal_types=("xterm",), telnet=True, binary_out=False, echo=True))
    session = make(link)
    detection = await within(detect(session, 0.2))
    assert detection.caps.tier is Tier.ANSI
    assert detection.caps.wire_encoding is Encoding.ASCII
    await session.close()


async def test_resize_redraws_the_line_being_typed() -> None:
    link = FakeLink()
    session = make(link)
    session.set_caps(Caps(tier=Tier.DUMB, cols=80, rows=24))
    await session.send("Bonjour")
    link.type(b"bel")
    task = asyncio.create_task(session.read_line("? "))
    await until(lambda: bytes(link.output).rstrip().endswith(b"? bel"))
    link.take()
    link.resize(40, 20)
    await until(lambda: bytes(link.output).rstrip().endswith(b"? bel"))
    assert session.caps.cols == 40
    redrawn = link.take()
    assert b"Bonjour" in redrawn and redrawn.rstrip().endswith(b"? bel")
    link.type(b"\r")
    assert await within(task) == "bel"
    await session.close()


def _guarded(chunks: list[str], limit: int) -> list[str | None]:
    guard = LineGuard(limit)
    out: list[str | None] = []
    for chunk in chunks:
        for piece in guard.feed(chunk):
            if piece is None or not out or out[-1] is None:
                out.append(piece)
            else:
                out[-1] += piece
    return out


@given(
    st.text(alphabet="ab\r\n\x01\x1b", max_size=2000),
    st.lists(st.integers(0, 2000), max_size=6),
    st.integers(1, 20),
)
def test_line_guard_does_not_depend_on_how_input_is_split(
    text: str, cuts: list[int], limit: int
) -> None:
    """The guard sees a stream: where the network cut it changes nothing."""
    points = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    chunks = [text[a:b] for a, b in itertools.pairwise(points)]
    whole = _guarded([text], limit)
    assert _guarded(chunks, limit) == whole
    for piece in whole:
        if piece is not None:
            assert all(len(run) <= limit for run in re.split(r"[\x00-\x1f\x7f]", piece))


class _CountingLink(FakeLink):
    """A link whose drain does not yield when nothing is queued, like a socket's."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        super().write(data)

    async def drain(self) -> None:
        pass


async def test_what_a_screen_writes_in_one_go_is_one_send() -> None:
    link = _CountingLink()
    session = Session(link, Strings({}), SessionSettings())
    await session.send("one\n")
    await session.send("two\n")
    await session.echo("x")
    assert link.writes == []  # not yet: at the loop's next turn
    await asyncio.sleep(0)
    assert link.writes == [b"one\r\ntwo\r\nx"]
    await session.send("three")
    await session.close()  # hanging up sends what is held first
    assert link.writes[-1] == b"three" and link.closed
