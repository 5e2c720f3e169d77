"""Company membership is granted, never claimed; upload quotas per caller and day.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

`account.company_name` keeps the company a caller typed at registration (free text,
shown on their profile); `account.company_id` is now only ever set by the sysop
(`bbs company member add`) or by a named contact of that company's contract. Before
this revision a caller joined any existing company by typing its name, and so
inherited its Knowledge base subscription: the upgrade keeps a membership only where
the account is a named contact of one of the company's contracts, and turns every
other into the typed text. `upload_usage` counts what each caller (a guest: each
address) sent per calendar day (UTC).

A migration is frozen in time: it must not import the current schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("company_name", sa.Text(), nullable=False, server_default=""))
    op.execute(
        """
        UPDATE account SET company_name = COALESCE(
            (SELECT company.name FROM company WHERE company.id = account.company_id), '')
        WHERE company_id IS NOT NULL
        """
    )
    op.execute(
        """
        UPDATE account SET company_id = NULL
        WHERE company_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM contract_contact
            JOIN contract ON contract.id = contract_contact.contract_id
            WHERE contract_contact.account_id = account.id
              AND contract.company_id = account.company_id)
        """
    )
    op.create_table(
        "upload_usage",
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "day", name=op.f("pk_upload_usage")),
    )


def downgrade() -> None:
    op.drop_table("upload_usage")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("company_name")
