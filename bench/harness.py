"""``python -m bench``: the board against a bare telnetlib3 echo server, N callers at a time;
then file transfers through the board against lrzsz behind a bare telnetlib3 server.

For each N, each server runs fresh in its own process; the callers run in a third process
(one asyncio loop, plain sockets). The transfers are bench/transfers.py. See
bench/README.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cluster, procs, report, scale
from bench import transfers as xfer
from bench.callers import Markers, Spec
from bench.echo_server import raise_nofile
from bench.markers import NO_MARKERS, board_markers

HOST = "127.0.0.1"
RESULTS = procs.REPO / "bench" / "results"
DEFAULT_SIZES = (100, 1000, 5000)
BOARD_ENV = {
    "BBS_IDLE_TIMEOUT": "3600",
    "BBS_CONNECT_MAXWAIT": "2",
    "BBS_SHUTDOWN_GRACE": "0.5",
    # Every bench caller comes from 127.0.0.1: the edge's per-node and per-address caps
    # would refuse all but a few.
    "BBS_MAX_SESSIONS": "100000",
    "BBS_MAX_PER_ADDRESS": "100000",
}
"""The board's settings for the run: nobody idles out, negotiation waits at most 2 s."""


class HarnessError(Exception):
    """A step of the harness failed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Options:
    """The command line, parsed."""

    sizes: tuple[int, ...]
    servers: tuple[str, ...]
    rounds: int
    think: float
    connect_concurrency: int
    timeout: float
    word: str
    go: str
    seed: int
    json_path: Path
    settle: float
    strict: bool
    probe: bool
    profile: bool = False
    """Servers run under cProfile and a stack sampler; profiles and flame graphs of the
    arrival and the searches go to bench/results/profile/."""
    transfers: xfer.Settings | None = None
    """What the transfer part does; None when it is not run."""
    scale: scale.Settings | None = None
    """What the 10 000-caller part does; None when it is not run."""
    cluster: cluster.Settings | None = None
    """What the two-node part does; None when it is not run."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "servers": list(self.servers),
            "rounds": self.rounds,
            "think": self.think,
            "connect_concurrency": self.connect_concurrency,
            "timeout": self.timeout,
            "word": self.word,
            "go": self.go,
            "seed": self.seed,
            "settle": self.settle,
            "probe": self.probe,
            "profile": self.profile,
            "transfers": self.transfers.as_dict() if self.transfers else None,
            "scale": self.scale.as_dict() if self.scale else None,
            "cluster": self.cluster.as_dict() if self.cluster else None,
        }


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the board against a bare telnetlib3 echo server.",
    )
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="caller counts, e.g. 100,1000"
    )
    parser.add_argument("--quick", action="store_true", help="N=50 only, short think time")
    parser.add_argument(
        "--only",
        choices=("echo", "board", "transfers", "scale", "cluster"),
        help="one server's load cases only, or the transfers, the 10 000-caller or two-node table",
    )
    parser.add_argument("--rounds", type=int, help="searches per caller (default 5; quick 3)")
    parser.add_argument(
        "--think", type=float, help="mean seconds between a caller's searches (default 10)"
    )
    parser.add_argument("--connect-concurrency", type=int, default=64, metavar="C")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds any one wait may take")
    parser.add_argument("--word", default="belgique", help="what callers look up")
    parser.add_argument("--go", default="GO ANNUAIRE", help="the command that opens the directory")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before reading RSS")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", metavar="PATH")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="run the servers bare (the `bbs` script itself), without GC and loop-lag probes",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the servers (cProfile, flame graphs) during the arrival and the searches,"
        " into bench/results/profile/ (the figures of such a run are inflated)",
    )
    group = parser.add_argument_group("transfers")
    group.add_argument(
        "--xfer-size",
        default="10M",
        metavar="BYTES",
        help="the file transferred (suffix K or M for KiB, MiB; default 10M)",
    )
    group.add_argument(
        "--xfer-protocols",
        metavar="LIST",
        help=f"among {','.join(xfer.PROTOCOLS)} (default all; quick Z)",
    )
    group.add_argument(
        "--xfer-repeat", type=int, help="runs per protocol and direction (default 3; quick 1)"
    )
    group.add_argument(
        "--typists",
        type=int,
        default=20,
        help="callers typing at the menu during ZMODEM downloads (0: none)",
    )
    group.add_argument(
        "--load-seconds",
        type=float,
        help="how long ZMODEM downloads run back to back under the typists (default 15; quick 5)",
    )
    group.add_argument(
        "--xfer-limit", type=float, default=300.0, help="seconds one transfer may take in all"
    )
    group = parser.add_argument_group("10 000 callers (--only scale)")
    group.add_argument("--scale-n", type=int, help="callers idle at a menu (10000; quick 200)")
    group.add_argument("--scale-active", type=int, help="of them typing (1000; quick 20)")
    group.add_argument("--scale-seconds", type=float, help="how long they type (60; quick 5)")
    group.add_argument(
        "--scale-rate", type=float, default=500.0, help="callers arriving per second (500)"
    )
    group.add_argument(
        "--scale-inflight", type=int, default=64, help="callers on their way at once (64)"
    )
    group.add_argument("--scale-procs", type=int, default=4, help="driver processes (4)")
    group.add_argument(
        "--scale-servers", default="echo,board", help="among echo,board (default both)"
    )
    group = parser.add_argument_group("two nodes behind HAProxy (--only cluster)")
    group.add_argument(
        "--cluster-callers", type=int, help="guest logins per topology (1000; quick 50)"
    )
    group.add_argument("--cluster-pairs", type=int, help="page senders/receivers (10; quick 2)")
    args = parser.parse_args(argv)
    try:
        sizes = (50,) if args.quick else tuple(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--sizes must be numbers separated by commas, got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one positive number")
    transfers: xfer.Settings | None = None
    if args.only in (None, "transfers"):
        try:
            size = parse_size(args.xfer_size)
            protocols = xfer.parse_protocols(
                args.xfer_protocols or ("Z" if args.quick else ",".join(xfer.PROTOCOLS))
            )
        except ValueError as exc:
            parser.error(str(exc))
        transfers = xfer.Settings(
            size=size,
            protocols=protocols,
            repeat=max(1, args.xfer_repeat or (1 if args.quick else 3)),
            typists=max(0, args.typists),
            load_seconds=args.load_seconds or (5.0 if args.quick else 15.0),
            timeout=args.timeout,
            limit=args.xfer_limit,
            probe=not args.no_probe,
        )
    big: scale.Settings | None = None
    if args.only in (None, "scale"):
        chosen = tuple(x.strip() for x in args.scale_servers.split(",") if x.strip())
        if not chosen or set(chosen) - {"echo", "board"}:
            parser.error("--scale-servers takes echo, board or both")
        n = args.scale_n or (200 if args.quick else 10_000)
        big = scale.Settings(
            n=n,
            active=min(n, args.scale_active if args.scale_active is not None else n // 10),
            seconds=args.scale_seconds or (5.0 if args.quick else 60.0),
            rate=args.scale_rate,
            inflight=args.scale_inflight,
            procs=max(1, args.scale_procs),
            timeout=max(args.timeout, 30.0),
            servers=chosen,
            probe=not args.no_probe,
            seed=args.seed,
            word=args.word,
            go=args.go,
        )
    nodes: cluster.Settings | None = None
    if args.only in (None, "cluster"):
        nodes = cluster.Settings(
            callers=args.cluster_callers or (50 if args.quick else 1000),
            inflight=args.scale_inflight,
            pairs=min(26, args.cluster_pairs or (2 if args.quick else 10)),
            timeout=max(args.timeout, 30.0),
            probe=not args.no_probe,
        )
    servers: tuple[str, ...] = ("echo", "board")
    if args.only:
        servers = () if args.only in ("transfers", "scale", "cluster") else (args.only,)
    return Options(
        sizes=sizes,
        servers=servers,
        rounds=args.rounds if args.rounds is not None else (3 if args.quick else 5),
        think=args.think if args.think is not None else (0.3 if args.quick else 10.0),
        connect_concurrency=args.connect_concurrency,
        timeout=args.timeout,
        word=args.word,
        go=args.go,
        seed=args.seed,
        json_path=args.json,
        settle=args.settle,
        strict=args.strict,
        probe=not args.no_probe or args.profile,
        profile=args.profile,
        transfers=transfers,
        scale=big,
        cluster=nodes,
    )


def parse_size(text: str) -> int:
    """``10M`` -> 10 MiB, ``64K`` -> 64 KiB, ``1000`` -> 1000 bytes; ValueError otherwise."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    word = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = units.get(word[-1:], 1)
    number = word[:-1] if word[-1:] in units else word
    try:
        size = int(float(number) * scale)
    except ValueError:
        raise ValueError(f"--xfer-size must be a size such as 10M or 65536, got {text!r}") from None
    if size < 1:
        raise ValueError("--xfer-size must be at least 1 byte")
    return size


# ---------------------------------------------------------------------- servers


@dataclass
class Server:
    """A running server process."""

    name: str
    proc: asyncio.subprocess.Process
    port: int
    log: Path
    probe: bool = False
    _dumps: int = 0

    async def probe_dump(self, reset: bool = False) -> dict[str, Any] | None:
        """The in-server probe's figures since its last reset (None without a probe)."""
        if not self.probe or self.proc.returncode is not None:
            return None
        self._dumps += 1
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 10.0
        found: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            lines = [
                ln
                for ln in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                if ln.startswith("BENCHPROBE ")
            ]
            if len(lines) >= self._dumps:
                found = json.loads(lines[self._dumps - 1].removeprefix("BENCHPROBE "))
                break
            await asyncio.sleep(0.05)
        if reset:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGUSR1)
        return found


PROFILES = RESULTS / "profile"


def profile_env(name: str, n: int, on: bool) -> dict[str, str]:
    """The environment that makes bench.probe profile a server (see bench/flame.py)."""
    return {"BENCH_PROFILE": str(PROFILES), "BENCH_PROFILE_NAME": f"{name}-{n}"} if on else {}


def keep_profile(dump: dict[str, Any] | None, phase: str) -> str | None:
    """Rename a profile dump's files after the phase they cover; the new stem."""
    stem = ((dump or {}).get("profile") or {}).get("stem")
    if not stem:
        return None
    old = Path(stem)
    new = old.with_name(old.name.rsplit("-", 1)[0] + f"-{phase}")
    for suffix in (".pstats", ".top.txt", ".folded", ".svg"):
        with contextlib.suppress(OSError):
            Path(str(old) + suffix).replace(str(new) + suffix)
    return str(new.relative_to(procs.REPO)) if new.is_relative_to(procs.REPO) else str(new)


async def start_echo(logdir: Path, n: int, probe: bool, profile: bool = False) -> Server:
    port = procs.free_port(HOST)
    log = logdir / f"echo-{n}.log"
    log.unlink(missing_ok=True)
    args = ["--host", HOST, "--port", str(port)]
    if probe:
        argv = [sys.executable, "-m", "bench.probe", "echo", *args]
    else:
        argv = [sys.executable, "-m", "bench.echo_server", *args]
    proc = await procs.spawn(argv, log=log, env=profile_env("echo", n, profile))
    server = Server("echo", proc, port, log, probe)
    await _ready(server)
    return server


async def prepare_board(workdir: Path) -> str:
    """A fresh database with the directory loaded; its URL. HarnessError when that fails."""
    db = f"sqlite:///{workdir / 'bench.db'}"
    bbs = str(procs.BIN / "bbs")
    if not Path(bbs).exists():
        raise HarnessError(f"{bbs} not found: run 'make setup' first")
    try:
        await procs.run_tool([bbs, "db", "upgrade", "--db", db], 180)
        await procs.run_tool([bbs, "load", "data", "--db", db], 180)
    except RuntimeError as exc:
        raise HarnessError(f"board setup failed: {exc}") from None
    return db


async def start_board(logdir: Path, n: int, db: str, probe: bool, profile: bool = False) -> Server:
    port = procs.free_port(HOST)
    log = logdir / f"board-{n}.log"
    log.unlink(missing_ok=True)
    args = ["serve", "--host", HOST, "--port", str(port), "--db", db]
    if probe:  # bbs.cli.main(args), as the console script does, with the probes around it
        argv = [sys.executable, "-m", "bench.probe", "board", *args]
    else:
        argv = [str(procs.BIN / "bbs"), *args]
    # Every caller comes from 127.0.0.1: caps per node and per address are lifted above N.
    env = {**BOARD_ENV, **scale.limit_env(n), **profile_env("board", n, profile)}
    proc = await procs.spawn(argv, log=log, env=env)
    server = Server("board", proc, port, log, probe)
    await _ready(server)
    return server


async def _ready(server: Server) -> None:
    try:
        await procs.wait_listening(server.proc, server.log, HOST, server.port, 60.0)
    except RuntimeError as exc:
        await procs.stop(server.proc)
        raise HarnessError(
            f"{server.name} server did not start: {exc}\n    "
            + "\n    ".join(procs.tail(server.log, 8).splitlines())
        ) from None


_COMPLAINT = re.compile(r"\b(ERROR|CRITICAL|Traceback|WARNING)\b")
_BENIGN = ("listening on", "stopping: telling", "event=cluster_joined", "event=cluster_left")


def scan_log(path: Path) -> dict[str, Any]:
    """Error and warning lines the server logged (start and stop notices left out)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {"errors": 0, "examples": []}
    bad = [ln for ln in lines if _COMPLAINT.search(ln) and not any(b in ln for b in _BENIGN)]
    examples: list[str] = []
    seen: set[str] = set()
    for line in bad:
        key = re.sub(r"\d+", "#", line.split(" ", 2)[-1])[:80]
        if key not in seen:
            seen.add(key)
            examples.append(line[:200])
        if len(examples) >= 4:
            break
    return {"errors": len(bad), "examples": examples}


# ---------------------------------------------------------------------- callers


class Callers:
    """The callers' process and its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    @classmethod
    async def start(cls, spec: Spec, log: Path) -> Callers:
        log.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "bench.callers", json.dumps(spec)]
        return cls(await procs.spawn(argv, log=log, pipes=True), log)

    async def expect(self, phase: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            except TimeoutError:
                raise HarnessError(
                    f"callers did not finish '{phase}' within {timeout:.0f} s"
                ) from None
            if not line:
                await self.proc.wait()
                raise HarnessError(
                    f"callers process exited ({self.proc.returncode}) before '{phase}':\n    "
                    + "\n    ".join(procs.tail(self.log, 8).splitlines())
                )
            with contextlib.suppress(ValueError):
                message: dict[str, Any] = json.loads(line)
                if message.get("phase") == phase:
                    return message

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")

    async def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 2.0)
        await procs.stop(self.proc)


