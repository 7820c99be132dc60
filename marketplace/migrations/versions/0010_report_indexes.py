"""covering indexes for the ROI report's spend totals

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 10:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_purchase_spend_division",
        "purchase",
        ["division_id", "psc", "start_on", "obligated_cents"],
        unique=False,
    )
    op.create_index(
        "ix_purchase_spend_vendor", "purchase", ["vendor_id", "start_on", "obligated_cents"]
    )


def downgrade() -> None:
    op.drop_index("ix_purchase_spend_vendor", table_name="purchase")
    op.drop_index("ix_purchase_spend_division", table_name="purchase")
