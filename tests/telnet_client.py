"""A scripted telnet client for tests: answers negotiation by rules and records what it saw."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
BINARY, ECHO, SGA, TTYPE, TSPEED, NAWS, NEW_ENVIRON = 0, 1, 3, 24, 32, 31, 39
MCCP2 = 86
IS, SEND = 0, 1
VAR, VALUE, USERVAR = 0, 1, 3


@dataclass
class Script:
    """How the client answers: its terminal types (cycled), size, speed and environment."""

    ttypes: list[str] = field(default_factory=lambda: ["xterm"])
    cols: int = 80
    rows: int = 24
    speed: str = ""
    environ: dict[str, str] = field(default_factory=dict)
    accept_binary: bool = True


class TelnetClient:
    """A client over asyncio streams that negotiates like a real terminal program would."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, script: Script):
        self.reader = reader
        self.writer = writer
        self.script = script
        self.commands: list[tuple[int, int]] = []
        """Every (verb, option) the server sent, in order."""
        self.subnegotiations: list[bytes] = []
        self.data = bytearray()
        self._ttype_index = 0
        self.sink: Callable[[bytes], None] | None = None
        """When set, in-band data goes here instead of `data` (a transfer program's input)."""
        self._task = asyncio.create_task(self._pump())
        self._more = asyncio.Event()

    @classmethod
    async def connect(cls, port: int, script: Script) -> TelnetClient:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
        return cls(reader, writer, script)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def type(self, text: str, encoding: str = "utf-8") -> None:
        self.writer.write(text.encode(encoding).replace(b"\xff", b"\xff\xff"))

    async def wait_for(self, needle: bytes, timeout: float = 5.0) -> bytes:
        """Wait until the in-band data holds `needle`; the data, or AssertionError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.data:
            left = deadline - loop.time()
            if left <= 0 or self._task.done():
                raise AssertionError(f"{needle!r} never came; got {bytes(self.data)[-400:]!r}")
            self._more.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._more.wait(), min(left, 0.2))
        return bytes(self.data)

    async def closed(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(asyncio.shield(self._task), timeout)

    def close(self) -> None:
        self._task.cancel()
        self.writer.close()

    async def _pump(self) -> None:
        buffer = b""
        while True:
            chunk = await self.reader.read(4096)
            if not chunk:
                self._more.set()
                return
            buffer += chunk
            buffer = self._parse(buffer)
            self._more.set()

    def _parse(self, buf: bytes) -> bytes:
        inband = bytearray()
        try:
            return self._scan(buf, inband)
        finally:
            if inband:
                if self.sink is not None:
                    self.sink(bytes(inband))
                else:
                    self.data += inband

    def _scan(self, buf: bytes, inband: bytearray) -> bytes:
        i = 0
        while i < len(buf):
            iac = buf.find(IAC, i)
            if iac < 0:
                inband += buf[i:]
                return b""
            inband += buf[i:iac]
            i = iac
            if i + 1 >= len(buf):
                break
            verb = buf[i + 1]
            if verb == IAC:
                inband.append(IAC)
                i += 2
            elif verb in (DO, DONT, WILL, WONT):
                if i + 2 >= len(buf):
                    break
                self._negotiate(verb, buf[i + 2])
                i += 3
            elif verb == SB:
                end = buf.find(bytes([IAC, SE]), i)
                if end < 0:
                    break
                self._subnegotiation(buf[i + 2 : end])
                i = end + 2
            else:
                i += 2
        return buf[i:]

    def _negotiate(self, verb: int, option: int) -> None:
        self.commands.append((verb, option))
        script = self.script
        if verb == DO:
            if option == NAWS:
                self.send(bytes([IAC, WILL, NAWS]))
                size = script.cols.to_bytes(2, "big") + script.rows.to_bytes(2, "big")
                self.send(
                    bytes([IAC, SB, NAWS]) + size.replace(b"\xff", b"\xff\xff") + bytes([IAC, SE])
                )
            elif option in (TTYPE, NEW_ENVIRON) or (option == TSPEED and script.speed):
                self.send(bytes([IAC, WILL, option]))
            elif option == BINARY and script.accept_binary:
                self.send(bytes([IAC, WILL, BINARY]))
            elif option == SGA:
                self.send(bytes([IAC, WILL, SGA]))
            else:
                self.send(bytes([IAC, WONT, option]))
        elif verb == WILL:
            if option in (ECHO, SGA) or (option == BINARY and script.accept_binary):
                self.send(bytes([IAC, DO, option]))
            else:
                self.send(bytes([IAC, DONT, option]))

    def _subnegotiation(self, body: bytes) -> None:
        self.subnegotiations.append(body)
        if not body:
            return
        option, rest = body[0], body[1:]
        if option == TTYPE and rest[:1] == bytes([SEND]):
            names = self.script.ttypes
            name = names[min(self._ttype_index, len(names) - 1)]
            self._ttype_index += 1
            self.send(bytes([IAC, SB, TTYPE, IS]) + name.encode() + bytes([IAC, SE]))
        elif option == TSPEED and rest[:1] == bytes([SEND]):
            self.send(bytes([IAC, SB, TSPEED, IS]) + self.script.speed.encode() + bytes([IAC, SE]))
        elif option == NEW_ENVIRON and rest[:1] == bytes([SEND]):
            payload = b""
            for key, value in self.script.environ.items():
                kind = VAR if key in ("USER", "LANG", "TERM", "DISPLAY") else USERVAR
                payload += bytes([kind]) + key.encode() + bytes([VALUE]) + value.encode("latin-1")
            self.send(bytes([IAC, SB, NEW_ENVIRON, IS]) + payload + bytes([IAC, SE]))
