"""Incident tracking against the database (SQLite and PostgreSQL): opening with the credit in
one transaction (and the race for the last credit), the state table, visibility, versioned
updates and their conflicts, unread replies, the 14-day close.

`build_world` and its `World` are shared by the other incident tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.accounts.model import GUEST, Caller, Role
from bbs.store.db import make_engine, transaction
from bbs.store.schema import (
    AccountRow,
    CompanyRow,
    ContractContactRow,
    ContractRow,
    IncidentAttachmentRow,
    IncidentEventRow,
    IncidentRow,
    LicenceRow,
)
from bbs.support import incidents as inc
from bbs.support.entitlements import Right, incident_rights, today_utc
from bbs.support.incidents import Action, State

# --- a small world of callers ----------------------------------------------------------


@dataclass
class World:
    """Two companies, their contacts, a free-support caller, a specialist and the sysop."""

    url: str
    contract_id: int
    acme: int
    alice: Caller
    """Named contact of Acme's limited desktop contract."""
    bob: Caller
    """Another named contact of the same contract."""
    dave: Caller
    """Named contact of Globex's unlimited Working Together contract."""
    carol: Caller
    """No company, a 1-2-3 for Windows licence bought ten days ago (free support)."""
    erin: Caller
    """Works at Acme, named on nothing: only her own incidents."""
    spec: Caller
    spec2: Caller
    sysop: Caller


async def _row(conn: object, table: type, **values: object) -> int:
    result = await conn.execute(insert(table).values(**values).returning(table.id))  # type: ignore[attr-defined]
    return int(result.scalar_one())


async def build_world(url: str, *, credits: int = 5) -> World:
    """Fill an empty migrated database with the people the incident tests use."""
    now = datetime.now(UTC)
    today = today_utc()
    engine = make_engine(url)
    try:
        async with transaction(engine, write=True, store_lock=False) as conn:

            async def company(name: str) -> int:
                return await _row(conn, CompanyRow, name=name, name_key=name.lower())

            async def account(
                name: str, role: str = "caller", company_id: int | None = None
            ) -> int:
                return await _row(
                    conn,
                    AccountRow,
                    name=name,
                    name_key=name.lower(),
                    password_hash="x",
                    role=role,
                    company_id=company_id,
                    country="France",
                    lang="fr",
                    created_at=now,
                    disabled=False,
                )

            async def contract(
                number: str, company_id: int, family: str, kind: str, n: int | None
            ) -> int:
                return await _row(
                    conn,
                    ContractRow,
                    number=number,
                    company_id=company_id,
                    family=family,
                    kind=kind,
                    starts_on=today - timedelta(days=10),
                    ends_on=today + timedelta(days=300),
                    credits=n,
                    kb_until=today + timedelta(days=300),
                    created_at=now,
                    version=0,
                )

            async def contact(contract_id: int, account_id: int) -> None:
                await _row(
                    conn,
                    ContractContactRow,
                    contract_id=contract_id,
                    account_id=account_id,
                    added_at=now,
                )

            acme = await company("Acme")
            globex = await company("Globex")
            alice = await account("Alice", company_id=acme)
            bob = await account("Bob", company_id=acme)
            erin = await account("Erin", company_id=acme)
            dave = await account("Dave", company_id=globex)
            carol = await account("Carol")
            spec = await account("Sam", "specialist")
            spec2 = await account("Tess", "specialist")
            sysop = await account("Root", "sysop")
            limited = await contract("PP-1", acme, "desktop", "limited", credits)
            unlimited = await contract("PP-2", globex, "wt", "unlimited", None)
            await contact(limited, alice)
            await contact(limited, bob)
            await contact(unlimited, dave)
            await _row(
                conn,
                LicenceRow,
                account_id=carol,
                product="123-win",
                family="desktop",
                licence_number="L-1",
                purchased_on=today - timedelta(days=10),
                via_passport=False,
                registered_at=now,
            )
    finally:
        await engine.dispose()

    def who(account_id: int, name: str, role: Role, company_id: int | None = None) -> Caller:
        company_name = {acme: "Acme", globex: "Globex"}.get(company_id or 0, "")
        return Caller(account_id, name, role, company_id=company_id, company=company_name)

    return World(
        url=url,
        contract_id=limited,
        acme=acme,
        alice=who(alice, "Alice", Role.CONTACT, acme),
        bob=who(bob, "Bob", Role.CONTACT, acme),
        dave=who(dave, "Dave", Role.CONTACT, globex),
        carol=who(carol, "Carol", Role.CALLER),
        erin=who(erin, "Erin", Role.CALLER, acme),
        spec=who(spec, "Sam", Role.SPECIALIST),
        spec2=who(spec2, "Tess", Role.SPECIALIST),
        sysop=who(sysop, "Root", Role.SYSOP),
    )


