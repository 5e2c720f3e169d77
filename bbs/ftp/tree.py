"""The FTP site's tree, laid out as a 1995 support FTP site and built from the database:

    /pub/00-index.txt                 what is where
    /pub/<product>/<NNNNN-ll>.txt      each public note, as text
    /pub/<product>/<file>             the files the product's notes offer

Only what the library names is in the tree, so nothing else on disk can be reached:
a file's bytes are read from the library's files folder, refusing symbolic links.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bbs.library import model
from bbs.library.store import note_from_row
from bbs.menus.strings import Strings
from bbs.services.library import note_document
from bbs.store.db import transaction
from bbs.store.schema import LibraryNoteRow
from bbs.terminal.markup import strip


@dataclass
class Entry:
    """A file or folder of the tree; a file holds its bytes or names a library file."""

    name: str
    mtime: int
    children: dict[str, Entry] | None = None
    data: bytes | None = None
    source: Path | None = None
    size: int = 0

    @property
    def is_dir(self) -> bool:
        """Whether this is a folder."""
        return self.children is not None


@dataclass
class Tree:
    """The whole site, by absolute path."""

    root: Entry = field(default_factory=lambda: Entry("/", 0, children={}))

    def find(self, path: PurePosixPath) -> Entry | None:
        """The entry at an absolute path, or None."""
        entry = self.root
        for part in path.parts[1:]:
            if entry.children is None:
                return None
            found = entry.children.get(part)
            if found is None:
                return None
            entry = found
        return entry


def _stamp(day: object) -> int:
    """A note's date (or a datetime) as a Unix time."""
    if isinstance(day, datetime):
        return int(day.timestamp())
    if hasattr(day, "timetuple"):
        return calendar.timegm(day.timetuple())
    return 0


def library_file(files_dir: Path, name: str) -> Path | None:
    """A library file inside `files_dir`, or None: no separator, no dot-name, no symlink."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        return None
    root = files_dir.resolve()
    path = root / name
    try:
        if path.is_symlink() or not path.is_file() or path.resolve().parent != root:
            return None
    except OSError:
        return None
    return path


async def build_tree(db: AsyncEngine, files_dir: Path, strings: Strings) -> Tree:
    """The site as the database has it now."""
    table = LibraryNoteRow.__table__
    async with transaction(db, write=False) as conn:
        rows = (
            (
                await conn.execute(
                    select(table).where(table.c.public.is_(True)).order_by(table.c.number)
                )
            )
            .mappings()
            .all()
        )
    notes = [note_from_row(row) for row in rows]
    now = int(datetime.now(UTC).timestamp())
    tree = Tree()
    assert tree.root.children is not None
    pub = Entry("pub", now, children={})
    tree.root.children["pub"] = pub
    assert pub.children is not None
    index_lines = [
        "Lotus - Serveur FTP d'assistance clients / Customer support FTP server",
        "",
        "Un dossier par produit : les notes techniques (NNNNN-ll.txt) et leurs fichiers.",
        "One folder per product: the technical notes (NNNNN-ll.txt) and their files.",
        "",
    ]
    for product in model.products():
        mine = [n for n in notes if n.product == product.code]
        if not mine:
            continue
        folder = Entry(product.code, max(_stamp(n.date) for n in mine), children={})
        assert folder.children is not None
        pub.children[product.code] = folder
        index_lines.append(f"{product.code}/  {product.names.get('fr')}")
        for note in mine:
            text = strip(note_document(strings, note.lang, note, None)).replace("\n", "\r\n")
            data = text.encode("utf-8")
            name = f"{note.document}-{note.lang}.txt"
            folder.children[name] = Entry(name, _stamp(note.date), data=data, size=len(data))
            index_lines.append(f"  {name:<14} {note.date:%Y-%m-%d}  {note.title}")
            if note.file and note.file not in folder.children:
                path = library_file(files_dir, note.file)
                if path is not None:
                    info = path.stat()
                    folder.children[note.file] = Entry(
                        note.file, int(info.st_mtime), source=path, size=info.st_size
                    )
                    index_lines.append(f"  {note.file:<14} {info.st_size:>10} octets/bytes")
        index_lines.append("")
    data = ("\r\n".join(index_lines) + "\r\n").encode("utf-8")
    pub.children["00-index.txt"] = Entry("00-index.txt", now, data=data, size=len(data))
    return tree


def open_entry(entry: Entry) -> bytes:
    """A file entry's bytes (a library file is read now, refusing a symlink swapped in)."""
    if entry.data is not None:
        return entry.data
    if entry.source is None:
        raise IsADirectoryError(entry.name)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(entry.source, flags)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
