"""The technical-notes library: notes, their files, and a full-text index of the notes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

The full-text index is not in the models (`bbs.store.schema.include_object` keeps
autogenerate away from it):

- SQLite: `library_fts`, an FTS5 table whose content is `library_note`'s folded
  `search_*` columns (external content), kept in sync by three triggers, so every
  write to `library_note` updates it in the same transaction. A later migration
  that rebuilds `library_note` (batch mode: copy, drop, rename) drops the triggers
  with the old table and must create them again, then run the FTS5 'rebuild'.
- PostgreSQL: a GIN index over the weighted tsvector of those columns (title A,
  keywords B, body D); `bbs.library.search` queries that very expression.

A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = "search_title, search_keywords, search_body"
_OLD = "old.search_title, old.search_keywords, old.search_body"
_NEW = "new.search_title, new.search_keywords, new.search_body"

_SQLITE = (
    f"""CREATE VIRTUAL TABLE library_fts USING fts5(
        {_COLUMNS},
        content='library_note', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER library_note_fts_insert AFTER INSERT ON library_note BEGIN
        INSERT INTO library_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    f"""CREATE TRIGGER library_note_fts_delete AFTER DELETE ON library_note BEGIN
        INSERT INTO library_fts(library_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, {_OLD});
    END""",
    f"""CREATE TRIGGER library_note_fts_update AFTER UPDATE ON library_note BEGIN
        INSERT INTO library_fts(library_fts, rowid, {_COLUMNS})
        VALUES ('delete', old.id, {_OLD});
        INSERT INTO library_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    "INSERT INTO library_fts(library_fts) VALUES ('rebuild')",
)

_POSTGRES_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, search_title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_keywords), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, search_body), 'D')"
)


def upgrade() -> None:
    op.create_table(
        "library_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_file")),
        sa.UniqueConstraint("name", name=op.f("uq_library_file_name")),
    )
    op.create_table(
        "library_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("lang", "product", "category", "title")
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        *(
            sa.Column(name, sa.Text(), nullable=False)
            for name in ("body", "search_title", "search_keywords", "search_body")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_note")),
        sa.UniqueConstraint("number", "lang", name=op.f("uq_library_note_number_lang")),
        sa.ForeignKeyConstraint(
            ["file"], ["library_file.name"], name=op.f("fk_library_note_file_library_file")
        ),
    )
    if op.get_context().dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
    else:
        op.execute(
            f"CREATE INDEX ix_library_note_search ON library_note USING gin (({_POSTGRES_VECTOR}))"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER library_note_fts_{trigger}")
        op.execute("DROP TABLE library_fts")
    else:
        op.execute("DROP INDEX ix_library_note_search")
    op.drop_table("library_note")
    op.drop_table("library_file")
