"""Hostile uploads of the transfer issue at a live node: traversal and absolute names, NUL
and terminal commands in names, over-size files and too many files, through the real
`sz` and through a ZMODEM sender that sends any name at all. Five guests keep typing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bbs.transfer.channel import OutFile
from bbs.transfer.zmodem import zmodem_send
from tests.e2e.test_download import relay_to
from tests.hostile.harness import Node, live_node, to_index
from tests.telnet_client import Script, TelnetClient
from tests.transfer.peers import every_byte

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

LIMIT = 256 * 1024
"""The node's upload_max_bytes (harness.base_config)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def node(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Node]:
    async with live_node(tmp_path_factory.mktemp("uploads")) as running:
        yield running


async def at_upload(node: Node) -> TelnetClient:
    """A guest on a binary line at the examples screen, with the upload started."""
    client = await node.client(Script(ttypes=["dumb"], rows=60))
    await to_index(client)
    client.type("GO SERVICES\r")
    await client.wait_for(b"Votre choix (")
    client.type("UL Z\r")
    return client


class LineChannel:
    """A transfer channel over a scripted telnet client (IAC doubled out, undone in)."""

    def __init__(self, client: TelnetClient, early: bytes) -> None:
        self.client = client
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        if early:
            self.queue.put_nowait(early)
        client.sink = self.queue.put_nowait

    async def read(self, n: int, timeout: float) -> bytes:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def write(self, data: bytes) -> None:
        self.client.send(data.replace(b"\xff", b"\xff\xff"))

    async def drain(self) -> None:
        await self.client.writer.drain()


def kept(node: Node) -> list[dict[str, object]]:
    folder = Path(node.config.upload_dir)
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")]


def outside(node: Node, since: float) -> list[Path]:
    """Files written since `since` anywhere under the node's folder but the upload area."""
    uploads = Path(node.config.upload_dir).resolve()
    found = []
    for path in node.folder.rglob("*"):
        if (
            path.is_file()
            and uploads not in path.resolve().parents
            and path.stat().st_mtime >= since
            and path.suffix not in (".db", ".db-wal", ".db-shm")
        ):
            found.append(path)
    # Where a traversal name would have landed, relative to the area and its parents.
    for base in (uploads, uploads / ".partial", node.folder):
        for name in ("etc/passwd", "windows/win.ini"):
            for depth in range(4):
                spot = (base / ("../" * depth) / name).resolve()
                if spot.exists() and spot.stat().st_mtime >= since:
                    found.append(spot)
    return found


def assert_clean_names(node: Node) -> None:
    for record in kept(node):
        name = str(record["name"])
        assert "/" not in name and "\\" not in name and "\x00" not in name, name
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in name), repr(name)
        assert name not in ("", ".", ".."), repr(name)
        assert len(name) <= 255
    for path in Path(node.config.upload_dir).rglob("*"):
        assert Path(node.config.upload_dir).resolve() in path.resolve().parents


NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "a\x00b.txt",
    "\x1b]52;c;QQ==\x07\x1b[2Jevil.txt",
    "\x9b2Jc1.txt",
    "x" * 3000,
    "..",
    ".",
    "",
    "CON",
]


@pytest.mark.parametrize("name", NAMES, ids=[repr(n[:20]) for n in NAMES])
async def test_any_name_from_a_zmodem_sender(node: Node, tmp_path: Path, name: str) -> None:
    """The board's own ZMODEM sender, told to send any name: the upload is refused or kept
    under a generated name with a clean display name; nothing lands outside the area."""
    source = tmp_path / "data.bin"
    source.write_bytes(every_byte(3000))
    started = source.stat().st_mtime - 1
    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await at_upload(node)
        await client.wait_for(b"annuler.\r\n", 10)
        _, _, early = bytes(client.data).partition(b"annuler.\r\n")
        client.data.clear()
        channel = LineChannel(client, early)
        try:
            await asyncio.wait_for(zmodem_send(channel, [OutFile(name, source)], timeout=5), 30)
        except Exception as e:  # a refusal may end the transfer on our side
            assert "Traceback" not in str(e)
        finally:
            client.sink = None
        await client.wait_for(b"Votre choix (", 15)
        assert b"Traceback" not in client.data
        assert_clean_names(node)
        assert not outside(node, started), outside(node, started)


@pytest.mark.parametrize("how", ["relative", "absolute"])
async def test_real_sz_with_full_paths(node: Node, tmp_path: Path, how: str) -> None:
    """`sz -f` sends the path as typed: `../../etc/passwd` or an absolute one."""
    (tmp_path / "etc").mkdir()
    target = tmp_path / "etc" / "passwd"
    target.write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    arg = "../../etc/passwd" if how == "relative" else str(target)
    started = target.stat().st_mtime - 1
    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await at_upload(node)
        code = await relay_to(client, b"annuler.\r\n", "sz", "-f", arg, cwd=work)
        assert code == 0
        await client.wait_for(b"Transfert termine", 10)
        assert_clean_names(node)
        assert not outside(node, started)
        assert any(r["name"] == "passwd" or "passwd" in str(r["name"]) for r in kept(node))


async def test_over_size_upload(node: Node, tmp_path: Path) -> None:
    before = len(kept(node))
    (tmp_path / "huge.bin").write_bytes(every_byte(LIMIT + 64 * 1024))
    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await at_upload(node)
        await relay_to(client, b"annuler.\r\n", "sz", "huge.bin", cwd=tmp_path)
        await client.wait_for(b"huge.bin refuse", 10)
        assert len(kept(node)) == before
        partial = Path(node.config.upload_dir) / ".partial"
        assert not [p for p in partial.rglob("*") if p.is_file()], "a partial file was left"


async def test_too_many_files(node: Node, tmp_path: Path) -> None:
    before = len(kept(node))
    names = [f"f{n:02d}.bin" for n in range(24)]
    for name in names:
        (tmp_path / name).write_bytes(every_byte(100))
    async with node.watch(min_seconds=1.0, allow_files=True):
        client = await at_upload(node)
        await relay_to(client, b"annuler.\r\n", "sz", *names, cwd=tmp_path)
        await client.wait_for(b"Votre choix (", 15)
        added = len(kept(node)) - before
        assert 0 < added <= 16, f"{added} files kept from a batch of 24 (limit 16)"
        assert b"refuse" in client.data
