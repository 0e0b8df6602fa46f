"""every test category and the verdict on a run; what an audit could not check; code review
evidence from GitHub and the GitHub login of each person

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        for name in ("not_run", "warnings", "suite_errors"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("verdict", sa.String(length=300), nullable=True))
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_checked", sa.JSON(), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("github_login", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint("uq_users_github_login", ["github_login"])
    op.create_table(
        "code_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("repository", sa.String(length=200), nullable=False),
        sa.Column("pull_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("head_ref", sa.String(length=255), nullable=False),
        sa.Column("author_login", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("actor_login", sa.String(length=100), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("delivery_id", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["change_id"], ["changes.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repository", "pull_number", "kind", "actor_login", "commit_sha"),
    )
    op.create_index("ix_code_reviews_change_id", "code_reviews", ["change_id"])
    # The newest observation by name is then one descending index scan, as by id already is.
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_name")
        batch_op.create_index(
            "ix_observations_name", ["resource_type", "resource_name", "captured_at"]
        )
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        # NULL for existing resources: a scan binds all their properties, as before.
        batch_op.add_column(sa.Column("pseudo_properties", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_name")
        batch_op.create_index("ix_observations_name", ["resource_type", "resource_name"])
    with op.batch_alter_table("baseline_resources", schema=None) as batch_op:
        batch_op.drop_column("pseudo_properties")
    op.drop_index("ix_code_reviews_change_id", table_name="code_reviews")
    op.drop_table("code_reviews")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("uq_users_github_login", type_="unique")
        batch_op.drop_column("github_login")
    with op.batch_alter_table("audit_runs", schema=None) as batch_op:
        batch_op.drop_column("not_checked")
    with op.batch_alter_table("test_runs", schema=None) as batch_op:
        for name in ("verdict", "suite_errors", "warnings", "not_run"):
            batch_op.drop_column(name)
