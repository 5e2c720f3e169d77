"""SSH callers with OpenSSH's `ssh`: under a pseudo-terminal as a person calls, host key
checking across restarts, and a ZMODEM download received by lrzsz's `rz` through `ssh`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import shutil
import signal
from pathlib import Path

import pyte
import pytest

from bbs.config import Config
from bbs.library.datafiles import read_library
from bbs.services.transfers import note_text
from tests.e2e.harness import ROOT, Caller, running_board
from tests.ssh.conftest import NAME, PASSWORD, ssh_settings
from tests.transfer.peers import LRZSZ

SSH = shutil.which("ssh")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(SSH is None, reason="OpenSSH's client is not installed"),
]


def ssh_argv(port: int, user: str, known_hosts: Path, *more: str) -> list[str]:
    """`ssh` with no user configuration, no keys, no agent, and its own known_hosts."""
    assert SSH
    return [
        SSH,
        "-F",
        "/dev/null",
        "-p",
        str(port),
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "IdentityAgent=none",
        "-o",
        "ConnectTimeout=10",
        *more,
        f"{user}@127.0.0.1",
    ]


class SshCaller(Caller):
    """`ssh` in a pseudo-terminal, its output rendered on a pyte screen (as `Caller` does
    for telnet); the pty gives ssh the terminal type and size it asks for."""

    def __init__(
        self, argv: list[str], term: str = "xterm", cols: int = 80, rows: int = 60
    ) -> None:
        import codecs
        import fcntl
        import struct
        import termios

        self.screen = pyte.Screen(cols, rows)
        self.screen.write_process_input = self._answer  # type: ignore[method-assign]
        self.stream = pyte.Stream(self.screen)
        self.stream.use_utf8 = True
        self.encoding = "utf-8"
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.raw = bytearray()
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child becomes ssh
            os.environ["TERM"] = term
            os.environ.pop("SSH_AUTH_SOCK", None)
            os.execv(argv[0], argv)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self._data = asyncio.Event()
        self._closed = False
        asyncio.get_running_loop().add_reader(fd, self._on_readable)

    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")

    async def wait_raw(self, text: str, timeout: float = 15.0) -> str:
        """Wait until `text` was sent at all (also what the screen would not keep)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text not in self.text():
            left = deadline - loop.time()
            if left <= 0 or self._closed:
                raise AssertionError(f"{text!r} never came; got:\n{self.text()[-3000:]}")
            self._data.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._data.wait(), min(left, 0.5))
        return self.text()

    def exit_status(self) -> int | None:
        with contextlib.suppress(ChildProcessError):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        return None


async def test_guest_and_account_under_a_pty(board: Config, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    guest = SshCaller(ssh_argv(board.ssh_port, "invite", known))
    try:
        await guest.wait_for("Entrée", 20)
        guest.type("\r")
        screen = await guest.wait_for("Index d'aide - Assistance clients Lotus")
        # pyte answered the probes: a UTF-8 xterm gets the accents as they are.
        assert "société Lotus" in screen
        guest.resize(100, 40)
        await guest.wait_for("Votre choix")
        assert guest.screen.columns == 100
    finally:
        guest.close()
    assert "127.0.0.1" in known.read_text()
    member = SshCaller(ssh_argv(board.ssh_port, "jean-dupont", known))
    try:
        await member.wait_raw("Mot de passe")
        member.type(PASSWORD + "\r")
        await member.wait_for("Entrée", 20)
        member.type("\r")
        await member.wait_for(NAME)
    finally:
        member.close()


async def test_the_host_key_is_kept_and_a_new_one_is_refused(database: str, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    config = ssh_settings(database, tmp_path)

    async def call() -> SshCaller:
        caller = SshCaller(
            ssh_argv(config.ssh_port, "invite", known, "-o", "StrictHostKeyChecking=yes")
            if known.exists()
            else ssh_argv(config.ssh_port, "invite", known)
        )
        return caller

    for _ in range(2):
        async with running_board(config):
            caller = await call()
            try:
                screen = await caller.wait_for("Entrée", 20)
                assert "IDENTIFICATION HAS CHANGED" not in caller.text()
                assert "lotus" in screen.lower()
            finally:
                caller.close()
    Path(config.ssh_host_key).unlink()
    async with running_board(config):
        caller = await call()
        try:
            await caller.wait_raw("REMOTE HOST IDENTIFICATION HAS CHANGED")
            await caller.wait_closed()
        finally:
            caller.close()


async def test_zmodem_download_through_ssh(board: Config, tmp_path: Path) -> None:
    library = read_library(ROOT / "data")
    note = next(n for n in library.notes if n.file and n.lang == "fr")
    rz = LRZSZ["rz"]
    assert rz, "rz is not installed (make setup installs lrzsz)"
    known = tmp_path / "known_hosts"
    # No PTY (-T): the channel carries the caller's bytes as they are, as for a script.
    ssh = await asyncio.create_subprocess_exec(
        *ssh_argv(board.ssh_port, "invite", known, "-T"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    assert ssh.stdin and ssh.stdout
    seen = bytearray()

    async def until(marker: bytes) -> None:
        assert ssh.stdout
        while marker not in seen:
            try:
                chunk = await asyncio.wait_for(ssh.stdout.read(65536), 20)
            except TimeoutError:
                raise AssertionError(f"{marker!r} never came: {bytes(seen[-1500:])!r}") from None
            assert chunk, f"{marker!r} never came: {bytes(seen[-1500:])!r}"
            seen.extend(chunk)

    got = tmp_path / "got"
    got.mkdir()
    try:
        await until(b"Entree")
        ssh.stdin.write(b"\r")
        # 24 lines without a PTY: every pager on the way is left with Q.
        answered = 0
        while b"Votre choix (" not in seen:
            if seen.count(b"Q pour quitter") > answered:
                answered += 1
                ssh.stdin.write(b"q")
                continue
            chunk = await asyncio.wait_for(ssh.stdout.read(65536), 20)
            assert chunk, bytes(seen[-1500:])
            seen.extend(chunk)
        seen.clear()
        ssh.stdin.write(f"DL {note.number} Z\r".encode())
        await until(b"annuler.\r\n")
        _, _, early = bytes(seen).partition(b"annuler.\r\n")
        receiver = await asyncio.create_subprocess_exec(
            rz,
            "-y",
            cwd=got,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert receiver.stdin and receiver.stdout
        receiver.stdin.write(early)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while chunk := await source.read(65536):
                sink.write(chunk)
                with contextlib.suppress(ConnectionError):
                    await sink.drain()

        inbound = asyncio.create_task(pipe(ssh.stdout, receiver.stdin))
        outbound = asyncio.create_task(pipe(receiver.stdout, ssh.stdin))
        try:
            assert await asyncio.wait_for(receiver.wait(), 60) == 0
        finally:
            inbound.cancel()
            outbound.cancel()
            if receiver.returncode is None:
                receiver.kill()
        text = got / f"{note.number:05d}FR.TXT"
        assert text.read_bytes() == note_text(note)
        sent = (ROOT / "data" / "files" / note.file).read_bytes()
        received = next(p for p in got.iterdir() if p.name.lower() == note.file.lower())
        assert received.read_bytes() == sent
    finally:
        if ssh.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ssh.pid, signal.SIGTERM)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ssh.wait(), 5)