def build_spec(opts: Options, server: Server, n: int, markers: Markers) -> Spec:
    return {
        "target": server.name,
        "host": HOST,
        "port": server.port,
        "n": n,
        "rounds": opts.rounds,
        "think": opts.think,
        "connect_concurrency": opts.connect_concurrency,
        "timeout": opts.timeout,
        "quiet": 0.3,
        "seed": opts.seed,
        "word": opts.word,
        "go": opts.go,
        "markers": markers,
    }


async def measure(opts: Options, server: Server, n: int, markers: Markers) -> dict[str, Any]:
    """One (server, N) case with the server already listening."""
    pid = server.proc.pid
    case: dict[str, Any] = {"server": server.name, "n": n, "server_pid": pid}
    callers = await Callers.start(
        build_spec(opts, server, n, markers), server.log.with_suffix(".callers.log")
    )
    try:
        case["warm"] = warm = await callers.expect("warm", opts.timeout * 4 + 30)
        if not warm["ok"]:
            raise HarnessError(f"the warm-up caller failed: {warm['failure']}")
        await asyncio.sleep(opts.settle / 2)
        before = procs.rss_kib(pid)
        case["probe_before"] = await server.probe_dump(reset=True)
        arrival_cpu = procs.cpu_seconds(pid)
        callers.send("connect")
        # Arrival: at least 50 callers/s, plus the welcome pause and a margin.
        connected = await callers.expect("connected", n / 50 + opts.timeout * 3 + 30)
        case["connected"] = connected
        arrived = connected.get("idle") or 0
        case["cpu_ms_per_arrival"] = (
            (procs.cpu_seconds(pid) - arrival_cpu) * 1000 / arrived if arrived else None
        )
        idle_cpu, idle_from = procs.cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(max(opts.settle, 2.0))
        idle_rate = (procs.cpu_seconds(pid) - idle_cpu) / (time.monotonic() - idle_from)
        case["server_idle_cpu_share"] = idle_rate
        after = procs.rss_kib(pid)
        idle = connected["idle"]
        case["rss_before_kib"] = before
        case["rss_after_kib"] = after
        case["rss_per_caller_kib"] = (after - before) / idle if idle else None
        case["probe_arrival"] = arrival = await server.probe_dump(reset=True)
        if opts.profile:
            case["profile_arrival"] = keep_profile(arrival, "arrival")
        first = case["probe_before"]
        if arrival and first and idle:
            case["gc_objects_per_caller"] = (arrival["gc_tracked"] - first["gc_tracked"]) / idle
        cpu = procs.cpu_seconds(pid)
        cpu_callers = procs.cpu_seconds(callers.proc.pid)
        busy = procs.system_busy_seconds()
        started = time.monotonic()
        callers.send("go")
        budget = opts.think * (opts.rounds + 1) * 1.6 + opts.timeout * (opts.rounds + 3) + 60
        done = await callers.expect("done", budget)
        case["done"] = done
        searches = done["latency"]["count"]
        cpu_used = procs.cpu_seconds(pid) - cpu
        case["server_cpu_s"] = cpu_used
        # What else ran on the machine meanwhile (other people's tests skew the figures).
        others = (
            procs.system_busy_seconds()
            - busy
            - cpu_used
            - (procs.cpu_seconds(callers.proc.pid) - cpu_callers)
        )
        case["other_cpu_share"] = max(0.0, others) / max(1e-9, time.monotonic() - started)
        case["probe_rounds"] = rounds = await server.probe_dump()
        if opts.profile:
            case["profile_search"] = keep_profile(rounds, "search")
        # Net of what the server burns with everybody idle (timers, the probe's ticks).
        net = max(0.0, cpu_used - idle_rate * done["elapsed_s"])
        case["cpu_ms_per_search"] = net * 1000 / searches if searches else None
        case["rss_end_kib"] = procs.rss_kib(pid)
    finally:
        await callers.close()
        if server.proc.returncode is not None:
            case["server_exit"] = server.proc.returncode
    return case


