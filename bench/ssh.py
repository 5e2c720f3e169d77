"""``python -m bench.ssh``: SSH callers beside telnet callers on one node.

A fresh board (``bbs serve`` with SSH on) for each measure:

* sign-ins a second: `--logins` callers, `--concurrency` at a time, from connecting to
  the welcome screen — over SSH as the guest (key exchange, no password), over SSH with
  an account's password (Argon2id: the board's deliberate cost), and over telnet;
* memory per idle caller: the server's RSS before and after `--idle` guests reached a menu
  and sat there, over SSH and over telnet; the target is an SSH caller costing at most
  twice a telnet one.

The callers run in this process (asyncssh's client, plain sockets for telnet). Results go
to bench/results/ssh.json and a table on standard output.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bench import procs
from bench.cluster import PASSWORD, add_user
from bench.harness import BOARD_ENV, HOST, RESULTS, prepare_board
from bench.scale import limit_env

TARGET_RATIO = 2.0
"""An idle SSH caller may cost at most this many times a telnet caller's memory."""
MEMBER = "Bench Caller"


def free_ports(count: int) -> list[int]:
    """`count` different free ports (held open together while they are picked)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]


class Board:
    """A `bbs serve` with telnet and SSH on free ports."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, ssh_port: int) -> None:
        self.proc = proc
        self.port = port
        self.ssh_port = ssh_port

    @classmethod
    async def start(cls, db: str, work: Path, log: Path, callers: int) -> Board:
        port, ssh_port = free_ports(2)
        env = {
            **BOARD_ENV,
            **limit_env(callers),
            "BBS_SSH_PORT": str(ssh_port),
            "BBS_SSH_HOST_KEY": str(work / "ssh_host_key"),
            "BBS_UPLOAD_DIR": str(work / "uploads"),
            # Callers are counted from their first byte: a slow run must not cut them.
            "BBS_LOGIN_GRACE": "3600",
        }
        argv = [str(procs.BIN / "bbs"), "serve", "--host", HOST, "--port", str(port)]
        argv += ["--db", db]
        log.unlink(missing_ok=True)
        proc = await procs.spawn(argv, log=log, env=env)
        await procs.wait_listening(proc, log, HOST, port, 60.0)
        return cls(proc, port, ssh_port)

    def rss_kib(self) -> int:
        return procs.rss_kib(self.proc.pid)

    async def stop(self) -> None:
        await procs.stop(self.proc)


# ---------------------------------------------------------------------- callers


async def _until(
    read: Callable[[], Awaitable[bytes]],
    marker: bytes,
    timeout: float,
    quit_pager: Callable[[], None] | None = None,
) -> None:
    seen = b""
    async with asyncio.timeout(timeout):
        while marker not in seen:
            chunk = await read()
            if not chunk:
                raise ConnectionError(f"closed before {marker!r}")
            if quit_pager is not None and b"Q pour quitter" in chunk:
                quit_pager()
            seen = seen[-4096:] + chunk


class SshCaller:
    """An asyncssh client with a PTY (term `dumb`, so the board sends no probe)."""

    def __init__(self, conn: Any, process: Any) -> None:
        self.conn = conn
        self.process = process

    @classmethod
    async def call(cls, port: int, user: str, password: str | None, timeout: float) -> SshCaller:
        import asyncssh

        import bbs.ssh  # noqa: F401  (imports asyncssh without cryptography's DSA warnings)

        conn = await asyncssh.connect(
            HOST,
            port,
            username=user,
            password=password,
            known_hosts=None,
            client_keys=None,
            agent_path=None,
            preferred_auth="password" if password else "none",
        )
        process = await conn.create_process(term_type="dumb", term_size=(80, 60), encoding=None)
        caller = cls(conn, process)
        await _until(caller.read, b"Entree", timeout)
        return caller

    async def read(self) -> bytes:
        data: bytes = await self.process.stdout.read(65536)
        return data

    async def to_menu(self, timeout: float) -> None:
        self.process.stdin.write(b"\r")
        await _until(self.read, b"Votre choix (", timeout)

    def close(self) -> None:
        self.process.close()
        self.conn.close()


class TelnetCaller:
    """A raw socket that refuses every telnet option: a dumb terminal."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def call(cls, port: int, timeout: float) -> TelnetCaller:
        reader, writer = await asyncio.open_connection(HOST, port)
        caller = cls(reader, writer)
        await _until(caller.read, b"Entree", timeout)
        return caller

    async def read(self) -> bytes:
        data = await self.reader.read(65536)
        # Refuse whatever the board asks (IAC DO/WILL x -> WONT/DONT x).
        answer = bytearray()
        i = data.find(b"\xff")
        while i != -1 and i + 2 < len(data):
            verb, option = data[i + 1], data[i + 2]
            if verb in (251, 253):
                answer += bytes([255, 254 if verb == 251 else 252, option])
            i = data.find(b"\xff", i + 2)
        if answer:
            self.writer.write(bytes(answer))
        return data

    async def to_menu(self, timeout: float) -> None:
        self.writer.write(b"\r\nINVITE\r\n")
        # 24 rows without NAWS: the index comes a page at a time.
        await _until(self.read, b"Votre choix (", timeout, lambda: self.writer.write(b"q"))

    def close(self) -> None:
        self.writer.close()


# ---------------------------------------------------------------------- measures


async def rate(count: int, concurrency: int, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Sign-ins a second: `count` callers, `concurrency` at a time, each hung up at once."""
    gate = asyncio.Semaphore(concurrency)
    failed = 0

    async def one() -> None:
        nonlocal failed
        async with gate:
            try:
                caller = await call()
            except Exception as exc:
                failed += 1
                if failed == 1:
                    print(f"    first failure: {exc!r}", file=sys.stderr, flush=True)
                return
            caller.close()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(count)))
    elapsed = time.monotonic() - started
    done = count - failed
    return {"count": count, "failed": failed, "seconds": elapsed, "per_second": done / elapsed}


