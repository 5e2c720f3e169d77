"""A library note as the file a caller downloads: a DOS text file of the period."""

from __future__ import annotations

from bbs.documents.text import dos_text
from bbs.library.model import Note, product


def note_text(note: Note) -> bytes:
    """A note as a DOS text file of the period: CP437, CR LF line ends."""
    header = [
        f"Lotus - Document {note.document} ({note.lang.upper()})",
        note.title,
        f"{product(note.product).names.get(note.lang)} - {note.date:%d/%m/%Y}",
    ]
    return dos_text(header, note.body)
