"""configuration: baselines, observations, drift

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.String(length=500), nullable=False),
        sa.Column("arn", sa.String(length=1000), nullable=True),
        sa.Column("account_id", sa.String(length=20), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("configuration", sa.JSON(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_type", "resource_id", "captured_at"),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_key", ["resource_type", "resource_id"], unique=False)

    op.create_table(
        "baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=1000), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("change_key", sa.String(length=40), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version"),
    )
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_baselines_name"), ["name"], unique=False)

    op.create_table(
        "baseline_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.String(length=500), nullable=False),
        sa.Column("logical_id", sa.String(length=300), nullable=True),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["baselines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_baseline_resources_baseline_id"), ["baseline_id"], unique=False
        )
        batch_op.create_index(
            "ix_baseline_resources_key", ["resource_type", "resource_id"], unique=False
        )

    op.create_table(
        "drifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("baseline_resource_id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("differences", sa.JSON(), nullable=False),
        sa.Column("authorised_by", sa.String(length=40), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remediation_seconds", sa.Float(), nullable=True),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["baseline_resource_id"],
            ["baseline_resources.id"],
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("drifts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_drifts_baseline_resource_id"), ["baseline_resource_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drifts_resource_id"), ["resource_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drifts_status"), ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("drifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_drifts_status"))
        batch_op.drop_index(batch_op.f("ix_drifts_resource_id"))
        batch_op.drop_index(batch_op.f("ix_drifts_baseline_resource_id"))

    op.drop_table("drifts")
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_baseline_resources_key")
        batch_op.drop_index(batch_op.f("ix_baseline_resources_baseline_id"))

    op.drop_table("baseline_resources")
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_baselines_name"))

    op.drop_table("baselines")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_key")

    op.drop_table("observations")
