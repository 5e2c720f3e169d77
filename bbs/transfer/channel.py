"""The byte channel a transfer runs over: raw 8-bit data, telnet already taken care of."""

from __future__ import annotations

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
