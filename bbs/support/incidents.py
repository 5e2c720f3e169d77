"""Incident tracking ("L'assistance Lotus par liaison"): states, rights to see and act,
and the queries behind the screens.

An incident moves through `State` by `Action`s, and `TRANSITIONS` is the whole rule:
an action not listed from the current state is refused. Every action writes one
`incident_event` row (the audit trail, never edited). Writers check that the
incident is still the version they read (`version` in the `WHERE`, then `version =
version + 1`), so two people acting at once never silently overwrite each other:
the second gets a `Conflict` carrying what changed.

Who sees what (`visibility`): specialists and the sysop see every incident, a named
contact their company's, any other caller their own, a guest none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import Select, Table, false, func, insert, or_, select, true, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bbs.accounts.model import Caller, Role
from bbs.store.db import transaction
from bbs.store.schema import (
    AccountRow,
    CompanyRow,
    ContractRow,
    IncidentAttachmentRow,
    IncidentEventRow,
    IncidentRow,
)
from bbs.support.entitlements import CLOSE_REASONS, Right, incident_rights, spend_credit
from bbs.support.products import covers, support_products

SUMMARY_MAX = 72
"""Longest summary, in characters: one screen line with its number in front."""
VERSION_MAX = 20
OS_MAX = 30
TEXT_MAX = 20000
"""Longest description or message."""
AUTO_CLOSE_DAYS = 14
"""A resolved incident the caller does not answer is closed after this many days."""

OPERATING_SYSTEMS: tuple[str, ...] = (
    "DOS",
    "Windows 3.1",
    "Windows 95",
    "Windows NT",
    "OS/2",
    "Macintosh",
    "UNIX",
)
"""The short list offered when opening; "autre" lets the caller type another."""


class State(StrEnum):
    """Where an incident stands."""

    NOUVEAU = "nouveau"
    EN_COURS = "en_cours"
    ATTENTE_CLIENT = "attente_client"
    RESOLU = "resolu"
    FERME = "ferme"


class Action(StrEnum):
    """Something done to an incident; also the `kind` of the event it writes."""

    OPEN = "opened"
    TAKE = "take"
    REPLY = "reply"
    ASK = "ask"
    ANSWER = "answer"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    EXPIRE = "expire"
    CLOSE = "close"
    ATTACH = "attach"


class Actor(StrEnum):
    """Who may take an action: support staff, the callers who see the incident, the board."""

    STAFF = "staff"
    CLIENT = "client"
    SYSTEM = "system"


_S = State
_OPEN_STATES = (_S.NOUVEAU, _S.EN_COURS, _S.ATTENTE_CLIENT, _S.RESOLU)

TRANSITIONS: MappingProxyType[tuple[Action, State], State] = MappingProxyType(
    {
        # A specialist takes a new incident, or takes over one a colleague holds.
        (Action.TAKE, _S.NOUVEAU): _S.EN_COURS,
        (Action.TAKE, _S.EN_COURS): _S.EN_COURS,
        (Action.REPLY, _S.EN_COURS): _S.EN_COURS,
        (Action.REPLY, _S.ATTENTE_CLIENT): _S.ATTENTE_CLIENT,
        (Action.ASK, _S.EN_COURS): _S.ATTENTE_CLIENT,
        (Action.RESOLVE, _S.EN_COURS): _S.RESOLU,
        (Action.RESOLVE, _S.ATTENTE_CLIENT): _S.RESOLU,
        # The caller answers: more to read for the specialist; after a resolution it
        # says the problem is still there, so the incident is back in progress.
        (Action.ANSWER, _S.NOUVEAU): _S.NOUVEAU,
        (Action.ANSWER, _S.EN_COURS): _S.EN_COURS,
        (Action.ANSWER, _S.ATTENTE_CLIENT): _S.EN_COURS,
        (Action.ANSWER, _S.RESOLU): _S.EN_COURS,
        (Action.CONFIRM, _S.RESOLU): _S.FERME,
        (Action.EXPIRE, _S.RESOLU): _S.FERME,
        **{(Action.CLOSE, s): _S.FERME for s in _OPEN_STATES},
        **{(Action.ATTACH, s): s for s in _OPEN_STATES},
    }
)
"""(action, state before) -> state after; anything missing is refused."""

ACTORS: MappingProxyType[Action, Actor] = MappingProxyType(
    {
        Action.OPEN: Actor.CLIENT,
        Action.TAKE: Actor.STAFF,
        Action.REPLY: Actor.STAFF,
        Action.ASK: Actor.STAFF,
        Action.RESOLVE: Actor.STAFF,
        Action.CLOSE: Actor.STAFF,
        Action.ANSWER: Actor.CLIENT,
        Action.CONFIRM: Actor.CLIENT,
        Action.ATTACH: Actor.CLIENT,
        Action.EXPIRE: Actor.SYSTEM,
    }
)
"""Who may take each action."""

NEEDS_TEXT: frozenset[Action] = frozenset({Action.REPLY, Action.ASK, Action.ANSWER, Action.RESOLVE})
"""Actions that are a message: refused without one."""

TO_CALLER: frozenset[str] = frozenset({Action.REPLY, Action.ASK, Action.RESOLVE, Action.CLOSE})
"""Event kinds that are the specialists' word to the caller: counted as unread replies."""


