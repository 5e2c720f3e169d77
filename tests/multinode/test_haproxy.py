"""Two board nodes behind HAProxy on one PostgreSQL, on loopback: the docker-compose topology
with the Debian `haproxy` binary, run from `deploy/haproxy.cfg` with only the addresses changed.

Callers connect from distinct loopback addresses (127.0.0.11, .12, ...) so that the address
a node sees in the PROXY header can be told apart from HAProxy's own (127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import struct
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bbs.board import Board
from bbs.config import Config
from bbs.store.load import load_dir
from bbs.store.migrate import upgrade
from tests.e2e.harness import node_settings, running_board
from tests.e2e.story import Line, bbs
from tests.pg import free_port
from tests.telnet_client import Script, TelnetClient

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_CFG = ROOT / "deploy" / "haproxy.cfg"
PASSWORD = "Tr0ub4dor&3-lotus"
ALICE, BRUNO = "Alice Martin", "Bruno Petit"
CALLERS = ("127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14")

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(120)]


def haproxy_binary() -> str:
    """The haproxy program; the test fails (never skips) when it is missing."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        pytest.fail(
            "haproxy is not installed: `make setup` installs it (Debian package 'haproxy')",
            pytrace=False,
        )
    return found


def local_config(text: str, listen: int, nodes: dict[str, int], stats: Path) -> str:
    """deploy/haproxy.cfg for loopback: the frontend on `listen`, each node on its port,
    Docker's DNS left out, a stats socket added; every other line is the deployed one."""

    def swap(pattern: str, replacement: str, source: str) -> str:
        result, count = re.subn(pattern, replacement, source, flags=re.M)
        assert count, f"deploy/haproxy.cfg no longer has {pattern!r}: update this test"
        return result

    # The loopback topology is telnet's: the other front ends' sections (SSH, the Minitel
    # WebSocket, the web, FTP) go, their servers being names only Docker resolves.
    text = swap(r"^(?:frontend|backend) (?!telnet\b|nodes\b)\w+\n(?:[ \t]+\S.*\n)*", "", text)
    text = swap(r"^(\s*)bind :2323\s*$", rf"\1bind 127.0.0.1:{listen}", text)
    for name, port in nodes.items():
        text = swap(rf"^(\s*server {name}) {name}:2323\b", rf"\1 127.0.0.1:{port}", text)
    # No Docker DNS on loopback: the resolvers section and its use go.
    text = swap(r"^resolvers docker\n(?:[ \t]+.*\n)*", "", text)
    text = swap(r" resolvers docker init-addr \S+", "", text)
    text = swap(r"^global\n", f"global\n    stats socket {stats} mode 600 level admin\n", text)
    return text


