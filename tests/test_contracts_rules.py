"""Contract rules at the store level: the race for the last contact slot, credits added
while spent, and one caller's support picture, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from bbs.store.db import transaction
from bbs.store.schema import ContractContactRow, ContractRow
from bbs.support.contracts import (
    ContractError,
    add_contact,
    add_credits,
    check_terms,
    licence_state,
    support_summary,
)
from bbs.support.entitlements import spend_credit
from tests.test_entitlements_rules import (
    add_account,
    add_company,
    add_contract,
    add_licence,
    engine_for,
    writing,
)
from tests.test_entitlements_rules import add_contact as add_contact_row

TODAY = date(1995, 6, 15)


async def _contacts(url: str, contract_id: int) -> int:
    async with engine_for(url) as engine, transaction(engine, write=False) as conn:
        stmt = (
            select(func.count())
            .select_from(ContractContactRow)
            .where(ContractContactRow.contract_id == contract_id)
        )
        return int(await conn.scalar(stmt) or 0)


async def test_two_adds_for_the_fifth_slot_cannot_both_pass(store_url: str) -> None:
    """Two nodes add a contact at once with four already named; each holds its
    transaction open a moment after adding, so the other runs into it."""
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        contract = await add_contract(conn, company, "PP-95-00001")
        for i in range(4):
            await add_contact_row(conn, contract, await add_account(conn, f"Contact {i}"))
        await add_account(conn, "Late One", company_id=company)
        await add_account(conn, "Late Two", company_id=company)

    async def add(name: str) -> bool:
        async with engine_for(store_url) as engine:
            try:
                async with transaction(engine, write=True, store_lock=False) as conn:
                    await add_contact(conn, "PP-95-00001", name, TODAY)
                    await asyncio.sleep(0.2)
            except ContractError as e:
                assert "already has its 5 named contact(s)" in str(e)
                return False
            return True

    results = await asyncio.wait_for(asyncio.gather(add("Late One"), add("Late Two")), 30)
    assert sorted(results) == [False, True]
    assert await _contacts(store_url, contract) == 5


async def test_credits_added_while_a_contact_spends_are_all_kept(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        contract = await add_contract(conn, company, "PP-95-00001", credits=1)

    async def buy() -> None:
        async with writing(store_url) as conn:
            await add_credits(conn, "PP-95-00001", 3, TODAY)
            await asyncio.sleep(0.1)

    async def spend() -> bool:
        async with engine_for(store_url) as engine:
            async with transaction(engine, write=True, store_lock=False) as conn:
                ok = await spend_credit(conn, contract)
                await asyncio.sleep(0.1)
            return ok

    _, spent = await asyncio.wait_for(asyncio.gather(buy(), spend()), 30)
    assert spent
    async with engine_for(store_url) as engine, transaction(engine, write=False) as conn:
        left = await conn.scalar(select(ContractRow.credits).where(ContractRow.id == contract))
    assert left == 3


def test_terms_of_each_programme() -> None:
    assert check_terms("unlimited", "wt", None) == ("wt", None)
    assert check_terms("limited", "notes", 10) == ("notes", 10)
    assert check_terms("incident", None, None) == ("desktop", 1)
    assert check_terms("knowledge", None, None) == ("wt", None)
    with pytest.raises(ContractError):
        check_terms("limited", "notes", None)
    with pytest.raises(ContractError):
        check_terms("incident", "ccmail", 1)


def test_licence_states() -> None:
    bought = date(1995, 5, 1)
    assert licence_state("caller", bought, False, bought) == "active"
    assert licence_state("caller", bought, False, date(1995, 6, 29)) == "active"
    assert licence_state("caller", bought, False, date(1995, 6, 30)) == "expired"
    assert licence_state("caller", bought, True, bought) == "passport"
    assert licence_state("specialist", bought, False, bought) == "staff"
    assert licence_state("caller", bought, False, date(1995, 4, 30)) == "future"


async def test_support_summary_of_a_contact(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Durand SA")
        marie = await add_account(conn, "Marie Durand", company_id=company)
        paul = await add_account(conn, "Paul Durand", company_id=company)
        await add_licence(conn, marie, date(1995, 6, 1), product="amipro")
        await add_licence(conn, marie, date(1995, 1, 2), product="123-win")
        await add_licence(conn, marie, date(1995, 6, 1), product="notes", family="notes",
                          via_passport=True)  # fmt: skip
        limited = await add_contract(conn, company, "PP-95-00001", credits=4)
        old = await add_contract(conn, company, "PP-94-00001", starts_on=date(1994, 1, 1))
        for contract in (limited, old):
            await add_contact_row(conn, contract, marie)
        await add_contact_row(conn, limited, paul)
    async with engine_for(store_url) as engine, transaction(engine, write=False) as conn:
        summary = await support_summary(conn, marie, TODAY)
    assert [(lic.product, lic.state, lic.days_left) for lic in summary.licences] == [
        ("amipro", "active", 46),
        ("notes", "passport", 0),
        ("123-win", "expired", 0),
    ]
    assert [(c.number, c.current, c.credits, c.contacts_used) for c in summary.contracts] == [
        ("PP-95-00001", True, 4, 2),
        ("PP-94-00001", False, 10, 2 - 1),
    ]
    assert summary.contracts[0].max_contacts == 5
    assert summary.contracts[0].days_left == 200
    assert summary.contracts[1].days_left == 0
    assert summary.kb_until == date(1995, 12, 31)
