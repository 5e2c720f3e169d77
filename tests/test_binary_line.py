"""A session's line as a raw channel for transfers, then back to keys and menus."""

from __future__ import annotations

import asyncio

import pytest

from bbs.menus.strings import Strings
from bbs.session.binary import binary_line
from bbs.session.session import Hangup, Session, SessionSettings
from tests.fakes import FakeLink


def make(link: FakeLink) -> Session:
    session = Session(link, Strings({}), SessionSettings())
    session.start()
    return session


async def test_raw_bytes_in_and_out_then_keys_again() -> None:
    link = FakeLink()
    link.binary = False
    session = make(link)
    async with binary_line(session) as channel:
        assert link.binary
        link.type(bytes(range(256)))
        got = b""
        while len(got) < 256:
            got += await channel.read(1000, 2)
        assert got == bytes(range(256))
        channel.write(b"\x18\xff\x00")
        await channel.drain()
        link.type(b"OO")  # the terminal's closing bytes, unread: dropped with the channel
    assert not link.binary
    assert link.take().endswith(b"\x18\xff\x00")
    link.type(b"menu\r")
    assert await asyncio.wait_for(session.read_line(), 2) == "menu"
    await session.close()


async def test_read_times_out_and_sees_hangup() -> None:
    link = FakeLink()
    session = make(link)
    async with binary_line(session) as channel:
        with pytest.raises(TimeoutError):
            await channel.read(10, 0.1)
        link.close()
        assert await channel.read(10, 2) == b""
    with pytest.raises(Hangup):
        await asyncio.wait_for(session.read_event(), 2)
    await session.close()
