"""The `fax_port` service: a raw TCP line where every byte is a touch-tone key.

A DTMF bridge (a telephone interface that turns key tones into bytes) connects here
and speaks the board's lines, one per message, UTF-8 with CR LF, to its caller; the
dialogue is `bbs.fax.tone`'s, as on telnet's `GO FAX`. Bytes that are not keys
(line ends, spaces) are ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.config import Config
from bbs.fax.documents import known_numbers
from bbs.fax.orders import place_order
from bbs.fax.tone import Order, Output, Say, ToneMachine, parse_keys
from bbs.menus.strings import Strings

log = logging.getLogger(__name__)

CALL_LIMIT = 600.0
"""Seconds one call may last, whatever the caller keys."""


class PhoneService:
    """The touch-tone line's server: one ToneMachine per connection."""

    def __init__(self, config: Config, strings: Strings, db: AsyncEngine | None) -> None:
        self.config = config
        self.strings = strings
        self.db = db
        self.calls = 0
        self.lang = config.language if config.language in ("fr", "en") else "fr"

    def _line(self, say: Say) -> bytes:
        return (self.strings.get(say.key, self.lang, **say.kwargs()) + "\r\n").encode("utf-8")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One call, from the greeting to the order (or the caller hanging up)."""
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else "unknown"
        if self.calls >= self.config.max_sessions:
            writer.close()
            return
        self.calls += 1
        try:
            await asyncio.wait_for(self._call(reader, writer, address), CALL_LIMIT)
        except (TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("fax line %s: call failed", address)
        finally:
            self.calls -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _call(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
    ) -> None:
        async def say(outputs: list[Output]) -> bool:
            """Speak the outputs; whether an order was handled (the call ends)."""
            for out in outputs:
                if isinstance(out, Order):
                    placed = await place_order(
                        self.db,
                        self.config,
                        self.strings,
                        out,
                        caller=f"addr:{address}",
                        account_id=None,
                        lang=self.lang,
                    )
                    writer.write(self._line(placed.say))
                    writer.write(self._line(Say("fax.tone.goodbye")))
                    await writer.drain()
                    return True
                writer.write(self._line(out))
            await writer.drain()
            return False

        try:
            known = await known_numbers(self.db) if self.db is not None else frozenset[int]()
        except Exception:
            log.exception("fax line: catalogue unavailable")
            writer.write(self._line(Say("fax.tone.unavailable")))
            await writer.drain()
            return
        machine = ToneMachine(known)
        await say(machine.start())
        while True:
            data = await asyncio.wait_for(reader.read(256), self.config.idle_timeout)
            if not data:
                return
            for key in parse_keys(data):
                if await say(machine.press(key)):
                    return


async def start_phone(
    config: Config, strings: Strings, db: AsyncEngine | None
) -> asyncio.Server | None:
    """Listen on `fax_port` (None when the setting is off)."""
    if not config.fax_port:
        return None
    service = PhoneService(config, strings, db)
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
    handler = service.handle
    server = await asyncio.start_server(handler, config.host, config.fax_port)
    log.warning("fax on demand touch-tone line on %s:%s", config.host, config.fax_port)
    return server
