"""The sysop's first run: `bbs serve` on an empty database makes a working board;
a database at an older schema is refused with the one command to run."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bbs.board import prepare_database, read_board_directory
from bbs.cli import main
from bbs.store.db import StoreError
from bbs.store.migrate import current_revision, head_revision, upgrade
from tests.e2e.harness import node_settings, running_board

WAIT = 60


async def test_an_empty_database_gets_the_schema_and_the_data(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = node_settings(db_url, tmp_path)
    with caplog.at_level(logging.INFO, logger="bbs.board"):
        assert await asyncio.wait_for(prepare_database(config), WAIT)
    said = [r.getMessage() for r in caplog.records if r.name == "bbs.board"]
    assert len(said) == 1 and "created the schema and loaded" in said[0], said
    assert await current_revision(db_url) == head_revision()
    directory = await asyncio.wait_for(read_board_directory(config), WAIT)
    assert any(c.code == "munich" for c in directory.centres)
    # The next start says nothing and changes nothing.
    caplog.clear()
    assert not await asyncio.wait_for(prepare_database(config), WAIT)
    assert not [r for r in caplog.records if r.name == "bbs.board"]


async def test_a_schema_without_data_gets_the_data(db_url: str, tmp_path: Path) -> None:
    await asyncio.wait_for(upgrade(db_url), WAIT)
    config = node_settings(db_url, tmp_path)
    assert await asyncio.wait_for(prepare_database(config), WAIT)
    assert (await read_board_directory(config)).countries


async def test_an_older_schema_is_refused_with_the_command(db_url: str, tmp_path: Path) -> None:
    await asyncio.wait_for(upgrade(db_url, "0005"), WAIT)
    with pytest.raises(StoreError, match=r"schema revision 0005.*run 'bbs db upgrade'"):
        await asyncio.wait_for(prepare_database(node_settings(db_url, tmp_path)), WAIT)
    # Refused, not upgraded behind the sysop's back.
    assert await current_revision(db_url) == "0005"


def test_bbs_serve_on_an_older_schema_says_what_to_run(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(upgrade(sqlite_url, "0005"))
    assert main(["serve", "--db", sqlite_url, "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bbs: ") and "run 'bbs db upgrade'" in err[0]


async def test_a_node_starts_on_an_empty_database(sqlite_url: str, tmp_path: Path) -> None:
    config = node_settings(sqlite_url, tmp_path)
    async with running_board(config) as running:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(running.host, running.port), WAIT
        )
        try:
            assert await asyncio.wait_for(reader.read(1), WAIT)
        finally:
            writer.close()
