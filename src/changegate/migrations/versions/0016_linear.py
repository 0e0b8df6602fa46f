"""Linear issues linked to change requests and waivers, and the sync cursor (issue 15)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "linear_issues",
        sa.Column("issue_id", sa.String(length=36), nullable=False),
        sa.Column("identifier", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=20), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("problem_sha256", sa.String(length=64), nullable=True),
        sa.Column("issue_updated_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("issue_id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_linear_issues_identifier", "linear_issues", ["identifier"])
    op.create_table(
        "linear_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("synced_to", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("linear_cursors")
    op.drop_index("ix_linear_issues_identifier", table_name="linear_issues")
    op.drop_table("linear_issues")
