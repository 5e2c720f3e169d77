"""Callers' SSH public keys: parsing what they paste, and the `ssh_key` rows.

A key signs in the account that registered it, over SSH only and never over telnet
(a telnet caller has no key to show). Weak keys are refused: DSA, and RSA under 2048
bits. An account keeps at most MAX_KEYS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncssh
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bbs.accounts import store
from bbs.store.db import transaction
from bbs.store.schema import SshKeyRow
from bbs.terminal.sanitize import is_clean

SSH_KEY: Table = SshKeyRow.__table__  # type: ignore[assignment]
MAX_KEYS = 8
MAX_LINE = 8192
"""Longest pasted key line accepted (an RSA 16384 key fits)."""
ALGORITHMS = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)


class BadKey(ValueError):
    """A pasted line that is no usable public key; the message key says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Parsed:
    """A public key as it is stored."""

    algorithm: str
    public_key: str
    fingerprint: str
    comment: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    """One registered key, for the profile screen."""

    id: int
    algorithm: str
    fingerprint: str
    comment: str
    created_at: datetime
    last_used_at: datetime | None


def parse_key(line: str) -> Parsed:
    """The key in one OpenSSH `authorized_keys`-style line; BadKey when it is none."""
    text = line.strip()
    if not text or len(text) > MAX_LINE:
        raise BadKey("ssh.key_bad")
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError, TypeError):
        raise BadKey("ssh.key_bad") from None
    algorithm = key.get_algorithm()
    if algorithm not in ALGORITHMS:
        raise BadKey("ssh.key_weak")
    if algorithm == "ssh-rsa":
        bits = getattr(getattr(key, "pyca_key", None), "key_size", 0)
        if bits < 2048:
            raise BadKey("ssh.key_weak")
    parts = text.split(None, 2)
    comment = parts[2].strip() if len(parts) > 2 else ""
    if not is_clean(comment):
        comment = ""
    return Parsed(
        algorithm=algorithm,
        public_key=key.export_public_key("openssh").decode("ascii").split()[1],
        fingerprint=str(key.get_fingerprint("sha256")),
        comment=comment[:60],
    )


async def add_key(conn: AsyncConnection, account_id: int, key: Parsed, now: datetime) -> str:
    """Register `key` for the account: "" when done, else why not (a message key)."""
    count = await conn.scalar(
        select(func.count()).select_from(SSH_KEY).where(SSH_KEY.c.account_id == account_id)
    )
    if (count or 0) >= MAX_KEYS:
        return "ssh.key_too_many"
    known = await conn.scalar(
        select(SSH_KEY.c.id).where(
            SSH_KEY.c.account_id == account_id, SSH_KEY.c.fingerprint == key.fingerprint
        )
    )
    if known is not None:
        return "ssh.key_known"
    await conn.execute(
        insert(SSH_KEY).values(
            account_id=account_id,
            algorithm=key.algorithm,
            public_key=key.public_key,
            fingerprint=key.fingerprint,
            comment=key.comment,
            created_at=now,
        )
    )
    return ""


async def keys_of(conn: AsyncConnection, account_id: int) -> list[StoredKey]:
    """The account's keys, oldest first."""
    rows = (
        await conn.execute(
            select(SSH_KEY).where(SSH_KEY.c.account_id == account_id).order_by(SSH_KEY.c.id)
        )
    ).all()
    return [
        StoredKey(r.id, r.algorithm, r.fingerprint, r.comment, r.created_at, r.last_used_at)
        for r in rows
    ]


async def remove_key(conn: AsyncConnection, account_id: int, key_id: int) -> bool:
    """Forget one of the account's keys; whether it was there."""
    result = await conn.execute(
        delete(SSH_KEY).where(SSH_KEY.c.account_id == account_id, SSH_KEY.c.id == key_id)
    )
    return bool(result.rowcount)


async def account_for_key(
    engine: AsyncEngine, name_key: str, key: asyncssh.SSHKey
) -> store.Account | None:
    """The account named `name_key` when it registered `key`, else None."""
    fingerprint = str(key.get_fingerprint("sha256"))
    async with transaction(engine, write=False) as conn:
        account = await store.find_account(conn, name_key)
        if account is None:
            return None
        row = (
            await conn.execute(
                select(SSH_KEY.c.id, SSH_KEY.c.public_key).where(
                    SSH_KEY.c.account_id == account.id, SSH_KEY.c.fingerprint == fingerprint
                )
            )
        ).first()
    # The fingerprint picks the row; the key itself must be the one stored.
    if row is None or row.public_key != key.export_public_key("openssh").decode().split()[1]:
        return None
    return account


async def key_signed_in(
    engine: AsyncEngine, account_id: int, key: asyncssh.SSHKey, now: datetime
) -> None:
    """Note a sign-in by `key` (once the client proved it holds the private key)."""
    fingerprint = str(key.get_fingerprint("sha256"))
    async with transaction(engine, write=True, store_lock=False) as conn:
        await conn.execute(
            update(SSH_KEY)
            .where(SSH_KEY.c.account_id == account_id, SSH_KEY.c.fingerprint == fingerprint)
            .values(last_used_at=now)
        )
        await store.signed_in(conn, account_id, now)
