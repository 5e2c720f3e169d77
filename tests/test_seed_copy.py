"""The repository's copy of the seed is the shared original, byte for byte."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPY = ROOT / "seed" / "000_9987a0a7e4d1268d.txt"
SHARED = ROOT.parent / "shared" / "seed" / COPY.name


def test_copy_matches_the_shared_original() -> None:
    assert COPY.exists()
    if SHARED.exists():
        assert COPY.read_bytes() == SHARED.read_bytes()
