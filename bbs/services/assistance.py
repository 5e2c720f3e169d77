""" "Mon assistance": the caller's entitlements, days and credits left.

For a signed-in caller: their licences and the free support each still gives, the
contracts they are a named contact of (family, kind, term, credits, contacts), and
their Knowledge base access. A guest is told to sign in or register, and what the
services are, in the seed's words.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from bbs.menus.strings import elide
from bbs.services.registry import Command, Context
from bbs.session.pager import page
from bbs.store.db import StoreError, transaction
from bbs.support.companies import add_member, may_grant
from bbs.support.contracts import (
    ContractError,
    ContractStatus,
    LicenceStatus,
    SupportSummary,
    support_summary,
)
from bbs.support.entitlements import days_left, today_utc
from bbs.support.products import family_name, product_name
from bbs.terminal.markup import escape
from bbs.terminal.sanitize import user_markup

if TYPE_CHECKING:
    from bbs.services.registry import Node
    from bbs.session.session import Session

log = logging.getLogger(__name__)

GUEST_SERVICES = (
    "asst.guest_free",
    "asst.guest_incident",
    "asst.guest_premium",
    "asst.guest_knowledge",
)
"""What a guest is told about, in the seed's order of the services."""

_MARK = "\x00"


def _text(
    session: Session, key: str, /, *, user: dict[str, str] | None = None, **values: object
) -> str:
    """A string as markup: board text escaped, caller-written `user` values filtered."""
    user = user or {}
    marks = {name: f"{_MARK}{i}{_MARK}" for i, name in enumerate(user)}
    out = escape(session.text(key, **values, **marks))
    for name, mark in marks.items():
        while (at := out.find(mark)) != -1:
            head = elide(out[:at], user[name]) if session.lang == "fr" else out[:at]
            out = head + user_markup(user[name]) + out[at + len(mark) :]
    return out


def _day(session: Session, day: date) -> str:
    return session.text("asst.date", day=day)


async def _guest(session: Session) -> None:
    lines = [
        "{warn}" + _text(session, "asst.guest") + "{/}",
        "",
        "{h}" + _text(session, "asst.guest_services_title") + "{/}",
    ]
    for key in GUEST_SERVICES:
        lines += ["", _text(session, key)]
    await page(session, "\n".join(lines) + "\n")


def _licence_line(session: Session, lic: LicenceStatus) -> list[str]:
    head = _text(
        session,
        "asst.licence",
        product=product_name(lic.product, session.lang),
        day=_day(session, lic.purchased_on),
        user={"number": lic.licence_number},
    )
    if lic.state == "active":
        state = "{ok}" + _text(
            session, "asst.licence_active", days=lic.days_left, day=_day(session, lic.free_until)
        )
    elif lic.state == "expired":
        state = "{dim}" + _text(session, "asst.licence_expired", day=_day(session, lic.free_until))
    elif lic.state == "future":
        state = "{dim}" + _text(session, "asst.licence_future", day=_day(session, lic.purchased_on))
    else:
        state = "{dim}" + _text(session, f"asst.licence_{lic.state}")
    return [f"  {head}", f"    {state}{{/}}"]


def _contract_lines(session: Session, c: ContractStatus, today: date) -> list[str]:
    lines = [
        "  {em}"
        + _text(session, "asst.contract", number=c.number, user={"company": c.company})
        + "{/}",
        "    "
        + escape(family_name(c.family, session.lang))
        + " - "
        + _text(session, f"asst.kind.{c.kind}"),
    ]
    if c.current:
        term = "{ok}" + _text(
            session, "asst.term_current", day=_day(session, c.ends_on), days=c.days_left
        )
    elif c.starts_on > today:
        term = "{dim}" + _text(session, "asst.term_future", day=_day(session, c.starts_on))
    else:
        term = "{warn}" + _text(session, "asst.term_expired", day=_day(session, c.ends_on))
    lines.append(f"    {term}{{/}}")
    if c.kind == "unlimited":
        lines.append("    " + _text(session, "asst.credits_unlimited"))
    elif c.kind != "knowledge":
        if c.credits:
            lines.append("    " + _text(session, "asst.credits", credits=c.credits))
        else:
            lines.append("    {warn}" + _text(session, "asst.credits_none") + "{/}")
    if c.max_contacts is None:
        lines.append("    " + _text(session, "asst.contacts_any", used=c.contacts_used))
    elif c.max_contacts:
        lines.append(
            "    " + _text(session, "asst.contacts", used=c.contacts_used, allowed=c.max_contacts)
        )
    return lines


