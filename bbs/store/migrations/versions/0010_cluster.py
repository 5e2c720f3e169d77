"""Several nodes on one database: cluster_node (the running processes) and live_session
(callers on line, with their board-wide node numbers).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Run-time state only: nothing here comes from `data/`. The tables exist on SQLite too
(one schema for both), where a single node keeps its numbering in memory and never
writes them. A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_node",
        sa.Column("node_id", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_cluster_node")),
    )
    op.create_index(op.f("ix_cluster_node_heartbeat"), "cluster_node", ["heartbeat"])
    op.create_table(
        "live_session",
        sa.Column("node", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sid", sa.Text(), nullable=False),
        sa.Column("node_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("lang", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("refuses_pages", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_live_session")),
        sa.UniqueConstraint("sid", name=op.f("uq_live_session_sid")),
    )
    op.create_index(op.f("ix_live_session_node_id"), "live_session", ["node_id"])
    op.create_index(op.f("ix_live_session_heartbeat"), "live_session", ["heartbeat"])


def downgrade() -> None:
    op.drop_table("live_session")
    op.drop_table("cluster_node")
