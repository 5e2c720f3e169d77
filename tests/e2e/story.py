"""Helpers for the end-to-end support story: one line reader over both kinds of caller
(the real `telnet` under pyte, and the scripted `TelnetClient`), and the `bbs` CLI run
from inside an event loop."""

from __future__ import annotations

import asyncio
import io
import re
import sys

from bbs.cli import main
from tests.e2e.harness import Caller
from tests.telnet_client import TelnetClient

_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erasing
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[()*+][0-9A-Za-z]"  # charset designation (VT-100 line drawing)
    r"|\x1b[0-~]"  # other two-byte escapes
    r"|[\x00-\x09\x0b-\x1f\x7f]"  # C0 controls but the newline
)


def plain(raw: bytes, encoding: str) -> str:
    """What a caller reads in `raw`: the text without terminal commands."""
    return _CONTROLS.sub("", raw.decode(encoding, "replace"))


class Line:
    """One caller's connection, read as a transcript: `expect` consumes it up to a text.

    Each `expect` looks only at what came after the previous one, so an old prompt
    still on the screen never answers for a new one.
    """

    def __init__(self, peer: Caller | TelnetClient, encoding: str = "ascii") -> None:
        self.peer = peer
        self.encoding = encoding
        self.consumed = 0
        """How many characters of the transcript earlier `expect`s took."""

    def _raw(self) -> bytes:
        if isinstance(self.peer, Caller):
            return bytes(self.peer.raw)
        return bytes(self.peer.data)

    def transcript(self) -> str:
        return plain(self._raw(), self.encoding)

    def screen(self) -> str:
        """What the caller's terminal shows now (the real `telnet` under pyte only)."""
        assert isinstance(self.peer, Caller), "a scripted client has no screen"
        return self.peer.display()

    def type(self, text: str) -> None:
        self.peer.type(text)

    async def expect(self, text: str, timeout: float = 15.0) -> str:
        """Everything that came since the last `expect`, up to and including `text`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            seen = self.transcript()
            found = seen.find(text, self.consumed)
            if found >= 0:
                end = found + len(text)
                chunk, self.consumed = seen[self.consumed : end], end
                return chunk
            if loop.time() > deadline:
                raise AssertionError(
                    f"{text!r} never came; since the last step:\n{seen[self.consumed :][-3000:]}"
                )
            await asyncio.sleep(0.02)

    def close(self) -> None:
        self.peer.close()


async def bbs(url: str, *argv: str, stdin: str = "") -> int:
    """Run one `bbs` command against `url` in a thread (it runs its own event loop)."""

    def run() -> int:
        saved = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            return main([*argv, "--db", url])
        finally:
            sys.stdin = saved

    return await asyncio.wait_for(asyncio.to_thread(run), 60)
