"""`bbs directory search/country`: centres by city, and accents when stdout is UTF-8."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest

from bbs.cli import main, stdout_encoding
from bbs.terminal.caps import Encoding
from tests.e2e.harness import loaded_database

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'bbs.db'}"
    asyncio.run(asyncio.wait_for(loaded_database(url), 60))
    return url


def run(monkeypatch: pytest.MonkeyPatch, encoding: str, *argv: str) -> tuple[int, str]:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    monkeypatch.setattr(sys, "stdout", out)
    status = main(list(argv))
    out.flush()
    return status, raw.getvalue().decode(encoding)


def test_the_encoding_follows_stdout() -> None:
    assert stdout_encoding(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")) is Encoding.UTF8
    assert stdout_encoding(io.TextIOWrapper(io.BytesIO(), encoding="UTF8")) is Encoding.UTF8
    assert stdout_encoding(io.TextIOWrapper(io.BytesIO(), encoding="ascii")) is Encoding.ASCII
    assert stdout_encoding(object()) is Encoding.ASCII


@pytest.mark.parametrize("city", ["Munich", "Paris", "Staines", "Toronto"])
def test_a_centre_by_its_city(monkeypatch: pytest.MonkeyPatch, loaded: str, city: str) -> None:
    status, out = run(monkeypatch, "utf-8", "directory", "search", city, "--db", loaded)
    assert status == 0, out
    assert "Centres d'assistance internationaux de Lotus" in out and city in out


def test_accents_on_utf8_ascii_elsewhere(monkeypatch: pytest.MonkeyPatch, loaded: str) -> None:
    status, out = run(monkeypatch, "utf-8", "directory", "country", "norvège", "--db", loaded)
    assert status == 0 and "Norvège\n" in out and "hors jours fériés" in out, out
    status, plain = run(monkeypatch, "ascii", "directory", "country", "norvège", "--db", loaded)
    assert status == 0 and "Norvege\n" in plain and "hors jours feries" in plain, plain