class IncidentError(Exception):
    """An incident operation refused; the screens turn each kind into a message."""


class NoCredit(IncidentError):
    """The contract's credit of incidents is spent."""


class RightGone(IncidentError):
    """The entitlement chosen no longer holds (term ended, no longer a contact)."""


class NotAllowed(IncidentError):
    """This action is not open to this person in this state (or the input is bad)."""


class Unknown(IncidentError):
    """No such incident, or one this person may not see (the same to them)."""


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident as read, with the names the screens show."""

    id: int
    account_id: int
    opener: str
    company_id: int | None
    company: str
    basis: str
    contract_id: int | None
    licence_id: int | None
    product: str
    family: str
    product_version: str
    os: str
    summary: str
    state: State
    specialist_id: int | None
    specialist: str
    opened_at: datetime
    updated_at: datetime
    caller_seen_at: datetime | None
    close_reason: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the audit trail; `staff` tells a specialist's word from a caller's."""

    id: int
    at: datetime
    actor_id: int | None
    actor: str
    staff: bool
    kind: str
    state_from: str | None
    state_to: str | None
    body: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """An example file sent with an incident (kept in the upload area)."""

    id: int
    stored_name: str
    sender_name: str
    size: int
    sha256: str
    uploaded_at: datetime
    description: str = ""
    """What the sender said the file is, as written (shown through the text filter)."""


@dataclass(frozen=True, slots=True)
class IncidentFile:
    """An incident with its whole history and attachments, read in one snapshot."""

    incident: Incident
    events: tuple[Event, ...]
    attachments: tuple[Attachment, ...]

    @property
    def last_event_id(self) -> int:
        """The newest event read (what "changed since" is measured from)."""
        return max((e.id for e in self.events), default=0)


@dataclass(frozen=True, slots=True)
class Listed:
    """An incident in a list, with the replies its opener has not read yet."""

    incident: Incident
    unread: int


class Conflict(IncidentError):
    """Someone changed the incident since it was read: here it is now, and how."""

    def __init__(self, incident: Incident, changes: tuple[Event, ...] = ()) -> None:
        super().__init__(f"incident {incident.id} is now at version {incident.version}")
        self.incident = incident
        self.changes = changes


@dataclass(frozen=True, slots=True)
class NewIncident:
    """What a caller filled in to open an incident."""

    right: Right
    product: str
    product_version: str
    os: str
    summary: str
    description: str


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the upload area kept, to attach (see `bbs.transfer.uploads.Upload`)."""

    stored_name: str
    sender_name: str
    size: int
    sha256: str
    description: str = ""


DESCRIPTION_MAX = 60
"""Characters of a file's one-line description."""


# --- rules (pure) ------------------------------------------------------------------


def next_state(action: Action, state: State) -> State | None:
    """The state `action` leads to from `state`; None when it is not allowed there."""
    return TRANSITIONS.get((action, state))


def may_see(caller: Caller, incident: Incident) -> bool:
    """Whether `caller` may see `incident` (the rule `visibility` applies in SQL)."""
    if caller.account_id is None:
        return False
    if caller.is_staff:
        return True
    if incident.account_id == caller.account_id:
        return True
    return (
        caller.role is Role.CONTACT
        and caller.company_id is not None
        and incident.company_id == caller.company_id
    )


def may_act(caller: Caller, incident: Incident, action: Action) -> bool:
    """Whether `caller` may take `action` on `incident` now (role, visibility, state)."""
    if not may_see(caller, incident) or next_state(action, incident.state) is None:
        return False
    actor = ACTORS[action]
    if actor is Actor.STAFF:
        return caller.is_staff
    if actor is Actor.CLIENT:
        return not caller.is_staff
    return False


