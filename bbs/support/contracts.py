"""Support contracts in the store: create, list, name and remove contacts, add credits,
and one caller's whole support picture for "Mon assistance".

Every function runs inside the caller's transaction (`bbs.store.db.transaction`);
those that change something want a write transaction. Refusals raise
`ContractError` with one line for the sysop, and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.accounts.names import name_key
from bbs.accounts.store import company_id_for
from bbs.directory.text import fold
from bbs.store.schema import AccountRow, CompanyRow, ContractContactRow, ContractRow, LicenceRow
from bbs.support.entitlements import (
    CREDIT_KINDS,
    KINDS,
    LIMITED_MAX_CONTACTS,
    NO_FREE_SUPPORT_ROLES,
    PREMIUM_KINDS,
    contract_ends,
    days_left,
    free_support_ends,
    is_current,
    kb_access,
)
from bbs.support.products import covering_all, family_codes

CONTRACT: Table = ContractRow.__table__  # type: ignore[assignment]
CONTACT: Table = ContractContactRow.__table__  # type: ignore[assignment]
COMPANY: Table = CompanyRow.__table__  # type: ignore[assignment]
ACCOUNT: Table = AccountRow.__table__  # type: ignore[assignment]
LICENCE: Table = LicenceRow.__table__  # type: ignore[assignment]

NUMBER_PREFIX = {"unlimited": "PP", "limited": "PP", "incident": "PI", "knowledge": "KB"}
"""Contract numbers read like PP-95-00042: kind, year of start, sequence."""

INCIDENT_FAMILY = "desktop"
"""The per-incident programme covers the desktop products only (the seed's words)."""

INCIDENT_MAX_CONTACTS = 1
"""A per-incident purchase is for one person."""

MAX_CREDITS = 10_000
"""A sanity bound on credits given at once (a typo guard, not a business rule)."""

_NUMBER = re.compile(r"^[A-Z]{2}-\d{2}-(\d{5,9})$", re.ASCII)


class ContractError(Exception):
    """A contract operation refused; the message is one line for the sysop."""


@dataclass(frozen=True)
class Contract:
    """A contract as listed and shown: its terms and its named contacts' names."""

    id: int
    number: str
    company_id: int
    company: str
    family: str
    kind: str
    starts_on: date
    ends_on: date
    credits: int | None
    kb_until: date | None
    contacts: tuple[str, ...]

    @property
    def max_contacts(self) -> int | None:
        """How many named contacts the contract allows (None: any number)."""
        return max_contacts(self.kind)


@dataclass(frozen=True)
class LicenceStatus:
    """One of a caller's licences and where it stands for free support.

    `state`: "active" (in its free window), "expired", "passport" (bought under
    Passport: none), "staff" (support staff: none) or "future" (purchase date ahead).
    """

    product: str
    family: str
    licence_number: str
    purchased_on: date
    free_until: date
    days_left: int
    state: str


@dataclass(frozen=True)
class ContractStatus:
    """One contract a caller is a named contact of, as "Mon assistance" shows it."""

    number: str
    company: str
    family: str
    kind: str
    starts_on: date
    ends_on: date
    days_left: int
    current: bool
    credits: int | None
    contacts_used: int
    max_contacts: int | None


@dataclass(frozen=True)
class SupportSummary:
    """Everything a caller is entitled to today."""

    licences: tuple[LicenceStatus, ...]
    contracts: tuple[ContractStatus, ...]
    kb_until: date | None


def max_contacts(kind: str) -> int | None:
    """Named contacts allowed by a kind of contract (None: any number; 0: none)."""
    return {
        "unlimited": None,
        "limited": LIMITED_MAX_CONTACTS,
        "incident": INCIDENT_MAX_CONTACTS,
        "knowledge": 0,
    }[kind]


def account_key(name: str) -> str:
    """An account name as `account.name_key` holds it (the accounts area's rule)."""
    return name_key(name)


def _now() -> datetime:
    return datetime.now(UTC)


# --- creating and reading --------------------------------------------------------


async def _next_number(conn: AsyncConnection, kind: str, starts_on: date) -> str:
    prefix = f"{NUMBER_PREFIX[kind]}-{starts_on.year % 100:02d}-"
    numbers = await conn.scalars(
        select(CONTRACT.c.number).where(CONTRACT.c.number.like(f"{prefix}%"))
    )
    highest = 0
    for number in numbers:
        match = _NUMBER.match(number)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"{prefix}{highest + 1:05d}"


def check_terms(kind: str, family: str | None, credits: int | None) -> tuple[str, int | None]:
    """The family and credits a new contract gets, or ContractError for terms the
    programmes do not offer."""
    if kind not in KINDS:
        raise ContractError(f"unknown contract kind {kind!r}: one of {', '.join(KINDS)}")
    families = family_codes()
    if family is not None and family not in families:
        raise ContractError(f"unknown product family {family!r}: one of {', '.join(families)}")
    if credits is not None and not 0 <= credits <= MAX_CREDITS:
        raise ContractError(f"credits must be between 0 and {MAX_CREDITS}")
    if kind in PREMIUM_KINDS:
        if family is None:
            raise ContractError("a Passport Premium contract needs --family")
        if kind == "unlimited":
            if credits is not None:
                raise ContractError("an unlimited contract has no credits")
            return family, None
        if credits is None:
            raise ContractError("a limited contract needs --credits (its credit of incidents)")
        return family, credits
    if kind == "incident":
        if family not in (None, INCIDENT_FAMILY):
            raise ContractError("the per-incident programme covers the desktop products only")
        return INCIDENT_FAMILY, 1 if credits is None else credits
    if family not in (None, covering_all()):
        raise ContractError("a Knowledge base subscription covers every product: no --family")
    if credits is not None:
        raise ContractError("a Knowledge base subscription opens no incidents: no --credits")
    return covering_all(), None


async def create_contract(
    conn: AsyncConnection,
    *,
    company: str,
    kind: str,
    family: str | None = None,
    credits: int | None = None,
    starts_on: date,
    number: str | None = None,
) -> Contract:
    """A new contract for `company` (created when new), one year from `starts_on`."""
    family, credits = check_terms(kind, family, credits)
    company = " ".join(company.split())
    if not company:
        raise ContractError("the company name is empty")
    if number is not None:
        number = number.strip().upper()
        if not number or any(c.isspace() for c in number) or len(number) > 40:
            raise ContractError(f"bad contract number {number!r}")
        if await conn.scalar(select(CONTRACT.c.id).where(CONTRACT.c.number == number)):
            raise ContractError(f"contract {number} already exists")
    else:
        number = await _next_number(conn, kind, starts_on)
    company_id = await company_id_for(conn, company)
    ends_on = contract_ends(starts_on)
    kb_until = ends_on if kind in PREMIUM_KINDS or kind == "knowledge" else None
    await conn.execute(
        insert(CONTRACT).values(
            number=number,
            company_id=company_id,
            family=family,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            credits=credits,
            kb_until=kb_until,
            created_at=_now(),
            version=0,
        )
    )
    found = await get_contract(conn, number)
    assert found is not None
    return found


def _contract_columns() -> Any:
    return select(CONTRACT, COMPANY.c.name.label("company")).join(
        COMPANY, COMPANY.c.id == CONTRACT.c.company_id
    )


async def _contact_names(conn: AsyncConnection, contract_id: int) -> tuple[str, ...]:
    names = await conn.scalars(
        select(ACCOUNT.c.name)
        .join(CONTACT, CONTACT.c.account_id == ACCOUNT.c.id)
        .where(CONTACT.c.contract_id == contract_id)
        .order_by(CONTACT.c.added_at, CONTACT.c.id)
    )
    return tuple(names)


def _contract(row: Any, contacts: tuple[str, ...]) -> Contract:
    return Contract(
        id=row.id,
        number=row.number,
        company_id=row.company_id,
        company=row.company,
        family=row.family,
        kind=row.kind,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        credits=row.credits,
        kb_until=row.kb_until,
        contacts=contacts,
    )


async def get_contract(conn: AsyncConnection, number: str) -> Contract | None:
    """The contract numbered `number` (case does not matter), None when there is none."""
    row = (
        await conn.execute(_contract_columns().where(CONTRACT.c.number == number.strip().upper()))
    ).first()
    if row is None:
        return None
    return _contract(row, await _contact_names(conn, row.id))


async def list_contracts(conn: AsyncConnection, company: str | None = None) -> list[Contract]:
    """Every contract, or one company's, by company then start date."""
    stmt = _contract_columns().order_by(COMPANY.c.name_key, CONTRACT.c.starts_on, CONTRACT.c.id)
    if company is not None:
        stmt = stmt.where(COMPANY.c.name_key == fold(company))
    rows = list(await conn.execute(stmt))
    return [_contract(row, await _contact_names(conn, row.id)) for row in rows]


async def _need_contract(conn: AsyncConnection, number: str, *, lock: bool = False) -> Any:
    stmt = select(CONTRACT).where(CONTRACT.c.number == number.strip().upper())
    if lock:
        # PostgreSQL: contact changes on one contract queue here, so two adds cannot
        # both take the last slot; SQLite's write transaction is already exclusive.
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise ContractError(f"no contract numbered {number.strip().upper()}")
    return row


async def _need_account(conn: AsyncConnection, name: str) -> Any:
    row = (
        await conn.execute(
            select(ACCOUNT.c.id, ACCOUNT.c.name, ACCOUNT.c.role, ACCOUNT.c.company_id).where(
                ACCOUNT.c.name_key == account_key(name)
            )
        )
    ).first()
    if row is None:
        raise ContractError(f"no account named {name!r}")
    return row


# --- named contacts and credits --------------------------------------------------


async def add_contact(conn: AsyncConnection, number: str, name: str, today: date) -> Contract:
    """Name the account `name` a contact of contract `number`.

    Refused for support staff, for an account of another company (one without a
    company joins the contract's), on an expired contract, on a Knowledge
    subscription, and past the contract's number of contacts.
    """
    contract = await _need_contract(conn, number, lock=True)
    account = await _need_account(conn, name)
    if account.role in NO_FREE_SUPPORT_ROLES:
        raise ContractError(f"{account.name} is support staff ({account.role}), not a customer")
    allowed = max_contacts(contract.kind)
    if allowed == 0:
        raise ContractError(
            "a Knowledge base subscription covers the whole company: it has no named contacts"
        )
    if contract.ends_on < today:
        raise ContractError(f"contract {contract.number} ended on {contract.ends_on.isoformat()}")
    if account.company_id is not None and account.company_id != contract.company_id:
        raise ContractError(f"{account.name} belongs to another company than the contract's")
    already = await conn.scalar(
        select(CONTACT.c.id).where(
            CONTACT.c.contract_id == contract.id, CONTACT.c.account_id == account.id
        )
    )
    if already is not None:
        raise ContractError(f"{account.name} is already a named contact of {contract.number}")
    if allowed is not None:
        used = await conn.scalar(
            select(func.count()).select_from(CONTACT).where(CONTACT.c.contract_id == contract.id)
        )
        if (used or 0) >= allowed:
            raise ContractError(
                f"contract {contract.number} ({contract.kind}) already has its {allowed} "
                "named contact(s): remove one first"
            )
    if account.company_id is None:
        await conn.execute(
            update(ACCOUNT)
            .where(ACCOUNT.c.id == account.id, ACCOUNT.c.company_id.is_(None))
            .values(company_id=contract.company_id)
        )
    await conn.execute(
        insert(CONTACT).values(contract_id=contract.id, account_id=account.id, added_at=_now())
    )
    await conn.execute(
        update(CONTRACT).where(CONTRACT.c.id == contract.id).values(version=CONTRACT.c.version + 1)
    )
    found = await get_contract(conn, contract.number)
    assert found is not None
    return found


async def remove_contact(conn: AsyncConnection, number: str, name: str) -> Contract:
    """Take `name` off contract `number`'s named contacts: its rights end at once."""
    contract = await _need_contract(conn, number, lock=True)
    account = await _need_account(conn, name)
    gone = await conn.execute(
        delete(CONTACT).where(
            CONTACT.c.contract_id == contract.id, CONTACT.c.account_id == account.id
        )
    )
    if gone.rowcount == 0:
        raise ContractError(f"{account.name} is not a named contact of {contract.number}")
    await conn.execute(
        update(CONTRACT).where(CONTRACT.c.id == contract.id).values(version=CONTRACT.c.version + 1)
    )
    found = await get_contract(conn, contract.number)
    assert found is not None
    return found


async def add_credits(conn: AsyncConnection, number: str, count: int, today: date) -> Contract:
    """Add `count` incident credits (a per-incident purchase adds one) to a limited or
    per-incident contract still in its term."""
    if not 1 <= count <= MAX_CREDITS:
        raise ContractError(f"credits to add must be between 1 and {MAX_CREDITS}")
    contract = await _need_contract(conn, number)
    if contract.kind not in CREDIT_KINDS:
        raise ContractError(
            f"contract {contract.number} is {contract.kind}: only limited and per-incident "
            "contracts have credits"
        )
    if contract.ends_on < today:
        raise ContractError(f"contract {contract.number} ended on {contract.ends_on.isoformat()}")
    # Relative, so a credit spent meanwhile by a contact is not overwritten.
    await conn.execute(
        update(CONTRACT)
        .where(CONTRACT.c.id == contract.id)
        .values(credits=CONTRACT.c.credits + count, version=CONTRACT.c.version + 1)
    )
    found = await get_contract(conn, contract.number)
    assert found is not None
    return found


# --- one caller's picture ----------------------------------------------------------


def licence_state(role: str, purchased_on: date, via_passport: bool, today: date) -> str:
    """Where a licence stands for free support (see `LicenceStatus.state`)."""
    if role in NO_FREE_SUPPORT_ROLES:
        return "staff"
    if via_passport:
        return "passport"
    if purchased_on > today:
        return "future"
    return "active" if today <= free_support_ends(purchased_on) else "expired"


async def support_summary(conn: AsyncConnection, account_id: int, today: date) -> SupportSummary:
    """The caller's licences, the contracts they are a named contact of (current ones
    first), and their Knowledge base access, as of `today`."""
    role = await conn.scalar(select(ACCOUNT.c.role).where(ACCOUNT.c.id == account_id))
    licences: list[LicenceStatus] = []
    rows = await conn.execute(
        select(LICENCE)
        .where(LICENCE.c.account_id == account_id)
        .order_by(LICENCE.c.purchased_on.desc(), LICENCE.c.id)
    )
    for lic in rows:
        state = licence_state(str(role), lic.purchased_on, lic.via_passport, today)
        ends = free_support_ends(lic.purchased_on)
        licences.append(
            LicenceStatus(
                product=lic.product,
                family=lic.family,
                licence_number=lic.licence_number,
                purchased_on=lic.purchased_on,
                free_until=ends,
                days_left=days_left(ends, today) if state == "active" else 0,
                state=state,
            )
        )
    others = CONTACT.alias("others")
    used = (
        select(func.count())
        .select_from(others)
        .where(others.c.contract_id == CONTRACT.c.id)
        .correlate(CONTRACT)
        .scalar_subquery()
    )
    contract_rows = await conn.execute(
        select(CONTRACT, COMPANY.c.name.label("company"), used.label("used"))
        .join(COMPANY, COMPANY.c.id == CONTRACT.c.company_id)
        .join(CONTACT, CONTACT.c.contract_id == CONTRACT.c.id)
        .where(CONTACT.c.account_id == account_id)
        .order_by(CONTRACT.c.ends_on.desc(), CONTRACT.c.id)
    )
    contracts = [
        ContractStatus(
            number=row.number,
            company=row.company,
            family=row.family,
            kind=row.kind,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            days_left=days_left(row.ends_on, today) if row.starts_on <= today else 0,
            current=is_current(row.starts_on, row.ends_on, today),
            credits=row.credits,
            contacts_used=int(row.used),
            max_contacts=max_contacts(row.kind),
        )
        for row in contract_rows
    ]
    contracts.sort(key=lambda c: not c.current)
    return SupportSummary(
        licences=tuple(licences),
        contracts=tuple(contracts),
        kb_until=await kb_access(conn, account_id, today),
    )
