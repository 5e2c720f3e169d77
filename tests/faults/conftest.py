"""Fixtures of the fault tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.node import prepare_board


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prepared SQLite board for all fault tests, each copying it (preparing takes
    seconds: migrations, the data load, accounts and a contract through the CLI)."""
    path = tmp_path_factory.mktemp("template") / "bbs.db"
    prepare_board(f"sqlite:///{path}")
    return path
