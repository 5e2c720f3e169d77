"""The two-node table: nodes behind HAProxy on one PostgreSQL, against one node.

For each topology (one node behind HAProxy, then two) on one throwaway PostgreSQL
(tests/pg.py) with the board's schema and data:

- **logins**: bench.swarm drivers bring `callers` guests through HAProxy to the main menu
  (welcome, Enter, ``INVITE`` at the sign-in prompt), at most `inflight` on their way at
  once; callers per second and the time each took, then everybody hangs up;
- **pages**: `pairs` registered callers (Argon2 sign-in, untimed) connect straight to node 1
  and as many to the last node (their own PROXY v2 header, as HAProxy would send), each
  sender looks its partner's node number up with ``WHO``, then sends ``PAGE n text``
  `pages` times; each page is timed from the Enter that sends it to the moment its text
  reaches the partner's screen. One node: both on the same node; two: across nodes, through
  PostgreSQL's LISTEN/NOTIFY.

HAProxy's configuration is deploy/haproxy.cfg rewritten for loopback by the multi-node
test's own generator (tests/multinode/test_haproxy.py `local_config`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from bench import procs
from bench.client import Disconnected, TelnetClient, WaitTimeout, connect
from bench.markers import board_markers
from bench.scale import Driver, limit_env, summary

HOST = "127.0.0.1"
PASSWORD = "Bench-lotus-2026!"


@dataclass(frozen=True, slots=True)
class Settings:
    """The two-node part of the command line."""

    callers: int = 1000
    """Guests brought to the menu through HAProxy, per topology."""
    inflight: int = 64
    procs: int = 2
    pairs: int = 10
    pages: int = 3
    """Pages per sender (the board lets a caller send 3 a minute)."""
    timeout: float = 30.0
    probe: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class ClusterError(Exception):
    """A step failed; the message says which and why."""


def names(pairs: int) -> tuple[list[str], list[str]]:
    """(senders, receivers): account names the board accepts, distinct once folded."""
    letters = [chr(ord("A") + i) for i in range(26)]
    if pairs > len(letters):
        raise ClusterError(f"at most {len(letters)} pairs")
    return [f"Envoi {c}{c}" for c in letters[:pairs]], [f"Recoit {c}{c}" for c in letters[:pairs]]


def proxy_v2(source: tuple[str, int], dest: tuple[str, int]) -> bytes:
    """A PROXY v2 header (TCP over IPv4), as HAProxy's ``send-proxy-v2`` opens a connection."""
    import ipaddress

    body = (
        ipaddress.IPv4Address(source[0]).packed
        + ipaddress.IPv4Address(dest[0]).packed
        + struct.pack("!HH", source[1], dest[1])
    )
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


# ---------------------------------------------------------------------- set-up


async def add_user(db: str, name: str) -> None:
    argv = [str(procs.BIN / "bbs"), "user", "add", name, "--role", "caller"]
    argv += ["--password-stdin", "--db", db]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=procs.REPO,
        env=procs.child_env(),
    )
    out, _ = await asyncio.wait_for(proc.communicate(PASSWORD.encode() + b"\n"), 60)
    if proc.returncode != 0:
        raise ClusterError(f"bbs user add {name!r} failed: {out.decode(errors='replace')[-300:]}")


def haproxy_config(listen: int, nodes: dict[str, int], stats: Path) -> str:
    """deploy/haproxy.cfg for loopback (the multi-node test's generator); the backend's
    servers left out that `nodes` does not name."""
    from tests.multinode.test_haproxy import DEPLOY_CFG, local_config

    text = DEPLOY_CFG.read_text(encoding="utf-8")
    both = {name: nodes.get(name, 1) for name in ("node1", "node2")}
    text = local_config(text, listen, both, stats)
    for name in set(both) - set(nodes):
        text = re.sub(rf"^\s*server {name} .*\n", "", text, flags=re.M)
    return text


@dataclass
class Node:
    """A running ``bbs serve`` of the topology."""

    name: str
    server: Any
    """A harness.Server."""


