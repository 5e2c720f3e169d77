"""The seam between a Session and its transport: telnet in production, a fake in tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What telnet negotiation learned about the client, already sanitised."""

    terminal_types: tuple[str, ...] = ()
    """TTYPE answers in the order given (RFC 1091 cycling), lower-cased."""
    cols: int = 0
    rows: int = 0
    speed: str = ""
    """TSPEED "rx,tx" when the client reported one."""
    environ: dict[str, str] = field(default_factory=dict)
    telnet: bool = False
    """Whether the client answered any telnet option at all (a raw TCP script does not)."""
    binary_out: bool = False
    """Whether 8-bit data may be sent (BINARY negotiated towards the client)."""
    echo: bool = False
    """Whether the server echoes (character-at-a-time); otherwise the client echoes itself."""


class Link(Protocol):
    """A byte pipe to one caller, with what negotiation learned about it."""

    peer: str

    def negotiated(self) -> Negotiated:
        """The negotiation results as of now."""
        ...

    async def read(self, n: int) -> bytes:
        """Up to `n` in-band bytes from the caller; b"" once the caller hung up."""
        ...

    def write(self, data: bytes) -> None:
        """Queue bytes for the caller (telnet IAC doubling is the link's business)."""
        ...

    async def drain(self) -> None:
        """Wait until queued output has gone below the transport's high-water mark."""
        ...

    def close(self) -> None:
        """Hang up."""
        ...

    def is_closing(self) -> bool:
        """Whether the line is hung up or being hung up."""
        ...

    def on_resize(self, callback: Callable[[int, int], None]) -> None:
        """Call `callback(cols, rows)` whenever the caller's window changes size."""
        ...

    async def set_binary(self, on: bool) -> bool:
        """Ask for 8-bit transmission both ways (or give it up); whether it was on before."""
        ...

    def transfer_mode(self, on: bool) -> None:
        """A file transfer starts or ends: the line may carry far more bytes a second."""
        ...
