"""The board's telnet server: telnetlib3 with our option policy, and the thin shell seam."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import telnetlib3
from telnetlib3.telopt import (
    BINARY,
    DO,
    DONT,
    MCCP2_COMPRESS,
    MCCP3_COMPRESS,
    TSPEED,
    WILL,
    WONT,
)

from bbs.session.link import Link, Negotiated

log = logging.getLogger(__name__)

MAX_VALUE = 64
"""Longest TTYPE or NEW-ENVIRON value kept; longer ones are cut (they are only ever hints)."""
MAX_ENVIRON = 32
"""Most NEW-ENVIRON variables kept from one client."""
MAX_TTYPES = 8
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_value(value: object) -> str:
    """A client-supplied string made harmless: control characters removed, length capped."""
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub("", text)[:MAX_VALUE]


class BoardTelnetServer(telnetlib3.TelnetServer):
    """telnetlib3's server with the board's policy.

    It asks for BINARY both ways, ECHO and SGA (character at a time), TTYPE (cycled to
    collect the whole list), NAWS, TSPEED and NEW-ENVIRON; it refuses compression; and
    it cleans every value a client volunteers before anyone can read it.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Wire the option policy into the writer of a new connection."""
        super().connection_made(transport)
        self._resize_callbacks: list[Callable[[int, int], None]] = []
        assert self.writer is not None
        # MCCP makes the server inflate whatever a client sends: a bomb, for no benefit here.
        self.writer.always_dont.update({MCCP2_COMPRESS, MCCP3_COMPRESS})
        # The board parses keys itself; telnetlib3's SLC scan costs a Python loop per byte.
        self.writer.slc_simulated = False

    def begin_advanced_negotiation(self) -> None:
        """Ask for the client's line speed too (TSPEED), besides telnetlib3's set."""
        super().begin_advanced_negotiation()
        if self.writer is not None:
            self.writer.iac(DO, TSPEED)

    def on_ttype(self, ttype: str) -> None:
        """Record one TTYPE answer, cleaned."""
        if self._ttype_count > MAX_TTYPES:
            return
        super().on_ttype(clean_value(ttype))

    def on_environ(self, mapping: dict[str, str]) -> None:
        """Record NEW-ENVIRON values, cleaned and capped; they never log anyone in."""
        cleaned: dict[str, str] = {}
        for key, value in list(mapping.items())[:MAX_ENVIRON]:
            name = clean_value(key).upper()
            if name and not name.startswith(("TTYPE", "PEER", "SSL")):
                cleaned[name] = clean_value(value)
        # Keys telnetlib3 itself sets must not be overridden by a client's environment.
        for reserved in ("TERM", "COLS", "ROWS", "CHARSET", "TIMEOUT", "TSPEED"):
            cleaned.pop(reserved, None)
        super().on_environ(cleaned)

    def on_tspeed(self, rx: str, tx: str) -> None:
        """Record the client's reported line speed."""
        super().on_tspeed(clean_value(rx)[:12], clean_value(tx)[:12])

    def on_naws(self, rows: int, cols: int) -> None:
        """Record the window size and tell the session, which reflows its screen."""
        super().on_naws(rows, cols)
        for callback in getattr(self, "_resize_callbacks", ()):
            callback(cols, rows)


class TelnetLink:
    """A Session's view of one telnet connection."""

    def __init__(self, reader: Any, writer: Any) -> None:
        self._reader = reader
        self._writer = writer
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.peer = f"{peer[0]}:{peer[1]}"

    def negotiated(self) -> Negotiated:
        """What negotiation learned, as of now."""
        w = self._writer
        names: list[str] = []
        for n in range(1, MAX_TTYPES + 1):
            value = w.get_extra_info(f"ttype{n}")
            if not value:
                break
            names.append(value.lower())
        term = w.get_extra_info("TERM")
        if term and not names:
            names.append(clean_value(term).lower())
        environ = {
            k: v
            for k, v in (w.protocol._extra.items() if w.protocol else ())
            if isinstance(k, str) and k.isupper() and isinstance(v, str)
        }
        telnet = bool(
            any(v for _, v in w.remote_option.items()) or any(v for _, v in w.local_option.items())
        )
        return Negotiated(
            terminal_types=tuple(dict.fromkeys(names)),
            cols=int(w.get_extra_info("cols") or 0),
            rows=int(w.get_extra_info("rows") or 0),
            speed=str(w.get_extra_info("tspeed") or ""),
            environ=environ,
            telnet=telnet,
            binary_out=bool(w.outbinary),
            echo=bool(w.will_echo),
        )

    async def read(self, n: int) -> bytes:
        """In-band bytes from the caller (IAC commands already removed)."""
        data: bytes = await self._reader.read(n)
        return data

    def write(self, data: bytes) -> None:
        """Bytes to the caller; telnetlib3 doubles IAC."""
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait for the transport's buffer to drain below its high-water mark."""
        await self._writer.drain()

    def close(self) -> None:
        """Hang up."""
        if not self._writer.is_closing():
            self._writer.close()

    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return bool(self._writer.is_closing())

    async def set_binary(self, on: bool) -> bool:
        """Ask for BINARY both ways (or drop it); whether it was on both ways before."""
        w = self._writer
        before = bool(w.outbinary and w.inbinary)
        if on and not before:
            if not w.outbinary:
                w.iac(WILL, BINARY)
            if not w.inbinary:
                w.iac(DO, BINARY)
            for _ in range(40):
                if w.outbinary and w.inbinary:
                    break
                await asyncio.sleep(0.05)
        elif not on and before:
            w.iac(WONT, BINARY)
            w.iac(DONT, BINARY)
        return before

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Register for window-size changes (NAWS)."""
        protocol = self._writer.protocol
        if protocol is not None and hasattr(protocol, "_resize_callbacks"):
            protocol._resize_callbacks.append(callback)


Shell = Callable[[Link], Awaitable[None]]


async def start_server(host: str, port: int, shell: Shell, connect_maxwait: float) -> Any:
    """Listen for callers; each connection runs `shell` with its TelnetLink."""

    async def telnet_shell(reader: Any, writer: Any) -> None:
        link = TelnetLink(reader, writer)
        try:
            await shell(link)
        except Exception:
            log.exception("session %s failed", link.peer)
        finally:
            link.close()

    return await telnetlib3.create_server(
        host=host,
        port=port,
        protocol_factory=BoardTelnetServer,
        shell=telnet_shell,
        encoding=False,
        connect_maxwait=connect_maxwait,
        timeout=0,
        compression=False,
    )