async def start_node(name: str, db: str, logdir: Path, tmp: Path, s: Settings, n: int) -> Node:
    from bench import harness

    port = procs.free_port(HOST)
    log = logdir / f"cluster-{n}nodes-{name}.log"
    log.unlink(missing_ok=True)
    args = ["serve", "--host", HOST, "--port", str(port), "--db", db]
    if s.probe:
        argv = [sys.executable, "-m", "bench.probe", "board", *args]
    else:
        argv = [str(procs.BIN / "bbs"), *args]
    env = {
        **harness.BOARD_ENV,
        **limit_env(s.callers),
        "BBS_PROXY_PROTOCOL": "true",
        "BBS_TRUSTED_PROXIES": "127.0.0.1/32",
        "BBS_UPLOAD_DIR": str(tmp / "uploads"),
    }
    proc = await procs.spawn(argv, log=log, env=env)
    server = harness.Server("board", proc, port, log, s.probe)
    try:
        await procs.wait_listening(proc, log, HOST, port, 60.0)
    except RuntimeError as exc:
        await procs.stop(proc)
        tail = "\n    ".join(procs.tail(log, 8).splitlines())
        raise ClusterError(f"node {name} did not start: {exc}\n    {tail}") from None
    return Node(name, server)


@contextlib.asynccontextmanager
async def haproxy(nodes: list[Node], work: Path, logdir: Path, count: int) -> Any:
    """HAProxy in front of `nodes`, its servers up; yields its port."""
    program = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if program is None:
        raise ClusterError("haproxy is not installed (make setup installs the Debian package)")
    port = procs.free_port(HOST)
    cfg = work / f"haproxy-{count}.cfg"
    stats = work / f"haproxy-{count}.sock"
    cfg.write_text(haproxy_config(port, {n.name: n.server.port for n in nodes}, stats))
    log = logdir / f"cluster-{count}nodes-haproxy.log"
    proc = await procs.spawn([program, "-f", str(cfg), "-db"], log=log)
    try:
        await wait_up(proc, stats, [n.name for n in nodes], log)
        yield port
    finally:
        await procs.stop(proc)


async def wait_up(proc: Any, stats: Path, servers: list[str], log: Path) -> None:
    """Until HAProxy's health checks pass for every server."""
    deadline = time.monotonic() + 20
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            break
        with contextlib.suppress(OSError, TimeoutError):
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(stats)), 2)
            writer.write(b"show stat\n")
            rows = (await asyncio.wait_for(reader.read(), 2)).decode(errors="replace").splitlines()
            writer.close()
            header = rows[0].lstrip("# ").split(",")
            for row in rows[1:]:
                cells = dict(zip(header, row.split(","), strict=False))
                if cells.get("svname") in servers:
                    status[cells["svname"]] = cells["status"]
            if all(status.get(s) == "UP" for s in servers):
                return
        await asyncio.sleep(0.2)
    raise ClusterError(f"HAProxy's servers are not up ({status}):\n{procs.tail(log, 8)}")


# ---------------------------------------------------------------------- logins