def summary_markup(session: Session, summary: SupportSummary, today: date) -> str:
    """The "Mon assistance" page for one caller, as markup."""
    lines = ["{h}" + _text(session, "asst.free_title") + "{/}"]
    if not summary.licences:
        lines.append("  {dim}" + _text(session, "asst.no_licence") + "{/}")
    for lic in summary.licences:
        lines += _licence_line(session, lic)
    lines += ["", "{h}" + _text(session, "asst.contracts_title") + "{/}"]
    if not summary.contracts:
        lines.append("  {dim}" + _text(session, "asst.no_contract") + "{/}")
    for contract in summary.contracts:
        lines += _contract_lines(session, contract, today)
    lines += ["", "{h}" + _text(session, "asst.kb_title") + "{/}"]
    if summary.kb_until is None:
        lines.append("  {dim}" + _text(session, "asst.kb_none") + "{/}")
    else:
        lines.append(
            "  {ok}"
            + _text(
                session,
                "asst.kb_until",
                day=_day(session, summary.kb_until),
                days=days_left(summary.kb_until, today),
            )
            + "{/}"
        )
    return "\n".join(lines) + "\n"


async def show_my_support(ctx: Context, arg: str | None) -> None:
    """Print the caller's entitlements (or, for a guest, what the services are)."""
    session = ctx.session
    caller = session.caller
    if caller.account_id is None:
        await _guest(session)
        return
    db = ctx.board.db
    if db is None:
        await session.send("{err}" + _text(session, "asst.unavailable") + "{/}\n")
        return
    today = today_utc()
    try:
        async with transaction(db, write=False) as conn:
            summary = await support_summary(conn, caller.account_id, today)
    except StoreError as e:
        log.error(
            "%s: entitlements of account %s unreadable: %s", session.link.peer, caller.account_id, e
        )
        await session.send("{err}" + _text(session, "asst.unavailable") + "{/}\n")
        return
    head = "{dim}" + _text(session, "asst.for", user={"name": caller.name}) + "{/}\n\n"
    await page(session, head + summary_markup(session, summary, today))


async def add_colleague(ctx: Context, arg: str | None) -> None:
    """A named contact makes another caller's account a member of their company.

    Membership carries the company's entitlements (its Knowledge base subscription),
    so it is granted by someone the company named, never claimed at registration.
    """
    session = ctx.session
    caller = session.caller
    db = ctx.board.db
    if db is None:
        await session.send("{err}" + _text(session, "asst.unavailable") + "{/}\n")
        return
    today = today_utc()
    try:
        async with transaction(db, write=False) as conn:
            allowed = (
                caller.account_id is not None
                and caller.company_id is not None
                and await may_grant(conn, caller.account_id, caller.company_id, today)
            )
    except StoreError:
        await session.send("{err}" + _text(session, "asst.unavailable") + "{/}\n")
        return
    if not allowed:
        await session.send("{warn}" + _text(session, "asst.colleague_not_contact") + "{/}\n")
        return
    name = await ctx.choose("asst.colleague_ask")
    if name is None:
        return
    assert caller.account_id is not None
    try:
        async with transaction(db, write=True) as conn:
            company = await add_member(conn, caller.company, name, today, by=caller.account_id)
    except ContractError as refused:
        log.info("%s: colleague %r not added: %s", session.link.peer, name, refused)
        await session.send("{warn}" + _text(session, "asst.colleague_refused") + "{/}\n")
        return
    except StoreError:
        await session.send("{err}" + _text(session, "asst.unavailable") + "{/}\n")
        return
    log.info("%s: account %s added %r to company %r", session.link.peer, caller.name, name, company)
    await session.send(
        "{ok}"
        + _text(session, "asst.colleague_added", user={"name": name, "company": company})
        + "{/}\n"
    )


COMMANDS: list[Command] = [
    Command(
        "my_support",
        show_my_support,
        showable=True,
    ),
    Command("add_colleague", add_colleague),
]


async def on_sign_in(session: Session, board: Node) -> None:
    """What this area tells a caller right after sign-in (nothing yet)."""
