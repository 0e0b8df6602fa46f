"""changes.implemented_by_id: who marked a change implemented (CM-5's detective rule)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("implemented_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_changes_implemented_by_id_users", "users", ["implemented_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_constraint("fk_changes_implemented_by_id_users", type_="foreignkey")
        batch_op.drop_column("implemented_by_id")