def actions_for(caller: Caller, incident: Incident) -> list[Action]:
    """What `caller` may do to `incident` now, in the order the screens offer them."""
    order = (
        Action.TAKE,
        Action.REPLY,
        Action.ASK,
        Action.RESOLVE,
        Action.CLOSE,
        Action.ANSWER,
        Action.CONFIRM,
        Action.ATTACH,
    )
    return [a for a in order if may_act(caller, incident, a)]


def covered_products(right: Right) -> list[str]:
    """The products an incident under `right` may be about."""
    if right.basis == "free":
        return [right.product] if right.product else []
    return [p for p, fam in support_products().items() if covers(right.family, fam)]


def check_new(form: NewIncident) -> str | None:
    """What is wrong with an incident form (a message key), or None."""
    if form.product not in covered_products(form.right):
        return "inc.bad_product"
    if not form.product_version.strip() or len(form.product_version) > VERSION_MAX:
        return "inc.bad_version"
    if not form.os.strip() or len(form.os) > OS_MAX:
        return "inc.bad_os"
    if not form.summary.strip() or len(form.summary) > SUMMARY_MAX:
        return "inc.bad_summary"
    if not form.description.strip() or len(form.description) > TEXT_MAX:
        return "inc.bad_text"
    return None


# --- queries -------------------------------------------------------------------------

_INCIDENT: Table = IncidentRow.__table__  # type: ignore[assignment]
_EVENT: Table = IncidentEventRow.__table__  # type: ignore[assignment]
_ATTACH: Table = IncidentAttachmentRow.__table__  # type: ignore[assignment]
_CONTRACT: Table = ContractRow.__table__  # type: ignore[assignment]
_ACCOUNT: Table = AccountRow.__table__  # type: ignore[assignment]
_COMPANY: Table = CompanyRow.__table__  # type: ignore[assignment]
_I = _INCIDENT.c
_E = _EVENT.c
_STAFF_ROLES = ("specialist", "sysop")


def now_utc() -> datetime:
    """The board's clock (UTC, timezone-aware)."""
    return datetime.now(UTC)


