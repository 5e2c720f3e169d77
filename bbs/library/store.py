"""The library's rows: a `bbs.documents` collection written by `bbs load`, read back whole.

Notes are diffed on their natural key (number, lang), files on their name: a new
key is inserted, a changed row updated in place (keeping its id), a vanished one
deleted, so that loading the same library twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bbs.documents.store import (
    Collection,
    delete_documents,
    document_row,
    document_rows,
    keywords_of,
    sync_documents,
)
from bbs.library.model import Library, LibraryFile, Note
from bbs.store.db import StoreError
from bbs.store.schema import SEARCH_INDEX_TABLE, LibraryFileRow, LibraryNoteRow
from bbs.store.sync import Row, TableChanges, delete_ids, sync_rows

FILE_TABLE: Table = LibraryFileRow.__table__  # type: ignore[assignment]
NOTE_TABLE: Table = LibraryNoteRow.__table__  # type: ignore[assignment]

NOTES = Collection(NOTE_TABLE, SEARCH_INDEX_TABLE, ("number", "lang"))
"""The library's notes as a document collection."""

LIBRARY_TABLES: tuple[str, ...] = (FILE_TABLE.name, NOTE_TABLE.name)
"""The library's tables, parents first."""


# --- records <-> rows ------------------------------------------------------------


def note_row(note: Note) -> Row:
    """The row of a note (without id), its search columns filled."""
    fields = {
        "number": note.number,
        "lang": note.lang,
        "product": note.product,
        "category": note.category,
        "date": note.date,
        "file": note.file,
        "public": note.public,
    }
    name = f"note {note.document}-{note.lang}"
    return document_row(name, fields, note.title, note.keywords, note.body)


def note_from_row(row: Mapping[Any, Any]) -> Note:
    """The note of a stored row."""
    return Note(
        number=row["number"],
        lang=row["lang"],
        product=row["product"],
        category=row["category"],
        title=row["title"],
        date=row["date"],
        keywords=keywords_of(row),
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
    file_report, gone_files = await sync_rows(conn, FILE_TABLE, ("name",), files)
    note_report, gone_notes = await sync_documents(conn, NOTES, notes)
    await delete_documents(conn, NOTES, gone_notes)
    await delete_ids(conn, FILE_TABLE, gone_files)
    return {FILE_TABLE.name: file_report, NOTE_TABLE.name: note_report}


# --- reading ---------------------------------------------------------------------


async def library_from(conn: AsyncConnection) -> Library:
    """The stored library, read inside the caller's (read) transaction."""
    files = await conn.execute(select(FILE_TABLE).order_by(FILE_TABLE.c.name))
    notes = await document_rows(conn, NOTES)
    return Library(
        notes=tuple(note_from_row(row) for row in notes),
        files=tuple(file_from_row(row) for row in files.mappings()),
    )
