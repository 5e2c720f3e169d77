"""Company membership: who belongs to a customer company, granted and never claimed.

A caller types a company at registration, but that is free text: entitlements that come
from a company (its Knowledge base subscription, its incidents for named contacts)
follow `account.company_id`, which only the sysop (`bbs company member add`) or a named
contact of one of the company's current contracts sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.directory.text import fold
from bbs.support.contracts import ACCOUNT, COMPANY, CONTACT, CONTRACT, ContractError, account_key
from bbs.support.entitlements import NO_FREE_SUPPORT_ROLES


@dataclass(frozen=True, slots=True)
class Member:
    """One account of a company, for listings."""

    name: str
    role: str
    contact: bool
    """A named contact of one of the company's contracts."""


async def _company(conn: AsyncConnection, name: str) -> tuple[int, str]:
    row = (
        await conn.execute(
            select(COMPANY.c.id, COMPANY.c.name).where(COMPANY.c.name_key == fold(name))
        )
    ).first()
    if row is None:
        raise ContractError(f"no company named {name!r} (companies come with contracts)")
    return int(row.id), str(row.name)


async def _account(conn: AsyncConnection, name: str) -> tuple[int, str, str, int | None]:
    row = (
        await conn.execute(
            select(ACCOUNT.c.id, ACCOUNT.c.name, ACCOUNT.c.role, ACCOUNT.c.company_id).where(
                ACCOUNT.c.name_key == account_key(name)
            )
        )
    ).first()
    if row is None:
        raise ContractError(f"no account named {name!r}")
    return int(row.id), str(row.name), str(row.role), row.company_id


async def may_grant(conn: AsyncConnection, account_id: int, company_id: int, today: date) -> bool:
    """Whether `account_id` is a named contact of a contract of `company_id` running today."""
    found = await conn.scalar(
        select(CONTACT.c.id)
        .join(CONTRACT, CONTRACT.c.id == CONTACT.c.contract_id)
        .where(
            CONTACT.c.account_id == account_id,
            CONTRACT.c.company_id == company_id,
            CONTRACT.c.starts_on <= today,
            CONTRACT.c.ends_on >= today,
        )
        .limit(1)
    )
    return found is not None


async def add_member(
    conn: AsyncConnection, company: str, name: str, today: date, *, by: int | None = None
) -> str:
    """Make account `name` a member of `company`; the company's name as stored.

    `by` is the account granting it (a named contact of one of the company's current
    contracts), None for the sysop. Refused for support staff and for an account that
    already belongs to another company (the sysop removes it first).
    """
    company_id, company_name = await _company(conn, company)
    if by is not None and not await may_grant(conn, by, company_id, today):
        raise ContractError("only a named contact of the company's contract may add members")
    account_id, account_name, role, current = await _account(conn, name)
    if role in NO_FREE_SUPPORT_ROLES:
        raise ContractError(f"{account_name} is support staff ({role}), not a customer")
    if current == company_id:
        raise ContractError(f"{account_name} is already a member of {company_name}")
    if current is not None:
        raise ContractError(f"{account_name} belongs to another company")
    await conn.execute(
        update(ACCOUNT)
        .where(ACCOUNT.c.id == account_id, ACCOUNT.c.company_id.is_(None))
        .values(company_id=company_id)
    )
    return company_name


async def remove_member(conn: AsyncConnection, company: str, name: str) -> str:
    """Take account `name` out of `company` (and off its contracts' named contacts)."""
    company_id, company_name = await _company(conn, company)
    account_id, account_name, _, current = await _account(conn, name)
    if current != company_id:
        raise ContractError(f"{account_name} is not a member of {company_name}")
    contracts = select(CONTRACT.c.id).where(CONTRACT.c.company_id == company_id)
    await conn.execute(
        CONTACT.delete().where(
            CONTACT.c.account_id == account_id, CONTACT.c.contract_id.in_(contracts)
        )
    )
    await conn.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(company_id=None))
    return company_name


async def list_members(conn: AsyncConnection, company: str) -> tuple[str, list[Member]]:
    """The company's name as stored and its members, by name."""
    company_id, company_name = await _company(conn, company)
    contacts = (
        select(CONTACT.c.account_id)
        .join(CONTRACT, CONTRACT.c.id == CONTACT.c.contract_id)
        .where(CONTRACT.c.company_id == company_id)
    )
    rows = (
        await conn.execute(
            select(ACCOUNT.c.name, ACCOUNT.c.role, ACCOUNT.c.id.in_(contacts).label("contact"))
            .where(ACCOUNT.c.company_id == company_id)
            .order_by(ACCOUNT.c.name_key)
        )
    ).all()
    return company_name, [Member(r.name, r.role, bool(r.contact)) for r in rows]