async def rights_of(engine: AsyncEngine, caller: Caller) -> list[Right]:
    assert caller.account_id is not None
    async with transaction(engine, write=False) as conn:
        return await incident_rights(conn, caller.account_id, today_utc())


def form(
    right: Right,
    *,
    product: str = "123-win",
    summary: str = "1-2-3 plante",
    text: str = "Au demarrage.",
) -> inc.NewIncident:
    return inc.NewIncident(
        right=right,
        product=product,
        product_version="5.0",
        os="Windows 95",
        summary=summary,
        description=text,
    )


async def open_as(engine: AsyncEngine, caller: Caller, **kwargs: str) -> int:
    """Open an incident under the caller's first right."""
    (right, *_) = await rights_of(engine, caller)
    return await inc.open_incident(engine, caller, form(right, **kwargs))


async def count(engine: AsyncEngine, table: type) -> int:
    async with transaction(engine, write=False) as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def credits_left(engine: AsyncEngine, contract_id: int) -> int | None:
    async with transaction(engine, write=False) as conn:
        found = await conn.execute(select(ContractRow.credits).where(ContractRow.id == contract_id))
        value: int | None = found.scalar_one()
        return value


@pytest.fixture
async def world(store_url: str) -> World:
    return await asyncio.wait_for(build_world(store_url), 30)


@pytest.fixture
async def engine(world: World) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(world.url)
    try:
        yield engine
    finally:
        await engine.dispose()


# --- the state table (pure) ---------------------------------------------------------


def test_the_issue_transitions_are_in_the_table() -> None:
    assert inc.next_state(Action.TAKE, State.NOUVEAU) is State.EN_COURS
    assert inc.next_state(Action.ASK, State.EN_COURS) is State.ATTENTE_CLIENT
    assert inc.next_state(Action.ANSWER, State.ATTENTE_CLIENT) is State.EN_COURS
    assert inc.next_state(Action.RESOLVE, State.EN_COURS) is State.RESOLU
    assert inc.next_state(Action.CONFIRM, State.RESOLU) is State.FERME
    assert inc.next_state(Action.EXPIRE, State.RESOLU) is State.FERME
    for state in (State.NOUVEAU, State.EN_COURS, State.ATTENTE_CLIENT, State.RESOLU):
        assert inc.next_state(Action.CLOSE, state) is State.FERME


def test_closed_is_final_and_steps_cannot_be_skipped() -> None:
    assert not [a for a in Action if inc.next_state(a, State.FERME) is not None]
    assert inc.next_state(Action.RESOLVE, State.NOUVEAU) is None
    assert inc.next_state(Action.CONFIRM, State.EN_COURS) is None
    assert inc.next_state(Action.ASK, State.NOUVEAU) is None
    assert inc.next_state(Action.EXPIRE, State.EN_COURS) is None


def test_every_state_of_the_schema_is_a_state() -> None:
    assert {s.value for s in State} == {"nouveau", "en_cours", "attente_client", "resolu", "ferme"}


# --- opening ---------------------------------------------------------------------------


async def test_opening_writes_incident_event_and_spends_one_credit(
    world: World, engine: AsyncEngine
) -> None:
    number = await open_as(engine, world.alice, text="Line 1\nLine 2")
    assert await credits_left(engine, world.contract_id) == 4
    file = await inc.read_incident(engine, world.alice, number)
    assert file is not None
    assert file.incident.state is State.NOUVEAU
    assert file.incident.basis == "contract" and file.incident.contract_id == world.contract_id
    assert file.incident.company_id == world.acme and file.incident.family == "desktop"
    assert [(e.kind, e.body) for e in file.events] == [("opened", "Line 1\nLine 2")]


async def test_free_support_costs_nothing_and_covers_the_licence_product_only(
    world: World, engine: AsyncEngine
) -> None:
    (right,) = await rights_of(engine, world.carol)
    assert right.basis == "free"
    with pytest.raises(inc.NotAllowed):
        await inc.open_incident(engine, world.carol, form(right, product="notes"))
    number = await inc.open_incident(engine, world.carol, form(right))
    file = await inc.read_incident(engine, world.carol, number)
    assert (
        file is not None and file.incident.basis == "free" and file.incident.licence_id is not None
    )
    assert await credits_left(engine, world.contract_id) == 5


