"""Web sign-in sessions: a random token in an HttpOnly cookie, the identity kept server-side.

A session holds who is signed in (a `Caller`, GUEST before sign-in) and the CSRF token
every form of that session carries. Signing in replaces the session with a new token
(no fixation); signing out forgets it. Sessions live in this node's memory: a restart
signs web callers out, as it hangs up telnet callers.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bbs.accounts.model import GUEST, Caller

COOKIE = "lotus_session"
"""The session cookie's name."""

LANG_COOKIE = "lotus_lang"
"""The chosen language's cookie (fr, en, de)."""

MAX_AGE = 8 * 3600.0
"""Seconds a session lasts without a request."""

MAX_SESSIONS = 10_000
"""Sessions kept at most; the least recently used go first."""


@dataclass
class WebSession:
    """One browser's session."""

    token: str
    csrf: str
    caller: Caller = GUEST
    seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """Every live web session of this node, by token."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: dict[str, WebSession] = {}

    def get(self, token: str | None) -> WebSession | None:
        """The live session of `token`, or None (unknown, expired or malformed)."""
        if not token or len(token) > 64:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self._clock()
        if now - session.seen > MAX_AGE:
            del self._sessions[token]
            return None
        session.seen = now
        # Most recently used last: the eviction order.
        self._sessions[token] = self._sessions.pop(token)
        return session

    def new(self, caller: Caller = GUEST) -> WebSession:
        """A fresh session (new token, new CSRF token) for `caller`."""
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        session = WebSession(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(24),
            caller=caller,
            seen=self._clock(),
        )
        self._sessions[session.token] = session
        return session

    def drop(self, token: str) -> None:
        """Forget a session (sign-out, or replaced at sign-in)."""
        self._sessions.pop(token, None)

    def __len__(self) -> int:
        return len(self._sessions)


def csrf_ok(session: WebSession | None, sent: str | None) -> bool:
    """Whether a form's token is its session's (compared in constant time)."""
    if session is None or not sent:
        return False
    return hmac.compare_digest(session.csrf.encode(), sent.encode("utf-8", "replace"))
