"""The transfer reference: lrzsz behind a bare telnetlib3 server, no board code at all.

``python -m bench.xfer_server --send-file PATH [--send-file PATH] --recv-dir DIR`` listens
like the echo server (``telnetlib3.create_server(encoding=False)``, BINARY agreed before the
shell starts) and prints ``listening on HOST:PORT``. For each connection the shell prints
`PROMPT`, reads one command line such as ``sz`` or ``rx -c`` and starts that lrzsz program:

- a sender (``sz``, ``sb``) gets every `--send-file` as arguments (``sx`` the last only);
- a receiver (``rz``, ``rb``, ``rx``) runs in a fresh folder inside DIR (``rx`` writes
  ``recv.bin`` there).

It then waits `SETTLE` seconds (lrzsz throws away the input waiting when it starts: a byte
from the caller that came before would be lost, and the caller would wait for it to be
repeated) and prints `READY`. The next CR from the caller is the go: the shell prints
`START` and relays the program's standard input and output to the connection until it
exits, then prints ``DONE <status> <folder>`` and a line end, and hangs up. So, as on the
board, whose protocol code is ready in its process, starting a program is not timed.

IAC is doubled on the way out by telnetlib3's writer (lrzsz never escapes it) and undone on
the way in by its reader.

One setting differs from telnetlib3's defaults, as on the board: ``slc_simulated`` is off.
With it on, telnetlib3 looks at every byte a client sends in Python, for its line-editing
characters: a 1 MiB ZMODEM upload ran at 5.7 MB/s instead of 41.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import telnetlib3

from bench.echo_server import raise_nofile

PROMPT = b"bench-xfer> "
READY = b"bench-xfer: ready\r\n"
START = b"bench-xfer: start\r\n"
DONE = b"bench-xfer: done "
SENDERS = ("sz", "sb", "sx")
RECEIVERS = ("rz", "rb", "rx")
MAX_LINE = 200
CHUNK = 1 << 16
IDLE = 60.0
"""Seconds to wait for the command line."""
EXIT_WAIT = 10.0
"""Seconds a program may take to exit once its output has ended."""
SETTLE = 0.1
"""Seconds between starting a program and saying it is ready."""


class Relay:
    """Where the programs' files come from and go."""

    def __init__(self, send_files: list[Path], recv_dir: Path) -> None:
        self.send_files = send_files
        self.recv_dir = recv_dir
        self._numbers = itertools.count(1)

    def command(self, line: str) -> tuple[list[str], Path] | None:
        """The argv and working folder for a command line; None when it is not allowed."""
        words = line.split()
        if not words or words[0] not in SENDERS + RECEIVERS:
            return None
        flags = words[1:]
        if not all(f.startswith("-") and f[1:].replace("-", "").isalnum() for f in flags):
            return None
        path = shutil.which(words[0])
        if path is None:
            return None
        self.recv_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{next(self._numbers):03d}-", dir=self.recv_dir))
        argv = [path, *flags]
        if words[0] == "sx":
            argv.append(str(self.send_files[-1]))
        elif words[0] in SENDERS:
            argv.extend(map(str, self.send_files))
        elif words[0] == "rx":
            argv.append("recv.bin")
        return argv, folder

    async def shell(self, reader: Any, writer: Any) -> None:
        """Prompt, read one command, run it with the line relayed; hang up."""
        process: asyncio.subprocess.Process | None = None
        try:
            writer.write(PROMPT)
            line, rest = await read_line(reader, b"")
            found = self.command(line.decode("latin-1"))
            if found is None:
                writer.write(b"\r\nbench-xfer: unknown command " + line[:60] + b"\r\n")
                return
            argv, folder = found
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=folder,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(SETTLE)
            writer.write(READY)
            _, rest = await read_line(reader, rest)  # the go
            writer.write(START)
            await writer.drain()
            status = await relay(process, reader, writer, rest)
            writer.write(DONE + f"{status} {folder.name}\r\n".encode())
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 5)
            writer.close()


async def read_line(reader: Any, got: bytes) -> tuple[bytes, bytes]:
    """One line (to CR or LF) and the bytes that came after it (LF or NUL after CR dropped);
    `got`: what was already read."""
    while True:
        end = min((i for i in (got.find(b"\r"), got.find(b"\n")) if i >= 0), default=-1)
        if end >= 0:
            line, rest = got[:end], got[end + 1 :]
            if got[end : end + 1] == b"\r" and rest[:1] in (b"\n", b"\0"):
                rest = rest[1:]
            return line, rest
        if len(got) > MAX_LINE:
            raise ConnectionError("command line too long")
        chunk: bytes = await asyncio.wait_for(reader.read(MAX_LINE), IDLE)
        if not chunk:
            raise ConnectionError("hung up before the command")
        got += chunk


async def relay(process: asyncio.subprocess.Process, reader: Any, writer: Any, early: bytes) -> int:
    """Join a program's stdio to the connection until it exits; its exit status."""
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    async def inbound() -> None:
        if early:
            stdin.write(early)
        while True:
            chunk: bytes = await reader.read(CHUNK)
            if not chunk:  # the caller hung up: so does the program's input
                stdin.close()
                break
            stdin.write(chunk)
            await stdin.drain()

    async def outbound() -> None:
        while chunk := await stdout.read(CHUNK):
            writer.write(chunk)  # telnetlib3 doubles IAC
            await writer.drain()

    into = asyncio.create_task(inbound())
    try:
        await outbound()
        return await asyncio.wait_for(process.wait(), EXIT_WAIT)
    except (ConnectionError, TimeoutError):
        return -1
    finally:
        into.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, Exception):
            await into
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5)


class RelayServer(telnetlib3.TelnetServer):
    """telnetlib3's server, SLC simulation off (see the module's docstring)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.writer is not None
        self.writer.slc_simulated = False


async def serve(host: str, port: int, relay_: Relay) -> None:
    """Serve until SIGTERM/SIGINT."""
    server = await telnetlib3.create_server(
        host=host,
        port=port,
        protocol_factory=RelayServer,
        shell=relay_.shell,
        encoding=False,
        connect_maxwait=2.0,
        timeout=0,
    )
    sockets: list[Any] = list(server.sockets or [])
    bound = sockets[0].getsockname() if sockets else (host, port)
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2.0)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.xfer_server --send-file PATH --recv-dir DIR [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(prog="bench.xfer_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    parser.add_argument("--send-file", type=Path, action="append", required=True)
    parser.add_argument("--recv-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    raise_nofile()
    try:
        asyncio.run(
            serve(args.host, args.port, Relay([f.resolve() for f in args.send_file], args.recv_dir))
        )
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
