"""A real `bbs serve` process for fault tests, and the board it serves.

The node runs as a subprocess so that it can be killed with SIGKILL at any moment;
its log goes to a file (a pipe nobody reads would fill up and stall the node).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BBS = str(Path(sys.executable).with_name("bbs"))
PASSWORD = "Tr0ub4dor&3-lotus"
CONTACT = "Jean Dupont"
POSTER = "Marie Curie"
SPECIALIST = "Sam Martin"
UPLOADER = "Paul Dubois"
CONTRACT = "PP-95-00001"
STARTUP_TIMEOUT = 30.0


def bbs(url: str, *argv: str, stdin: str = "") -> None:
    """Run one `bbs` command against `url`; AssertionError with its output if it fails."""
    done = subprocess.run(
        [BBS, *argv, "--db", url],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"bbs {' '.join(argv)}: {done.stderr}{done.stdout}"


def prepare_board(url: str) -> None:
    """A migrated, loaded board with a specialist, two callers and a named contact of an
    unlimited contract (so that opening incidents never runs out of credit)."""
    bbs(url, "db", "upgrade")
    bbs(url, "load", str(ROOT / "data"))
    accounts = ((SPECIALIST, "specialist"), (CONTACT, "caller"), (POSTER, "caller"))
    for name, role in (*accounts, (UPLOADER, "caller")):
        add = ("user", "add", name, "--role", role, "--password-stdin", "--company", "Dupont SA")
        bbs(url, *add, stdin=PASSWORD + "\n")
    kind = ("--family", "desktop", "--kind", "unlimited", "--number", CONTRACT)
    bbs(url, "contract", "add", "--company", "Dupont SA", *kind)
    bbs(url, "contract", "contact", "add", CONTRACT, CONTACT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Node:
    """One `bbs serve` subprocess on `url`; `start` again after a kill reuses its files."""

    url: str
    uploads: Path
    log: Path
    grace: float = 0.5
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        """Start the node and wait until it accepts connections (or fail with its log)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.starts += 1
        env = {
            **os.environ,
            "BBS_UPLOAD_DIR": str(self.uploads),
            "BBS_SHUTDOWN_GRACE": str(self.grace),
            "BBS_CONNECT_MAXWAIT": "1",
            "BBS_PROBE_TIMEOUT": "0.3",
            "BBS_UPLOAD_MAX_BYTES": str(4 * 1024 * 1024),
            "BBS_UPLOAD_MIN_FREE_BYTES": "0",
            **self.env,
        }
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [BBS, "serve", "--port", str(self.port), "--db", self.url],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"the node died at start-up:\n{self.tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"the node never listened:\n{self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, then reap: no chance to clean anything up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


def copy_board(template: Path, folder: Path) -> str:
    """A private copy of a prepared SQLite board in `folder`; its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, folder / "bbs.db")
    return f"sqlite:///{folder / 'bbs.db'}"