def visibility(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition for the incidents `caller` may see."""
    if caller.account_id is None:
        return false()
    if caller.is_staff:
        return true()
    own = _I.account_id == caller.account_id
    if caller.role is Role.CONTACT and caller.company_id is not None:
        return or_(own, _I.company_id == caller.company_id)
    return own


def _select_incidents() -> Select[Any]:
    """Incidents with the opener's, the company's and the specialist's names."""
    opener = aliased(_ACCOUNT, name="opener")
    specialist = aliased(_ACCOUNT, name="specialist")
    company = aliased(_COMPANY, name="company_")
    return select(
        *_INCIDENT.c,
        opener.c.name.label("opener_name"),
        func.coalesce(company.c.name, "").label("company_name"),
        func.coalesce(specialist.c.name, "").label("specialist_name"),
    ).select_from(
        _INCIDENT.join(opener, opener.c.id == _I.account_id)
        .outerjoin(company, company.c.id == _I.company_id)
        .outerjoin(specialist, specialist.c.id == _I.specialist_id)
    )


def _incident(row: Row[Any]) -> Incident:
    m = row._mapping
    return Incident(
        id=m["id"],
        account_id=m["account_id"],
        opener=m["opener_name"],
        company_id=m["company_id"],
        company=m["company_name"],
        basis=m["basis"],
        contract_id=m["contract_id"],
        licence_id=m["licence_id"],
        product=m["product"],
        family=m["family"],
        product_version=m["product_version"],
        os=m["os"],
        summary=m["summary"],
        state=State(m["state"]),
        specialist_id=m["specialist_id"],
        specialist=m["specialist_name"],
        opened_at=m["opened_at"],
        updated_at=m["updated_at"],
        caller_seen_at=m["caller_seen_at"],
        close_reason=m["close_reason"],
        version=m["version"],
    )


async def _fetch(conn: AsyncConnection, incident_id: int) -> Incident | None:
    row = (await conn.execute(_select_incidents().where(_I.id == incident_id))).first()
    return _incident(row) if row is not None else None


async def _events(conn: AsyncConnection, incident_id: int, after: int = 0) -> tuple[Event, ...]:
    actor = aliased(_ACCOUNT, name="actor")
    rows = await conn.execute(
        select(*_EVENT.c, actor.c.name.label("actor_name"), actor.c.role.label("actor_role"))
        .select_from(_EVENT.outerjoin(actor, actor.c.id == _E.actor_id))
        .where(_E.incident_id == incident_id, _E.id > after)
        .order_by(_E.id)
    )
    return tuple(
        Event(
            id=r.id,
            at=r.at,
            actor_id=r.actor_id,
            actor=r.actor_name or "",
            staff=r.actor_role in _STAFF_ROLES,
            kind=r.kind,
            state_from=r.state_from,
            state_to=r.state_to,
            body=r.body,
        )
        for r in rows
    )


async def _attachments(conn: AsyncConnection, incident_id: int) -> tuple[Attachment, ...]:
    rows = await conn.execute(
        select(_ATTACH).where(_ATTACH.c.incident_id == incident_id).order_by(_ATTACH.c.id)
    )
    return tuple(
        Attachment(
            id=r.id,
            stored_name=r.stored_name,
            sender_name=r.sender_name,
            size=r.size,
            sha256=r.sha256,
            uploaded_at=r.uploaded_at,
            description=r.description,
        )
        for r in rows
    )


async def read_incident(engine: AsyncEngine, caller: Caller, number: int) -> IncidentFile | None:
    """Incident `number` with its history, when `caller` may see it; None otherwise
    (whether it does not exist or is someone else's: the caller cannot tell)."""
    if caller.account_id is None:
        return None
    async with transaction(engine, write=False) as conn:
        row = (
            await conn.execute(_select_incidents().where(_I.id == number, visibility(caller)))
        ).first()
        if row is None:
            return None
        incident = _incident(row)
        return IncidentFile(incident, await _events(conn, number), await _attachments(conn, number))


async def incident_exists(engine: AsyncEngine, number: int) -> bool:
    """Whether an incident `number` exists at all (for the log line of a refused look)."""
    async with transaction(engine, write=False) as conn:
        found = await conn.execute(select(_I.id).where(_I.id == number))
        return found.first() is not None


async def open_incident(
    engine: AsyncEngine, caller: Caller, form: NewIncident, *, now: datetime | None = None
) -> int:
    """Open an incident: the incident, its `opened` event and the credit it costs, in one
    write transaction, so that nothing is written when the credit is gone.

    Raises NoCredit, RightGone or NotAllowed (a bad form: see `check_new`).
    """
    if caller.account_id is None or caller.is_staff:
        raise NotAllowed("inc.guest")
    problem = check_new(form)
    if problem is not None:
        raise NotAllowed(problem)
    at = now or now_utc()
    right = form.right
    async with transaction(engine, write=True, store_lock=False) as conn:
        held = await incident_rights(conn, caller.account_id, at.date())
        if not any(_same_right(right, r) for r in held):
            raise await _why_gone(conn, right)
        if right.basis == "contract":
            assert right.contract_id is not None
            if not await spend_credit(conn, right.contract_id):
                raise NoCredit(right.contract_number or "")
        company_id = (
            await conn.execute(
                select(_ACCOUNT.c.company_id).where(_ACCOUNT.c.id == caller.account_id)
            )
        ).scalar_one_or_none()
        result = await conn.execute(
            insert(_INCIDENT)
            .values(
                account_id=caller.account_id,
                company_id=company_id,
                basis=right.basis,
                contract_id=right.contract_id if right.basis == "contract" else None,
                licence_id=right.licence_id if right.basis == "free" else None,
                product=form.product,
                family=support_products()[form.product],
                product_version=form.product_version,
                os=form.os,
                summary=form.summary,
                state=State.NOUVEAU.value,
                specialist_id=None,
                opened_at=at,
                updated_at=at,
                caller_seen_at=at,
                close_reason=None,
                version=0,
            )
            .returning(_I.id)
        )
        incident_id = int(result.scalar_one())
        await _write_event(
            conn,
            incident_id,
            at,
            caller.account_id,
            Action.OPEN,
            None,
            State.NOUVEAU,
            form.description,
        )
    return incident_id


def _same_right(a: Right, b: Right) -> bool:
    return (a.basis, a.contract_id, a.licence_id) == (b.basis, b.contract_id, b.licence_id)


async def _why_gone(conn: AsyncConnection, right: Right) -> IncidentError:
    """Why a right read earlier is no longer held: a spent credit, or the right itself."""
    if right.basis == "contract" and right.contract_id is not None:
        credits = (
            await conn.execute(
                select(_CONTRACT.c.credits).where(_CONTRACT.c.id == right.contract_id)
            )
        ).scalar_one_or_none()
        if credits == 0:
            return NoCredit(right.contract_number or "")
    return RightGone(right.basis)


async def _write_event(
    conn: AsyncConnection,
    incident_id: int,
    at: datetime,
    actor_id: int | None,
    kind: Action,
    state_from: State | None,
    state_to: State | None,
    body: str,
) -> None:
    await conn.execute(
        insert(_EVENT).values(
            incident_id=incident_id,
            at=at,
            actor_id=actor_id,
            kind=kind.value,
            state_from=state_from.value if state_from else None,
            state_to=state_to.value if state_to else None,
            body=body,
        )
    )


async def act(
    engine: AsyncEngine,
    caller: Caller,
    incident_id: int,
    action: Action,
    *,
    read_version: int,
    seen_event: int = 0,
    body: str = "",
    reason: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Take `action` on an incident read at `read_version`; the incident as it is after.

    The row is updated only if it is still at `read_version`; otherwise nothing is
    written and `Conflict` says what the incident is now and which events (after
    `seen_event`) changed it. NotAllowed for an action this caller may not take in
    the current state, a missing message or a bad close reason; Unknown when the
    caller may not see the incident.
    """
    at = now or now_utc()
    if action in NEEDS_TEXT and not body.strip():
        raise NotAllowed("inc.empty_text")
    if len(body) > TEXT_MAX:
        raise NotAllowed("inc.bad_text")
    if action is Action.CLOSE and reason not in CLOSE_REASONS:
        raise NotAllowed("inc.bad_reason")
    if action in (Action.OPEN, Action.ATTACH, Action.EXPIRE):
        raise NotAllowed("inc.not_allowed")
    async with transaction(engine, write=True, store_lock=False) as conn:
        current = await _fetch(conn, incident_id)
        if current is None or not may_see(caller, current):
            raise Unknown(str(incident_id))
        if current.version != read_version:
            raise Conflict(current, await _events(conn, incident_id, seen_event))
        if not may_act(caller, current, action):
            raise NotAllowed("inc.not_allowed")
        after = TRANSITIONS[(action, current.state)]
        values: dict[str, object] = {
            "state": after.value,
            "updated_at": at,
            "version": _I.version + 1,
        }
        if action is Action.TAKE:
            values["specialist_id"] = caller.account_id
        if after is State.FERME:
            values["close_reason"] = reason if action is Action.CLOSE else "resolu"
        changed = await conn.execute(
            update(_INCIDENT)
            .where(_I.id == incident_id, _I.version == read_version)
            .values(**values)
        )
        if changed.rowcount != 1:
            # Another writer committed between our read and our update (PostgreSQL).
            fresh = await _fetch(conn, incident_id)
            assert fresh is not None
            raise Conflict(fresh, await _events(conn, incident_id, seen_event))
        await _write_event(
            conn, incident_id, at, caller.account_id, action, current.state, after, body
        )
        updated = await _fetch(conn, incident_id)
        assert updated is not None
        return updated


async def attach(
    engine: AsyncEngine,
    caller: Caller,
    incident_id: int,
    uploads: Sequence[Upload],
    *,
    now: datetime | None = None,
) -> int:
    """Record completed uploads as the incident's attachments (one event each); how
    many were recorded. Attaching does not change the incident's version: it races
    with nobody."""
    at = now or now_utc()
    if not uploads:
        return 0
    async with transaction(engine, write=True, store_lock=False) as conn:
        current = await _fetch(conn, incident_id)
        if current is None or not may_see(caller, current):
            raise Unknown(str(incident_id))
        if not may_act(caller, current, Action.ATTACH):
            raise NotAllowed("inc.not_allowed")
        for up in uploads:
            await conn.execute(
                insert(_ATTACH).values(
                    incident_id=incident_id,
                    stored_name=up.stored_name,
                    sender_name=up.sender_name,
                    description=up.description[:DESCRIPTION_MAX],
                    size=up.size,
                    sha256=up.sha256,
                    uploaded_at=at,
                    uploaded_by=caller.account_id,
                )
            )
            await _write_event(
                conn,
                incident_id,
                at,
                caller.account_id,
                Action.ATTACH,
                current.state,
                current.state,
                f"{up.sender_name} ({up.size})",
            )
        await conn.execute(update(_INCIDENT).where(_I.id == incident_id).values(updated_at=at))
    return len(uploads)


async def mark_seen(
    engine: AsyncEngine, caller: Caller, incident_id: int, *, now: datetime | None = None
) -> None:
    """Note that the opener has read the incident (its replies are no longer new)."""
    if caller.account_id is None:
        return
    async with transaction(engine, write=True, store_lock=False) as conn:
        await conn.execute(
            update(_INCIDENT)
            .where(_I.id == incident_id, _I.account_id == caller.account_id)
            .values(caller_seen_at=now or now_utc())
        )


def _unread_count() -> ColumnElement[int]:
    """Per incident row: the specialists' messages newer than the opener's last read."""
    return (
        select(func.count())
        .select_from(_EVENT)
        .where(
            _E.incident_id == _I.id,
            _E.kind.in_(sorted(TO_CALLER)),
            or_(_I.caller_seen_at.is_(None), _E.at > _I.caller_seen_at),
        )
        .scalar_subquery()
    )


async def caller_incidents(engine: AsyncEngine, caller: Caller) -> list[Listed]:
    """The incidents `caller` sees, most recently changed first, with unread replies
    (counted on the caller's own incidents only: they are the ones they follow)."""
    if caller.account_id is None:
        return []
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(
            _select_incidents()
            .add_columns(_unread_count().label("unread"))
            .where(visibility(caller))
            .order_by(_I.updated_at.desc(), _I.id.desc())
        )
        return [
            Listed(_incident(r), r.unread if r.account_id == caller.account_id else 0) for r in rows
        ]


QUEUE_STATES: tuple[State, ...] = (State.NOUVEAU, State.EN_COURS, State.ATTENTE_CLIENT)
"""States specialists have work in."""


async def queue(engine: AsyncEngine, family: str | None = None) -> list[Incident]:
    """The specialists' queue: every incident still being worked, oldest first, of one
    product family when `family` is given."""
    query = _select_incidents().where(_I.state.in_([s.value for s in QUEUE_STATES]))
    if family:
        query = query.where(_I.family == family)
    async with transaction(engine, write=False) as conn:
        rows = await conn.execute(query.order_by(_I.opened_at, _I.id))
        return [_incident(r) for r in rows]


async def unread_replies(engine: AsyncEngine, account_id: int) -> int:
    """Specialists' messages on `account_id`'s incidents newer than its last reading."""
    async with transaction(engine, write=False) as conn:
        total = await conn.execute(
            select(func.count())
            .select_from(_EVENT.join(_INCIDENT, _I.id == _E.incident_id))
            .where(
                _I.account_id == account_id,
                _E.kind.in_(sorted(TO_CALLER)),
                or_(_I.caller_seen_at.is_(None), _E.at > _I.caller_seen_at),
            )
        )
        return int(total.scalar_one())


async def new_in_queue(engine: AsyncEngine) -> int:
    """Incidents nobody has taken yet."""
    async with transaction(engine, write=False) as conn:
        total = await conn.execute(
            select(func.count()).select_from(_INCIDENT).where(_I.state == State.NOUVEAU.value)
        )
        return int(total.scalar_one())


async def expire_resolved(engine: AsyncEngine, *, now: datetime | None = None) -> list[int]:
    """Close the resolved incidents nobody answered for `AUTO_CLOSE_DAYS` days (the
    event has no actor: the board did it); the numbers closed."""
    at = now or now_utc()
    cutoff = at - timedelta(days=AUTO_CLOSE_DAYS)
    closed: list[int] = []
    async with transaction(engine, write=True, store_lock=False) as conn:
        due = await conn.execute(
            select(_I.id, _I.version).where(_I.state == State.RESOLU.value, _I.updated_at < cutoff)
        )
        for incident_id, version in list(due):
            changed = await conn.execute(
                update(_INCIDENT)
                .where(_I.id == incident_id, _I.version == version)
                .values(
                    state=State.FERME.value,
                    updated_at=at,
                    close_reason="resolu",
                    version=_I.version + 1,
                )
            )
            if changed.rowcount == 1:
                await _write_event(
                    conn, incident_id, at, None, Action.EXPIRE, State.RESOLU, State.FERME, ""
                )
                closed.append(incident_id)
    return closed
