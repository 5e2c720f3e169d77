"""What an account is entitled to, as the seed's rules state it.

Free support ("Assistance clients gratuite (Garantie)"): the holder of a registered
licence may open incidents for `FREE_SUPPORT_DAYS` days from the purchase date:
the purchase date is day 0 and day ``FREE_SUPPORT_DAYS - 1`` is the last one (so
with 60 days, a licence bought on 1 March is covered up to and including 29 April).
Only the licence's own account has it (never shared), never for a product bought
under Passport, never for specialists or the sysop ("L'employé d'un service
d'assistance logicielle ne peut y recourir").

Support Passport Premium: a contract of a company, for one product family or
Working Together (all of them), valid from `starts_on` to `ends_on` inclusive.
`unlimited`: any number of named contacts, unlimited incidents; `limited`: at most
`LIMITED_MAX_CONTACTS` named contacts and a credit of incidents; both include the
Knowledge base until `kb_until`. `incident`: the per-incident programme (credits
bought one by one). `knowledge`: a Knowledge base subscription of the company,
without incidents. A contract outside its term gives nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

from sqlalchemy import Table, and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bbs.store.schema import AccountRow, ContractContactRow, ContractRow, LicenceRow

FREE_SUPPORT_DAYS = 60
"""Length of free support after purchase; the seed says Lotus may change it."""

LIMITED_MAX_CONTACTS = 5
"""Named contacts allowed on a limited Premium contract."""

KINDS: tuple[str, ...] = ("unlimited", "limited", "incident", "knowledge")
"""Contract kinds, as stored in `contract.kind`."""

PREMIUM_KINDS: frozenset[str] = frozenset({"unlimited", "limited"})
"""Support Passport Premium proper: these include a year of the Knowledge base."""

INCIDENT_KINDS: frozenset[str] = frozenset({"unlimited", "limited", "incident"})
"""Kinds under which a named contact may open incidents."""

CREDIT_KINDS: frozenset[str] = frozenset({"limited", "incident"})
"""Kinds whose incidents are counted against a credit."""

NO_FREE_SUPPORT_ROLES: frozenset[str] = frozenset({"specialist", "sysop"})
"""Stored roles that never get free support (support staff)."""

CLOSE_REASONS: tuple[str, ...] = (
    "resolu",
    "sans_reponse_client",
    "doublon",
    "hors_garantie_developpement",
    "hors_contrat",
    "retire_par_client",
)
"""Why a specialist closes an incident (labels in `menus/strings/assistance.toml`,
key ``asst.close_reason.<code>``). `hors_garantie_developpement` is the seed's refusal of
development, conversion or rewriting questions."""

CLOSE_REASON_KEYS: MappingProxyType[str, str] = MappingProxyType(
    {code: f"asst.close_reason.{code}" for code in CLOSE_REASONS}
)
"""Close reason -> the string key of its label (`session.text(key)`)."""


@dataclass(frozen=True)
class Right:
    """One way an account may open an incident today.

    `basis` is "free" (then `licence_id` and `product` are set) or "contract" (then
    `contract_id` and `contract_number`). `credits_left` is None when unlimited.
    `ends_on` is the last day the right holds; `days_left` counts today, so it is 1
    on that last day.
    """

    basis: str
    family: str
    contract_id: int | None
    contract_number: str | None
    licence_id: int | None
    product: str | None
    credits_left: int | None
    ends_on: date
    days_left: int


def today_utc() -> date:
    """The board's calendar day (UTC): every node agrees on when a term ends."""
    return datetime.now(UTC).date()


def free_support_ends(purchased_on: date) -> date:
    """The last day of free support for a licence bought on `purchased_on`."""
    return purchased_on + timedelta(days=FREE_SUPPORT_DAYS - 1)


def days_left(ends_on: date, today: date) -> int:
    """Days a term still runs, today included (0 once it has ended)."""
    return max(0, (ends_on - today).days + 1)