async def idle_memory(
    board: Board, n: int, call: Callable[[], Awaitable[Any]], timeout: float, settle: float
) -> dict[str, Any]:
    """The server's RSS growth per caller sitting at a menu."""
    await asyncio.sleep(settle)
    before = board.rss_kib()
    callers: list[Any] = []
    gate = asyncio.Semaphore(32)

    async def one() -> None:
        async with gate:
            caller = await call()
            await caller.to_menu(timeout)
            callers.append(caller)

    await asyncio.gather(*(one() for _ in range(n)))
    await asyncio.sleep(settle)
    after = board.rss_kib()
    for caller in callers:
        with contextlib.suppress(Exception):
            caller.close()
    return {
        "n": n,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_caller": (after - before) / n,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"settings": vars(args) | {"json": str(args.json)}}
    logdir = RESULTS / "logs"
    with tempfile.TemporaryDirectory(prefix="bench-ssh-") as tmp:
        work = Path(tmp)
        db = await prepare_board(work)
        # One name per concurrent caller: the sign-in throttle lets one attempt per name in
        # at a time, which is what it is for.
        members = [f"{MEMBER} {i}" for i in range(min(args.concurrency, 8))]
        await asyncio.gather(*(add_user(db, name) for name in members))
        turn = iter(range(1 << 30))
        t = args.timeout

        async def measure(name: str, measure: Callable[[Board], Awaitable[dict[str, Any]]]) -> None:
            try:
                board = await Board.start(db, work, logdir / f"ssh-{name}.log", args.idle)
            except RuntimeError as exc:
                out[name] = {"error": f"the board did not start: {exc}"}
            else:
                try:
                    out[name] = await measure(board)
                except Exception as exc:
                    out[name] = {"error": repr(exc)}
                finally:
                    await board.stop()
            print(f"  {name}: {out[name]}", file=sys.stderr, flush=True)

        await measure(
            "telnet_logins",
            lambda b: rate(args.logins, args.concurrency, lambda: TelnetCaller.call(b.port, t)),
        )
        await measure(
            "ssh_guest_logins",
            lambda b: rate(
                args.logins, args.concurrency, lambda: SshCaller.call(b.ssh_port, "invite", None, t)
            ),
        )
        await measure(
            "ssh_password_logins",
            lambda b: rate(
                max(1, args.logins // 4),
                args.concurrency,
                lambda: SshCaller.call(b.ssh_port, members[next(turn) % len(members)], PASSWORD, t),
            ),
        )
        await measure(
            "telnet_idle",
            lambda b: idle_memory(
                b, args.idle, lambda: TelnetCaller.call(b.port, t), t, args.settle
            ),
        )
        await measure(
            "ssh_idle",
            lambda b: idle_memory(
                b, args.idle, lambda: SshCaller.call(b.ssh_port, "invite", None, t), t, args.settle
            ),
        )
    if any("error" in part for part in out.values() if isinstance(part, dict)):
        out["verdict"] = "ERROR"
        return out
    telnet_kib = out["telnet_idle"]["kib_per_caller"]
    ratio = out["ssh_idle"]["kib_per_caller"] / telnet_kib if telnet_kib > 0 else float("inf")
    out["ssh_to_telnet_memory"] = ratio
    out["verdict"] = "OK" if ratio <= TARGET_RATIO else "MISS"
    return out


def render(out: dict[str, Any]) -> str:
    if out["verdict"] == "ERROR":
        failed = {k: v["error"] for k, v in out.items() if isinstance(v, dict) and "error" in v}
        return "SSH beside telnet: not run: " + "; ".join(f"{k}: {v}" for k, v in failed.items())
    lines = [
        "SSH beside telnet (one node, callers on loopback)",
        "",
        "| measure | telnet | SSH guest | SSH password (Argon2id) |",
        "|---|---:|---:|---:|",
        "| sign-ins a second | {:.1f} | {:.1f} | {:.1f} |".format(
            out["telnet_logins"]["per_second"],
            out["ssh_guest_logins"]["per_second"],
            out["ssh_password_logins"]["per_second"],
        ),
        "| memory per idle caller | {:.1f} KiB | {:.1f} KiB | |".format(
            out["telnet_idle"]["kib_per_caller"], out["ssh_idle"]["kib_per_caller"]
        ),
        "",
        f"SSH / telnet memory: {out['ssh_to_telnet_memory']:.2f} "
        f"(target <= {TARGET_RATIO:g}): {out['verdict']}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ssh", description=__doc__)
    parser.add_argument("--logins", type=int, default=200, help="sign-ins per rate measure")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle", type=int, default=500, help="idle callers for the memory")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="40 sign-ins, 50 idle callers")
    parser.add_argument("--json", type=Path, default=RESULTS / "ssh.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.logins, args.idle = 40, 100
    out = asyncio.run(run(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
    print(render(out))
    print(f"\nresults written to {args.json}")
    return 0 if out["verdict"] == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
