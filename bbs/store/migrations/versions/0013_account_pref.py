"""A caller's terminal preferences, kept with their account and restored at sign-in.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

`account_pref`: one row per account, made when the caller first changes a setting
(hotkeys, transfer protocol, terminal tier, character set, 7/8 bits, screen size and
length, modem speed emulated); a NULL column means "as detected". The language stays
in `account.lang`.

A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_pref",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("hotkeys", sa.Boolean(), nullable=True),
        sa.Column("protocol", sa.Text(), nullable=True),
        sa.Column("tier", sa.Text(), nullable=True),
        sa.Column("encoding", sa.Text(), nullable=True),
        sa.Column("eight_bit", sa.Boolean(), nullable=True),
        sa.Column("cols", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("baud", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_account_pref_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_pref")),
    )


def downgrade() -> None:
    op.drop_table("account_pref")
