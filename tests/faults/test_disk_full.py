"""A full disk under a running node: a small tmpfs as the upload area mid-upload, and as
the database's folder mid-post. The caller is told plainly, nothing half-written stays,
the node keeps serving the others, and works again once there is room.

The tests mount tmpfs, which needs root (as in CI); without it they fail and say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.callers import Call, call, payload, signed_in, sz_through
from tests.faults.checks import database_consistent, leftovers, missing_writes, stored_uploads
from tests.faults.node import POSTER, UPLOADER, Node, copy_board

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `path` for the block (unmounted after, even on failure)."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if mounted.returncode != 0:
        pytest.fail(
            f"cannot mount a tmpfs on {path}: {mounted.stderr.strip() or mounted.returncode}; "
            "the full-disk tests need root (they run as root in CI)",
            pytrace=False,
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)


def fill(folder: Path) -> Path:
    """Take every free byte of the file system under `folder`; the file that holds them."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError:
                # The last bytes: a smaller write may still fit.
                if len(chunk) == 1:
                    break
                chunk = chunk[: len(chunk) // 2]
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


async def guest(port: int) -> Call:
    line = await call(port)
    line.type("INVITE\r")
    await line.expect("Votre choix")
    return line


async def still_served(line: Call) -> None:
    """The node answers this caller as usual."""
    await line.choose("GO FAX", "Fax sur demande")
    await line.expect("Votre choix", pages=True)


async def test_full_upload_area_mid_upload(template: Path, tmp_path: Path) -> None:
    lines: list[Call] = []
    with tmpfs(tmp_path / "uploads", "2m") as uploads:
        node = Node(copy_board(template, tmp_path / "db"), uploads, tmp_path / "log")
        node.start()
        try:
            other = await guest(node.port)
            lines.append(other)
            src = tmp_path / "src"
            src.mkdir()
            size = 1_500_000
            (src / "big.bin").write_bytes(payload("big.bin", size))
            sender = await signed_in(node.port, UPLOADER)
            lines.append(sender)
            await sender.choose("GO SERVICES", "Votre choix (")
            sender.type("UL Z\r")
            await sender.expect("annuler.")
            # 300 KB/s: five seconds of transfer; the disk fills up after a fraction of it.
            transfer = asyncio.create_task(sz_through(sender, src, "big.bin", rate=300_000))
            await asyncio.sleep(0.8)
            assert not transfer.done()
            filler = fill(uploads)
            assert await asyncio.wait_for(transfer, 30) != 0
            sender.consumed = 0
            await sender.expect("le serveur manque de place", 10)
            await sender.expect("Votre choix (")
            assert stored_uploads(uploads, {"big.bin": size}) == {}
            assert leftovers(uploads) == [], "the refused upload left files behind"
            await still_served(other)
            assert node.running()

            filler.unlink()
            (src / "small.bin").write_bytes(payload("small.bin", 50_000))
            sender.type("UL Z\r")
            await sender.expect("annuler.")
            assert await sz_through(sender, src, "small.bin") == 0
            sender.consumed = 0
            await sender.expect("Transfert termine", 10)
            assert list(stored_uploads(uploads, {"small.bin": 50_000})) == ["small.bin"]
        finally:
            for line in lines:
                line.close()
            node.kill()


async def test_full_database_disk_mid_post(template: Path, tmp_path: Path) -> None:
    lines: list[Call] = []
    with tmpfs(tmp_path / "dbfs", "16m") as folder:
        url = copy_board(template, folder)
        node = Node(url, tmp_path / "uploads", tmp_path / "log")
        node.start()
        try:
            other = await guest(node.port)
            lines.append(other)
            poster = await signed_in(node.port, POSTER)
            lines.append(poster)
            await poster.choose("GO LOTFRA", "Section (numero")
            await poster.choose("5", "Sujet (numero")
            # An empty WAL: the next commit must take new room on the disk.
            db = sqlite3.connect(folder / "bbs.db", timeout=10)
            try:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.close()
            filler = fill(folder)

            await poster.choose("N", "Sujet (Entree")
            await poster.choose("disque-plein", "Tapez votre texte")
            poster.type("disque-plein\r.\r")
            await poster.expect("Espace disque insuffisant", 15)
            assert "Message publie" not in poster.transcript()
            await still_served(other)
            assert node.running()

            filler.unlink()
            await database_consistent(url)
            assert await missing_writes(url, ["disque-plein"], [], []) == ["disque-plein"]
            # The refusal stays until a key; the list of subjects is drawn after it.
            await poster.choose("", "Sujet (numero")
            await poster.choose("N", "Sujet (Entree")
            await poster.choose("de-la-place", "Tapez votre texte")
            poster.type("de-la-place\r.\r")
            await poster.expect("Message publie")
            await poster.choose("", "Sujet (numero")
            assert await missing_writes(url, ["de-la-place"], [], []) == []
        finally:
            for line in lines:
                line.close()
            node.kill()
