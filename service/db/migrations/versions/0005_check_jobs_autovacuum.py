"""check_jobs: vacuum and analyze it after 2 % / 5 % churn instead of PostgreSQL's 20 % / 10 %

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:00:00

Every job row is written four times (inserted, counted or claimed, completed), so the table
and its partial indexes fill with dead row versions that the delivery counts and claims must
step over until a vacuum. With the default scale factor a table of a million jobs waits for
200,000 of them. PostgreSQL only (SQLite has no autovacuum to tune).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE check_jobs SET (autovacuum_vacuum_scale_factor = 0.02,"
            " autovacuum_analyze_scale_factor = 0.05)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE check_jobs RESET (autovacuum_vacuum_scale_factor,"
            " autovacuum_analyze_scale_factor)"
        )
