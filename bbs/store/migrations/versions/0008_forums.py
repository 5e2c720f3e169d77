"""Forums and presence: forum, forum_section, forum_thread, forum_post, forum_read_mark,
forum_moderation, last_caller; seeds the three forums (GO LOTUS, GO LOTGER, GO LOTFRA),
their sections and a few opening threads of 1995.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26

A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORUMS = [
    (1, "LOTUS", "en", "Lotus Forum (GO LOTUS)"),
    (2, "LOTGER", "de", "Lotus Forum Deutschland (GO LOTGER)"),
    (3, "LOTFRA", "fr", "Forum Lotus France (GO LOTFRA)"),
]

_SECTIONS = {
    1: ["1-2-3", "Notes", "cc:Mail", "Ami Pro / SmartSuite", "General"],
    2: ["1-2-3", "Notes", "cc:Mail", "Ami Pro / SmartSuite", "Allgemeines"],
    3: ["1-2-3", "Notes", "cc:Mail", "Ami Pro / SmartSuite", "Général"],
}

# (forum id, section position, subject, author, time, [(author, time, body), ...])
_THREADS: list[tuple[int, int, str, str, str, list[tuple[str, str, str]]]] = [
    (
        1,
        1,
        "@SUM across sheets in 1-2-3 Release 5",
        "Martin Hale",
        "1995-03-14T09:12:00",
        [
            (
                "Martin Hale",
                "1995-03-14T09:12:00",
                "How do I add cell B4 of every sheet from A to L in one formula?\n"
                "Release 5 for Windows, 12 sheets, one per month.",
            ),
            (
                "Sysop Lotus",
                "1995-03-14T17:40:00",
                "Use a three-dimensional range: @SUM(A:B4..L:B4). Insert new sheets\n"
                "between A and L and they are counted too.",
            ),
        ],
    ),
    (
        1,
        3,
        "cc:Mail Remote keeps dialling twice",
        "Joan Pryce",
        "1995-06-02T21:05:00",
        [
            (
                "Joan Pryce",
                "1995-06-02T21:05:00",
                "Every call from cc:Mail Remote 2.2 dials, hangs up, then dials again\n"
                "before it connects. Modem is a 14400 on COM2. Any idea?",
            ),
        ],
    ),
    (
        2,
        2,
        "Notes 3.3: Replikation bricht ab",
        "Klaus Brenner",
        "1995-04-21T08:30:00",
        [
            (
                "Klaus Brenner",
                "1995-04-21T08:30:00",
                "Die nächtliche Replikation mit dem Server in Hamburg bricht nach etwa\n"
                "zehn Minuten ab. Im Protokoll steht nur 'Remote system no longer responding'.",
            ),
            (
                "Sysop Lotus",
                "1995-04-21T14:02:00",
                "Prüfen Sie die Zeitüberschreitung des Modemanschlusses im Server-Dokument\n"
                "und schicken Sie uns die Modemdatei, die Sie verwenden.",
            ),
        ],
    ),
    (
        2,
        4,
        "Ami Pro 3.1: Silbentrennung",
        "Petra Voss",
        "1995-09-11T16:45:00",
        [
            (
                "Petra Voss",
                "1995-09-11T16:45:00",
                "Wo schalte ich in Ami Pro 3.1 die automatische Silbentrennung für\n"
                "einen einzelnen Absatz aus?",
            ),
        ],
    ),
    (
        3,
        1,
        "Macro 1-2-3 : imprimer toutes les feuilles",
        "Jean-Luc Morel",
        "1995-02-07T10:20:00",
        [
            (
                "Jean-Luc Morel",
                "1995-02-07T10:20:00",
                "Je cherche une macro qui imprime chaque feuille d'un classeur 1-2-3\n"
                "pour Windows avec son propre en-tête. Quelqu'un a-t-il un exemple ?",
            ),
            (
                "Sysop Lotus",
                "1995-02-07T18:15:00",
                "Une boucle {FOR} sur les feuilles avec {PRINT-NAME-USE} fait l'affaire ;\n"
                "consultez aussi la bibliothèque technique (GO BIBLIO).",
            ),
        ],
    ),
    (
        3,
        5,
        "Bienvenue sur le forum Lotus France",
        "Sysop Lotus",
        "1995-01-09T08:00:00",
        [
            (
                "Sysop Lotus",
                "1995-01-09T08:00:00",
                "Ce forum est le vôtre : posez vos questions sur les produits Lotus,\n"
                "répondez à celles des autres. Restez courtois, et n'y publiez jamais\n"
                "de numéro de licence.",
            ),
        ],
    ),
]


def _time(text: str, sqlite: bool) -> datetime:
    # UTC, stored naive on SQLite as the board's UtcDateTime does.
    value = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return value.replace(tzinfo=None) if sqlite else value


def _seed() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    forum = sa.table(
        "forum",
        sa.column("id", sa.Integer()),
        sa.column("code", sa.Text()),
        sa.column("lang", sa.Text()),
        sa.column("name", sa.Text()),
        sa.column("position", sa.Integer()),
    )
    section = sa.table(
        "forum_section",
        sa.column("id", sa.Integer()),
        sa.column("forum_id", sa.Integer()),
        sa.column("position", sa.Integer()),
        sa.column("name", sa.Text()),
    )
    thread = sa.table(
        "forum_thread",
        sa.column("id", sa.Integer()),
        sa.column("section_id", sa.Integer()),
        sa.column("subject", sa.Text()),
        sa.column("author_name", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("last_post_at", sa.DateTime(timezone=True)),
        sa.column("locked", sa.Boolean()),
    )
    post = sa.table(
        "forum_post",
        sa.column("thread_id", sa.Integer()),
        sa.column("author_name", sa.Text()),
        sa.column("body", sa.Text()),
        sa.column("posted_at", sa.DateTime(timezone=True)),
        sa.column("hidden", sa.Boolean()),
    )
    op.bulk_insert(
        forum,
        [{"id": i, "code": c, "lang": lang, "name": n, "position": i} for i, c, lang, n in _FORUMS],
    )
    section_ids: dict[tuple[int, int], int] = {}
    sections: list[dict[str, Any]] = []
    for forum_id, names in _SECTIONS.items():
        for position, name in enumerate(names, 1):
            section_ids[forum_id, position] = len(sections) + 1
            sections.append(
                {
                    "id": len(sections) + 1,
                    "forum_id": forum_id,
                    "position": position,
                    "name": name,
                }
            )
    op.bulk_insert(section, sections)
    threads: list[dict[str, Any]] = []
    posts: list[dict[str, Any]] = []
    for number, (forum_id, position, subject, author, at, messages) in enumerate(_THREADS, 1):
        threads.append(
            {
                "id": number,
                "section_id": section_ids[forum_id, position],
                "subject": subject,
                "author_name": author,
                "created_at": _time(at, sqlite),
                "last_post_at": _time(messages[-1][1], sqlite),
                "locked": False,
            }
        )
        posts += [
            {
                "thread_id": number,
                "author_name": who,
                "body": body,
                "posted_at": _time(when, sqlite),
                "hidden": False,
            }
            for who, when, body in messages
        ]
    op.bulk_insert(thread, threads)
    op.bulk_insert(post, posts)
    if not sqlite:
        # Explicit ids leave PostgreSQL's sequences behind: move them past the seed.
        for table in ("forum", "forum_section", "forum_thread"):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )


def upgrade() -> None:
    op.create_table(
        "forum",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum")),
        sa.UniqueConstraint("code", name=op.f("uq_forum_code")),
    )
    op.create_table(
        "forum_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("forum_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["forum_id"],
            ["forum.id"],
            name=op.f("fk_forum_section_forum_id_forum"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_section")),
        sa.UniqueConstraint(
            "forum_id", "position", name=op.f("uq_forum_section_forum_id_position")
        ),
    )
    op.create_table(
        "forum_thread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
            name=op.f("fk_forum_thread_author_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["forum_section.id"],
            name=op.f("fk_forum_thread_section_id_forum_section"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_thread")),
    )
    with op.batch_alter_table("forum_thread", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forum_thread_section_id"), ["section_id"], unique=False
        )
    op.create_table(
        "forum_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
            name=op.f("fk_forum_post_author_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["forum_thread.id"],
            name=op.f("fk_forum_post_thread_id_forum_thread"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_post")),
    )
    with op.batch_alter_table("forum_post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forum_post_thread_id"), ["thread_id"], unique=False)
    op.create_table(
        "forum_read_mark",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_forum_read_mark_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["forum_section.id"],
            name=op.f("fk_forum_read_mark_section_id_forum_section"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "section_id", name=op.f("pk_forum_read_mark")),
    )
    op.create_table(
        "forum_moderation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "action IN ('hide', 'unhide', 'move', 'lock', 'unlock')",
            name=op.f("ck_forum_moderation_action"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_forum_moderation_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["forum_post.id"],
            name=op.f("fk_forum_moderation_post_id_forum_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["forum_thread.id"],
            name=op.f("fk_forum_moderation_thread_id_forum_thread"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forum_moderation")),
    )
    with op.batch_alter_table("forum_moderation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_forum_moderation_thread_id"), ["thread_id"], unique=False
        )
    op.create_table(
        "last_caller",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("node", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_last_caller_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_last_caller")),
    )
    with op.batch_alter_table("last_caller", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_last_caller_at"), ["at"], unique=False)
    _seed()


def downgrade() -> None:
    with op.batch_alter_table("last_caller", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_last_caller_at"))
    op.drop_table("last_caller")
    with op.batch_alter_table("forum_moderation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_moderation_thread_id"))
    op.drop_table("forum_moderation")
    op.drop_table("forum_read_mark")
    with op.batch_alter_table("forum_post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_post_thread_id"))
    op.drop_table("forum_post")
    with op.batch_alter_table("forum_thread", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forum_thread_section_id"))
    op.drop_table("forum_thread")
    op.drop_table("forum_section")
    op.drop_table("forum")
