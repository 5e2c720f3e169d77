"""The library's rows: written by `bbs load` inside its one transaction, read back whole.

Notes are diffed on their natural key (number, lang), files on their name: a new
key is inserted, a changed row updated in place (keeping its id), a vanished one
deleted, so that loading the same library twice changes nothing the second time.
Each note row carries its folded search text (`search_title`, `search_keywords`,
`search_body`); on SQLite, triggers keep the FTS5 index in step within the same
transaction, on PostgreSQL the GIN index follows the rows by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.library.model import Library, LibraryFile, Note
from bbs.library.search import search_text
from bbs.store.db import StoreError
from bbs.store.load import TableChanges
from bbs.store.schema import LibraryFileRow, LibraryNoteRow

Row = dict[str, Any]

KEYWORD_SEPARATOR = ", "
"""How `library_note.keywords` joins a note's keywords (a keyword has no comma)."""

FILE_TABLE: Table = LibraryFileRow.__table__  # type: ignore[assignment]
NOTE_TABLE: Table = LibraryNoteRow.__table__  # type: ignore[assignment]

LIBRARY_TABLES: tuple[str, ...] = (FILE_TABLE.name, NOTE_TABLE.name)
"""The library's tables, parents first."""

_CHUNK = 500
"""Rows per DELETE ... IN (...): well under every backend's bound-parameter limit."""


# --- records <-> rows ------------------------------------------------------------


def note_row(note: Note) -> Row:
    """The row of a note (without id), its search columns filled."""
    for keyword in note.keywords:
        if "," in keyword or keyword != keyword.strip() or not keyword:
            raise StoreError(f"note {note.document}-{note.lang}: bad keyword {keyword!r}")
    return {
        "number": note.number,
        "lang": note.lang,
        "product": note.product,
        "category": note.category,
        "title": note.title,
        "date": note.date,
        "keywords": KEYWORD_SEPARATOR.join(note.keywords),
        "file": note.file,
        "public": note.public,
        "body": note.body,
        "search_title": search_text(note.title),
        "search_keywords": search_text(" ".join(note.keywords)),
        "search_body": search_text(note.body),
    }


def note_from_row(row: Mapping[Any, Any]) -> Note:
    """The note of a stored row."""
    keywords = row["keywords"]
    return Note(
        number=row["number"],
        lang=row["lang"],
        product=row["product"],
        category=row["category"],
        title=row["title"],
        date=row["date"],
        keywords=tuple(k.strip() for k in keywords.split(",")) if keywords else (),
        file=row["file"],
        public=bool(row["public"]),
        body=row["body"],
    )


def file_row(file: LibraryFile) -> Row:
    """The row of a file (without id)."""
    return {"name": file.name, "size": file.size, "sha256": file.sha256}


def file_from_row(row: Mapping[Any, Any]) -> LibraryFile:
    """The file of a stored row."""
    return LibraryFile(name=row["name"], size=row["size"], sha256=row["sha256"])


def _wanted(library: Library) -> tuple[dict[tuple[Any, ...], Row], dict[tuple[Any, ...], Row]]:
    files: dict[tuple[Any, ...], Row] = {}
    for file in library.files:
        if (file.name,) in files:
            raise StoreError(f"the library has two files {file.name!r}")
        files[(file.name,)] = file_row(file)
    notes: dict[tuple[Any, ...], Row] = {}
    for note in library.notes:
        if note.key in notes:
            raise StoreError(f"the library has two notes {note.document}-{note.lang}")
        if note.file is not None and (note.file,) not in files:
            raise StoreError(
                f"note {note.document}-{note.lang} refers to file {note.file!r}, "
                "which the library does not have"
            )
        notes[note.key] = note_row(note)
    return files, notes


# --- loading ---------------------------------------------------------------------


async def sync_library(conn: AsyncConnection, library: Library) -> dict[str, TableChanges]:
    """Make the stored library equal to `library`, inside the caller's transaction.

    Files are inserted and updated first (notes refer to them by name), then the
    notes are diffed, then the files no note needs any more are deleted.
    """
    files, notes = _wanted(library)
    file_report, gone_files = await _sync(conn, FILE_TABLE, ("name",), files)
    note_report, gone_notes = await _sync(conn, NOTE_TABLE, ("number", "lang"), notes)
    await _delete(conn, NOTE_TABLE, gone_notes)
    await _delete(conn, FILE_TABLE, gone_files)
    return {FILE_TABLE.name: file_report, NOTE_TABLE.name: note_report}


async def _sync(
    conn: AsyncConnection,
    table: Table,
    key: Sequence[str],
    wanted: Mapping[tuple[Any, ...], Row],
) -> tuple[TableChanges, list[int]]:
    """Insert and update `table` towards `wanted`; the ids to delete are returned."""
    stored: dict[tuple[Any, ...], tuple[int, Row]] = {}
    for raw in (await conn.execute(select(table))).mappings():
        stored[tuple(raw[c] for c in key)] = (raw["id"], dict(raw))
    new = [row for k, row in wanted.items() if k not in stored]
    changed = [
        {"_id": stored[k][0], **row}
        for k, row in wanted.items()
        if k in stored and any(stored[k][1].get(c) != v for c, v in row.items())
    ]
    gone = [row_id for k, (row_id, _) in stored.items() if k not in wanted]
    if changed:
        await conn.execute(update(table).where(table.c.id == bindparam("_id")), changed)
    if new:
        await conn.execute(insert(table), new)
    return TableChanges(len(new), len(changed), len(gone)), gone


async def _delete(conn: AsyncConnection, table: Table, ids: Iterable[int]) -> None:
    pending = sorted(ids)
    for start in range(0, len(pending), _CHUNK):
        await conn.execute(delete(table).where(table.c.id.in_(pending[start : start + _CHUNK])))


# --- reading ---------------------------------------------------------------------


async def library_from(conn: AsyncConnection) -> Library:
    """The stored library, read inside the caller's (read) transaction."""
    files = await conn.execute(select(FILE_TABLE).order_by(FILE_TABLE.c.name))
    notes = await conn.execute(select(NOTE_TABLE).order_by(NOTE_TABLE.c.number, NOTE_TABLE.c.lang))
    return Library(
        notes=tuple(note_from_row(row) for row in notes.mappings()),
        files=tuple(file_from_row(row) for row in files.mappings()),
    )
