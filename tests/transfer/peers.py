"""lrzsz as the peer of a transfer: `sz`/`rz`/`sb`/`rb`/`sx`/`rx` run over pipes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

LRZSZ = {name: shutil.which(name) for name in ("sz", "rz", "sb", "rb", "sx", "rx")}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def every_byte(size: int) -> bytes:
    """`size` bytes cycling through all 256 values (0xFF, ZDLE, XON, CAN... all included)."""
    pattern = bytes(range(256))
    return (pattern * (size // 256 + 1))[:size]


class ProcessChannel:
    """A transfer Channel over an lrzsz process's standard input and output."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self._stdin = process.stdin
        self._stdout = process.stdout

    async def read(self, n: int, timeout: float) -> bytes:
        return await asyncio.wait_for(self._stdout.read(n), timeout)

    def write(self, data: bytes) -> None:
        if not self._stdin.is_closing():
            self._stdin.write(data)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._stdin.drain()


@contextlib.asynccontextmanager
async def lrzsz(program: str, *args: str, cwd: Path) -> AsyncIterator[ProcessChannel]:
    """Run an lrzsz program in `cwd`; its stdio is the channel. Killed if still running after."""
    path = LRZSZ.get(program)
    assert path, f"{program} is not installed (make setup installs lrzsz)"
    process = await asyncio.create_subprocess_exec(
        path,
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield ProcessChannel(process)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)


async def finished(channel: ProcessChannel, timeout: float = 30.0) -> tuple[int, str]:
    """Wait for the lrzsz process to exit: its status and what it said on stderr."""
    process = channel.process
    assert process.stderr is not None
    with contextlib.suppress(Exception):
        channel._stdin.close()
    err = await asyncio.wait_for(process.stderr.read(), timeout)
    code = await asyncio.wait_for(process.wait(), timeout)
    return code, err.decode("latin-1", "replace")
