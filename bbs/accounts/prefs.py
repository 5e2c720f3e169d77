"""A caller's preferences kept with their account: language, hotkeys, terminal settings."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.accounts.model import Prefs
from bbs.accounts.store import ACCOUNT
from bbs.store.schema import AccountPrefRow

ACCOUNT_PREF: Table = AccountPrefRow.__table__  # type: ignore[assignment]


_TERMINAL = tuple(f.name for f in fields(Prefs) if f.name != "lang")
"""The columns of `account_pref` (the language is `account.lang`)."""


async def load_prefs(conn: AsyncConnection, account_id: int) -> Prefs:
    """What the account chose, its language included."""
    lang = await conn.scalar(select(ACCOUNT.c.lang).where(ACCOUNT.c.id == account_id))
    row = (
        await conn.execute(select(ACCOUNT_PREF).where(ACCOUNT_PREF.c.account_id == account_id))
    ).first()
    stored: dict[str, Any] = {} if row is None else {k: getattr(row, k) for k in _TERMINAL}
    return Prefs(lang=lang, **stored)


async def save_prefs(conn: AsyncConnection, account_id: int, prefs: Prefs) -> None:
    """Keep `prefs` for the account; what they leave as None is left as it was."""
    if prefs.lang is not None:
        await conn.execute(
            update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(lang=prefs.lang)
        )
    values = {k: getattr(prefs, k) for k in _TERMINAL if getattr(prefs, k) is not None}
    if not values:
        return
    done = await conn.execute(
        update(ACCOUNT_PREF).where(ACCOUNT_PREF.c.account_id == account_id).values(**values)
    )
    if done.rowcount == 0:
        await conn.execute(insert(ACCOUNT_PREF).values(account_id=account_id, **values))


async def set_profile(
    conn: AsyncConnection,
    account_id: int,
    *,
    company_name: str | None = None,
    country: str | None = None,
) -> None:
    """Change what the caller says of themselves. Only the typed company name changes:
    belonging to a company (`account.company_id`) is granted elsewhere."""
    values: dict[str, str] = {}
    if company_name is not None:
        values["company_name"] = company_name
    if country is not None:
        values["country"] = country
    if values:
        await conn.execute(update(ACCOUNT).where(ACCOUNT.c.id == account_id).values(**values))
