"""The byte channel a transfer runs over: raw 8-bit data, telnet already taken care of."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class TransferError(Exception):
    """A transfer that could not complete; the message is one line for the caller."""


class Cancelled(TransferError):
    """The other side cancelled (CAN sequence) or the caller aborted."""


class Channel(Protocol):
    """Raw bytes to and from the peer, with timeouts.

    On the board this is the caller's telnet connection in BINARY mode (IAC doubled on
    the way out and undone on the way in by the telnet layer); in tests it may be a pipe
    to an lrzsz process.
    """

    async def read(self, n: int, timeout: float) -> bytes:
        """Up to `n` bytes; TimeoutError after `timeout` seconds; b"" once the peer is gone."""
        ...

    def write(self, data: bytes) -> None:
        """Queue bytes for the peer."""
        ...

    async def drain(self) -> None:
        """Wait until queued bytes are on their way (flow control)."""
        ...


@dataclass(frozen=True, slots=True)
class OutFile:
    """A file to send: the name the peer sees, where its bytes are, size and date."""

    name: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def mtime(self) -> int:
        return int(self.path.stat().st_mtime)


class Sink(Protocol):
    """Where one received file's bytes go; nothing counts as received before `commit`."""

    offset: int
    """Bytes already held (a resumed ZMODEM download starts there); 0 for a new file."""

    def write(self, data: bytes) -> None:
        """Append bytes; raises TransferError when a limit (size cap, disk floor) is hit."""
        ...

    def commit(self) -> None:
        """The last byte is confirmed: keep the file."""
        ...

    def abort(self) -> None:
        """The transfer failed: remove what was written."""
        ...


class Incoming(Protocol):
    """Decides where received files go (the upload area, a test folder)."""

    def open(self, name: str, size: int | None, mtime: int | None) -> Sink | None:
        """A sink for the file the peer announces, or None to skip it (ZSKIP)."""
        ...
