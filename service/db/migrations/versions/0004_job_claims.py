"""check jobs remember which task claimed them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:00:00

A worker claims every never-delivered job of the backlog (service.usecases.checks.claim_checks) and
stamps it with its task id. The job's own message then leaves it to the claimer instead of
running it a second time; a redelivery of the claimer's message takes its claims back (the
crash bound holds: each take is a counted delivery); the relay releases a claim when it
re-sends the job. The partial index holds only claims in progress (completing a job clears
its claim), so finding a redelivered task's claims costs O(claims).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CLAIMED = sa.text("claimed_by IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("check_jobs") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
    op.create_index(
        "ix_check_jobs_claimed_by",
        "check_jobs",
        ["claimed_by"],
        postgresql_where=_CLAIMED,
        sqlite_where=_CLAIMED,
    )


def downgrade() -> None:
    op.drop_index("ix_check_jobs_claimed_by", table_name="check_jobs")
    with op.batch_alter_table("check_jobs") as batch:
        batch.drop_column("claimed_by")
