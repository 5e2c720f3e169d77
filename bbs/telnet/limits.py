"""Limits at the connection edge: token buckets, admission counters, and the one log line
every refusal or disconnection for cause goes through."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("bbs.edge")

_UNSAFE_VALUE = re.compile(r"[^\x21-\x7e]")

# Before detection the caller's language is unknown: one line in both, ASCII only.
MESSAGES = {
    "max_sessions": "Serveur complet, reessayez plus tard / Board full, please try again later",
    "max_per_address": (
        "Trop de connexions depuis votre adresse / Too many connections from your address"
    ),
    "login_grace": "Delai de connexion depasse / Sign-in took too long",
    "flood": "Trop de donnees recues / Too much input",
    "shutdown": "Serveur en cours d'arret / Board shutting down",
}


def _value(value: object) -> str:
    """A log value on one line, without spaces or controls (an address cannot forge a field)."""
    text = _UNSAFE_VALUE.sub("_", str(value))
    return text[:120] or "-"


def log_event(event: str, reason: str, *, addr: str, node: object, **more: object) -> None:
    """The one structured line for a refusal or a disconnection for cause."""
    log_line(logging.WARNING, event, reason, addr=addr, node=node, **more)


def log_line(
    level: int, event: str, reason: str, *, addr: str, node: object, **more: object
) -> None:
    """A structured line at `level`: refusals, and each HTTP request or FTP command."""
    parts = [f"event={_value(event)}", f"reason={_value(reason)}", f"addr={_value(addr)}"]
    parts.append(f"node={_value(node)}")
    parts.extend(f"{key}={_value(value)}" for key, value in more.items())
    log.log(level, " ".join(parts))


class TokenBucket:
    """`rate` tokens a second, at most `capacity` saved; a charge may run the bucket into debt.

    Charging after the fact (a chunk already read) and waiting out the debt costs one
    subtraction per chunk, whatever the chunk's size.
    """

    __slots__ = ("_clock", "_stamp", "capacity", "rate", "tokens")

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        if now > self._stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def charge(self, amount: float) -> float:
        """Take `amount` tokens; the seconds to wait until the bucket is out of debt (0 if none)."""
        self._refill()
        self.tokens -= amount
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def available(self) -> float:
        """Tokens that may be spent right now."""
        self._refill()
        return self.tokens


@dataclass
class Admission:
    """Who is connected to this node, by source address; decides whether one more may come in."""

    max_sessions: int
    max_per_address: int
    total: int = 0
    by_address: dict[str, int] = field(default_factory=dict)

    def admit(self, addr: str) -> str:
        """Count a new connection from `addr`: "" when admitted, else the refusal reason."""
        if self.total >= self.max_sessions:
            return "max_sessions"
        if self.by_address.get(addr, 0) >= self.max_per_address:
            return "max_per_address"
        self.total += 1
        self.by_address[addr] = self.by_address.get(addr, 0) + 1
        return ""

    def release(self, addr: str) -> None:
        """Forget one admitted connection from `addr`."""
        self.total = max(0, self.total - 1)
        left = self.by_address.get(addr, 0) - 1
        if left > 0:
            self.by_address[addr] = left
        else:
            self.by_address.pop(addr, None)


def count_commands(data: bytes) -> int:
    """Telnet commands in a chunk, counted in C: IAC bytes that are not a doubled data 0xFF."""
    iacs = data.count(b"\xff")
    if not iacs:
        return 0
    return max(0, iacs - 2 * data.count(b"\xff\xff"))