async def test_a_contract_covers_only_its_family(world: World, engine: AsyncEngine) -> None:
    (right,) = await rights_of(engine, world.alice)
    assert "notes" not in inc.covered_products(right) and "123-win" in inc.covered_products(right)
    with pytest.raises(inc.NotAllowed):
        await inc.open_incident(engine, world.alice, form(right, product="notes"))
    (wt,) = await rights_of(engine, world.dave)
    assert {"notes", "123-win", "ccmail"} <= set(inc.covered_products(wt))


async def test_bad_forms_write_nothing(world: World, engine: AsyncEngine) -> None:
    (right,) = await rights_of(engine, world.alice)
    for bad in (
        form(right, summary=""),
        form(right, summary="x" * (inc.SUMMARY_MAX + 1)),
        form(right, text="   "),
    ):
        with pytest.raises(inc.NotAllowed):
            await inc.open_incident(engine, world.alice, bad)
    assert await count(engine, IncidentRow) == 0
    assert await credits_left(engine, world.contract_id) == 5


async def test_guests_and_staff_cannot_open(world: World, engine: AsyncEngine) -> None:
    (right,) = await rights_of(engine, world.alice)
    for who in (GUEST, world.spec):
        with pytest.raises(inc.NotAllowed):
            await inc.open_incident(engine, who, form(right))
    assert await count(engine, IncidentRow) == 0


async def test_a_right_not_held_is_refused(world: World, engine: AsyncEngine) -> None:
    (right,) = await rights_of(engine, world.alice)
    with pytest.raises(inc.RightGone):
        await inc.open_incident(engine, world.erin, form(right))
    assert await count(engine, IncidentRow) == 0


async def test_when_the_credit_is_gone_nothing_is_written(store_url: str) -> None:
    world = await build_world(store_url, credits=1)
    engine = make_engine(store_url)
    try:
        (right,) = await rights_of(engine, world.bob)
        await open_as(engine, world.alice)
        with pytest.raises(inc.NoCredit):
            await inc.open_incident(engine, world.bob, form(right))
        assert await count(engine, IncidentRow) == 1
        assert await count(engine, IncidentEventRow) == 1
        assert await credits_left(engine, world.contract_id) == 0
    finally:
        await engine.dispose()


async def test_two_contacts_racing_for_the_last_credit(store_url: str) -> None:
    world = await build_world(store_url, credits=1)
    engines = [make_engine(store_url), make_engine(store_url)]
    try:
        rights = [
            await rights_of(e, c) for e, c in zip(engines, (world.alice, world.bob), strict=True)
        ]
        results = await asyncio.wait_for(
            asyncio.gather(
                inc.open_incident(engines[0], world.alice, form(rights[0][0])),
                inc.open_incident(engines[1], world.bob, form(rights[1][0])),
                return_exceptions=True,
            ),
            30,
        )
        assert sum(isinstance(r, int) for r in results) == 1
        assert sum(isinstance(r, inc.NoCredit) for r in results) == 1
        assert await count(engines[0], IncidentRow) == 1
        assert await count(engines[0], IncidentEventRow) == 1
        assert await credits_left(engines[0], world.contract_id) == 0
    finally:
        for e in engines:
            await e.dispose()


# --- visibility ---------------------------------------------------------------------------


async def test_who_sees_which_incident(world: World, engine: AsyncEngine) -> None:
    acme = await open_as(engine, world.alice)
    carols = await open_as(engine, world.carol)
    sees = {
        name: {n for n in (acme, carols) if await inc.read_incident(engine, who, n) is not None}
        for name, who in (
            ("alice", world.alice),
            ("bob", world.bob),
            ("erin", world.erin),
            ("dave", world.dave),
            ("carol", world.carol),
            ("guest", GUEST),
            ("spec", world.spec),
            ("sysop", world.sysop),
        )
    }
    assert sees == {
        "alice": {acme},
        "bob": {acme},
        "erin": set(),
        "dave": set(),
        "carol": {carols},
        "guest": set(),
        "spec": {acme, carols},
        "sysop": {acme, carols},
    }
    listed = {x.incident.id for x in await inc.caller_incidents(engine, world.bob)}
    assert listed == {acme}
    assert await inc.caller_incidents(engine, GUEST) == []
    assert {x.incident.id for x in await inc.caller_incidents(engine, world.dave)} == set()


async def test_acting_on_an_incident_one_cannot_see_is_unknown(
    world: World, engine: AsyncEngine
) -> None:
    number = await open_as(engine, world.alice)
    with pytest.raises(inc.Unknown):
        await inc.act(engine, world.dave, number, Action.ANSWER, read_version=0, body="hello")
    with pytest.raises(inc.Unknown):
        await inc.attach(engine, world.carol, number, [inc.Upload("a" * 32, "x.wk4", 3, "0" * 64)])
    assert await count(engine, IncidentEventRow) == 1


