"""Child processes of the harness: the two servers and the callers, and their clean end.

Every child runs in its own session (process group) with the soft RLIMIT_NOFILE raised to
the hard limit, and with PR_SET_PDEATHSIG so it gets SIGTERM if the harness dies without
cleaning up. `stop` sends SIGTERM to the group, waits, then SIGKILLs; `kill_all` is the last
resort run when the harness exits, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
"""The venv's bin folder (where ``bbs`` is installed next to the python running us)."""

_PR_SET_PDEATHSIG = 1
_children: set[int] = set()
"""Process group ids of children not yet reaped, for `kill_all`."""


def _child_setup() -> None:  # runs in the child between fork and exec
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard or hard == resource.RLIM_INFINITY:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: ours, with the repo importable and `extra` on top."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


async def spawn(
    argv: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    pipes: bool = False,
    cwd: Path | None = None,
    limit: int = 1 << 16,
) -> asyncio.subprocess.Process:
    """Start a child in its own process group; stderr (and stdout unless `pipes`) to `log`.

    With `pipes`, stdin and stdout are pipes the harness talks through (`limit`: the longest
    line read from stdout). It runs in `cwd` (the repository by default).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipes else sink,
            stderr=sink,
            cwd=cwd or REPO,
            env=child_env(env),
            start_new_session=True,
            preexec_fn=_child_setup,
            limit=limit,
        )
    _children.add(proc.pid)
    return proc


async def stop(proc: asyncio.subprocess.Process, grace: float = 5.0) -> int | None:
    """SIGTERM the child's group, wait up to `grace` seconds, then SIGKILL it."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
    # Anything left in the group (a grandchild) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _children.discard(proc.pid)
    return proc.returncode


def kill_all() -> None:
    """SIGKILL every child group still known (the harness is exiting)."""
    for pgid in list(_children):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pgid, os.WNOHANG)
        _children.discard(pgid)


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_busy_seconds() -> float:
    """CPU seconds all processes have run (user, nice, system) since boot, from /proc/stat.

    Interrupt and softirq time is left out: loopback TCP is processed there, on behalf
    of our own processes, without being charged to them.
    """
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return 0.0
    user, nice, system = (int(x) for x in first[1:4])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


async def run_tool(
    argv: Sequence[str], timeout: float, env: Mapping[str, str] | None = None
) -> str:
    """Run a command to completion; its output, or RuntimeError with the last lines of it."""
    proc = await spawn_capture(argv, env)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        await stop(proc)
        raise RuntimeError(f"`{' '.join(argv)}` took over {timeout:g} s") from None
    _children.discard(proc.pid)
    text = out.decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        last = "\n    ".join(text.splitlines()[-6:]) or "(no output)"
        raise RuntimeError(f"`{' '.join(argv)}` failed (exit {proc.returncode}):\n    {last}")
    return text


async def spawn_capture(
    argv: Sequence[str], env: Mapping[str, str] | None = None
) -> asyncio.subprocess.Process:
    """A child whose stdout and stderr come back together through one pipe."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=REPO,
        env=child_env(env),
        start_new_session=True,
        preexec_fn=_child_setup,
    )
    _children.add(proc.pid)
    return proc


async def wait_listening(
    proc: asyncio.subprocess.Process, log: Path, host: str, port: int, timeout: float
) -> None:
    """Wait until the server logs that it listens or accepts a TCP connection.

    RuntimeError with the log's tail when it exits first or takes too long.
    """
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"exited with status {proc.returncode} before listening")
        with contextlib.suppress(OSError):
            if "listening on" in log.read_text(encoding="utf-8", errors="replace"):
                return
        if time.monotonic() - started > 3.0:
            # The log line may have changed wording: a bare TCP connect says it as well.
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
            except (OSError, TimeoutError):
                pass
            else:
                writer.close()
                return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 0.1)
    raise RuntimeError(f"not listening on {host}:{port} after {timeout:g} s")
