"""observations in CloudFormation's vocabulary; what each baseline resource cannot verify

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("properties", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("shape", sa.String(length=20), nullable=False, server_default="config")
        )
        batch_op.add_column(sa.Column("resource_name", sa.String(length=500), nullable=True))
        # What changed, when Config said so (a change notification's configurationItemDiff).
        batch_op.add_column(sa.Column("diff", sa.JSON(), nullable=True))
        batch_op.create_index("ix_observations_name", ["resource_type", "resource_name"])
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unverifiable", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("id_source", sa.String(length=20), nullable=False, server_default="logical")
        )


def downgrade() -> None:
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        batch_op.drop_column("id_source")
        batch_op.drop_column("unverifiable")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_name")
        batch_op.drop_column("diff")
        batch_op.drop_column("resource_name")
        batch_op.drop_column("shape")
        batch_op.drop_column("properties")
