"""Fax tests' fixtures: the repository's data loaded once into a SQLite file, copied per test."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from bbs.menus.strings import Strings, load_strings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.e2e.harness import loaded_database

    path = tmp_path_factory.mktemp("fax-template") / "loaded.db"
    asyncio.run(asyncio.wait_for(loaded_database(f"sqlite:///{path}"), 120))
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def loaded_url(loaded_template: Path, tmp_path: Path) -> str:
    """A SQLite database at head holding the repository's data/."""
    path = tmp_path / "bbs.db"
    shutil.copyfile(loaded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def strings() -> Strings:
    return load_strings(ROOT / "menus" / "strings")
