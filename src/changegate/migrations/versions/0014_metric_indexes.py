"""Indexes on the instants the CM-6 metrics count a quarter by

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A quarter's dashboard filters each of these tables by one instant; without an index every
# figure scanned the whole table (a year holds 100,000 changes and their deployments).
INDEXES = (
    ("deployments", "started_at"),
    ("changes", "created_at"),
    ("changes", "implemented_at"),
    ("drifts", "detected_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
