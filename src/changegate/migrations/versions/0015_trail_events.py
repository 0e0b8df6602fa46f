"""CloudTrail events (one row per eventID) and the cursors of trail buckets (issue 14)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trail_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_time", WHEN, nullable=False),
        sa.Column("event_source", sa.String(length=128), nullable=False),
        sa.Column("event_name", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=12), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("environment", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("principal", sa.String(length=2048), nullable=False),
        sa.Column("actor_name", sa.String(length=2048), nullable=False),
        sa.Column("change_key", sa.String(length=40), nullable=True),
        sa.Column("error_code", sa.String(length=256), nullable=True),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("ingested_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_trail_events_event_time", "trail_events", ["event_time"])
    op.create_index("ix_trail_events_change_key", "trail_events", ["change_key"])
    op.create_index("ix_trail_events_kind_time", "trail_events", ["kind", "event_time"])
    op.create_table(
        "trail_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("prefix", sa.String(length=1024), nullable=False),
        sa.Column("account", sa.String(length=12), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("last_key", sa.String(length=1024), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bucket", "prefix", "account", "region"),
    )


def downgrade() -> None:
    op.drop_table("trail_cursors")
    op.drop_index("ix_trail_events_kind_time", table_name="trail_events")
    op.drop_index("ix_trail_events_change_key", table_name="trail_events")
    op.drop_index("ix_trail_events_event_time", table_name="trail_events")
    op.drop_table("trail_events")
