"""Fax on demand: fax_job, one row per order and its delivery state.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

Run-time state only: nothing here comes from `data/`. A migration is frozen in time:
it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fax_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("fax_number", sa.Text(), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("paper", sa.Text(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'rendering', 'sent', 'failed')", name=op.f("ck_fax_job_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fax_job")),
    )
    op.create_index(op.f("ix_fax_job_created_at"), "fax_job", ["created_at"])
    op.create_index(op.f("ix_fax_job_state"), "fax_job", ["state"])
    op.create_index(op.f("ix_fax_job_caller"), "fax_job", ["caller"])
    op.create_index(op.f("ix_fax_job_fax_number"), "fax_job", ["fax_number"])


def downgrade() -> None:
    op.drop_table("fax_job")
