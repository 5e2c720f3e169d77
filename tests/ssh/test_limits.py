"""SSH callers count against the node's limits as telnet callers do."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import pytest

from tests.e2e.harness import running_board
from tests.ssh.conftest import ssh_settings
from tests.ssh.test_asyncssh_client import ssh_line

pytestmark = pytest.mark.e2e


async def test_the_per_address_cap_counts_ssh_callers(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ssh_settings(database, tmp_path, max_per_address=1)
    async with running_board(config), ssh_line(config.ssh_port, "invite") as first:
        await first.wait_for("Entr")
        with pytest.raises((asyncssh.Error, OSError)):
            async with ssh_line(config.ssh_port, "invite") as second:
                await second.wait_for("Entr", 5)
    assert any("reason=max_per_address" in r.getMessage() for r in caplog.records)


async def test_sign_in_must_end_within_the_grace(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ssh_settings(database, tmp_path, login_grace=2.0)
    async with running_board(config), ssh_line(config.ssh_port, "nouveau") as line:
        # NOUVEAU comes in without a password, to the sign-in screen: the clock runs.
        await line.wait_for("Entr")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not line.closed and loop.time() < deadline:
            await asyncio.sleep(0.1)
        assert line.closed
    assert any("reason=login_grace" in r.getMessage() for r in caplog.records)


async def test_a_guest_is_past_the_grace_once_in(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = ssh_settings(database, tmp_path, login_grace=2.0)
    async with running_board(config), ssh_line(config.ssh_port, "invite") as line:
        await line.wait_for("Entr")
        line.type("\r")
        await line.wait_for("Votre choix")
        await asyncio.sleep(3)
        assert not line.closed
    assert not any("reason=login_grace" in r.getMessage() for r in caplog.records)
