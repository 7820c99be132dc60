"""index on purchase.updated_at, the register's latest change

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 14:10:00

Kept search summaries and reports are keyed by a stamp that includes max(purchase.updated_at);
without an index every request scanned all purchases for it (about 100 ms over 100,000 on SQLite).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_purchase_updated_at", "purchase", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_purchase_updated_at", table_name="purchase")
