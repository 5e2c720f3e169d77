"""A throwaway PostgreSQL server for tests, run from the installed server binaries.

The server lives in a fresh temporary directory (data, unix socket, log), listens on
a free TCP port of 127.0.0.1 with trust authentication, and is stopped and removed
by `PgServer.stop`. PostgreSQL refuses to run as root: when the tests run as root,
the directory is handed to the `postgres` system user (created if missing) and the
server binaries run through `runuser -u postgres --`.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from glob import glob
from itertools import count
from pathlib import Path

SERVICE_USER = "postgres"
"""The system user the server runs as when the tests run as root."""

SUPERUSER = "postgres"
"""The database superuser initdb creates."""

START_TIMEOUT_S = 60
COMMAND_TIMEOUT_S = 120


class PgUnavailable(RuntimeError):
    """The throwaway server could not be set up; the message says why."""


def find_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (``/usr/lib/postgresql/N/bin``),
    or the directory named by ``$PG_BINDIR``."""
    if env := os.environ.get("PG_BINDIR"):
        candidates = [Path(env)]
    else:
        found = [Path(p).parent for p in glob("/usr/lib/postgresql/*/bin/initdb")]
        candidates = sorted(found, key=_version, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgUnavailable(
        "no PostgreSQL server binaries (looked for /usr/lib/postgresql/*/bin/initdb and "
        "pg_ctl): install the Debian package 'postgresql' (make setup does)"
    )


def _version(bindir: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", bindir.parent.name)) or (0,)


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server; `url` and `create_database` give databases on it."""

    base: Path
    bindir: Path
    port: int
    run_as: str | None
    _names: count[int] = field(default_factory=lambda: count(1))
    _stopped: bool = False

    @property
    def data(self) -> Path:
        """The cluster's data directory."""
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        """Where the server's unix socket is."""
        return self.base / "sock"

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.base / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A URL of a database on this server, as a user would write it."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database (its own name, so tests never share state); its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self._client("createdb", name)
        return self.url(name)

    def refill_database(self, url: str, template: str) -> None:
        """Make the database of `url` a fresh copy of the database `template` (which
        nobody may be connected to), under the same name."""
        name = url.rsplit("/", 1)[1]
        self._client("dropdb", "--force", "--if-exists", name)
        self._client("createdb", "-T", template, name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing what still uses it."""
        name = url.rsplit("/", 1)[1]
        self._client("dropdb", "--force", "--if-exists", name)

    def stop(self) -> None:
        """Stop the server and delete its directory; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            _run(self._server_cmd("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"))
        except PgUnavailable:
            # Last resort for a wedged server: signal our own postmaster, by its pid.
            pid_file = self.data / "postmaster.pid"
            if pid_file.exists():
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, 9)
        shutil.rmtree(self.base, ignore_errors=True)

    def _client(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), "-h", "127.0.0.1", "-p", str(self.port)]
        _run([*cmd, "-U", SUPERUSER, *args])

    def _server_cmd(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd


def start_server() -> PgServer:
    """Initialise and start a throwaway server; raises PgUnavailable saying why not."""
    bindir = find_bindir()
    run_as = _service_user() if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="lotus-pg-"))
    try:
        server = PgServer(base=base, bindir=bindir, port=0, run_as=run_as)
        for sub in (server.data, server.socket_dir):
            sub.mkdir(mode=0o700)
        if run_as:
            entry = pwd.getpwnam(run_as)
            # The server user must own its directories; mkdtemp made them root's.
            for path in (base, server.data, server.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        _run(
            server._server_cmd(
                "initdb",
                "-D",
                str(server.data),
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        )
        _start(server)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    atexit.register(server.stop)
    return server


def _start(server: PgServer) -> None:
    # Another process may take the free port between asking and binding: retry.
    last = ""
    for _ in range(3):
        server.port = free_port()
        options = " ".join(
            [
                f"-p {server.port}",
                "-c listen_addresses=127.0.0.1",
                f"-k {server.socket_dir}",
                # A throwaway server: durability is not worth the time.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=50",
            ]
        )
        try:
            _run(
                server._server_cmd(
                    "pg_ctl",
                    "-D",
                    str(server.data),
                    "-l",
                    str(server.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "start",
                ),
                timeout=START_TIMEOUT_S + 10,
            )
            return
        except PgUnavailable as e:
            last = f"{e}\n{_tail(server.log)}"
            time.sleep(0.2)
    raise PgUnavailable(f"the server did not start:\n{last}")


def _service_user() -> str:
    """The system user to run the server as, created when missing (root only)."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        nologin = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
        _run(["useradd", "--system", "--no-create-home", "--shell", nologin, SERVICE_USER])
    if shutil.which("runuser") is None:
        raise PgUnavailable("running as root but 'runuser' is missing (package util-linux)")
    return SERVICE_USER


def _run(cmd: list[str], timeout: float = COMMAND_TIMEOUT_S) -> None:
    try:
        subprocess.run(
            cmd,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
            # The server user may not be able to enter the current directory (/root).
            cwd="/",
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as e:
        raise PgUnavailable(f"{cmd[0]}: not found") from e
    except subprocess.TimeoutExpired as e:
        raise PgUnavailable(f"{' '.join(cmd)}: no answer within {timeout:.0f} s") from e
    except subprocess.CalledProcessError as e:
        output = (e.stderr or e.stdout or "").strip()
        raise PgUnavailable(f"{' '.join(cmd)} failed ({e.returncode}): {output}") from e


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