# --- the life of an incident --------------------------------------------------------------


async def test_the_whole_life_of_an_incident(world: World, engine: AsyncEngine) -> None:
    number = await open_as(engine, world.alice)
    step = await inc.act(engine, world.spec, number, Action.TAKE, read_version=0)
    assert step.state is State.EN_COURS and step.specialist == "Sam" and step.version == 1
    step = await inc.act(
        engine, world.spec, number, Action.ASK, read_version=1, body="Quel fichier ?"
    )
    assert step.state is State.ATTENTE_CLIENT
    # Bob, a contact of the same company, may answer on Alice's incident.
    step = await inc.act(
        engine, world.bob, number, Action.ANSWER, read_version=2, body="BUDGET.WK4"
    )
    assert step.state is State.EN_COURS
    step = await inc.act(
        engine, world.spec, number, Action.RESOLVE, read_version=3, body="Correctif"
    )
    assert step.state is State.RESOLU
    step = await inc.act(engine, world.alice, number, Action.CONFIRM, read_version=4)
    assert step.state is State.FERME and step.close_reason == "resolu"
    file = await inc.read_incident(engine, world.alice, number)
    assert file is not None
    assert [(e.kind, e.state_from, e.state_to) for e in file.events] == [
        ("opened", None, "nouveau"),
        ("take", "nouveau", "en_cours"),
        ("ask", "en_cours", "attente_client"),
        ("answer", "attente_client", "en_cours"),
        ("resolve", "en_cours", "resolu"),
        ("confirm", "resolu", "ferme"),
    ]
    assert [e.staff for e in file.events] == [False, True, True, False, True, False]


async def test_roles_and_states_limit_actions(world: World, engine: AsyncEngine) -> None:
    number = await open_as(engine, world.alice)
    for who, action in (
        (world.alice, Action.TAKE),
        (world.spec, Action.ANSWER),
        (world.spec, Action.RESOLVE),  # not taken yet
        (world.alice, Action.CONFIRM),
    ):
        with pytest.raises(inc.NotAllowed):
            await inc.act(engine, who, number, action, read_version=0, body="x")
    with pytest.raises(inc.NotAllowed):
        await inc.act(
            engine, world.spec, number, Action.CLOSE, read_version=0, reason="pas un motif"
        )
    closed = await inc.act(
        engine,
        world.spec,
        number,
        Action.CLOSE,
        read_version=0,
        reason="hors_garantie_developpement",
    )
    assert closed.state is State.FERME and closed.close_reason == "hors_garantie_developpement"
    with pytest.raises(inc.NotAllowed):
        await inc.act(engine, world.alice, number, Action.ANSWER, read_version=1, body="et alors ?")
    with pytest.raises(inc.NotAllowed):
        await inc.act(engine, world.spec, number, Action.REPLY, read_version=1, body="")
    assert await count(engine, IncidentEventRow) == 2


async def test_a_stale_version_is_a_conflict_that_says_what_changed(
    world: World, engine: AsyncEngine
) -> None:
    number = await open_as(engine, world.alice)
    file = await inc.read_incident(engine, world.spec, number)
    assert file is not None
    await inc.act(engine, world.spec2, number, Action.TAKE, read_version=0)
    with pytest.raises(inc.Conflict) as caught:
        await inc.act(
            engine, world.spec, number, Action.TAKE, read_version=0, seen_event=file.last_event_id
        )
    conflict = caught.value
    assert conflict.incident.state is State.EN_COURS and conflict.incident.specialist == "Tess"
    assert [(e.kind, e.actor) for e in conflict.changes] == [("take", "Tess")]
    now = await inc.read_incident(engine, world.spec, number)
    assert now is not None and now.incident.specialist == "Tess" and now.incident.version == 1


async def test_concurrent_updates_never_lose_one(world: World) -> None:
    engines = [make_engine(world.url) for _ in range(3)]
    try:
        number = await open_as(engines[0], world.alice)
        await inc.act(engines[0], world.spec, number, Action.TAKE, read_version=0)
        results = await asyncio.wait_for(
            asyncio.gather(
                inc.act(engines[1], world.spec, number, Action.RESOLVE, read_version=1, body="A"),
                inc.act(engines[2], world.spec2, number, Action.ASK, read_version=1, body="B"),
                return_exceptions=True,
            ),
            30,
        )
        done = [r for r in results if isinstance(r, inc.Incident)]
        conflicts = [r for r in results if isinstance(r, inc.Conflict)]
        assert len(done) == 1 and len(conflicts) == 1, results
        assert conflicts[0].incident.state is done[0].state
        file = await inc.read_incident(engines[0], world.spec, number)
        assert file is not None and file.incident.version == 2
        assert [e.kind for e in file.events][-1] in ("resolve", "ask")
        assert len(file.events) == 3
    finally:
        for e in engines:
            await e.dispose()


