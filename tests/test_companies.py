"""Company membership is granted, never claimed (hostile issue, attack 4): registration
keeps the typed company as text; the sysop or a named contact grants membership, and
the company's Knowledge base subscription follows membership only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bbs.accounts.names import name_key
from bbs.accounts.store import create_account, find_account
from bbs.store.db import make_engine, transaction
from bbs.store.migrate import upgrade
from bbs.support.companies import add_member, list_members, may_grant, remove_member
from bbs.support.contracts import ContractError
from bbs.support.entitlements import kb_access
from tests.test_entitlements_rules import (
    add_account,
    add_company,
    add_contact,
    add_contract,
    writing,
)

TODAY = date(1995, 6, 15)
NOW = datetime(1995, 6, 15, 10, tzinfo=UTC)


async def _register(conn: object, name: str, company: str) -> int:
    return await create_account(
        conn,  # type: ignore[arg-type]
        name=name,
        key=name_key(name),
        password_hash="x",
        role="caller",
        company=company,
        country="FR",
        lang="fr",
        now=NOW,
    )


async def test_typing_a_company_with_a_subscription_opens_nothing(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Dupont SA")
        await add_contract(conn, company, "KB-95-00001", kind="knowledge", credits=None)
        stranger = await _register(conn, "Etranger", "dupont sa")
        assert await kb_access(conn, stranger, TODAY) is None
        account = await find_account(conn, name_key("Etranger"))
        assert account is not None
        assert account.company_id is None
        assert account.company == "dupont sa"  # shown as typed, trusted for nothing


async def test_the_sysop_grants_membership_and_the_subscription_follows(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Dupont SA")
        await add_contract(conn, company, "KB-95-00001", kind="knowledge", credits=None)
        employee = await _register(conn, "Marie Dupont", "Dupont")
        assert await add_member(conn, "DUPONT SA", "marie dupont", TODAY) == "Dupont SA"
        assert await kb_access(conn, employee, TODAY) is not None
        name, members = await list_members(conn, "Dupont SA")
        assert name == "Dupont SA" and [m.name for m in members] == ["Marie Dupont"]
        await remove_member(conn, "Dupont SA", "Marie Dupont")
        assert await kb_access(conn, employee, TODAY) is None


async def test_only_a_named_contact_of_a_current_contract_may_grant(store_url: str) -> None:
    async with writing(store_url) as conn:
        company = await add_company(conn, "Dupont SA")
        contract = await add_contract(conn, company, "PP-95-00001")
        contact = await add_account(conn, "Chef", company_id=company)
        await add_contact(conn, contract, contact)
        member = await add_account(conn, "Simple Membre", company_id=company)
        await _register(conn, "Nouveau", "")
        await _register(conn, "Autre", "")
        assert await may_grant(conn, contact, company, TODAY)
        assert not await may_grant(conn, member, company, TODAY)
        with pytest.raises(ContractError, match="named contact"):
            await add_member(conn, "Dupont SA", "Nouveau", TODAY, by=member)
        await add_member(conn, "Dupont SA", "Nouveau", TODAY, by=contact)
        # The contract ended: its contacts no longer grant anything.
        assert not await may_grant(conn, contact, company, date(1997, 1, 1))
        with pytest.raises(ContractError):
            await add_member(conn, "Dupont SA", "Autre", date(1997, 1, 1), by=contact)


async def test_staff_and_members_of_another_company_are_refused(store_url: str) -> None:
    async with writing(store_url) as conn:
        await add_company(conn, "Dupont SA")
        other = await add_company(conn, "Durand SA")
        await add_account(conn, "Specialiste", role="specialist")
        await add_account(conn, "Chez Durand", company_id=other)
        with pytest.raises(ContractError, match="support staff"):
            await add_member(conn, "Dupont SA", "Specialiste", TODAY)
        with pytest.raises(ContractError, match="another company"):
            await add_member(conn, "Dupont SA", "Chez Durand", TODAY)
        with pytest.raises(ContractError, match="no company"):
            await add_member(conn, "Inconnue SARL", "Chez Durand", TODAY)


async def test_upgrading_takes_back_memberships_that_were_claimed(tmp_path: Path) -> None:
    """Before revision 0011 typing a name joined the company: only named contacts keep it."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await upgrade(url, "0010")
    engine = make_engine(url)
    try:
        async with transaction(engine, write=True, store_lock=False) as conn:
            for statement in (
                "INSERT INTO company (id, name, name_key) VALUES (1, 'Dupont SA', 'dupont sa')",
                "INSERT INTO account (id, name, name_key, password_hash, role, company_id,"
                " country, lang, created_at, disabled) VALUES"
                " (1, 'Chef', 'chef', 'x', 'caller', 1, 'FR', 'fr', '1995-01-01', 0),"
                " (2, 'Intrus', 'intrus', 'x', 'caller', 1, 'FR', 'fr', '1995-01-01', 0)",
                "INSERT INTO contract (id, number, company_id, family, kind, credits,"
                " starts_on, ends_on, kb_until, version, created_at) VALUES (1, 'PP-95-00001',"
                " 1, 'desktop', 'limited', 5, '1995-01-01', '1995-12-31', NULL, 1,"
                " '1995-01-01')",
                "INSERT INTO contract_contact (contract_id, account_id, added_at)"
                " VALUES (1, 1, '1995-01-01')",
            ):
                await conn.execute(text(statement))
    finally:
        await engine.dispose()
    await upgrade(url)
    engine = make_engine(url)
    try:
        async with transaction(engine, write=False) as conn:
            rows = (
                await conn.execute(
                    text("SELECT name, company_id, company_name FROM account ORDER BY id")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("Chef", 1, "Dupont SA"), ("Intrus", None, "Dupont SA")]
