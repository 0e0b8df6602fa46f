"""widths from what writers produce: AWS's documented maxima for resource types (256), ids (768)
and ARNs (2048); finding subjects and fingerprints that name such a resource; ledger subjects
that name a person by email

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Literal numbers: a migration is history, it must not move when `limits` does.
WIDER = {
    "observations": {"resource_type": (200, 256), "resource_id": (500, 768), "arn": (1000, 2048)},
    "drifts": {"resource_type": (200, 256), "resource_id": (500, 768)},
    "baseline_resources": {"resource_type": (200, 256), "resource_id": (500, 768)},
    "waivers": {"scope_value": (500, 768)},
    "findings": {"subject": (300, 1034), "fingerprint": (300, 1095)},
    "ledger": {"subject": (120, 500)},
}


def _alter(old_new: int) -> None:
    for table, columns in WIDER.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, widths in columns.items():
                batch_op.alter_column(
                    column,
                    existing_type=sa.String(length=widths[1 - old_new]),
                    type_=sa.String(length=widths[old_new]),
                )


def upgrade() -> None:
    _alter(1)


def downgrade() -> None:
    _alter(0)
