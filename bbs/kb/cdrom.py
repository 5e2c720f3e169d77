"""The monthly CD-ROM edition: the whole base as one ZIP archive, `LKByymm.ZIP`.

The archive is built from the stored base (every article, every library note) with
fixed contents: entries sorted by name, each dated by its document (the index by the
newest one), fixed permissions, DOS text (CP437, CR LF) and `LISEZMOI.TXT` first, so
the same base always gives the same bytes. It is built at most once per data load:
the file in the cache folder is named after the base's checksum that `bbs load`
records (`bbs.kb.store.CHECKSUM_KEY`), and a new load brings a new name.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bbs.documents.text import dos_text
from bbs.kb import model
from bbs.kb.store import all_articles, stored_checksum
from bbs.library.model import Note
from bbs.library.search import Target
from bbs.library.store import library_from
from bbs.library.text import note_text
from bbs.store.db import engine_scope, transaction
from bbs.support.products import product_name
from bbs.terminal.caps import Encoding
from bbs.terminal.encoding import encode_as

CACHE_DIR = ".kb-cdrom"
"""The cache folder's name, inside the board's upload area (no upload is named so)."""

INDEX_NAME = "LISEZMOI.TXT"
"""The archive's first entry: what the edition holds, document by document."""

_MODE = 0o644 << 16


@dataclass(frozen=True, slots=True)
class Edition:
    """A built edition: the name a caller receives and where its bytes are."""

    name: str
    path: Path
    size: int


def edition_name(newest: date) -> str:
    """The edition's file name, after the month of its newest document: LKB9511.ZIP."""
    return f"LKB{newest:%y%m}.ZIP"


def edition_day(articles: Sequence[model.Article], notes: Sequence[Note]) -> date:
    """The day an edition is named and dated after: its newest article (its newest
    library note when it has no article)."""
    return max(a.date for a in articles) if articles else max(n.date for n in notes)


def article_text(article: model.Article) -> bytes:
    """An article as a DOS text file of the period: CP437, CR LF line ends."""
    product = product_name(article.product, article.lang)
    kind = model.kind(article.kind).names.get(article.lang)
    header = [
        f"Lotus Knowledge - {article.reference} ({article.lang.upper()})",
        article.title,
        f"{product} - {kind} - {article.date:%d/%m/%Y}",
    ]
    return dos_text(header, article.body)


def _entry_article(article: model.Article) -> str:
    return f"KB{article.number:04d}.TXT"


def _entry_note(note: Note) -> str:
    return f"{note.number:05d}{note.lang.upper()}.TXT"


def build_archive(articles: Sequence[model.Article], notes: Sequence[Note]) -> bytes:
    """The edition's bytes: the index, then every document, by entry name."""
    if not articles and not notes:
        raise ValueError("an empty base has no edition")
    entries: list[tuple[str, date, bytes]] = [
        (_entry_article(a), a.date, article_text(a)) for a in articles
    ]
    entries += [(_entry_note(n), n.date, note_text(n)) for n in notes]
    entries.sort(key=lambda e: e[0])
    newest = edition_day(articles, notes)
    index = _index(articles, notes, newest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, day, data in [(INDEX_NAME, newest, index), *entries]:
            info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _MODE
            info.create_system = 0  # MS-DOS, as the period's PKZIP wrote it
            archive.writestr(info, data, compresslevel=9)
    return out.getvalue()


def _index(articles: Sequence[model.Article], notes: Sequence[Note], newest: date) -> bytes:
    lines = [
        "Base de connaissance Lotus Knowledge",
        f"Edition CD-ROM mensuelle {newest:%m/%Y} - {edition_name(newest)}",
        "",
        f"{len(articles)} article(s) de la base, {len(notes)} document(s) de la "
        "bibliotheque technique.",
        "Chaque document est un fichier texte (page de code 437).",
        "",
        "ARTICLES DE LA BASE",
        "",
    ]
    for a in sorted(articles, key=lambda a: a.number):
        lines.append(f"{_entry_article(a):<14}{a.date:%d/%m/%y}  {a.lang}  {a.title}")
    lines += ["", "BIBLIOTHEQUE TECHNIQUE", ""]
    for n in sorted(notes, key=lambda n: (n.number, n.lang)):
        lines.append(f"{_entry_note(n):<14}{n.date:%d/%m/%y}  {n.lang}  {n.title}")
    return encode_as("\r\n".join(lines) + "\r\n", Encoding.CP437)


async def current_edition(target: Target, cache_root: Path) -> Edition | None:
    """The edition of the stored base, built into `cache_root/CACHE_DIR` unless the
    current load's file is already there; None when no base was ever loaded.

    Raises StoreError for database problems, OSError when the cache cannot be written.
    """
    folder = cache_root / CACHE_DIR
    async with engine_scope(target) as engine, transaction(engine, write=False) as conn:
        checksum = await stored_checksum(conn)
        if checksum is None:
            return None
        found = _cached(folder, checksum)
        if found is not None:
            return found
        articles = await all_articles(conn)
        notes = (await library_from(conn)).notes
    if not articles and not notes:
        return None
    return await asyncio.to_thread(_build_once, folder, checksum, articles, notes)


def _cached(folder: Path, checksum: str) -> Edition | None:
    for path in sorted(folder.glob(f"LKB*-{checksum[:16]}.ZIP")):
        return Edition(path.name.split("-", 1)[0] + ".ZIP", path, path.stat().st_size)
    return None


_BUILDING = threading.Lock()
"""One build at a time in a node, so callers asking together share one build."""


def _build_once(
    folder: Path, checksum: str, articles: Sequence[model.Article], notes: Sequence[Note]
) -> Edition:
    with _BUILDING:
        found = _cached(folder, checksum)
        if found is not None:
            return found
        data = build_archive(articles, notes)
        name = edition_name(edition_day(articles, notes))
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{name[:-4]}-{checksum[:16]}.ZIP"
        temp = folder / f".{final.name}.{secrets.token_hex(8)}.tmp"
        temp.write_bytes(data)
        os.replace(temp, final)
        for old in folder.glob("LKB*.ZIP"):
            if old != final:
                with contextlib.suppress(OSError):
                    old.unlink()
        return Edition(name, final, len(data))
