"""`bbs contract ...`: add, list and show contracts, add and remove named contacts,
add incident credits; `bbs company member ...`: who belongs to a company."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from bbs.errors import UsageError
from bbs.support.companies import Member, add_member, list_members, remove_member
from bbs.support.contracts import (
    Contract,
    ContractError,
    add_contact,
    add_credits,
    create_contract,
    get_contract,
    list_contracts,
    remove_contact,
)
from bbs.support.entitlements import KINDS, days_left, is_current, today_utc
from bbs.support.products import family_codes, family_name
from bbs.terminal.sanitize import clean

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bbs.config import Config

KIND_NAMES = {
    "unlimited": "Support Passport Premium, unlimited",
    "limited": "Support Passport Premium, limited",
    "incident": "per-incident programme",
    "knowledge": "Lotus Knowledge base subscription",
}


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


class _Families:
    """The families argparse offers, read from the catalogue when a command is parsed
    rather than when this module is imported."""

    def __contains__(self, value: object) -> bool:
        return value in family_codes()

    def __iter__(self) -> Iterator[str]:
        return iter(family_codes())


def register(sub: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add this command's parsers to `sub`; each sets `run(config, args) -> int` (async)."""
    company = sub.add_parser("company", help="customer companies and who belongs to them")
    co_sub = company.add_subparsers(
        dest="company_command", required=True, parser_class=type(company)
    )
    member = co_sub.add_parser("member", help="members (their company's rights follow)")
    member_sub = member.add_subparsers(
        dest="member_command", required=True, parser_class=type(company)
    )
    for verb, run, text in (
        ("add", _member_add, "make an account a member of a company"),
        ("remove", _member_remove, "take an account out of a company"),
    ):
        one = member_sub.add_parser(verb, help=text)
        common(one)
        one.add_argument("company", metavar="COMPANY")
        one.add_argument("account", metavar="ACCOUNT_NAME")
        one.set_defaults(run=run)
    members = member_sub.add_parser("list", help="a company's members")
    common(members)
    members.add_argument("company", metavar="COMPANY")
    members.set_defaults(run=_member_list)

    contract = sub.add_parser("contract", help="support contracts and their named contacts")
    csub = contract.add_subparsers(
        dest="contract_command", required=True, parser_class=type(contract)
    )

    add = csub.add_parser("add", help="a new contract (one year from --start)")
    common(add)
    add.add_argument("--company", required=True, metavar="NAME", help="created if new")
    add.add_argument("--family", choices=_Families(), help="product family (wt: all)")
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--credits", type=_count, metavar="N", help="incident credits")
    add.add_argument("--start", type=_iso_date, metavar="YYYY-MM-DD", help="default today")
    add.add_argument("--number", metavar="N", help="default e.g. PP-95-00042")
    add.set_defaults(run=_add)

    listing = csub.add_parser("list", help="every contract, or one company's")
    common(listing)
    listing.add_argument("--company", metavar="NAME")
    listing.set_defaults(run=_list)

    show = csub.add_parser("show", help="one contract: terms, credits, contacts")
    common(show)
    show.add_argument("number", metavar="NUMBER")
    show.set_defaults(run=_show)

    contact = csub.add_parser("contact", help="named contacts")
    contact_sub = contact.add_subparsers(
        dest="contact_command", required=True, parser_class=type(contract)
    )
    for verb, run, text in (
        ("add", _contact_add, "name an account a contact of a contract"),
        ("remove", _contact_remove, "take a named contact off a contract"),
    ):
        one = contact_sub.add_parser(verb, help=text)
        common(one)
        one.add_argument("number", metavar="NUMBER")
        one.add_argument("account", metavar="ACCOUNT_NAME")
        one.set_defaults(run=run)

    credit = csub.add_parser("credit", help="add incident credits (a purchase adds one)")
    common(credit)
    credit.add_argument("number", metavar="NUMBER")
    credit.add_argument("--add", type=_count, default=1, metavar="N", help="default 1")
    credit.set_defaults(run=_credit)


async def _in_transaction(
    config: Config, work: Callable[[AsyncConnection], Awaitable[Any]], *, write: bool
) -> Any:
    from bbs.store.db import make_engine, transaction

    engine = make_engine(config.db)
    try:
        async with transaction(engine, write=write, store_lock=False) as conn:
            return await work(conn)
    except ContractError as e:
        raise UsageError(str(e)) from None
    finally:
        await engine.dispose()