def contract_ends(starts_on: date) -> date:
    """The last day of a one-year contract starting on `starts_on` (29 Feb -> 28 Feb)."""
    try:
        anniversary = starts_on.replace(year=starts_on.year + 1)
    except ValueError:
        anniversary = starts_on.replace(year=starts_on.year + 1, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


def is_current(starts_on: date, ends_on: date, today: date) -> bool:
    """Whether a term from `starts_on` to `ends_on` (inclusive) holds on `today`."""
    return starts_on <= today <= ends_on


_CONTRACT: Table = ContractRow.__table__  # type: ignore[assignment]
_C = _CONTRACT.c
_CC = ContractContactRow.__table__.c
_L = LicenceRow.__table__.c
_A = AccountRow.__table__.c


def _current(today: date) -> ColumnElement[bool]:
    return and_(_C.starts_on <= today, _C.ends_on >= today)


async def incident_rights(conn: AsyncConnection, account_id: int, today: date) -> list[Right]:
    """Every way `account_id` may open an incident today: its licences still in their
    free window, then the current contracts it is a named contact of that have
    credits left or are unlimited."""
    rights: list[Right] = []
    role = (await conn.execute(select(_A.role).where(_A.id == account_id))).scalar_one_or_none()
    if role is None:
        return rights
    if role not in NO_FREE_SUPPORT_ROLES:
        earliest = today - timedelta(days=FREE_SUPPORT_DAYS - 1)
        licences = await conn.execute(
            select(_L.id, _L.product, _L.family, _L.purchased_on)
            .where(
                _L.account_id == account_id,
                _L.via_passport.is_(False),
                _L.purchased_on <= today,
                _L.purchased_on >= earliest,
            )
            .order_by(_L.purchased_on, _L.id)
        )
        for lic in licences:
            ends = free_support_ends(lic.purchased_on)
            rights.append(
                Right(
                    basis="free",
                    family=lic.family,
                    contract_id=None,
                    contract_number=None,
                    licence_id=lic.id,
                    product=lic.product,
                    credits_left=None,
                    ends_on=ends,
                    days_left=days_left(ends, today),
                )
            )
    contracts = await conn.execute(
        select(_C.id, _C.number, _C.family, _C.kind, _C.credits, _C.ends_on)
        .join(ContractContactRow.__table__, _CC.contract_id == _C.id)
        .where(
            _CC.account_id == account_id,
            _C.kind.in_(sorted(INCIDENT_KINDS)),
            _current(today),
        )
        .order_by(_C.ends_on, _C.id)
    )
    for row in contracts:
        unlimited = row.kind == "unlimited"
        if not unlimited and not (row.credits or 0) > 0:
            continue
        rights.append(
            Right(
                basis="contract",
                family=row.family,
                contract_id=row.id,
                contract_number=row.number,
                licence_id=None,
                product=None,
                credits_left=None if unlimited else row.credits,
                ends_on=row.ends_on,
                days_left=days_left(row.ends_on, today),
            )
        )
    return rights


async def is_named_contact(conn: AsyncConnection, account_id: int, today: date) -> bool:
    """Whether `account_id` is a named contact of a current support contract (any
    kind with incidents, credits left or not)."""
    found = await conn.execute(
        select(_C.id)
        .join(ContractContactRow.__table__, _CC.contract_id == _C.id)
        .where(
            _CC.account_id == account_id,
            _C.kind.in_(sorted(INCIDENT_KINDS)),
            _current(today),
        )
        .limit(1)
    )
    return found.first() is not None


def _kb_end(kind: str, ends_on: date, kb_until: date | None) -> date | None:
    if kind == "knowledge":
        end = kb_until or ends_on
    elif kind in PREMIUM_KINDS:
        if kb_until is None:
            return None
        end = kb_until
    else:
        return None
    # An expired contract gives nothing, whatever its Knowledge date says.
    return min(end, ends_on)


async def kb_access(conn: AsyncConnection, account_id: int, today: date) -> date | None:
    """Until when `account_id` may use the Knowledge base: a current Premium contract
    it is a named contact of, or a current Knowledge subscription of its company;
    None when it may not."""
    company_id = (
        await conn.execute(select(_A.company_id).where(_A.id == account_id))
    ).scalar_one_or_none()
    as_contact = (
        select(_C.kind, _C.ends_on, _C.kb_until)
        .join(ContractContactRow.__table__, _CC.contract_id == _C.id)
        .where(
            _CC.account_id == account_id,
            _C.kind.in_(sorted(PREMIUM_KINDS)),
            _current(today),
        )
    )
    rows = list(await conn.execute(as_contact))
    if company_id is not None:
        rows += list(
            await conn.execute(
                select(_C.kind, _C.ends_on, _C.kb_until).where(
                    _C.company_id == company_id,
                    _C.kind == "knowledge",
                    _current(today),
                )
            )
        )
    best: date | None = None
    for row in rows:
        end = _kb_end(row.kind, row.ends_on, row.kb_until)
        if end is not None and end >= today and (best is None or end > best):
            best = end
    return best


async def spend_credit(conn: AsyncConnection, contract_id: int) -> bool:
    """Take one incident credit of a contract, inside the caller's write transaction.

    One conditional UPDATE (``credits > 0``), so two contacts spending the last
    credit at once cannot both succeed: on PostgreSQL the second waits for the
    first's row lock and then finds no credit; on SQLite writers are serialised.
    True for an unlimited contract (unchanged); False when no credit was left, or
    for a contract without incidents or that does not exist.
    """
    taken = await conn.execute(
        update(_CONTRACT)
        .where(_C.id == contract_id, _C.credits > 0, _C.kind.in_(sorted(CREDIT_KINDS)))
        .values(credits=_C.credits - 1, version=_C.version + 1)
    )
    if taken.rowcount == 1:
        return True
    kind = (await conn.execute(select(_C.kind).where(_C.id == contract_id))).scalar_one_or_none()
    return kind == "unlimited"
