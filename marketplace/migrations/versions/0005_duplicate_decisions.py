"""duplicate decisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:19:33.236830
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import marketplace.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_a", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("key_b", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("decided_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_a", "key_b", name="uq_duplicate_decision_pair"),
    )


def downgrade() -> None:
    op.drop_table("duplicate_decision")
