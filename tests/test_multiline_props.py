"""Properties of the multi-line editor: whatever is typed, the text is clean and within limits."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bbs.session.multiline import edit_text, split_text
from bbs.session.session import Session, SessionSettings
from bbs.terminal.caps import Caps, Encoding, Tier
from tests.fakes import FakeLink
from tests.test_multiline import STRINGS

# Pieces a caller might type, editor commands and nasty bytes among them.
PIECES = st.sampled_from(
    [
        b"/A",
        b"/E 1",
        b"/D 1",
        b"/I 1",
        b"/L",
        b"/?",
        b"/S",
        b".",
        b"o",
        b"n",
        b"\r\n",
        b"\r",
        b"\n",
        b"\r\x00",
        b"\t",
        b"\x03",
        b"\x7f",
        b"\x15",
        b"\x1b",
        b"\x1b[31m",
        b"\x1b]52;c;QUJD\x07",
        b"\x9b2J",
        b"\x00",
        b"\xff",
        b"mot ",
        b"x" * 30,
        "é€".encode(),
    ]
)
TYPED = st.lists(PIECES | st.binary(max_size=6), max_size=40).map(b"".join)


def check(text: str | None, max_lines: int, max_chars: int) -> None:
    if text is None:
        return
    assert text.strip()
    assert all(ch == "\n" or ch.isprintable() for ch in text), repr(text)
    assert text.count("\n") < max_lines
    assert len(text) <= max_chars


async def run(caps: Caps, typed: bytes, ending: bytes, **options: int) -> str | None:
    link = FakeLink()
    session = Session(link, STRINGS, SessionSettings(), caps=caps)  # type: ignore[arg-type]
    session.start()
    try:
        task = asyncio.create_task(edit_text(session, **options))
        if caps.tier is not Tier.DUMB:
            # Keys typed before the screen is up pass the session's key parser, which
            # has no use for ^Z: type once the editor listens.
            async with asyncio.timeout(4):
                while b"^Z" not in link.output:
                    await asyncio.sleep(0.005)
        # An empty packet is a hang-up on the fake link: send one packet, never empty.
        link.type(typed + ending)
        return await asyncio.wait_for(task, 4)
    finally:
        await asyncio.wait_for(session.close(), 5)


@given(
    typed=TYPED,
    max_lines=st.integers(min_value=1, max_value=8),
    max_chars=st.integers(min_value=1, max_value=120),
    cols=st.integers(min_value=20, max_value=90),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_line_editor_output_is_clean_and_within_limits(
    typed: bytes, max_lines: int, max_chars: int, cols: int
) -> None:
    caps = Caps(tier=Tier.DUMB, encoding=Encoding.LATIN1, cols=cols)
    # Whatever state the typing left (an edit, a question), this ends it and saves.
    ending = b"\r\n.\r\n\r\n.\r\n"
    text = asyncio.run(run(caps, typed, ending, max_lines=max_lines, max_chars=max_chars))
    check(text, max_lines, max_chars)


@given(
    typed=TYPED,
    max_lines=st.integers(min_value=1, max_value=8),
    max_chars=st.integers(min_value=1, max_value=120),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_screen_editor_output_is_clean_and_within_limits(
    typed: bytes, max_lines: int, max_chars: int
) -> None:
    caps = Caps(tier=Tier.ANSI, encoding=Encoding.UTF8)
    # ^G ends a pending Ctrl-Q or Ctrl-X prefix; the ^Z after it saves.
    ending = b"\x07\x1a\x07\x1a"
    text = asyncio.run(run(caps, typed, ending, max_lines=max_lines, max_chars=max_chars))
    check(text, max_lines, max_chars)


@given(
    text=st.text(),
    max_lines=st.integers(min_value=1, max_value=20),
    max_chars=st.integers(min_value=1, max_value=200),
)
def test_split_text_is_clean_and_within_limits(text: str, max_lines: int, max_chars: int) -> None:
    lines = split_text(text, max_lines, max_chars)
    joined = "\n".join(lines)
    assert len(lines) <= max_lines
    assert len(joined) <= max_chars
    assert all(ch == "\n" or ch.isprintable() for ch in joined)
