"""What must hold after a crash: a sound database, uploads complete or absent, and every
write the board confirmed still there."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from sqlalchemy import text

from bbs.store.db import make_engine, transaction
from tests.faults.callers import payload

_ID = re.compile(r"[0-9a-f]{32}")


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, None for another database."""
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def sqlite_sound(path: Path) -> None:
    """SQLite's own checks: the file's structure and every foreign key."""
    db = sqlite3.connect(path, timeout=10)
    try:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        assert problems == ["ok"], f"integrity_check: {problems[:10]}"
        dangling = db.execute("PRAGMA foreign_key_check").fetchall()
        assert dangling == [], f"foreign_key_check: {dangling[:10]}"
    finally:
        db.close()


_CONSISTENCY = {
    "threads without a post": (
        "SELECT count(*) FROM forum_thread t"
        " WHERE NOT EXISTS (SELECT 1 FROM forum_post p WHERE p.thread_id = t.id)"
    ),
    "incidents without their opening event": (
        "SELECT count(*) FROM incident i WHERE NOT EXISTS"
        " (SELECT 1 FROM incident_event e WHERE e.incident_id = i.id AND e.kind = 'opened')"
    ),
    "events of missing incidents": (
        "SELECT count(*) FROM incident_event e"
        " WHERE NOT EXISTS (SELECT 1 FROM incident i WHERE i.id = e.incident_id)"
    ),
    "posts of missing threads": (
        "SELECT count(*) FROM forum_post p"
        " WHERE NOT EXISTS (SELECT 1 FROM forum_thread t WHERE t.id = p.thread_id)"
    ),
}
"""Rows one transaction writes together, and that must therefore exist together."""


async def database_consistent(url: str) -> None:
    """The database's own checks (SQLite), then what the board's transactions promise."""
    path = sqlite_path(url)
    if path is not None:
        sqlite_sound(path)
    engine = make_engine(url)
    try:
        async with transaction(engine, write=False) as conn:
            for what, query in _CONSISTENCY.items():
                count = (await conn.execute(text(query))).scalar_one()
                assert count == 0, f"{count} {what}"
    finally:
        await engine.dispose()


async def missing_writes(
    url: str, posts: list[str], incidents: list[str], replies: list[str]
) -> list[str]:
    """The confirmed writes that are not in the database (should be none)."""
    engine = make_engine(url)
    missing: list[str] = []
    try:
        async with transaction(engine, write=False) as conn:
            bodies = set((await conn.execute(text("SELECT body FROM forum_post"))).scalars())
            subjects = set((await conn.execute(text("SELECT subject FROM forum_thread"))).scalars())
            summaries = set((await conn.execute(text("SELECT summary FROM incident"))).scalars())
            events = set(
                (
                    await conn.execute(text("SELECT body FROM incident_event WHERE kind = 'reply'"))
                ).scalars()
            )
    finally:
        await engine.dispose()
    stripped = {b.strip() for b in bodies}
    missing += [t for t in posts if t not in stripped or t not in subjects]
    missing += [t for t in incidents if t not in summaries]
    replied = {b.strip() for b in events}
    missing += [t for t in replies if t not in replied]
    return missing


def stored_uploads(root: Path, size_of: dict[str, int]) -> dict[str, str]:
    """Every upload the area counts as received, by sender's name -> id, each checked whole:
    its file exists with the recorded size and SHA-256, and (for a file the test sent,
    `size_of` giving its size) holds exactly what was sent."""
    kept: dict[str, str] = {}
    if not root.is_dir():
        return kept
    for meta in root.glob("*.json"):
        assert _ID.fullmatch(meta.stem), f"unexpected metadata {meta.name}"
        record = json.loads(meta.read_text(encoding="ascii"))
        data = (root / meta.stem).read_bytes()
        assert len(data) == record["size"], f"{record['name']}: size differs from its metadata"
        digest = hashlib.sha256(data).hexdigest()
        assert digest == record["sha256"], f"{record['name']}: checksum differs from its metadata"
        name = record["name"]
        if name in size_of:
            assert data == payload(name, size_of[name]), f"{name}: kept as complete but truncated"
        kept[name] = meta.stem
    return kept


def leftovers(root: Path) -> list[str]:
    """What a clean start must have removed: partial files, and stored files whose
    metadata was never written."""
    found: list[str] = []
    partial = root / ".partial"
    if partial.is_dir():
        found += [f".partial/{p.name}" for p in partial.iterdir()]
    if root.is_dir():
        found += [
            p.name
            for p in root.iterdir()
            if _ID.fullmatch(p.name) and not p.with_name(p.name + ".json").exists()
        ]
    return sorted(found)
