"""``python -m bench.web``: the web site under browser-like load, beside a bare aiohttp server.

A board node (``bbs serve --web-port``) on a fresh SQLite database and a bare aiohttp
"hello" server run as separate processes. N concurrent clients (one connection each, as
browsers keep theirs) fetch for a few seconds: the directory page for Belgium and note
10158 from the board, "/" from the bare server. Then memory: K browser terminals
(WebSockets, terminal "dumb") and K telnet callers, each idle at the name prompt; the
board's VmRSS growth per connection is compared.

Targets (issue 12): page p99 under 50 ms at 200 clients; directory requests/s at least
0.5x the bare server's; a WebSocket terminal at most 1.5x a telnet caller's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.client import TelnetClient
from bench.procs import rss_kib

REPO = Path(__file__).resolve().parent.parent
BBS = Path(sys.executable).parent / "bbs"

_BARE = """
import sys
from aiohttp import web
async def hello(request):
    return web.Response(text="hello")
app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return


async def load(urls: list[str], clients: int, seconds: float) -> dict[str, float]:
    """`clients` workers fetching `urls` in turn for `seconds`: latency and throughput."""
    times: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(index: int) -> None:
        nonlocal errors
        connector = aiohttp.TCPConnector(limit=1, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as session:
            turn = index
            while time.monotonic() < stop:
                url = urls[turn % len(urls)]
                turn += 1
                started = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                    continue
                times.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.monotonic() - began
    times.sort()
    return {
        "requests": len(times),
        "errors": errors,
        "rps": len(times) / elapsed,
        "p50_ms": statistics.median(times) * 1000 if times else 0.0,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000 if times else 0.0,
    }


async def websocket_memory(pid: int, port: int, count: int) -> float:
    """KiB of board memory per browser terminal idle at the name prompt."""
    before = rss_kib(pid)
    origin = f"http://127.0.0.1:{port}"
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets = []
    try:
        for _ in range(count):
            ws = await session.ws_connect(
                f"{origin}/terminal/ws?term=dumb&cols=80&rows=24", headers={"Origin": origin}
            )
            sockets.append(ws)
            seen = b""
            while b"Entr" not in seen:
                message = await ws.receive(timeout=15)
                seen += message.data if isinstance(message.data, bytes) else b""
            await ws.send_bytes(b"\r")
            seen = b""
            while b"nom" not in seen:
                message = await ws.receive(timeout=15)
                seen += message.data if isinstance(message.data, bytes) else b""
        await asyncio.sleep(1.0)
        after = rss_kib(pid)
    finally:
        for ws in sockets:
            await ws.close()
        await session.close()
    return (after - before) / count


async def telnet_memory(pid: int, port: int, count: int) -> float:
    """KiB of board memory per telnet caller idle at the name prompt."""
    before = rss_kib(pid)
    loop = asyncio.get_running_loop()
    callers: list[TelnetClient] = []
    try:
        for _ in range(count):
            _, caller = await loop.create_connection(TelnetClient, "127.0.0.1", port)
            callers.append(caller)
            await caller.wait_for([b"Entr"], 15)
            caller.discard()
            caller.send(b"\r")
            await caller.wait_for([b"nom"], 15)
        await asyncio.sleep(1.0)
        after = rss_kib(pid)
    finally:
        for caller in callers:
            caller.close()
    return (after - before) / count


def start_board(db: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, int]:
    """A board node on `db`: its process, telnet port and web port."""
    telnet, web_port = free_port(), free_port()
    board = subprocess.Popen(
        [str(BBS), "serve", "--port", str(telnet), "--web-port", str(web_port), "--db", db],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return board, telnet, web_port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


async def run(clients: int, seconds: float, idle: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    db = f"sqlite:///{work / 'bbs.db'}"
    env = {**os.environ, "BBS_LOG_LEVEL": "WARNING", "BBS_UPLOAD_DIR": str(work / "up")}
    env["BBS_MAX_PER_ADDRESS"] = str(idle * 2 + 10)
    env["BBS_MAX_SESSIONS"] = str(idle * 2 + 10)
    for step in (["db", "upgrade", "--db", db], ["load", "data", "--db", db]):
        subprocess.run([str(BBS), *step], cwd=REPO, env=env, check=True, capture_output=True)
    # Memory first, each kind on a fresh node: freed memory would be reused otherwise.
    per: dict[str, float] = {}
    for kind in ("websocket", "telnet"):
        board, telnet, web_port = start_board(db, env)
        try:
            await wait_port(web_port)
            await wait_port(telnet)
            if kind == "websocket":
                per[kind] = await websocket_memory(board.pid, web_port, idle)
            else:
                per[kind] = await telnet_memory(board.pid, telnet, idle)
        finally:
            stop(board)
    ws_kib, telnet_kib = per["websocket"], per["telnet"]
    board, telnet, web_port = start_board(db, env)
    bare_port = free_port()
    bare = subprocess.Popen(
        [sys.executable, "-c", _BARE, str(bare_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_port(web_port)
        await wait_port(bare_port)
        site = f"http://127.0.0.1:{web_port}"
        rows = {
            "bare aiohttp hello": await load([f"http://127.0.0.1:{bare_port}/"], clients, seconds),
            "directory page": await load([f"{site}/annuaire/pays/BE"], clients, seconds),
            "note page": await load([f"{site}/bibliotheque/note/10158?l=fr"], clients, seconds),
        }
    finally:
        stop(board)
        stop(bare)
    print(f"web: {clients} concurrent clients, {seconds:g} s each")
    print(f"{'what':<22}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, row in rows.items():
        print(
            f"{name:<22}{row['requests']:>10.0f}{row['errors']:>8.0f}{row['rps']:>10.0f}"
            f"{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
        )
    ratio = rows["directory page"]["rps"] / max(rows["bare aiohttp hello"]["rps"], 1e-9)
    worst_p99 = max(rows["directory page"]["p99_ms"], rows["note page"]["p99_ms"])
    mem_ratio = ws_kib / telnet_kib if telnet_kib > 0 else float("inf")
    print(
        f"RSS per idle connection ({idle} each): WebSocket terminal {ws_kib:.0f} KiB, "
        f"telnet caller {telnet_kib:.0f} KiB"
    )
    verdicts = [
        (f"page p99 {worst_p99:.1f} ms < 50 ms", worst_p99 < 50),
        (f"directory req/s {ratio:.2f}x bare >= 0.5x", ratio >= 0.5),
        (f"terminal memory {mem_ratio:.2f}x telnet <= 1.5x", mem_ratio <= 1.5),
    ]
    for text, ok in verdicts:
        print(f"{'PASS' if ok else 'MISS'}  {text}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--idle", type=int, default=100, help="idle terminals of each kind")
    opts = parser.parse_args(argv)
    return asyncio.run(run(opts.clients, opts.seconds, opts.idle))


if __name__ == "__main__":
    sys.exit(main())
