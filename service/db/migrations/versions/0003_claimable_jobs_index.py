"""claimable check jobs: a partial index, so a claim costs O(batch), not O(backlog)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:00:00

Workers claim never-delivered jobs newest first (service.usecases.checks.claim_checks). Without this
index the claim scanned and sorted every unfinished job: 60 ms per claim with 10,000 pending
comments, on every message, while a burst's backlog drains.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CLAIMABLE = sa.text("completed_at IS NULL AND attempt_count = 0")


def upgrade() -> None:
    op.create_index(
        "ix_check_jobs_claimable",
        "check_jobs",
        ["check", "created_at"],
        postgresql_where=_CLAIMABLE,
        sqlite_where=_CLAIMABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_check_jobs_claimable", table_name="check_jobs")
