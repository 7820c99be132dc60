"""kept duplicate scan results and check-before-you-buy outcomes

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import marketplace.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "duplicate_scan_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=20), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("trigger", String(length=300), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("register_stamp", String(length=100), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", marketplace.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_duplicate_scan_run_started_at"), "duplicate_scan_run", ["started_at"])
    op.create_table(
        "duplicate_scan_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_a", String(length=300), nullable=False),
        sa.Column("key_b", String(length=300), nullable=False),
        sa.Column("division_a", String(length=20), nullable=False),
        sa.Column("division_b", String(length=20), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("overlap_days", sa.Integer(), nullable=False),
        sa.Column("estimated_avoidable_cents", sa.BigInteger(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("scan_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["scan_run_id"], ["duplicate_scan_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_a", "key_b", name="uq_duplicate_scan_pair"),
    )
    op.create_index("ix_duplicate_scan_pair_key_b", "duplicate_scan_pair", ["key_b"])
    op.create_table(
        "duplicate_scan_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", String(length=20), nullable=False),
        sa.Column("group_key", String(length=310), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("divisions", sa.JSON(), nullable=False),
        sa.Column("vendor", String(length=300), nullable=False),
        sa.Column("product", String(length=300), nullable=False),
        sa.Column("purchase_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("estimated_avoidable_cents", sa.BigInteger(), nullable=False),
        sa.Column("first_start_on", sa.Date(), nullable=True),
        sa.Column("last_end_on", sa.Date(), nullable=True),
        sa.Column("scan_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["scan_run_id"], ["duplicate_scan_run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "group_key", name="uq_duplicate_scan_group"),
    )
    op.create_index(
        "ix_duplicate_scan_group_avoidable",
        "duplicate_scan_group",
        ["kind", "estimated_avoidable_cents"],
    )
    op.create_index("ix_duplicate_scan_group_total", "duplicate_scan_group", ["total_cents"])
    op.create_table(
        "duplicate_scan_purchase",
        sa.Column("award_key", String(length=300), nullable=False),
        sa.Column("fingerprint", String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("award_key"),
    )
    op.create_table(
        "check_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outcome", String(length=20), nullable=False),
        sa.Column("division_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", String(length=300), nullable=False),
        sa.Column("vendor", String(length=200), nullable=False),
        sa.Column("need", String(length=200), nullable=False),
        sa.Column("planned_cents", sa.BigInteger(), nullable=True),
        sa.Column("match_kind", String(length=20), nullable=True),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("match_label", String(length=300), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("avoided_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["division_id"], ["division.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_check_outcome_division_created", "check_outcome", ["division_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_check_outcome_division_created", table_name="check_outcome")
    op.drop_table("check_outcome")
    op.drop_table("duplicate_scan_purchase")
    op.drop_index("ix_duplicate_scan_group_total", table_name="duplicate_scan_group")
    op.drop_index("ix_duplicate_scan_group_avoidable", table_name="duplicate_scan_group")
    op.drop_table("duplicate_scan_group")
    op.drop_index("ix_duplicate_scan_pair_key_b", table_name="duplicate_scan_pair")
    op.drop_table("duplicate_scan_pair")
    op.drop_index(op.f("ix_duplicate_scan_run_started_at"), table_name="duplicate_scan_run")
    op.drop_table("duplicate_scan_run")
