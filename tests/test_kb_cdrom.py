"""The monthly CD-ROM edition: its content, same bytes every time, built once per load."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

from bbs.kb.cdrom import CACHE_DIR, INDEX_NAME, build_archive, current_edition, edition_name
from bbs.kb.datafiles import read_kb
from bbs.library.datafiles import read_library
from bbs.store.load import load_dir

ROOT = Path(__file__).resolve().parents[1]


def test_the_archive_holds_the_whole_base_with_an_index_and_fixed_dates() -> None:
    articles = read_kb(ROOT / "data").articles
    notes = read_library(ROOT / "data").notes
    data = build_archive(articles, notes)
    assert data == build_archive(tuple(reversed(articles)), tuple(reversed(notes)))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names[0] == INDEX_NAME
        assert names[1:] == sorted(names[1:])
        assert len(names) == 1 + len(articles) + len(notes)
        assert "KB1025.TXT" in names and "20127FR.TXT" in names
        index = archive.read(INDEX_NAME).decode("cp437")
        assert "LKB9511.ZIP" in index and "KB1001.TXT" in index
        text = archive.read("KB1025.TXT").decode("cp437")
        assert text.startswith("Lotus Knowledge - KB-1025 (FR)\r\n") and "RECLAIM" in text
        info = archive.getinfo("KB1025.TXT")
        assert info.date_time == (1993, 5, 10, 0, 0, 0)
        assert archive.testzip() is None
    newest = max(a.date for a in articles)
    assert edition_name(newest) == "LKB9511.ZIP"


async def test_the_edition_is_built_once_per_load(store_url: str, tmp_path: Path) -> None:
    await asyncio.wait_for(load_dir(store_url, ROOT / "data"), 60)
    first = await asyncio.wait_for(current_edition(store_url, tmp_path), 60)
    assert first is not None and first.name == "LKB9511.ZIP"
    assert first.path.parent == tmp_path / CACHE_DIR
    stamp = first.path.stat().st_mtime_ns
    again = await asyncio.wait_for(current_edition(store_url, tmp_path), 60)
    assert again == first and first.path.stat().st_mtime_ns == stamp
    bytes_before = first.path.read_bytes()
    # A new load of other content brings a new file, and the old one goes.
    data = tmp_path / "data"
    import shutil

    shutil.copytree(ROOT / "data", data)
    (data / "kb" / "KB-1040.txt").unlink()
    await asyncio.wait_for(load_dir(store_url, data), 60)
    newer = await asyncio.wait_for(current_edition(store_url, tmp_path), 60)
    assert newer is not None and newer.path != first.path and not first.path.exists()
    assert newer.path.read_bytes() != bytes_before
    assert newer.name == "LKB9510.ZIP"  # KB-1040 was the November article


async def test_no_edition_before_any_load(store_url: str, tmp_path: Path) -> None:
    assert await asyncio.wait_for(current_edition(store_url, tmp_path), 60) is None
