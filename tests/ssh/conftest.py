"""A board node with SSH on, and a signed-up account to sign in with."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bbs.accounts import store
from bbs.accounts.names import name_key
from bbs.accounts.passwords import POOL
from bbs.config import Config
from bbs.store.db import make_engine, transaction
from tests.e2e.harness import loaded_database, node_settings, running_board

PASSWORD = "Symphony-1-2-3"
NAME = "Jean Dupont"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def add_account(url: str, name: str = NAME, password: str = PASSWORD) -> None:
    engine = make_engine(url)
    try:
        stored = await POOL.hash(password)
        async with transaction(engine, write=True, store_lock=False) as conn:
            await store.create_account(
                conn,
                name=name,
                key=name_key(name),
                password_hash=stored,
                role="caller",
                company="ACME SA",
                country="FR",
                lang="fr",
                now=datetime(2026, 1, 5, tzinfo=UTC),
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'bbs.db'}"
    await loaded_database(url)
    await add_account(url)
    return url


def ssh_settings(url: str, work: Path, **changes: object) -> Config:
    """Settings of a node with SSH on a free port and its host key under `work`."""
    return node_settings(
        url,
        work,
        ssh_port=free_port(),
        ssh_host_key=str(work / "ssh_host_key"),
        **changes,
    )


@pytest.fixture
async def board(database: str, tmp_path: Path) -> AsyncIterator[Config]:
    async with running_board(ssh_settings(database, tmp_path)) as running:
        yield running
