"""Accounts, companies and licences in the database (inside the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, exc, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.directory.text import fold
from bbs.store.schema import AccountRow, CompanyRow, LicenceRow, LoginThrottleRow

ACCOUNT: Table = AccountRow.__table__  # type: ignore[assignment]
COMPANY: Table = CompanyRow.__table__  # type: ignore[assignment]
LICENCE: Table = LicenceRow.__table__  # type: ignore[assignment]
THROTTLE: Table = LoginThrottleRow.__table__  # type: ignore[assignment]


class NameTaken(Exception):
    """Another account already has this name key."""


class LicenceTaken(Exception):
    """This product's licence number is already registered (a licence is one holder's)."""


@dataclass(frozen=True, slots=True)
class Account:
    """One `account` row with its company's name."""

    id: int
    name: str
    name_key: str
    password_hash: str
    role: str
    company_id: int | None
    company: str
    country: str
    lang: str
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool


def _account(row: Any) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        name_key=row.name_key,
        password_hash=row.password_hash,
        role=row.role,
        company_id=row.company_id,
        company=row.company or "",
        country=row.country,
        lang=row.lang,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
        disabled=bool(row.disabled),
    )


def _accounts() -> Any:
    # The company an account belongs to, else the one its caller typed (shown, not trusted).
    shown = func.coalesce(COMPANY.c.name, ACCOUNT.c.company_name)
    return select(ACCOUNT, shown.label("company")).outerjoin(
        COMPANY, COMPANY.c.id == ACCOUNT.c.company_id
    )


async def find_account(conn: AsyncConnection, key: str) -> Account | None:
    """The account whose name key is `key`, if any."""
    row = (await conn.execute(_accounts().where(ACCOUNT.c.name_key == key))).first()
    return None if row is None else _account(row)


async def get_account(conn: AsyncConnection, account_id: int) -> Account | None:
    """The account with this id, if any."""
    row = (await conn.execute(_accounts().where(ACCOUNT.c.id == account_id))).first()
    return None if row is None else _account(row)


async def list_accounts(conn: AsyncConnection) -> list[Account]:
    """Every account, oldest first."""
    rows = (await conn.execute(_accounts().order_by(ACCOUNT.c.id))).all()
    return [_account(r) for r in rows]


def normal_licence(number: str) -> str:
    """A licence number as stored and compared: upper case, no spaces."""
    return "".join(number.split()).upper()


async def company_id_for(conn: AsyncConnection, name: str) -> int:
    """The company called `name` (compared folded), created when new."""
    key = fold(name)
    found = await conn.scalar(select(COMPANY.c.id).where(COMPANY.c.name_key == key))
    if found is not None:
        return int(found)
    try:
        async with conn.begin_nested():
            new = await conn.scalar(
                insert(COMPANY).values(name=name, name_key=key).returning(COMPANY.c.id)
            )
    except exc.IntegrityError:
        # Another node made it a moment ago.
        new = await conn.scalar(select(COMPANY.c.id).where(COMPANY.c.name_key == key))
    return int(new)


async def create_account(
    conn: AsyncConnection,
    *,
    name: str,
    key: str,
    password_hash: str,
    role: str,
    company: str,
    country: str,
    lang: str,
    now: datetime,
    member: bool = False,
) -> int:
    """A new account's id; NameTaken when the key is someone else's.

    `company` is kept as text. Belonging to a company (and so its entitlements) comes
    with `member`, which only the sysop's `bbs user add` sets; a caller who registers
    is made a member later, never by typing a name (`bbs.support.companies`).
    """
    company_id = await company_id_for(conn, company) if member and company else None
    try:
        async with conn.begin_nested():
            new = await conn.scalar(
                insert(ACCOUNT)
                .values(
                    name=name,
                    name_key=key,
                    password_hash=password_hash,
                    role=role,
                    company_id=company_id,
                    company_name=company,
                    country=country,
                    lang=lang,
                    created_at=now,
                    last_login_at=None,
                    disabled=False,
                )
                .returning(ACCOUNT.c.id)
            )
    except exc.IntegrityError as e:
        raise NameTaken(name) from e
    return int(new)


async def name_taken(conn: AsyncConnection, key: str) -> bool:
    """Whether an account already has this name key."""
    return await conn.scalar(select(ACCOUNT.c.id).where(ACCOUNT.c.name_key == key)) is not None


async def licence_taken(conn: AsyncConnection, product: str, number: str) -> bool:
    """Whether this product's licence number is registered already."""
    found = await conn.scalar(
        select(LICENCE.c.id).where(
            LICENCE.c.product == product, LICENCE.c.licence_number == normal_licence(number)
        )
    )
    return found is not None


async def add_licence(
    conn: AsyncConnection,
    account_id: int,
    *,
    product: str,
    family: str,
    number: str,
    purchased_on: date,
    now: datetime,
) -> int:
    """Register a licence for an account; LicenceTaken when it is someone's already."""
    try:
        async with conn.begin_nested():
            new = await conn.scalar(
                insert(LICENCE)
                .values(
                    account_id=account_id,
                    product=product,
                    family=family,
                    licence_number=normal_licence(number),
                    purchased_on=purchased_on,
                    via_passport=False,
                    registered_at=now,
                )
                .returning(LICENCE.c.id)
            )
    except exc.IntegrityError as e:
        raise LicenceTaken(number) from e
    return int(new)


async def licences_of(conn: AsyncConnection, account_id: int) -> Sequence[Any]:
    """An account's licences, oldest purchase first."""
    return (
        await conn.execute(
            select(LICENCE)
            .where(LICENCE.c.account_id == account_id)
            .order_by(LICENCE.c.purchased_on, LICENCE.c.id)
        )
    ).all()


async def signed_in(
    conn: AsyncConnection, account_id: int, now: datetime, new_hash: str | None = None
) -> None:
    """Note a sign-in (and store an upgraded hash)."""
    values: dict[str, Any] = {"last_login_at": now}
    if new_hash is not None:
        values["password_hash"] = new_hash
    await conn.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(**values))


async def set_password(conn: AsyncConnection, account_id: int, password_hash: str) -> None:
    """Replace an account's password hash."""
    await conn.execute(
        update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(password_hash=password_hash)
    )


async def set_disabled(conn: AsyncConnection, key: str, disabled: bool) -> bool:
    """Lock or unlock an account by name key; False when there is none."""
    done = await conn.execute(
        update(ACCOUNT).where(ACCOUNT.c.name_key == key).values(disabled=disabled)
    )
    return bool(done.rowcount)


async def forget_throttle(conn: AsyncConnection, key: str) -> None:
    """Drop a name's failed sign-ins (a success, or the sysop's unlock)."""
    await conn.execute(delete(THROTTLE).where(THROTTLE.c.name_key == key))
