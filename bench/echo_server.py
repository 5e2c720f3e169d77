"""The baseline: a bare telnetlib3 server whose shell only echoes each line back.

Same library, same negotiation defaults as a plain ``telnetlib3.create_server`` (bytes
streams, ``encoding=False``), no board code at all. Run it as ``python -m bench.echo_server``;
it prints ``listening on HOST:PORT`` on stdout once it accepts connections, and stops on
SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import sys
from typing import Any

import telnetlib3

PROMPT = b"bench-echo> "
"""What the server prints when it is ready for a line; callers wait for it."""
GREETING = b"bench echo server: every line comes back\r\n"


def raise_nofile() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def echo_shell(reader: Any, writer: Any) -> None:
    """Greet, then send every line back followed by the prompt."""
    writer.write(GREETING + PROMPT)
    try:
        while True:
            line: bytes = await reader.readline()
            if not line:
                break
            body = line.rstrip(b"\r\n\x00")
            if not body and line in (b"\n", b"\x00"):
                continue  # the LF of a CR LF that arrived in its own packet
            writer.write(body + b"\r\n" + PROMPT)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def key_echo_shell(reader: Any, writer: Any) -> None:
    """Greet, then send every byte back as it comes, an Enter as CR LF and the prompt.

    The character-at-a-time counterpart of `echo_shell`, for timing single keystrokes
    against the board's line editor (bench/scale.py).
    """
    writer.write(GREETING + PROMPT)
    try:
        while True:
            data: bytes = await reader.read(256)
            if not data:
                break
            data = data.replace(b"\r\n", b"\r").replace(b"\r\x00", b"\r").replace(b"\n", b"")
            writer.write(data.replace(b"\r", b"\r\n" + PROMPT))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def serve(host: str, port: int, connect_maxwait: float, keys: bool = False) -> None:
    """Serve until SIGTERM/SIGINT (`keys`: echo every byte, not every line)."""
    server = await telnetlib3.create_server(
        host=host,
        port=port,
        shell=key_echo_shell if keys else echo_shell,
        encoding=False,
        connect_maxwait=connect_maxwait,
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
    """``python -m bench.echo_server [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(prog="bench.echo_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (printed)")
    parser.add_argument("--connect-maxwait", type=float, default=2.0)
    parser.add_argument("--keys", action="store_true", help="echo every byte as it comes")
    args = parser.parse_args(argv)
    raise_nofile()
    try:
        asyncio.run(serve(args.host, args.port, args.connect_maxwait, args.keys))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