# ---------------------------------------------------------------------- run


async def run(
    opts: Options,
    cases: list[dict[str, Any]],
    notes: list[str],
    transfers: dict[str, Any],
    big: dict[str, Any] | None = None,
    two: dict[str, Any] | None = None,
) -> None:
    """Every case in turn, then the transfers; results appended to `cases` (filled into
    `transfers`) as they come.

    Each board case gets its own fresh database and re-reads the markers, so a case runs
    the board as it is in the checkout at that moment (others may be landing work).
    """
    logdir = opts.json_path.parent / "logs"
    marker_notes: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="lotus-bench-") as tmp:
        for n in opts.sizes:
            for name in opts.servers:
                print(f"measuring {name} with {n} callers ...", file=sys.stderr, flush=True)
                markers: Markers = NO_MARKERS
                server: Server | None = None
                try:
                    if name == "echo":
                        server = await start_echo(logdir, n, opts.probe, opts.profile)
                    else:
                        markers, found = board_markers(procs.REPO)
                        marker_notes.update(f"board N={n}: {note}" for note in found)
                        workdir = Path(tmp) / f"board-{n}"
                        workdir.mkdir()
                        db = await prepare_board(workdir)
                        server = await start_board(logdir, n, db, opts.probe, opts.profile)
                    case = await measure(opts, server, n, markers)
                except HarnessError as exc:
                    case = {"server": name, "n": n, "error": str(exc)}
                finally:
                    if server is not None:
                        await procs.stop(server.proc)
                if server is not None:
                    case["server_log"] = scan_log(server.log)
                cases.append(case)
                _progress(case)
    notes.extend(sorted(marker_notes))
    if opts.transfers is not None:
        await xfer.run(opts.transfers, logdir, transfers)
    if opts.scale is not None and big is not None:
        await scale.run(opts.scale, logdir, big)
    if opts.cluster is not None and two is not None:
        await cluster.run(opts.cluster, logdir, two)


