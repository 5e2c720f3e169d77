"""`bbs contract ...` through `bbs.cli.main`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bbs.cli import main
from bbs.store.db import transaction
from bbs.store.schema import AccountRow, CompanyRow, ContractContactRow, ContractRow
from bbs.support.entitlements import contract_ends, incident_rights, today_utc
from tests.test_entitlements_rules import add_account, add_company, engine_for, writing

Capture = pytest.CaptureFixture[str]


async def bbs(url: str, *argv: str) -> int:
    """Run one `bbs` command against `url` (in a thread: it runs its own event loop)."""
    return await asyncio.wait_for(asyncio.to_thread(main, [*argv, "--db", url]), 60)


async def count(url: str, table: type[object]) -> int:
    async with engine_for(url) as engine, transaction(engine, write=False) as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def test_add_generates_a_number_and_creates_the_company_once(
    store_url: str, capsys: Capture
) -> None:
    common = ["--family", "desktop", "--kind", "limited", "--credits", "3"]
    args = ["contract", "add", "--company", "Durand SA", *common, "--start", "1995-01-01"]
    assert await bbs(store_url, *args) == 0
    out = capsys.readouterr().out
    assert "PP-95-00001" in out
    assert "1995-01-01 to 1995-12-31" in out
    assert "3 incident(s) left" in out
    assert "Named contacts (0/5)" in out
    assert "Knowledge base: until 1995-12-31" in out
    args = ["contract", "add", "--company", "DURAND  sa", "--kind", "unlimited"]
    assert await bbs(store_url, *args, "--family", "wt", "--start", "1995-02-01") == 0
    assert "PP-95-00002" in capsys.readouterr().out
    assert await count(store_url, CompanyRow) == 1
    assert await count(store_url, ContractRow) == 2


async def test_add_with_a_given_number_and_defaults(store_url: str, capsys: Capture) -> None:
    args = ["contract", "add", "--company", "Martin", "--kind", "incident"]
    assert await bbs(store_url, *args, "--number", "pi-1234") == 0
    out = capsys.readouterr().out
    assert "Contract PI-1234" in out
    assert "per-incident programme" in out
    assert "1 incident(s) left" in out
    today = today_utc()
    assert f"{today.isoformat()} to {contract_ends(today).isoformat()}" in out
    assert "Knowledge base: not included" in out
    assert (
        await bbs(store_url, "contract", "add", "--company", "Martin", "--kind", "knowledge") == 0
    )
    out = capsys.readouterr().out
    assert f"KB-{today.year % 100:02d}-00001" in out
    assert "no incidents" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "limited", "--family", "desktop"], "needs --credits"),
        (["--kind", "unlimited"], "needs --family"),
        (["--kind", "unlimited", "--family", "notes", "--credits", "4"], "no credits"),
        (["--kind", "incident", "--family", "notes"], "desktop products only"),
        (["--kind", "knowledge", "--credits", "2"], "no --credits"),
        (["--kind", "gold", "--family", "notes"], "invalid choice"),
        (["--kind", "unlimited", "--family", "lotus"], "invalid choice"),
        (["--kind", "limited", "--family", "notes", "--credits", "-1"], "negative"),
        (["--kind", "unlimited", "--family", "notes", "--start", "1995-13-01"], "not a date"),
    ],
)
async def test_add_refuses_terms_not_on_offer(
    store_url: str, capsys: Capture, extra: list[str], message: str
) -> None:
    assert await bbs(store_url, "contract", "add", "--company", "Durand SA", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert await count(store_url, ContractRow) == 0
    assert await count(store_url, CompanyRow) == 0


async def test_add_refuses_a_number_taken(store_url: str, capsys: Capture) -> None:
    args = ["contract", "add", "--company", "A", "--kind", "unlimited", "--family", "notes"]
    assert await bbs(store_url, *args, "--number", "PP-95-00007") == 0
    assert await bbs(store_url, *args, "--number", "pp-95-00007") == 2
    assert "already exists" in capsys.readouterr().err
    assert await count(store_url, ContractRow) == 1
    # The next generated number follows the highest one.
    assert await bbs(store_url, *args, "--start", "1995-05-05") == 0
    assert "PP-95-00008" in capsys.readouterr().out


async def test_list_and_show(store_url: str, capsys: Capture) -> None:
    for company, family in (("Durand SA", "notes"), ("Martin", "ccmail")):
        args = ["contract", "add", "--company", company, "--kind", "unlimited"]
        assert await bbs(store_url, *args, "--family", family) == 0
    capsys.readouterr()
    assert await bbs(store_url, "contract", "list") == 0
    out = capsys.readouterr().out
    assert "Durand SA" in out and "Martin" in out
    assert await bbs(store_url, "contract", "list", "--company", "durand sa") == 0
    out = capsys.readouterr().out
    assert "Durand SA" in out and "Martin" not in out
    assert await bbs(store_url, "contract", "list", "--company", "Nobody") == 0
    assert "no contracts" in capsys.readouterr().out
    year = today_utc().year % 100
    assert await bbs(store_url, "contract", "show", f"pp-{year:02d}-00002") == 0
    out = capsys.readouterr().out
    assert "Martin" in out and "unlimited incidents" in out and "days left" in out
    assert await bbs(store_url, "contract", "show", "PP-00-99999") == 2
    assert "no contract numbered PP-00-99999" in capsys.readouterr().err


async def _limited(url: str, capsys: Capture, credits: str = "2") -> str:
    args = ["contract", "add", "--company", "Durand SA", "--kind", "limited"]
    assert await bbs(url, *args, "--family", "desktop", "--credits", credits) == 0
    capsys.readouterr()
    return f"PP-{today_utc().year % 100:02d}-00001"


async def test_contact_add_sets_the_company_and_gives_rights(
    store_url: str, capsys: Capture
) -> None:
    number = await _limited(store_url, capsys)
    async with writing(store_url) as conn:
        marie = await add_account(conn, "Marie Durand")
    assert await bbs(store_url, "contract", "contact", "add", number, "MARIE DURAND") == 0
    out = capsys.readouterr().out
    assert "MARIE DURAND is now a named contact" in out
    assert "Named contacts (1/5): Marie Durand" in out
    async with engine_for(store_url) as engine, transaction(engine, write=False) as conn:
        company = await conn.scalar(select(AccountRow.company_id).where(AccountRow.id == marie))
        assert company == await conn.scalar(select(CompanyRow.id))
        rights = await incident_rights(conn, marie, today_utc())
    assert [(r.contract_number, r.credits_left) for r in rights] == [(number, 2)]
    # Removed: the rights go at once.
    # Names are matched by the accounts' key: case, accents and separators aside.
    assert await bbs(store_url, "contract", "contact", "remove", number, "marie-durand") == 0
    assert "no longer a named contact" in capsys.readouterr().out
    async with engine_for(store_url) as engine, transaction(engine, write=False) as conn:
        assert await incident_rights(conn, marie, today_utc()) == []
    assert await bbs(store_url, "contract", "contact", "remove", number, "Marie Durand") == 2
    assert "is not a named contact" in capsys.readouterr().err


async def test_contact_add_refusals(store_url: str, capsys: Capture) -> None:
    number = await _limited(store_url, capsys)
    async with writing(store_url) as conn:
        other_co = await add_company(conn, "Martin SARL")
        await add_account(conn, "Luc Martin", company_id=other_co)
        await add_account(conn, "Jean Expert", role="specialist")
        await add_account(conn, "Marie Durand")
    cases = [
        (number, "Nobody", "no account named 'Nobody'"),
        ("PP-00-00000", "Marie Durand", "no contract numbered PP-00-00000"),
        (number, "Luc Martin", "another company"),
        (number, "Jean Expert", "support staff"),
    ]
    for contract, name, message in cases:
        assert await bbs(store_url, "contract", "contact", "add", contract, name) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert await count(store_url, ContractContactRow) == 0
    assert await bbs(store_url, "contract", "contact", "add", number, "Marie Durand") == 0
    assert await bbs(store_url, "contract", "contact", "add", number, "Marie Durand") == 2
    assert "already a named contact" in capsys.readouterr().err
    assert await count(store_url, ContractContactRow) == 1


async def test_sixth_contact_of_a_limited_contract_is_refused(
    store_url: str, capsys: Capture
) -> None:
    number = await _limited(store_url, capsys)
    async with writing(store_url) as conn:
        for i in range(6):
            await add_account(conn, f"Contact {chr(ord('A') + i)}")
    for i in range(5):
        name = f"Contact {chr(ord('A') + i)}"
        assert await bbs(store_url, "contract", "contact", "add", number, name) == 0
    assert "Named contacts (5/5)" in capsys.readouterr().out
    assert await bbs(store_url, "contract", "contact", "add", number, "Contact F") == 2
    assert "already has its 5 named contact(s)" in capsys.readouterr().err
    assert await count(store_url, ContractContactRow) == 5
    # One out, the sixth may come in.
    assert await bbs(store_url, "contract", "contact", "remove", number, "Contact A") == 0
    assert await bbs(store_url, "contract", "contact", "add", number, "Contact F") == 0


async def test_unlimited_contract_takes_any_number_of_contacts(
    store_url: str, capsys: Capture
) -> None:
    args = ["contract", "add", "--company", "Durand SA", "--kind", "unlimited"]
    assert await bbs(store_url, *args, "--family", "wt") == 0
    number = f"PP-{today_utc().year % 100:02d}-00001"
    async with writing(store_url) as conn:
        for i in range(7):
            await add_account(conn, f"Contact {chr(ord('A') + i)}")
    for i in range(7):
        name = f"Contact {chr(ord('A') + i)}"
        assert await bbs(store_url, "contract", "contact", "add", number, name) == 0
    assert "Named contacts (7):" in capsys.readouterr().out


async def test_contact_on_knowledge_or_expired_contract_refused(
    store_url: str, capsys: Capture
) -> None:
    args = ["contract", "add", "--company", "Durand SA"]
    assert await bbs(store_url, *args, "--kind", "knowledge", "--number", "KB-1") == 0
    old = (today_utc() - timedelta(days=400)).isoformat()
    assert (
        await bbs(store_url, *args, "--kind", "unlimited", "--family", "notes", "--start", old) == 0
    )
    async with writing(store_url) as conn:
        await add_account(conn, "Marie Durand")
    assert await bbs(store_url, "contract", "contact", "add", "KB-1", "Marie Durand") == 2
    assert "no named contacts" in capsys.readouterr().err
    year = (today_utc() - timedelta(days=400)).year % 100
    assert (
        await bbs(store_url, "contract", "contact", "add", f"PP-{year:02d}-00001", "Marie Durand")
        == 2
    )
    assert "ended on" in capsys.readouterr().err
    assert await count(store_url, ContractContactRow) == 0


async def test_per_incident_contract_has_one_contact_and_takes_credits(
    store_url: str, capsys: Capture
) -> None:
    args = ["contract", "add", "--company", "Durand SA", "--kind", "incident", "--number", "PI-1"]
    assert await bbs(store_url, *args) == 0
    async with writing(store_url) as conn:
        await add_account(conn, "Marie Durand")
        await add_account(conn, "Paul Durand")
    assert await bbs(store_url, "contract", "contact", "add", "PI-1", "Marie Durand") == 0
    assert await bbs(store_url, "contract", "contact", "add", "PI-1", "Paul Durand") == 2
    assert "already has its 1 named contact(s)" in capsys.readouterr().err
    assert await bbs(store_url, "contract", "credit", "PI-1") == 0
    assert "PI-1: 2 incident(s) left" in capsys.readouterr().out
    assert await bbs(store_url, "contract", "credit", "PI-1", "--add", "3") == 0
    assert "PI-1: 5 incident(s) left" in capsys.readouterr().out
    assert await bbs(store_url, "contract", "credit", "PI-1", "--add", "0") == 2
    assert "between 1 and" in capsys.readouterr().err


async def test_credits_only_on_limited_and_per_incident(store_url: str, capsys: Capture) -> None:
    args = ["contract", "add", "--company", "Durand SA", "--kind", "unlimited", "--family", "wt"]
    assert await bbs(store_url, *args, "--number", "PP-1") == 0
    assert await bbs(store_url, "contract", "credit", "PP-1") == 2
    assert "only limited and per-incident" in capsys.readouterr().err
    old = date(1990, 1, 1).isoformat()
    args = ["contract", "add", "--company", "Durand SA", "--kind", "limited", "--family", "wt"]
    assert await bbs(store_url, *args, "--number", "PP-2", "--credits", "1", "--start", old) == 0
    assert await bbs(store_url, "contract", "credit", "PP-2") == 2
    assert "ended on 1990-12-31" in capsys.readouterr().err
    async with engine_for(store_url) as engine, transaction(engine, write=False) as conn:
        rows = await conn.execute(select(ContractRow.number, ContractRow.credits))
        credits = {number: left for number, left in rows}
    assert credits == {"PP-1": None, "PP-2": 1}
