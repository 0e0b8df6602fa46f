"""CAB meetings: meetings, their agenda items, attendance and decisions

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cab_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("held_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("minutes_edited_at", WHEN, nullable=True),
        sa.Column("minutes_edited_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("minutes_sha256", sa.String(length=64), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["minutes_edited_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cab_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cab_meetings_held_at"), ["held_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cab_meetings_status"), ["status"], unique=False)

    op.create_table(
        "cab_agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("version_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["cab_meetings.id"]),
        sa.ForeignKeyConstraint(["change_id"], ["changes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "change_id"),
    )
    with op.batch_alter_table("cab_agenda_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cab_agenda_items_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cab_agenda_items_change_id"), ["change_id"], unique=False
        )

    op.create_table(
        "cab_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("attended_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["cab_meetings.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "user_id"),
    )
    with op.batch_alter_table("cab_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cab_attendance_meeting_id"), ["meeting_id"], unique=False
        )

    op.create_table(
        "cab_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("decider_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["cab_meetings.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["cab_agenda_items.id"]),
        sa.ForeignKeyConstraint(["decider_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["approval_id"], ["approvals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("approval_id"),
    )
    with op.batch_alter_table("cab_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cab_decisions_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cab_decisions_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cab_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cab_decisions_item_id"))
        batch_op.drop_index(batch_op.f("ix_cab_decisions_meeting_id"))
    op.drop_table("cab_decisions")
    with op.batch_alter_table("cab_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cab_attendance_meeting_id"))
    op.drop_table("cab_attendance")
    with op.batch_alter_table("cab_agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cab_agenda_items_change_id"))
        batch_op.drop_index(batch_op.f("ix_cab_agenda_items_meeting_id"))
    op.drop_table("cab_agenda_items")
    with op.batch_alter_table("cab_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cab_meetings_status"))
        batch_op.drop_index(batch_op.f("ix_cab_meetings_held_at"))
    op.drop_table("cab_meetings")