def _progress(case: dict[str, Any]) -> None:
    if case.get("error"):
        first = str(case["error"]).splitlines()[0]
        print(f"  {case['server']} N={case['n']}: not run: {first}", file=sys.stderr, flush=True)
        return
    lat = (case.get("done") or {}).get("latency") or {}
    print(
        f"  {case['server']} N={case['n']}: p50 {lat.get('p50_ms', 0):.2f} ms, "
        f"p99 {lat.get('p99_ms', 0):.2f} ms, max {lat.get('max_ms', 0):.1f} ms, "
        f"{case.get('rss_per_caller_kib') or 0:.1f} KiB/caller",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, write the JSON; 130 on Ctrl-C."""
    opts = parse_args(argv)
    raise_nofile()
    cases: list[dict[str, Any]] = []
    notes: list[str] = []
    transfers: dict[str, Any] = {}
    big: dict[str, Any] = {}
    two: dict[str, Any] = {}
    interrupted = False

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT (background job).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        asyncio.run(run(opts, cases, notes, transfers, big, two))
    except KeyboardInterrupt:
        interrupted = True
        notes.append("interrupted: results are partial")
        if transfers:
            transfers["interrupted"] = True
    finally:
        procs.kill_all()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    ran_transfers = transfers if opts.transfers is not None and transfers else None
    ran_scale = big if opts.scale is not None and big else None
    ran_cluster = two if opts.cluster is not None and two else None
    for part in (ran_scale, ran_cluster):
        if part is not None and interrupted:
            part["interrupted"] = True
    report.write_json(
        opts.json_path,
        cases,
        opts.sizes,
        opts.servers,
        opts.as_dict(),
        notes,
        interrupted,
        transfers=ran_transfers,
        scale=ran_scale,
        cluster=ran_cluster,
    )
    if opts.servers:
        print(report.render(cases, opts.sizes, opts.servers, opts.as_dict(), notes))
    if ran_transfers is not None:
        print(("\n" if opts.servers else "") + report.render_transfers(ran_transfers))
    if ran_scale is not None:
        print(("\n" if opts.servers or ran_transfers else "") + report.render_scale(ran_scale))
    if ran_cluster is not None:
        before = opts.servers or ran_transfers or ran_scale
        print(("\n" if before else "") + report.render_cluster(ran_cluster))
    floor = report.floor_verdicts(cases, ran_transfers, ran_scale, ran_cluster)
    print("\n" + report.render_floor(floor))
    print(f"\nresults written to {opts.json_path}", flush=True)
    if interrupted:
        return 130
    if any(c.get("error") for c in cases) or (ran_transfers or {}).get("error"):
        return 1
    if any(r.get("error") for r in (ran_scale or {}).get("rows") or []):
        return 1
    if ran_cluster is not None and (
        ran_cluster.get("error") or any(r.get("error") for r in ran_cluster.get("rows") or [])
    ):
        return 1
    judged = report.verdicts(cases, opts.sizes, opts.servers) if opts.servers else []
    if ran_transfers is not None:
        judged += report.transfer_verdicts(ran_transfers)
    if ran_scale is not None:
        judged += report.scale_verdicts(ran_scale)
    judged += floor
    missed = any(v.verdict == "MISS" for v in judged)
    return 1 if opts.strict and missed else 0
