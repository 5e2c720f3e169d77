"""The 10 000-caller table: one node with N callers idle at menus, A of them typing.

For each server (the bare telnetlib3 key-echo server, then the board) a fresh server runs
under the probe (bench/probe.py), and `procs` driver processes (bench/swarm.py) share the
callers. The harness reads the server's VmRSS before the callers arrive and once all are
idle at a menu, its loop lag from the probe during the arrival and during the typing, and
merges the drivers' samples. See bench/README.md, "10 000 callers".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bench import procs
from bench.callers import percentile
from bench.markers import NO_MARKERS, board_markers

HOST = "127.0.0.1"
FD_MARGIN = 200
"""File descriptors a server needs beside its callers' sockets (logs, database, pipes)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The 10 000-caller part of the command line."""

    n: int = 10_000
    active: int = 1_000
    seconds: float = 60.0
    """How long the active callers type, after everybody arrived."""
    rate: float = 500.0
    """Callers arriving per second, all drivers together."""
    inflight: int = 64
    """Callers on their way to a menu at once, all drivers together: few enough that
    the arrival does not queue up in the server (conn/s is then what it can take)."""
    procs: int = 4
    gap_min: float = 1.0
    gap_max: float = 2.0
    timeout: float = 30.0
    servers: tuple[str, ...] = ("echo", "board")
    probe: bool = True
    seed: int = 1
    word: str = "belgique"
    go: str = "GO ANNUAIRE"

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class ScaleError(Exception):
    """A step of the run failed; the message says which and why."""


def limit_env(n: int) -> dict[str, str]:
    """``BBS_*`` settings that would cap sessions per node or per address below `n`, raised.

    Found by name among the board's settings, so a cap added later is lifted as well: the
    run measures the board carrying `n` callers from one address, not its refusals.
    """
    from bbs.config import Config

    out: dict[str, str] = {}
    for f in fields(Config):
        name = f.name
        capped = name.startswith("max_") or name.endswith("_max") or "limit" in name
        about = any(w in name for w in ("session", "conn", "caller", "per_addr", "per_ip"))
        if capped and about and isinstance(f.default, int) and not isinstance(f.default, bool):
            out[f"BBS_{name.upper()}"] = str(n + 1000)
    return out