# --- replies, reading, expiry, attachments --------------------------------------------------


async def test_unread_replies_count_specialist_messages_since_the_last_reading(
    world: World, engine: AsyncEngine
) -> None:
    assert world.alice.account_id is not None
    number = await open_as(engine, world.alice)
    await inc.act(engine, world.spec, number, Action.TAKE, read_version=0)
    assert await inc.unread_replies(engine, world.alice.account_id) == 0
    await inc.act(engine, world.spec, number, Action.REPLY, read_version=1, body="Essayez ceci")
    assert await inc.unread_replies(engine, world.alice.account_id) == 1
    await inc.act(engine, world.spec, number, Action.ASK, read_version=2, body="Et cela ?")
    assert await inc.unread_replies(engine, world.alice.account_id) == 2
    (listed,) = await inc.caller_incidents(engine, world.alice)
    assert listed.unread == 2
    (other,) = await inc.caller_incidents(engine, world.bob)
    assert other.unread == 0  # Bob did not open it: Alice's replies are hers
    await inc.mark_seen(engine, world.bob, number)  # not his: changes nothing
    assert await inc.unread_replies(engine, world.alice.account_id) == 2
    await inc.mark_seen(engine, world.alice, number)
    assert await inc.unread_replies(engine, world.alice.account_id) == 0
    await inc.act(engine, world.alice, number, Action.ANSWER, read_version=3, body="Voila")
    assert await inc.unread_replies(engine, world.alice.account_id) == 0


async def test_resolved_incidents_close_after_fourteen_days(
    world: World, engine: AsyncEngine
) -> None:
    old = await open_as(engine, world.alice)
    recent = await open_as(engine, world.alice)
    long_ago = datetime.now(UTC) - timedelta(days=15)
    lately = datetime.now(UTC) - timedelta(days=13)
    for number, when in ((old, long_ago), (recent, lately)):
        await inc.act(engine, world.spec, number, Action.TAKE, read_version=0, now=when)
        await inc.act(
            engine, world.spec, number, Action.RESOLVE, read_version=1, body="ok", now=when
        )
    assert await inc.expire_resolved(engine) == [old]
    file = await inc.read_incident(engine, world.alice, old)
    assert file is not None and file.incident.state is State.FERME
    assert (file.events[-1].kind, file.events[-1].actor_id) == ("expire", None)
    still = await inc.read_incident(engine, world.alice, recent)
    assert still is not None and still.incident.state is State.RESOLU
    assert await inc.expire_resolved(engine) == []


async def test_queue_is_oldest_first_and_filtered_by_family(
    world: World, engine: AsyncEngine
) -> None:
    first = await open_as(engine, world.alice)
    notes = await open_as(engine, world.dave, product="notes")
    third = await open_as(engine, world.carol)
    done = await open_as(engine, world.bob)
    await inc.act(engine, world.spec, done, Action.CLOSE, read_version=0, reason="doublon")
    assert [i.id for i in await inc.queue(engine)] == [first, notes, third]
    assert [i.id for i in await inc.queue(engine, "notes")] == [notes]
    assert [i.id for i in await inc.queue(engine, "desktop")] == [first, third]
    assert await inc.new_in_queue(engine) == 3


async def test_attachments_are_recorded_with_an_event(world: World, engine: AsyncEngine) -> None:
    number = await open_as(engine, world.alice)
    uploads = [
        inc.Upload("a" * 32, "BUDGET.WK4", 1200, "1" * 64),
        inc.Upload("b" * 32, "x.txt", 3, "2" * 64),
    ]
    assert await inc.attach(engine, world.bob, number, uploads) == 2
    file = await inc.read_incident(engine, world.spec, number)
    assert file is not None
    assert [(a.stored_name, a.sender_name, a.size) for a in file.attachments] == [
        ("a" * 32, "BUDGET.WK4", 1200),
        ("b" * 32, "x.txt", 3),
    ]
    assert [e.kind for e in file.events] == ["opened", "attach", "attach"]
    assert file.incident.version == 0
    assert await count(engine, IncidentAttachmentRow) == 2
