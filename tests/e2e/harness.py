"""End-to-end harness: a real board node on a free port, and the real `telnet` client under a
pseudo-terminal whose output a `pyte` screen renders, as a caller would see it."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import fcntl
import os
import pty
import shutil
import signal
import struct
import termios
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyte

from bbs.board import run_node
from bbs.config import Config

TELNET = shutil.which("telnet")
ROOT = Path(__file__).resolve().parents[2]


def node_settings(url: str, work: Path, **changes: Any) -> Config:
    """A node's settings for tests: the repository's menus and data, quick probes and
    shutdown, an upload area under `work`; `changes` override any of it."""
    config = replace(
        Config(),
        db=url,
        data_dir=str(ROOT / "data"),
        menus_dir=str(ROOT / "menus"),
        probe_timeout=0.3,
        shutdown_grace=0.2,
        upload_dir=str(work / "uploads"),
    )
    return replace(config, **changes)


async def loaded_database(url: str) -> None:
    """Create the schema at `url` and load the repository's `data/` into it."""
    from bbs.store.load import load_dir
    from bbs.store.migrate import upgrade

    await upgrade(url)
    await load_dir(url, ROOT / "data")


@contextlib.asynccontextmanager
async def running_board(config: Config) -> AsyncIterator[Config]:
    """A board node serving `config` (its port replaced by a free one) until the block ends."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = replace(config, host="127.0.0.1", port=port)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run_node(config, ready, stop))
    try:
        await asyncio.wait_for(ready.wait(), 15)
    except BaseException:
        task.cancel()
        raise
    try:
        yield config
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


class Caller:
    """The `telnet` program in a pseudo-terminal, its output rendered on a pyte screen.

    The screen answers cursor-position requests the way a real terminal does.
    """

    def __init__(self, port: int, term: str, encoding: str, cols: int = 80, rows: int = 24) -> None:
        assert TELNET, "the telnet client is not installed (make setup installs it)"
        self.screen = pyte.Screen(cols, rows)
        self.screen.write_process_input = self._answer  # type: ignore[method-assign]
        self.stream = pyte.Stream(self.screen)
        # A UTF-8 pyte ignores charset designation, as UTF-8 xterms may; a VT-100 honours it.
        self.stream.use_utf8 = encoding == "utf-8"
        self.encoding = encoding
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.raw = bytearray()
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child becomes telnet
            os.environ["TERM"] = term
            os.execv(TELNET, [TELNET, "-E", "127.0.0.1", str(port)])
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self._data = asyncio.Event()
        self._closed = False
        asyncio.get_running_loop().add_reader(fd, self._on_readable)

    def _answer(self, data: str) -> None:
        os.write(self.fd, data.encode("ascii"))

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            self._closed = True
            asyncio.get_running_loop().remove_reader(self.fd)
        else:
            self.raw += chunk
            self.stream.feed(self.decoder.decode(chunk))
        self._data.set()

    def resize(self, cols: int, rows: int) -> None:
        """The caller resizes the window: telnet sends NAWS, the screen is cleared to fit."""
        self.screen.resize(rows, cols)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.kill(self.pid, signal.SIGWINCH)

    def type(self, text: str) -> None:
        """Keys typed by the caller."""
        os.write(self.fd, text.encode("utf-8"))

    def display(self) -> str:
        """What the screen shows, one line per row."""
        return "\n".join(line.rstrip() for line in self.screen.display)

    async def wait_for(self, text: str, timeout: float = 10.0) -> str:
        """Wait until the screen shows `text`; the screen, or an AssertionError showing it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while text not in self.display():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 or self._closed:
                raise AssertionError(f"{text!r} never appeared; screen:\n{self.display()}")
            self._data.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._data.wait(), min(left, 0.5))
        return self.display()

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Wait until telnet's side of the line is closed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._closed:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError("the connection stayed open")
            self._data.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._data.wait(), min(left, 0.5))

    def close(self) -> None:
        """Kill telnet and release the pseudo-terminal."""
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self.fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)
