"""When a load last added or changed each library note (`library_note.changed_at`),
for "new since your last visit".

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26

A plain ADD COLUMN, not a batch rebuild: on SQLite a rebuild would drop the FTS5
triggers of migration 0002. Notes loaded before this revision keep NULL (old news).
A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("library_note", sa.Column("changed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # SQLite drops a column in place (3.35+); the FTS5 triggers do not name it.
    op.drop_column("library_note", "changed_at")