class HAProxy:
    """A running `haproxy -db` with its output in a file."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path, stats: Path) -> None:
        self.process = process
        self.log = log
        self.stats = stats

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    async def command(self, line: str) -> str:
        """One command on the stats socket; its answer."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(self.stats)), 2)
        try:
            writer.write(line.encode() + b"\n")
            return (await asyncio.wait_for(reader.read(), 2)).decode(errors="replace")
        finally:
            writer.close()

    async def wait_status(self, wanted: dict[str, str], timeout: float = 15.0) -> None:
        """Wait until each named server of the backend has the wanted status (UP, DOWN)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        status: dict[str, str] = {}
        while loop.time() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError, TimeoutError):
                rows = (await self.command("show stat")).splitlines()
                header = rows[0].lstrip("# ").split(",")
                for row in rows[1:]:
                    fields = dict(zip(header, row.split(","), strict=False))
                    if fields.get("svname") in wanted:
                        status[fields["svname"]] = fields["status"]
                if status == wanted:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"HAProxy's servers are {status}, not {wanted}:\n{self.output()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@contextlib.contextmanager
def haproxy(cfg: Path, work: Path) -> Iterator[HAProxy]:
    """`haproxy -f cfg -db` after `haproxy -c` accepted the file; stopped when the block ends."""
    program = haproxy_binary()
    check = subprocess.run(
        [program, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=20
    )
    assert check.returncode == 0, f"haproxy -c refused {cfg}:\n{check.stdout}{check.stderr}"
    log = work / "haproxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [program, "-f", str(cfg), "-db"], stdout=out, stderr=subprocess.STDOUT, cwd=work
        )
    running = HAProxy(process, log, work / "haproxy.sock")
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Topology:
    """HAProxy on `port` in front of two nodes (their boards by node port)."""

    port: int
    nodes: dict[str, Config]
    boards: dict[int, Board]
    proxy: HAProxy
    stops: dict[str, contextlib.AsyncExitStack]

    async def stop_node(self, name: str) -> None:
        """Stop one node as SIGTERM would (callers warned, then hung up)."""
        await asyncio.wait_for(self.stops[name].aclose(), 30)

    def node_of(self, address: str) -> str:
        """The node a caller from `address` is on (by the address its session has)."""
        found = [
            name
            for name, config in self.nodes.items()
            if any(
                s.link.peer.rsplit(":", 1)[0] == address for s in self.boards[config.port].sessions
            )
        ]
        assert len(found) == 1, f"{address} is on {found or 'no node'}"
        return found[0]


def node_config(url: str, work: Path) -> Config:
    return node_settings(url, work, proxy_protocol=True, trusted_proxies=("127.0.0.1/32",))


async def prepare(url: str) -> None:
    """What each compose node runs first: `bbs db upgrade && bbs load data`."""
    await upgrade(url)
    await load_dir(url, ROOT / "data")


@pytest.fixture
def boards(monkeypatch: pytest.MonkeyPatch) -> dict[int, Board]:
    """Every Board a node of this test builds, by its port."""
    built: dict[int, Board] = {}
    original = Board.build.__func__  # type: ignore[attr-defined]

    def build(cls: type[Board], config: Config, *args: Any, **kwargs: Any) -> Board:
        board: Board = original(cls, config, *args, **kwargs)
        built[config.port] = board
        return board

    monkeypatch.setattr(Board, "build", classmethod(build))
    return built


@pytest.fixture
async def topology(
    pg_url: str, tmp_path: Path, boards: dict[int, Board]
) -> AsyncIterator[Topology]:
    # Both nodes prepare the database at once, as both compose nodes do at start.
    await asyncio.wait_for(asyncio.gather(prepare(pg_url), prepare(pg_url)), 60)
    for name in (ALICE, BRUNO):
        add = ("user", "add", name, "--role", "caller", "--password-stdin")
        assert await bbs(pg_url, *add, stdin=PASSWORD + "\n") == 0
    config = node_config(pg_url, tmp_path)
    async with contextlib.AsyncExitStack() as stack:
        nodes: dict[str, Config] = {}
        stops: dict[str, contextlib.AsyncExitStack] = {}
        for name in ("node1", "node2"):
            stops[name] = contextlib.AsyncExitStack()
            stack.push_async_callback(stops[name].aclose)
            nodes[name] = await stops[name].enter_async_context(running_board(config))
        port = free_port()
        cfg = tmp_path / "haproxy.cfg"
        cfg.write_text(
            local_config(
                DEPLOY_CFG.read_text(encoding="utf-8"),
                port,
                {name: c.port for name, c in nodes.items()},
                tmp_path / "haproxy.sock",
            )
        )
        proxy = stack.enter_context(haproxy(cfg, tmp_path))
        await proxy.wait_status({"node1": "UP", "node2": "UP"})
        yield Topology(port, nodes, boards, proxy, stops)


async def call(port: int, source: str) -> Line:
    """A caller from `source` through HAProxy, at the name prompt after the welcome."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), 5
    )
    line = Line(TelnetClient(reader, writer, Script(ttypes=["dumb"], rows=60)))
    try:
        await line.expect("Appuyez sur Entree")
        line.type("\r")
        await line.expect("Votre nom :")
    except BaseException:
        line.close()
        raise
    return line


async def choose(line: Line, answer: str, until: str = "Votre choix") -> str:
    line.type(f"{answer}\r")
    return " ".join((await line.expect(until)).split())


async def sign_in(line: Line, name: str) -> None:
    line.type(f"{name}\r")
    await line.expect("Mot de passe :")
    await choose(line, PASSWORD)


