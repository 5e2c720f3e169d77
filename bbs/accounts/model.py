"""Who is at the keyboard: a signed-in caller or a guest, and what their role lets them do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum


class Role(StrEnum):
    """A caller's role, least trusted first (menu items may be limited to some)."""

    GUEST = "guest"
    CALLER = "caller"
    CONTACT = "contact"
    """A caller named on a current Passport Premium contract (derived, not stored)."""
    SPECIALIST = "specialist"
    SYSOP = "sysop"


STORED_ROLES = (Role.CALLER, Role.SPECIALIST, Role.SYSOP)
"""Roles kept in `account.role`; CONTACT follows from the contracts, GUEST has no account."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The identity a session acts for; `account_id` is None for a guest."""

    account_id: int | None
    name: str
    role: Role
    company_id: int | None = None
    company: str = ""
    country: str = ""
    lang: str = "fr"
    last_visit: str | None = None
    """ISO time of the previous sign-in (UTC), None on a first visit or for a guest."""

    @property
    def is_guest(self) -> bool:
        """Whether nobody is signed in."""
        return self.account_id is None

    @property
    def is_staff(self) -> bool:
        """Specialists and the sysop: they see every company's incidents."""
        return self.role in (Role.SPECIALIST, Role.SYSOP)


GUEST = Caller(account_id=None, name="", role=Role.GUEST)
"""The identity of a session before sign-in, and of a caller who chose guest entry."""


@dataclass(frozen=True, slots=True)
class Prefs:
    """What a caller chose rather than what was detected; None is "as detected"."""

    lang: str | None = None
    hotkeys: bool | None = None
    protocol: str | None = None
    tier: str | None = None
    encoding: str | None = None
    eight_bit: bool | None = None
    cols: int | None = None
    rows: int | None = None
    baud: int | None = None

    def over(self, older: Prefs) -> Prefs:
        """These choices, and `older`'s where these say nothing."""
        changes = {k: v for k, v in asdict(self).items() if v is not None}
        return replace(older, **changes)

    @property
    def empty(self) -> bool:
        """Whether nothing was chosen."""
        return all(v is None for v in asdict(self).values())


NO_PREFS = Prefs()
"""Nothing chosen: everything as detected, the board's language."""
