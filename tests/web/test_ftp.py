"""The anonymous FTP site with Python's ftplib and with curl: listing, RETR compared byte for
byte, REST resume, SIZE and MDTM, and every change or escape refused."""

from __future__ import annotations

import asyncio
import ftplib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bbs.board import Board
from bbs.ftp.server import FtpSite, start_ftp

CURL = shutil.which("curl")


@pytest.fixture
async def ftp(board: Board) -> AsyncIterator[FtpSite]:
    site = await start_ftp(board, "127.0.0.1", 0)
    try:
        yield site
    finally:
        await site.close()


def session(port: int) -> ftplib.FTP:
    client = ftplib.FTP(timeout=10)
    client.connect("127.0.0.1", port)
    client.login()
    return client


def a_file(client: ftplib.FTP) -> tuple[str, str]:
    """A product folder and one library file in it."""
    for folder in client.nlst("/pub"):
        for name in client.nlst(folder):
            if name.endswith(".zip"):
                return folder, name
    raise AssertionError("no library file on the FTP site")


def browse(port: int, files_dir: Path) -> None:
    client = session(port)
    try:
        assert client.pwd() == "/"
        client.cwd("pub")
        names = client.nlst()
        assert "00-index.txt" in [n.rsplit("/", 1)[-1] for n in names]
        assert "123-win" in [n.rsplit("/", 1)[-1] for n in names]
        lines: list[str] = []
        client.retrlines("LIST /pub", lines.append)
        assert any("00-index.txt" in line for line in lines)
        index = bytearray()
        client.retrbinary("RETR /pub/00-index.txt", index.extend)
        assert b"123-win/" in index
        folder, path = a_file(client)
        name = path.rsplit("/", 1)[-1]
        original = (files_dir / name).read_bytes()
        got = bytearray()
        client.retrbinary(f"RETR {path}", got.extend)
        assert bytes(got) == original
        assert client.size(path) == len(original)
        stamp = client.sendcmd(f"MDTM {path}")
        assert stamp.startswith("213 ") and len(stamp) == 18
        resumed = bytearray()
        client.retrbinary(f"RETR {path}", resumed.extend, rest=1000)
        assert bytes(resumed) == original[1000:]
        notes = [n for n in client.nlst(folder) if n.endswith(".txt")]
        text = bytearray()
        client.retrbinary(f"RETR {notes[0]}", text.extend)
        assert text.decode("utf-8")
    finally:
        client.quit()


def refusals(port: int) -> None:
    client = session(port)
    try:
        for command in ("DELE /pub/00-index.txt", "RNFR /pub/00-index.txt", "MKD /pub/new"):
            with pytest.raises(ftplib.error_perm, match=r"^550"):
                client.sendcmd(command)
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            client.storbinary("STOR /pub/upload.txt", _Bytes(b"nope"))
        # ../ never leaves the site's root: the tree has nothing else.
        client.cwd("../../../..")
        assert client.pwd() == "/"
        assert client.nlst() == ["/pub"] or client.nlst() == ["pub"]
        with pytest.raises(ftplib.error_perm):
            client.size("../../etc/passwd")
        with pytest.raises(ftplib.error_perm):
            client.retrbinary("RETR ../../../etc/passwd", lambda _: None)
    finally:
        client.quit()


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, n: int = -1) -> bytes:
        data, self.data = self.data, b""
        return data


async def test_ftplib_browse_download_resume(ftp: FtpSite, board: Board) -> None:
    await asyncio.to_thread(browse, ftp.port, board.files_dir)


async def test_ftplib_refusals(ftp: FtpSite) -> None:
    await asyncio.to_thread(refusals, ftp.port)


async def test_symlinks_in_the_files_folder_are_not_served(board: Board, tmp_path: Path) -> None:
    from bbs.ftp.tree import library_file

    files = tmp_path / "files"
    files.mkdir()
    (files / "real.zip").write_bytes(b"PK")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, files / "link.zip")
    assert library_file(files, "real.zip") == (files / "real.zip").resolve()
    assert library_file(files, "link.zip") is None
    assert library_file(files, "../secret.txt") is None


async def test_per_address_cap(board: Board) -> None:
    from dataclasses import replace

    capped = replace(board, config=replace(board.config, max_per_address=1))
    site = await start_ftp(capped, "127.0.0.1", 0)
    try:

        def two() -> str:
            first = session(site.port)
            try:
                second = ftplib.FTP(timeout=10)
                try:
                    return second.connect("127.0.0.1", site.port)
                except ftplib.error_temp as refused:
                    return str(refused)
            finally:
                first.quit()

        assert (await asyncio.to_thread(two)).startswith("421")
    finally:
        await site.close()


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert CURL, "curl is not installed"
    return subprocess.run(
        [CURL, "-sS", "--max-time", "20", *args], capture_output=True, timeout=30, check=False
    )


async def test_curl_list_download_resume_and_refusal(
    ftp: FtpSite, board: Board, tmp_path: Path
) -> None:
    base = f"ftp://127.0.0.1:{ftp.port}/pub/"
    listing = await asyncio.to_thread(curl, "--list-only", base)
    assert listing.returncode == 0, listing.stderr
    assert b"00-index.txt" in listing.stdout
    _, path = await asyncio.to_thread(lambda: a_file(session(ftp.port)))
    name = path.rsplit("/", 1)[-1]
    original = (board.files_dir / name).read_bytes()
    url = f"ftp://127.0.0.1:{ftp.port}{path}"
    whole = await asyncio.to_thread(curl, url)
    assert whole.stdout == original
    part = tmp_path / name
    part.write_bytes(original[:500])
    resumed = await asyncio.to_thread(curl, "-C", "-", "-o", str(part), url)
    assert resumed.returncode == 0, resumed.stderr
    assert part.read_bytes() == original
    upload = tmp_path / "up.txt"
    upload.write_text("nope")
    refused = await asyncio.to_thread(curl, "-T", str(upload), base + "up.txt")
    assert refused.returncode != 0
