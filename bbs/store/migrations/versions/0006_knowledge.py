"""The Lotus Knowledge base: its articles and a full-text index of them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Made as migration 0002 made the library's index, and outside the models for the
same reason (`bbs.store.schema.include_object`):

- SQLite: `kb_fts`, an FTS5 table over `kb_article`'s folded `search_*` columns
  (external content), kept in step by three triggers in the writer's transaction.
  A later migration that rebuilds `kb_article` must make the triggers again and run
  the FTS5 'rebuild'.
- PostgreSQL: `ix_kb_article_search`, a GIN index over the weighted tsvector of
  those columns (title A, keywords B, body D), the expression `bbs.kb.search` uses.

A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIELDS = ("search_title", "search_keywords", "search_body")
_LIST = ", ".join(_FIELDS)


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{name}" for name in _FIELDS)


_TRIGGERS = {
    "insert": f"INSERT INTO kb_fts(rowid, {_LIST}) VALUES (new.id, {_row('new')});",
    "delete": (
        f"INSERT INTO kb_fts(kb_fts, rowid, {_LIST}) VALUES ('delete', old.id, {_row('old')});"
    ),
}
_TRIGGERS["update"] = _TRIGGERS["delete"] + "\n        " + _TRIGGERS["insert"]

_VECTOR = " || ".join(
    f"setweight(to_tsvector('simple'::regconfig, {name}), '{weight}')"
    for name, weight in zip(_FIELDS, "ABD", strict=True)
)


def upgrade() -> None:
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in ("lang", "product", "kind")),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in ("keywords", "body", *_FIELDS)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
        sa.UniqueConstraint("number", name=op.f("uq_kb_article_number")),
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE kb_fts USING fts5({_LIST}, content='kb_article', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for event, action in _TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER kb_article_fts_{event} AFTER {event.upper()} ON kb_article "
                f"BEGIN\n        {action}\n    END"
            )
        op.execute("INSERT INTO kb_fts(kb_fts) VALUES ('rebuild')")
    else:
        op.execute(f"CREATE INDEX ix_kb_article_search ON kb_article USING gin (({_VECTOR}))")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for event in _TRIGGERS:
            op.execute(f"DROP TRIGGER kb_article_fts_{event}")
        op.execute("DROP TABLE kb_fts")
    else:
        op.execute("DROP INDEX ix_kb_article_search")
    op.drop_table("kb_article")
