"""A Minitel caller over a fake line: detection, 1200 baud, the keys at a prompt, and the
input decoder against whatever a line may carry."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bbs.session.keys import Key
from bbs.session.link import Negotiated
from bbs.session.probe import detect
from bbs.terminal.caps import Encoding, Tier
from bbs.terminal.videotex import Decoder
from tests.fakes import FakeLink
from tests.minitel.screen import Screen
from tests.test_session import make, within


@pytest.mark.parametrize("term", ["minitel", "Minitel1B", "minitel-2"])
async def test_a_telnet_minitel_gets_videotex_at_1200_baud_and_no_probe(term: str) -> None:
    link = FakeLink(
        Negotiated(terminal_types=(term.lower(),), cols=80, rows=25, telnet=True, echo=True)
    )
    session = make(link)
    detection = await within(detect(session, 0.3, 0, 1200))
    caps = detection.caps
    assert (caps.tier, caps.encoding) == (Tier.VIDEOTEX, Encoding.VIDEOTEX)
    assert (caps.cols, caps.rows, caps.baud) == (40, 24, 1200)
    # No ANSI probe: a Minitel would print it.
    assert b"\x1b[" not in link.take()
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    session.sleep = fake_sleep
    await within(session.send("Société " * 15))
    sent = link.take()
    assert sum(waited) == pytest.approx(len(sent) / 120)
    screen = Screen()
    screen.feed(sent)
    assert screen.text(1).startswith("Société Société")
    await session.close()


async def test_function_keys_at_a_prompt() -> None:
    link = FakeLink(Negotiated(terminal_types=("minitel",), telnet=True, echo=True))
    session = make(link)
    await within(detect(session, 0.3, 0, 0))
    link.type(b"abx\x13Gc\x13A")
    assert await within(session.read_line("?")) == "abc"
    link.type(b"\x13F")
    assert await within(session.read_line("?", keys={Key.MENU: "/SOMMAIRE"})) == "/SOMMAIRE"
    # Without a word for it, SOMMAIRE leaves a question as ^C does.
    link.type(b"zz\x13E\x13F")
    assert await within(session.read_line("?")) == ""
    link.take()
    link.type(b"\x13C")
    link.type(b"ok\x13A")
    # REPETITION drew the screen again before the line went on.
    assert await within(session.read_line("?")) == "ok"
    assert b"\x0c" in link.take()
    await session.close()


CHUNKS = st.lists(st.binary(max_size=12), max_size=12)


@given(CHUNKS)
def test_the_input_decoder_never_raises_and_cuts_do_not_matter(chunks: list[bytes]) -> None:
    whole = Decoder().decode(b"".join(chunks), final=True)
    decoder = Decoder()
    pieces = "".join(decoder.decode(chunk) for chunk in chunks) + decoder.decode(b"", final=True)
    assert pieces == whole
    assert all(ord(ch) < 0x110000 for ch in whole)


@given(st.binary(max_size=300))
def test_the_test_screen_takes_any_bytes(data: bytes) -> None:
    screen = Screen()
    screen.feed(data)
    assert len(screen.rows) == 25 and all(len(row) == 40 for row in screen.rows)
    assert 0 <= screen.row <= 24 and 1 <= screen.col <= 40


async def test_pacing_gives_way_to_a_hangup() -> None:
    link = FakeLink(Negotiated(terminal_types=("minitel",), telnet=True, echo=True))
    session = make(link)
    await within(detect(session, 0.3, 0, 1200))
    link.close()
    await asyncio.wait_for(session.send("x" * 2000), 3)
    await session.close()