def _describe(contract: Contract, today: date) -> list[str]:
    family = f"{family_name(contract.family, 'en')} ({contract.family})"
    if contract.kind == "knowledge":
        family = "every product"
    if is_current(contract.starts_on, contract.ends_on, today):
        state = f"{days_left(contract.ends_on, today)} days left"
    elif contract.starts_on > today:
        state = "not started"
    else:
        state = "expired"
    credits = {"unlimited": "unlimited incidents", "knowledge": "no incidents"}.get(
        contract.kind, f"{contract.credits} incident(s) left"
    )
    allowed = contract.max_contacts
    used = f"{len(contract.contacts)}" + ("" if allowed is None else f"/{allowed}")
    names = ", ".join(clean(n) for n in contract.contacts) or "none"
    if contract.kind == "knowledge":
        used, names = "company-wide", "every account of the company"
    kb = (
        f"until {contract.kb_until.isoformat()}"
        if contract.kb_until is not None
        else "not included"
    )
    return [
        f"Contract {contract.number}  {clean(contract.company)}",
        f"  {KIND_NAMES[contract.kind]} - {family}",
        f"  Term: {contract.starts_on.isoformat()} to {contract.ends_on.isoformat()} ({state})",
        f"  Credits: {credits}",
        f"  Named contacts ({used}): {names}",
        f"  Knowledge base: {kb}",
    ]


async def _add(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> Contract:
        return await create_contract(
            conn,
            company=args.company,
            kind=args.kind,
            family=args.family,
            credits=args.credits,
            starts_on=args.start or today_utc(),
            number=args.number,
        )

    contract: Contract = await _in_transaction(config, work, write=True)
    print("\n".join(_describe(contract, today_utc())))
    return 0


async def _list(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> list[Contract]:
        return await list_contracts(conn, args.company)

    contracts: list[Contract] = await _in_transaction(config, work, write=False)
    today = today_utc()
    if not contracts:
        print("no contracts")
        return 0
    for c in contracts:
        credits = "-" if c.credits is None else str(c.credits)
        allowed = "" if c.max_contacts is None else f"/{c.max_contacts}"
        state = "current" if is_current(c.starts_on, c.ends_on, today) else "not current"
        print(
            f"{c.number:<14} {clean(c.company)[:24]:<24} {c.family:<8} {c.kind:<9} "
            f"{c.ends_on.isoformat()} {state:<11} credits {credits:>4} "
            f"contacts {len(c.contacts)}{allowed}"
        )
    return 0


async def _show(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> Contract | None:
        return await get_contract(conn, args.number)

    contract: Contract | None = await _in_transaction(config, work, write=False)
    if contract is None:
        raise UsageError(f"no contract numbered {args.number.strip().upper()}")
    print("\n".join(_describe(contract, today_utc())))
    return 0


async def _contact_add(config: Config, args: argparse.Namespace) -> int:
    today = today_utc()

    async def work(conn: AsyncConnection) -> Contract:
        return await add_contact(conn, args.number, args.account, today)

    contract: Contract = await _in_transaction(config, work, write=True)
    print(f"{clean(args.account)} is now a named contact of {contract.number}")
    print("\n".join(_describe(contract, today)))
    return 0


async def _contact_remove(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> Contract:
        return await remove_contact(conn, args.number, args.account)

    contract: Contract = await _in_transaction(config, work, write=True)
    print(f"{clean(args.account)} is no longer a named contact of {contract.number}")
    print("\n".join(_describe(contract, today_utc())))
    return 0


async def _credit(config: Config, args: argparse.Namespace) -> int:
    today = today_utc()

    async def work(conn: AsyncConnection) -> Contract:
        return await add_credits(conn, args.number, args.add, today)

    contract: Contract = await _in_transaction(config, work, write=True)
    print(f"{contract.number}: {contract.credits} incident(s) left")
    return 0


async def _member_add(config: Config, args: argparse.Namespace) -> int:
    today = today_utc()

    async def work(conn: AsyncConnection) -> str:
        return await add_member(conn, args.company, args.account, today)

    company: str = await _in_transaction(config, work, write=True)
    print(f"{clean(args.account)} is now a member of {clean(company)}")
    return 0


async def _member_remove(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> str:
        return await remove_member(conn, args.company, args.account)

    company: str = await _in_transaction(config, work, write=True)
    print(f"{clean(args.account)} is no longer a member of {clean(company)}")
    return 0


async def _member_list(config: Config, args: argparse.Namespace) -> int:
    async def work(conn: AsyncConnection) -> tuple[str, list[Member]]:
        return await list_members(conn, args.company)

    company, members = await _in_transaction(config, work, write=False)
    print(f"{clean(company)}: {len(members)} member(s)")
    for m in members:
        print(f"  {clean(m.name):<24} {m.role:<10} {'named contact' if m.contact else ''}".rstrip())
    return 0