def nofile_note(n: int, drivers: int) -> str | None:
    """What is wrong with RLIMIT_NOFILE's hard limit for this run, if anything."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return None
    need_server = n + FD_MARGIN
    need_driver = -(-n // max(1, drivers)) + FD_MARGIN
    if hard < need_server:
        return (
            f"RLIMIT_NOFILE hard limit {hard} is too low: the server needs about {need_server} "
            f"descriptors for {n} callers (raise it: ulimit -Hn, or LimitNOFILE=)"
        )
    if hard < need_driver:
        return f"RLIMIT_NOFILE hard limit {hard} is too low for {drivers} drivers"
    return None


def summary(values: list[float]) -> dict[str, float]:
    """Count, p50, p99 and max in milliseconds."""
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50) * 1000,
        "p99_ms": percentile(values, 99) * 1000,
        "max_ms": max(values, default=0.0) * 1000,
    }


class Driver:
    """One bench.swarm process and its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log

    @classmethod
    async def start(cls, spec: dict[str, Any], log: Path) -> Driver:
        log.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "bench.swarm", json.dumps(spec)]
        return cls(await procs.spawn(argv, log=log, pipes=True, limit=1 << 26), log)

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
                raise ScaleError(
                    f"a driver did not finish '{phase}' within {timeout:.0f} s"
                ) from None
            if not line:
                await self.proc.wait()
                tail = "\n    ".join(procs.tail(self.log, 8).splitlines())
                raise ScaleError(
                    f"a driver exited ({self.proc.returncode}) before '{phase}':\n    {tail}"
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
            await asyncio.wait_for(self.proc.wait(), 3.0)
        await procs.stop(self.proc)


async def start_server(name: str, settings: Settings, logdir: Path, tmp: Path) -> Any:
    """The server for one row, listening, under the probe (a harness.Server)."""
    from bench import harness

    port = procs.free_port(HOST)
    log = logdir / f"scale-{name}.log"
    log.unlink(missing_ok=True)
    env: dict[str, str] = {}
    if name == "echo":
        args = ["--host", HOST, "--port", str(port), "--keys"]
        head = ["-m", "bench.probe", "echo"] if settings.probe else ["-m", "bench.echo_server"]
        argv = [sys.executable, *head, *args]
    else:
        workdir = tmp / "board"
        workdir.mkdir(exist_ok=True)
        db = await harness.prepare_board(workdir)
        args = ["serve", "--host", HOST, "--port", str(port), "--db", db]
        if settings.probe:
            argv = [sys.executable, "-m", "bench.probe", "board", *args]
        else:
            argv = [str(procs.BIN / "bbs"), *args]
        env = {**harness.BOARD_ENV, **limit_env(settings.n)}
    proc = await procs.spawn(argv, log=log, env=env)
    server = harness.Server(name, proc, port, log, settings.probe)
    await harness._ready(server)
    return server


def driver_specs(settings: Settings, name: str, port: int, markers: Any) -> list[dict[str, Any]]:
    """The callers split among the drivers (the first one warms the server up)."""
    count = max(1, min(settings.procs, settings.n))
    specs: list[dict[str, Any]] = []
    first = 0
    for i in range(count):
        share = settings.n // count + (1 if i < settings.n % count else 0)
        active = settings.active // count + (1 if i < settings.active % count else 0)
        specs.append(
            {
                "target": name,
                "host": HOST,
                "port": port,
                "n": share,
                "first": first,
                "active": min(active, share),
                "rate": settings.rate / count,
                "inflight": max(1, settings.inflight // count),
                "timeout": settings.timeout,
                "gap_min": settings.gap_min,
                "gap_max": settings.gap_max,
                "seed": settings.seed,
                "word": settings.word,
                "go": settings.go,
                "markers": markers,
                "warm": i == 0,
            }
        )
        first += share
    return specs


async def measure(settings: Settings, name: str, logdir: Path, tmp: Path) -> dict[str, Any]:
    """One row: a fresh server, the drivers, the arrival, the typing."""
    row: dict[str, Any] = {"server": name, "n": settings.n, "active": settings.active}
    markers: Any = NO_MARKERS
    if name == "board":
        markers, _ = board_markers(procs.REPO)
    server = await start_server(name, settings, logdir, tmp)
    pid = server.proc.pid
    row["server_pid"] = pid
    drivers: list[Driver] = []
    try:
        for i, spec in enumerate(driver_specs(settings, name, server.port, markers)):
            drivers.append(await Driver.start(spec, logdir / f"scale-{name}.driver{i}.log"))
        ready = await asyncio.gather(
            *(d.expect("ready", settings.timeout * 3 + 30) for d in drivers)
        )
        if not ready[0]["warm"]["ok"]:
            raise ScaleError(f"the warm-up caller failed: {ready[0]['warm']['failure']}")
        await asyncio.sleep(1.0)
        row["rss_before_kib"] = before = procs.rss_kib(pid)
        await server.probe_dump(reset=True)
        cpu0, t0 = procs.cpu_seconds(pid), time.monotonic()
        busy0, drv0 = procs.system_busy_seconds(), _cpu(drivers)
        for d in drivers:
            d.send("connect")
        budget = settings.n / max(1.0, settings.rate) * 3 + settings.timeout * 4 + 60
        arrived = await asyncio.gather(*(d.expect("connected", budget) for d in drivers))
        cpu_arrival = procs.cpu_seconds(pid) - cpu0
        row["arrival_cpu_share"] = cpu_arrival / (time.monotonic() - t0)
        row["arrival_other_cpu_share"] = _others(busy0, drv0, cpu_arrival, drivers, t0)
        row["probe_arrival"] = await server.probe_dump(reset=True)
        await asyncio.sleep(2.0)
        row["rss_idle_kib"] = after = procs.rss_kib(pid)
        idle = sum(a["idle"] for a in arrived)
        span = max(a["last_arrival"] for a in arrived) - min(a["first_connect"] for a in arrived)
        row["idle"] = idle
        row["connect"] = {
            "per_second": idle / span if span > 0 and idle else 0.0,
            "span_s": span,
            "arrival": summary([x for a in arrived for x in a["arrival_s"]]),
            "failures": _merge_failures([a["failures"] for a in arrived]),
            "client_lag_max_ms": max(a["client_lag"]["max_ms"] for a in arrived),
        }
        row["rss_per_caller_kib"] = (after - before) / idle if idle else None
        row["arrival_cpu_ms_per_caller"] = cpu_arrival * 1000 / idle if idle else None
        cpu1, t1 = procs.cpu_seconds(pid), time.monotonic()
        busy1, driver_cpu = procs.system_busy_seconds(), _cpu(drivers)
        await server.probe_dump(reset=True)
        for d in drivers:
            d.send("go")
        await asyncio.sleep(settings.seconds)
        for d in drivers:
            d.send("stop")
        row["probe_active"] = await server.probe_dump()
        elapsed = time.monotonic() - t1
        row["active_cpu_share"] = (procs.cpu_seconds(pid) - cpu1) / elapsed
        row["active_other_cpu_share"] = _others(
            busy1, driver_cpu, procs.cpu_seconds(pid) - cpu1, drivers, t1
        )
        done = await asyncio.gather(*(d.expect("done", settings.timeout * 2 + 30) for d in drivers))
        row["drivers_cpu_share"] = (_cpu(drivers) - driver_cpu) / elapsed
        row["rss_end_kib"] = procs.rss_kib(pid)
        keys = [x for r in done for x in r["keys"]]
        screens = [x for r in done for k, x in r["screens"]]
        row["typing"] = {
            "seconds": elapsed,
            "active": sum(r["active"] for r in done),
            "keys": summary(keys),
            "keys_per_second": len(keys) / elapsed if elapsed else 0.0,
            "screens": summary(screens),
            "by_screen": {
                kind: summary([x for r in done for k, x in r["screens"] if k == kind])
                for kind in ("go", "search", "back")
            },
            "idle_still_connected": sum(r["idle_still_connected"] for r in done),
            "idle_total": sum(r["idle_total"] for r in done),
            "failures": _merge_failures([r["failures"] for r in done]),
            "client_lag_max_ms": max(r["client_lag"]["max_ms"] for r in done),
        }
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
        if server.proc.returncode is not None:
            row["server_exit"] = server.proc.returncode
        await procs.stop(server.proc)
    from bench.harness import scan_log

    row["server_log"] = scan_log(server.log)
    return row


def _cpu(drivers: list[Driver]) -> float:
    return sum(procs.cpu_seconds(d.proc.pid) for d in drivers)


def _others(
    busy: float, drivers_cpu: float, server_cpu: float, drivers: list[Driver], t: float
) -> float:
    """CPU that processes other than the server and the drivers used since `t`, per second."""
    used = procs.system_busy_seconds() - busy - server_cpu - (_cpu(drivers) - drivers_cpu)
    return max(0.0, used) / max(1e-9, time.monotonic() - t)


def _merge_failures(parts: list[dict[str, Any]]) -> dict[str, Any]:
    phases: dict[str, int] = {}
    for part in parts:
        for phase, count in part["by_phase"].items():
            phases[phase] = phases.get(phase, 0) + count
    return {
        "count": sum(p["count"] for p in parts),
        "by_phase": phases,
        "reasons": [r for p in parts for r in p["reasons"]][:5],
    }


async def run(settings: Settings, logdir: Path, out: dict[str, Any]) -> None:
    """Every server's row into `out` ("rows", "notes", "settings")."""
    out["settings"] = settings.as_dict()
    out["rows"] = rows = []
    out["notes"] = notes = []
    note = nofile_note(settings.n, settings.procs)
    if note:
        notes.append(note)
    lifted = limit_env(settings.n)
    if lifted:
        notes.append(
            "board caps lifted for the run: " + ", ".join(f"{k}={v}" for k, v in lifted.items())
        )
    with tempfile.TemporaryDirectory(prefix="lotus-scale-") as tmp:
        for name in settings.servers:
            print(
                f"scale: {name} with {settings.n} callers, {settings.active} typing ...",
                file=sys.stderr,
                flush=True,
            )
            try:
                row = await measure(settings, name, logdir, Path(tmp))
            except ScaleError as exc:
                row = {"server": name, "n": settings.n, "error": str(exc)}
            except Exception as exc:  # the harness keeps going to print what it has
                row = {"server": name, "n": settings.n, "error": f"{type(exc).__name__}: {exc}"}
            rows.append(row)
            _progress(row)


def _progress(row: dict[str, Any]) -> None:
    if row.get("error"):
        first = str(row["error"]).splitlines()[0]
        print(f"  {row['server']}: not run: {first}", file=sys.stderr, flush=True)
        return
    keys = row["typing"]["keys"]
    print(
        f"  {row['server']}: {row['idle']}/{row['n']} idle, {row['connect']['per_second']:.0f} "
        f"conn/s, {row['rss_per_caller_kib'] or 0:.1f} KiB/caller, key p99 "
        f"{keys['p99_ms']:.1f} ms",
        file=sys.stderr,
        flush=True,
    )