async def who_until(line: Line, name: str, timeout: float = 10.0) -> str:
    """`WHO` again until `name` is listed (presence crosses nodes through the database)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        line.type("WHO\r")
        listing = await line.expect("Votre choix")
        if name in listing:
            return listing
        if loop.time() > deadline:
            raise AssertionError(f"{name} never appeared in WHO:\n{listing}")
        await asyncio.sleep(0.3)


def node_number(listing: str, name: str) -> int:
    row = next(r for r in listing.splitlines() if name in r)
    return int(row.split()[0])


async def test_two_nodes_behind_haproxy_are_one_board(
    topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bbs")
    lines = await asyncio.gather(*(call(topology.port, a) for a in CALLERS))
    try:
        # leastconn with four callers at once: two on each node.
        where = {a: topology.node_of(a) for a in CALLERS}
        assert sorted(where.values()) == ["node1", "node1", "node2", "node2"], where
        # Each node knows the caller by the address in HAProxy's PROXY header.
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for address in CALLERS:
            assert address in logged, f"no node logged the caller's address {address}"

        line_of = dict(zip(CALLERS, lines, strict=True))
        on1 = [line_of[a] for a in CALLERS if where[a] == "node1"]
        on2 = [line_of[a] for a in CALLERS if where[a] == "node2"]
        alice, bruno, guest = on1[0], on2[0], on2[1]

        # A guest through HAProxy reaches the index.
        guest.type("INVITE\r")
        assert "invite" in (await guest.expect("Votre choix")).lower()

        await sign_in(alice, ALICE)
        await sign_in(bruno, BRUNO)
        # Each sees the other, on the other node, under a node number of their own.
        seen_by_alice = await who_until(alice, BRUNO)
        seen_by_bruno = await who_until(bruno, ALICE)
        assert ALICE in seen_by_alice and BRUNO in seen_by_bruno
        bruno_node = node_number(seen_by_alice, BRUNO)
        alice_node = node_number(seen_by_bruno, ALICE)
        assert alice_node != bruno_node
        assert node_number(seen_by_bruno, BRUNO) == bruno_node

        # A page crosses from node1 to node2.
        sent = await choose(alice, f"PAGE {bruno_node} Bonjour depuis l'autre noeud")
        assert "Message transmis" in sent, sent
        received = " ".join((await bruno.expect("Bonjour depuis l'autre noeud", 10)).split())
        assert "Message du n" in received and ALICE in received
    finally:
        for line in lines:
            line.close()


async def test_a_stopped_node_is_taken_out_and_callers_land_on_the_other(
    topology: Topology,
) -> None:
    lines = await asyncio.gather(*(call(topology.port, a) for a in CALLERS[:2]))
    try:
        where = {a: topology.node_of(a) for a in CALLERS[:2]}
        assert sorted(where.values()) == ["node1", "node2"], where
        on2 = lines[list(where.values()).index("node2")]
        on2.type("INVITE\r")
        await on2.expect("Votre choix")
        await topology.stop_node("node2")
        assert "Le serveur s'arr" in await on2.expect("rappeler plus tard", 10)
        # HAProxy's checks see node2 gone; every new caller goes to node1 meanwhile.
        await topology.proxy.wait_status({"node1": "UP", "node2": "DOWN"})
        late = await asyncio.gather(*(call(topology.port, a) for a in CALLERS[2:]))
        lines.extend(late)
        assert [topology.node_of(a) for a in CALLERS[2:]] == ["node1", "node1"]
        late[0].type("INVITE\r")
        assert "invite" in (await late[0].expect("Votre choix")).lower()
    finally:
        for line in lines:
            line.close()


def v2_header(source: tuple[str, int], dest: tuple[str, int]) -> bytes:
    """A PROXY v2 header for TCP over IPv4, built by hand (independent of the node's parser)."""
    import ipaddress

    body = (
        ipaddress.IPv4Address(source[0]).packed
        + ipaddress.IPv4Address(dest[0]).packed
        + struct.pack("!HH", source[1], dest[1])
    )
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(body)) + body


async def received_until_closed(
    port: int, source: str, send: bytes, timeout: float = 10.0
) -> bytes:
    """Connect from `source`, send `send`; everything the node sent until it hung up."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), 5
    )
    got = bytearray()
    try:
        writer.write(send)
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(4096):
                got += chunk
    except TimeoutError:
        raise AssertionError(f"the node kept the connection open; it sent {bytes(got)!r}") from None
    except ConnectionResetError:
        pass
    finally:
        writer.close()
    return bytes(got)


async def test_a_node_refuses_callers_who_bypass_the_proxy(
    pg_url: str, tmp_path: Path, boards: dict[int, Board], caplog: pytest.LogCaptureFixture
) -> None:
    await asyncio.wait_for(prepare(pg_url), 60)
    caplog.set_level(logging.INFO, logger="bbs")
    async with running_board(node_config(pg_url, tmp_path)) as config:
        # Straight from the trusted proxy's address, but telnet instead of a PROXY header.
        got = await received_until_closed(config.port, "127.0.0.1", b"\xff\xfb\x18hello\r\n")
        assert b"Appuyez" not in got and b"Lotus" not in got
        # From an address that is not a trusted proxy, a well-formed header is not believed.
        forged = v2_header(("10.9.8.7", 4242), ("127.0.0.1", config.port))
        got = await received_until_closed(config.port, "127.0.0.21", forged + b"\r\n")
        assert b"Appuyez" not in got and b"Lotus" not in got
        assert not boards[config.port].sessions
    refusals = [r.getMessage() for r in caplog.records if "event=refused" in r.getMessage()]
    assert any("addr=127.0.0.1" in r for r in refusals), refusals
    assert any("addr=127.0.0.21" in r for r in refusals), refusals
    assert all("10.9.8.7" not in r.getMessage() for r in caplog.records)


def test_the_deployed_haproxy_config_is_valid() -> None:
    """What docker compose mounts passes `haproxy -c` (Docker's node names may not resolve here:
    `init-addr none` lets HAProxy start without them, as it must before the nodes are up)."""
    program = haproxy_binary()
    check = subprocess.run(
        [program, "-c", "-f", str(DEPLOY_CFG)],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert check.returncode == 0, check.stdout + check.stderr