async def logins(s: Settings, port: int, logdir: Path, count: int) -> dict[str, Any]:
    """Guests through HAProxy to the menu as fast as the nodes take them; then hang up."""
    markers, _ = board_markers(procs.REPO)
    drivers: list[Driver] = []
    k = max(1, min(s.procs, s.callers))
    try:
        first = 0
        for i in range(k):
            share = s.callers // k + (1 if i < s.callers % k else 0)
            spec = {
                "target": "board",
                "host": HOST,
                "port": port,
                "n": share,
                "first": first,
                "active": 0,
                "rate": 1e6,
                "inflight": max(1, s.inflight // k),
                "timeout": s.timeout,
                "gap_min": 0.0,
                "gap_max": 0.0,
                "seed": 1,
                "word": "belgique",
                "go": "GO ANNUAIRE",
                "markers": markers,
                "warm": i == 0,
            }
            first += share
            log = logdir / f"cluster-{count}nodes.driver{i}.log"
            drivers.append(await Driver.start(spec, log))
        ready = await asyncio.gather(*(d.expect("ready", s.timeout * 3 + 30) for d in drivers))
        if not ready[0]["warm"]["ok"]:
            raise ClusterError(f"the warm-up caller failed: {ready[0]['warm']['failure']}")
        for d in drivers:
            d.send("connect")
        budget = s.callers / 20 + s.timeout * 4 + 60
        got = await asyncio.gather(*(d.expect("connected", budget) for d in drivers))
    finally:
        await asyncio.gather(*(d.close() for d in drivers), return_exceptions=True)
    idle = sum(g["idle"] for g in got)
    span = max(g["last_arrival"] for g in got) - min(g["first_connect"] for g in got)
    failed = sum(g["failures"]["count"] for g in got)
    return {
        "callers": s.callers,
        "ok": idle,
        "failed": failed,
        "reasons": [r for g in got for r in g["failures"]["reasons"]][:5],
        "per_second": idle / span if span > 0 and idle else 0.0,
        "span_s": span,
        "login": summary([x for g in got for x in g["arrival_s"]]),
    }


# ---------------------------------------------------------------------- pages


class Caller:
    """One registered caller straight on a node, for the page timings."""

    def __init__(self, client: TelnetClient, name: str, timeout: float) -> None:
        self.client = client
        self.name = name
        self.timeout = timeout

    @classmethod
    async def sign_in(cls, port: int, name: str, timeout: float, local: int) -> Caller:
        client = await connect(HOST, port, timeout)
        assert client.transport is not None
        client.transport.write(proxy_v2((HOST, local), (HOST, port)))
        caller = cls(client, name, timeout)
        await caller.expect(b"pour continuer")
        client.send(b"\r\n")
        await caller.expect(b"Votre nom :")
        client.send(name.encode() + b"\r\n")
        await caller.expect(b"Mot de passe :")
        client.send(PASSWORD.encode() + b"\r\n")
        await caller.menu()
        return caller

    async def expect(self, marker: bytes) -> bytes:
        return (await self.client.wait_for([marker], self.timeout)).screen

    async def menu(self) -> bytes:
        """Until the main menu's prompt, paging on past "Suite" prompts."""
        seen = b""
        for _ in range(30):
            match = await self.client.wait_for([b"Votre choix", b"B pour revenir"], self.timeout)
            seen += match.screen
            if match.index == 0:
                return seen
            self.client.send(b" ")
        raise WaitTimeout("still paging after 30 pages")

    async def node_of(self, other: str, timeout: float = 15.0) -> int:
        """`other`'s node number, from WHO (again until it is listed: it may be on another
        node, whose registration reaches this one through the database)."""
        deadline = time.monotonic() + timeout
        while True:
            self.client.discard()
            self.client.send(b"WHO\r\n")
            listing = (await self.menu()).decode("latin-1")
            for row in listing.splitlines():
                if other in row and row.split() and row.split()[0].isdigit():
                    return int(row.split()[0])
            if time.monotonic() > deadline:
                raise ClusterError(f"{other} never appeared in WHO:\n{listing[-600:]}")
            await asyncio.sleep(0.3)


async def pages(s: Settings, nodes: list[Node]) -> dict[str, Any]:
    """Senders on the first node page receivers on the last one; each page timed."""
    senders_names, receivers_names = names(s.pairs)
    first, last = nodes[0].server.port, nodes[-1].server.port
    callers: list[Caller] = []
    samples: list[float] = []
    failures: list[str] = []
    try:
        for i, name in enumerate(receivers_names):
            callers.append(await Caller.sign_in(last, name, s.timeout, 40000 + i))
        receivers = list(callers)
        senders = []
        for i, name in enumerate(senders_names):
            senders.append(await Caller.sign_in(first, name, s.timeout, 41000 + i))
            callers.append(senders[-1])
        targets = [await a.node_of(b.name) for a, b in zip(senders, receivers, strict=True)]
        await asyncio.sleep(0.5)
        for round_ in range(s.pages):
            for i, (a, b, node) in enumerate(zip(senders, receivers, targets, strict=True)):
                text = f"bench page {i}x{round_} ok"
                b.client.discard()
                a.client.discard()
                sent = a.client.send(f"PAGE {node} {text}\r\n".encode())
                try:
                    match = await b.client.wait_for([text.encode()], s.timeout)
                    samples.append(match.at - sent)
                    await a.menu()
                except WaitTimeout as exc:
                    failures.append(f"{a.name} -> node {node}: {exc}"[:300])
    except (WaitTimeout, Disconnected, OSError) as exc:
        failures.append(f"{type(exc).__name__}: {exc}"[:300])
    finally:
        for caller in callers:
            caller.client.close()
    return {
        "pairs": s.pairs,
        "sent": s.pairs * s.pages,
        "page": summary(samples),
        "failures": failures,
    }


# ---------------------------------------------------------------------- run


async def topology(s: Settings, count: int, db: str, logdir: Path, tmp: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"nodes": count}
    nodes: list[Node] = []
    try:
        for i in range(count):
            nodes.append(await start_node(f"node{i + 1}", db, logdir, tmp, s, count))
        async with haproxy(nodes, tmp, logdir, count) as port:
            cpu = [procs.cpu_seconds(n.server.proc.pid) for n in nodes]
            t0 = time.monotonic()
            row["logins"] = await logins(s, port, logdir, count)
            wall = time.monotonic() - t0
            row["nodes_cpu_share"] = [
                (procs.cpu_seconds(n.server.proc.pid) - c) / wall
                for n, c in zip(nodes, cpu, strict=True)
            ]
            await asyncio.sleep(2.0)  # the swarm's hang-ups leave the registry
            row["pages"] = await pages(s, nodes)
    finally:
        from bench.harness import scan_log

        for node in nodes:
            if node.server.proc.returncode is not None:
                row.setdefault("exits", []).append(f"{node.name}: {node.server.proc.returncode}")
            await procs.stop(node.server.proc)
        row["server_logs"] = {n.name: scan_log(n.server.log) for n in nodes}
    return row


async def run(s: Settings, logdir: Path, out: dict[str, Any]) -> None:
    """One node, then two, into `out` ("rows", "notes", "settings")."""
    out["settings"] = s.as_dict()
    out["rows"] = rows = []
    out["notes"] = []
    try:
        from tests.pg import PgUnavailable, start_server
    except ImportError as exc:
        out["error"] = f"tests/pg.py cannot be imported: {exc}"
        return
    print("cluster: starting a throwaway PostgreSQL ...", file=sys.stderr, flush=True)
    try:
        pg = await asyncio.to_thread(start_server)
    except PgUnavailable as exc:
        out["error"] = f"no PostgreSQL: {exc}"
        return
    try:
        with tempfile.TemporaryDirectory(prefix="lotus-cluster-") as work:
            tmp = Path(work)
            (tmp / "uploads").mkdir()
            for count in (1, 2):
                db = await asyncio.to_thread(pg.create_database)
                bbs = str(procs.BIN / "bbs")
                await procs.run_tool([bbs, "db", "upgrade", "--db", db], 180)
                await procs.run_tool([bbs, "load", "data", "--db", db], 180)
                for name in [n for group in names(s.pairs) for n in group]:
                    await add_user(db, name)
                print(
                    f"cluster: {count} node(s) behind HAProxy, {s.callers} logins, "
                    f"{s.pairs * s.pages} pages ...",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    row = await topology(s, count, db, logdir, tmp)
                except (ClusterError, RuntimeError) as exc:
                    row = {"nodes": count, "error": str(exc)}
                except Exception as exc:  # keep going to print what there is
                    row = {"nodes": count, "error": f"{type(exc).__name__}: {exc}"}
                rows.append(row)
                _progress(row)
    except (ClusterError, RuntimeError) as exc:
        out["error"] = str(exc)
    finally:
        await asyncio.to_thread(pg.stop)


def _progress(row: dict[str, Any]) -> None:
    if row.get("error"):
        first = str(row["error"]).splitlines()[0]
        print(f"  {row['nodes']} node(s): not run: {first}", file=sys.stderr, flush=True)
        return
    lg, pg = row["logins"], row["pages"]["page"]
    print(
        f"  {row['nodes']} node(s): {lg['per_second']:.0f} logins/s, p99 "
        f"{lg['login']['p99_ms']:.0f} ms; page p50 {pg['p50_ms']:.1f} ms",
        file=sys.stderr,
        flush=True,
    )
