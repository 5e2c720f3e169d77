"""Entitlements as the seed states them: free support, Premium contracts, the Knowledge base,
credits (and the race for the last one), on SQLite and PostgreSQL.

The row helpers here are shared by the other contracts and entitlements tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.directory.text import fold
from bbs.store.db import make_engine, transaction
from bbs.store.schema import (
    AccountRow,
    CompanyRow,
    ContractContactRow,
    ContractRow,
    LicenceRow,
)
from bbs.support import entitlements as ent
from bbs.support.contracts import account_key
from bbs.support.entitlements import (
    FREE_SUPPORT_DAYS,
    contract_ends,
    incident_rights,
    is_named_contact,
    kb_access,
    spend_credit,
)

NOW = datetime(1995, 3, 1, 9, 0, tzinfo=UTC)
TODAY = date(1995, 6, 15)


# --- row helpers (used by the other test files too) ------------------------------


@asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on `url`, disposed of at the end."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def writing(url: str) -> AsyncIterator[AsyncConnection]:
    """One write transaction on `url` (an engine of its own), committed at the end."""
    async with engine_for(url) as engine, transaction(engine, write=True, store_lock=False) as conn:
        yield conn


async def add_company(conn: AsyncConnection, name: str) -> int:
    """A company row; its id."""
    result = await conn.execute(insert(CompanyRow).values(name=name, name_key=fold(name)))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_account(
    conn: AsyncConnection,
    name: str,
    *,
    role: str = "caller",
    company_id: int | None = None,
    password_hash: str = "x",
) -> int:
    """An account row (no usable password); its id."""
    result = await conn.execute(
        insert(AccountRow).values(
            name=name,
            name_key=account_key(name),
            password_hash=password_hash,
            role=role,
            company_id=company_id,
            country="France",
            lang="fr",
            created_at=NOW,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_licence(
    conn: AsyncConnection,
    account_id: int,
    purchased_on: date,
    *,
    product: str = "123-win",
    family: str = "desktop",
    number: str | None = None,
    via_passport: bool = False,
) -> int:
    """A registered licence; its id."""
    result = await conn.execute(
        insert(LicenceRow).values(
            account_id=account_id,
            product=product,
            family=family,
            licence_number=number or f"L-{account_id}-{purchased_on.isoformat()}-{product}",
            purchased_on=purchased_on,
            via_passport=via_passport,
            registered_at=NOW,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_contract(
    conn: AsyncConnection,
    company_id: int,
    number: str,
    *,
    kind: str = "limited",
    family: str = "desktop",
    starts_on: date = date(1995, 1, 1),
    credits: int | None = 10,
    kb: bool | None = None,
) -> int:
    """A contract row with the terms `bbs contract add` would give it; its id."""
    ends_on = contract_ends(starts_on)
    with_kb = kind in ("unlimited", "limited", "knowledge") if kb is None else kb
    result = await conn.execute(
        insert(ContractRow).values(
            number=number,
            company_id=company_id,
            family=family,
            kind=kind,
            starts_on=starts_on,
            ends_on=ends_on,
            credits=None if kind in ("unlimited", "knowledge") else credits,
            kb_until=ends_on if with_kb else None,
            created_at=NOW,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def add_contact(conn: AsyncConnection, contract_id: int, account_id: int) -> None:
    """Name `account_id` a contact of `contract_id`."""
    await conn.execute(
        insert(ContractContactRow).values(
            contract_id=contract_id, account_id=account_id, added_at=NOW
        )
    )


async def credits_of(engine: AsyncEngine, contract_id: int) -> int | None:
    """The stored credits of a contract."""
    async with transaction(engine, write=False) as conn:
        value = (
            await conn.execute(select(ContractRow.credits).where(ContractRow.id == contract_id))
        ).scalar_one()
    return value


# --- pure rules --------------------------------------------------------------------


def test_free_support_is_one_constant_of_60_days() -> None:
    assert FREE_SUPPORT_DAYS == 60
    assert ent.free_support_ends(date(1995, 3, 1)) == date(1995, 4, 29)


def test_contract_lasts_one_year_less_a_day() -> None:
    assert contract_ends(date(1995, 1, 1)) == date(1995, 12, 31)
    assert contract_ends(date(1995, 6, 15)) == date(1996, 6, 14)
    assert contract_ends(date(1996, 2, 29)) == date(1997, 2, 28)


def test_days_left_counts_today() -> None:
    assert ent.days_left(date(1995, 6, 15), date(1995, 6, 15)) == 1
    assert ent.days_left(date(1995, 6, 15), date(1995, 6, 16)) == 0
    assert ent.days_left(date(1995, 6, 20), date(1995, 6, 15)) == 6


def test_close_reasons_include_the_development_refusal() -> None:
    assert "hors_garantie_developpement" in ent.CLOSE_REASONS
    assert len(set(ent.CLOSE_REASONS)) == len(ent.CLOSE_REASONS)
    assert set(ent.CLOSE_REASON_KEYS) == set(ent.CLOSE_REASONS)


# --- free support ------------------------------------------------------------------


async def _rights(url: str, account_id: int, today: date) -> list[ent.Right]:
    async with engine_for(url) as engine, transaction(engine, write=False) as conn:
        return await incident_rights(conn, account_id, today)


async def test_free_support_from_day_0_to_day_59(store_url: str) -> None:
    bought = date(1995, 3, 1)
    async with writing(store_url) as conn:
        holder = await add_account(conn, "Marie Durand")
        licence = await add_licence(conn, holder, bought)
    first_day = await _rights(store_url, holder, bought)
    assert [(r.basis, r.licence_id, r.product, r.family) for r in first_day] == [
        ("free", licence, "123-win", "desktop")
    ]
    assert first_day[0].days_left == FREE_SUPPORT_DAYS
    assert first_day[0].credits_left is None
    last_day = await _rights(store_url, holder, bought + timedelta(days=FREE_SUPPORT_DAYS - 1))
    assert len(last_day) == 1
    assert last_day[0].days_left == 1
    assert last_day[0].ends_on == bought + timedelta(days=59)
    assert await _rights(store_url, holder, bought + timedelta(days=FREE_SUPPORT_DAYS)) == []
    # Not before the purchase either.
    assert await _rights(store_url, holder, bought - timedelta(days=1)) == []


async def test_free_support_is_the_holders_alone(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        holder = await add_account(conn, "Marie Durand", company_id=company)
        colleague = await add_account(conn, "Paul Durand", company_id=company)
        await add_licence(conn, holder, TODAY)
    assert len(await _rights(store_url, holder, TODAY)) == 1
    assert await _rights(store_url, colleague, TODAY) == []


async def test_no_free_support_under_passport(store_url: str) -> None:
    async with writing(store_url) as conn:
        holder = await add_account(conn, "Marie Durand")
        await add_licence(conn, holder, TODAY, via_passport=True)
        await add_licence(conn, holder, TODAY, product="amipro")
    rights = await _rights(store_url, holder, TODAY)
    assert [r.product for r in rights] == ["amipro"]


@pytest.mark.parametrize("role", ["specialist", "sysop"])
async def test_no_free_support_for_support_staff(store_url: str, role: str) -> None:
    async with writing(store_url) as conn:
        staff = await add_account(conn, "Jean Spécialiste", role=role)
        await add_licence(conn, staff, TODAY)
    assert await _rights(store_url, staff, TODAY) == []


async def test_unknown_account_has_no_rights(store_url: str) -> None:
    assert await _rights(store_url, 9999, TODAY) == []


# --- contracts ---------------------------------------------------------------------


async def test_contract_rights_for_named_contacts_only(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contact = await add_account(conn, "Marie Durand", company_id=company)
            other = await add_account(conn, "Paul Durand", company_id=company)
            limited = await add_contract(conn, company, "PP-95-00001", credits=3)
            unlimited = await add_contract(
                conn, company, "PP-95-00002", kind="unlimited", family="wt"
            )
            await add_contact(conn, limited, contact)
            await add_contact(conn, unlimited, contact)
        async with transaction(engine, write=False) as conn:
            assert await is_named_contact(conn, contact, TODAY)
            assert not await is_named_contact(conn, other, TODAY)
    rights = await _rights(store_url, contact, TODAY)
    by_number = {r.contract_number: r for r in rights}
    assert set(by_number) == {"PP-95-00001", "PP-95-00002"}
    assert by_number["PP-95-00001"].credits_left == 3
    assert by_number["PP-95-00001"].basis == "contract"
    assert by_number["PP-95-00001"].contract_id == limited
    assert by_number["PP-95-00002"].credits_left is None
    assert by_number["PP-95-00002"].family == "wt"
    assert by_number["PP-95-00002"].ends_on == date(1995, 12, 31)
    assert by_number["PP-95-00002"].days_left == 200
    assert await _rights(store_url, other, TODAY) == []


async def test_expired_or_future_contract_gives_nothing(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contact = await add_account(conn, "Marie Durand", company_id=company)
            contract = await add_contract(conn, company, "PP-94-00001", starts_on=date(1994, 6, 1))
            await add_contact(conn, contract, contact)
            kb_only = await add_contract(
                conn, company, "KB-94-00001", kind="knowledge", starts_on=date(1994, 6, 1)
            )
            assert kb_only
        last_day = date(1995, 5, 31)
        async with transaction(engine, write=False) as conn:
            assert await is_named_contact(conn, contact, last_day)
            assert await kb_access(conn, contact, last_day) == last_day
            assert len(await incident_rights(conn, contact, last_day)) == 1
            after = last_day + timedelta(days=1)
            assert not await is_named_contact(conn, contact, after)
            assert await kb_access(conn, contact, after) is None
            assert await incident_rights(conn, contact, after) == []
            before = date(1994, 5, 31)
            assert await incident_rights(conn, contact, before) == []
            assert await kb_access(conn, contact, before) is None


async def test_limited_contract_without_credits_gives_no_incident(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contact = await add_account(conn, "Marie Durand", company_id=company)
            contract = await add_contract(conn, company, "PP-95-00001", credits=0)
            await add_contact(conn, contract, contact)
        async with transaction(engine, write=False) as conn:
            assert await incident_rights(conn, contact, TODAY) == []
            # Still a named contact, still with the Knowledge base.
            assert await is_named_contact(conn, contact, TODAY)
            assert await kb_access(conn, contact, TODAY) == date(1995, 12, 31)


async def test_removed_contact_loses_rights_at_once(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contact = await add_account(conn, "Marie Durand", company_id=company)
            contract = await add_contract(conn, company, "PP-95-00001")
            await add_contact(conn, contract, contact)
        assert len(await _rights(store_url, contact, TODAY)) == 1
        async with transaction(engine, write=True, store_lock=False) as conn:
            await conn.execute(
                delete(ContractContactRow).where(ContractContactRow.account_id == contact)
            )
        async with transaction(engine, write=False) as conn:
            assert await incident_rights(conn, contact, TODAY) == []
            assert not await is_named_contact(conn, contact, TODAY)
            assert await kb_access(conn, contact, TODAY) is None


# --- the Knowledge base ------------------------------------------------------------


async def test_kb_access_through_premium_or_company_subscription(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            premium_co = await add_company(conn, "Durand SA")
            kb_co = await add_company(conn, "Martin SARL")
            contact = await add_account(conn, "Marie Durand", company_id=premium_co)
            not_contact = await add_account(conn, "Paul Durand", company_id=premium_co)
            kb_member = await add_account(conn, "Luc Martin", company_id=kb_co)
            loner = await add_account(conn, "Anne Seule")
            premium = await add_contract(conn, premium_co, "PP-95-00001", kind="unlimited")
            await add_contact(conn, premium, contact)
            await add_contract(
                conn, kb_co, "KB-95-00001", kind="knowledge", starts_on=date(1995, 3, 1)
            )
            per_incident = await add_contract(
                conn, premium_co, "PI-95-00001", kind="incident", credits=1
            )
            await add_contact(conn, per_incident, not_contact)
        async with transaction(engine, write=False) as conn:
            assert await kb_access(conn, contact, TODAY) == date(1995, 12, 31)
            assert await kb_access(conn, kb_member, TODAY) == date(1996, 2, 29)
            # The per-incident programme is not Premium: no Knowledge base with it.
            assert await kb_access(conn, not_contact, TODAY) is None
            assert await kb_access(conn, loner, TODAY) is None
            # A knowledge subscription alone opens no incident.
            assert await incident_rights(conn, kb_member, TODAY) == []


async def test_kb_until_earlier_than_the_term_ends_the_access(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contact = await add_account(conn, "Marie Durand", company_id=company)
            contract = await add_contract(conn, company, "PP-95-00001", kb=False)
            await add_contact(conn, contract, contact)
        async with transaction(engine, write=False) as conn:
            assert await kb_access(conn, contact, TODAY) is None


# --- credits -----------------------------------------------------------------------


async def test_spend_credit_counts_down_to_zero(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            limited = await add_contract(conn, company, "PP-95-00001", credits=2)
            unlimited = await add_contract(conn, company, "PP-95-00002", kind="unlimited")
            knowledge = await add_contract(conn, company, "KB-95-00001", kind="knowledge")
        for expected in (True, True, False, False):
            async with transaction(engine, write=True, store_lock=False) as conn:
                assert await spend_credit(conn, limited) is expected
        assert await credits_of(engine, limited) == 0
        async with transaction(engine, write=True, store_lock=False) as conn:
            assert await spend_credit(conn, unlimited)
            assert not await spend_credit(conn, knowledge)
            assert not await spend_credit(conn, 9999)
        assert await credits_of(engine, unlimited) is None


async def test_spend_credit_rolls_back_with_the_transaction(store_url: str) -> None:
    async with engine_for(store_url) as engine:
        async with transaction(engine, write=True, store_lock=False) as conn:
            company = await add_company(conn, "Durand SA")
            contract = await add_contract(conn, company, "PP-95-00001", credits=1)
        with pytest.raises(RuntimeError):
            async with transaction(engine, write=True, store_lock=False) as conn:
                assert await spend_credit(conn, contract)
                raise RuntimeError("the incident could not be written")
        assert await credits_of(engine, contract) == 1


@pytest.mark.parametrize("credits", [1, 2])
async def test_two_contacts_spending_the_last_credits_at_once(store_url: str, credits: int) -> None:
    """Two nodes (two engines) spend at once; each holds its transaction open a moment
    after spending, so the other really runs into it."""
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        contract = await add_contract(conn, company, "PP-95-00001", credits=credits)

    async def spend() -> bool:
        async with engine_for(store_url) as engine:
            async with transaction(engine, write=True, store_lock=False) as conn:
                ok = await spend_credit(conn, contract)
                await asyncio.sleep(0.2)
            return ok

    results = await asyncio.wait_for(asyncio.gather(spend(), spend()), 30)
    async with engine_for(store_url) as engine:
        left = await credits_of(engine, contract)
    if credits == 1:
        assert sorted(results) == [False, True]
        assert left == 0
    else:
        assert list(results) == [True, True]
        assert left == 0
