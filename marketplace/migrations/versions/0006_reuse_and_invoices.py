"""reuse requests, usage counts and chargeback invoices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import marketplace.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invoice_sequence",
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fiscal_year"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.Column("read_at", marketplace.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_read", ["user_id", "read_at"], unique=False)

    op.create_table(
        "reuse_delegate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("until_on", sa.Date(), nullable=True),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_id"],
            ["division.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("division_id", "user_id", name="uq_reuse_delegate"),
    )
    with op.batch_alter_table("reuse_delegate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reuse_delegate_division_id"), ["division_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reuse_delegate_user_id"), ["user_id"], unique=False)

    op.create_table(
        "listing_usage",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listing.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("listing_id", "month"),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("from_division_id", sa.Integer(), nullable=False),
        sa.Column("to_division_id", sa.Integer(), nullable=False),
        sa.Column("from_agreement", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("to_agreement", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=True),
        sa.Column("period_label", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("terms_days", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column(
            "payment_reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False
        ),
        sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("generation_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_division_id"],
            ["division.id"],
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_division_id"],
            ["division.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fiscal_year", "sequence", name="uq_invoice_fiscal_sequence"),
        sa.UniqueConstraint("generation_key"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_from_division_id"), ["from_division_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoice_licence_id"), ["licence_id"], unique=False)
        batch_op.create_index("ix_invoice_status_created", ["status", "created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invoice_to_division_id"), ["to_division_id"], unique=False
        )

    op.create_table(
        "reuse_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("licence_id", sa.Integer(), nullable=True),
        sa.Column("owner_division_id", sa.Integer(), nullable=False),
        sa.Column("requesting_division_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("dua_required", sa.Boolean(), nullable=False),
        sa.Column("dua_reference", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", marketplace.types.UTCDateTime(), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("avoided_cents", sa.BigInteger(), nullable=True),
        sa.Column(
            "avoided_override_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("created_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            ["licence.id"],
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listing.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_division_id"],
            ["division.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requesting_division_id"],
            ["division.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reuse_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reuse_request_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_reuse_request_licence_status", ["licence_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reuse_request_listing_id"), ["listing_id"], unique=False
        )
        batch_op.create_index(
            "ix_reuse_request_owner_status", ["owner_division_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reuse_request_requested_by_id"), ["requested_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_reuse_request_requester_status", ["requesting_division_id", "status"], unique=False
        )

    op.create_table(
        "invoice_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("reuse_request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["reuse_request_id"],
            ["reuse_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invoice_line_invoice_id"), ["invoice_id"], unique=False
        )

    op.create_table(
        "reuse_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("is_agreement", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("uploaded_at", marketplace.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["reuse_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    with op.batch_alter_table("reuse_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reuse_attachment_request_id"), ["request_id"], unique=False
        )

    # Plain ADD COLUMN with server defaults: existing rows get a value, and SQLite needs no table
    # rebuild (a batch rebuild of `listing` would be slow on large catalogs).
    op.add_column(
        "licence",
        sa.Column(
            "share_method",
            sqlmodel.sql.sqltypes.AutoString(length=20),
            nullable=False,
            server_default="none",
        ),
    )
    op.add_column("licence", sa.Column("fixed_share_cents", sa.BigInteger(), nullable=True))
    op.add_column(
        "licence", sa.Column("owner_seats", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "licence", sa.Column("reuse_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "listing", sa.Column("reuse_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.create_index("ix_listing_reuse_count", "listing", ["reuse_count"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_listing_reuse_count", table_name="listing")
    with op.batch_alter_table("listing", schema=None) as batch_op:
        batch_op.drop_column("reuse_count")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_column("reuse_count")
        batch_op.drop_column("owner_seats")
        batch_op.drop_column("fixed_share_cents")
        batch_op.drop_column("share_method")

    with op.batch_alter_table("reuse_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reuse_attachment_request_id"))

    op.drop_table("reuse_attachment")
    with op.batch_alter_table("invoice_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_line_invoice_id"))

    op.drop_table("invoice_line")
    with op.batch_alter_table("reuse_request", schema=None) as batch_op:
        batch_op.drop_index("ix_reuse_request_requester_status")
        batch_op.drop_index(batch_op.f("ix_reuse_request_requested_by_id"))
        batch_op.drop_index("ix_reuse_request_owner_status")
        batch_op.drop_index(batch_op.f("ix_reuse_request_listing_id"))
        batch_op.drop_index("ix_reuse_request_licence_status")
        batch_op.drop_index(batch_op.f("ix_reuse_request_created_at"))

    op.drop_table("reuse_request")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoice_to_division_id"))
        batch_op.drop_index("ix_invoice_status_created")
        batch_op.drop_index(batch_op.f("ix_invoice_licence_id"))
        batch_op.drop_index(batch_op.f("ix_invoice_from_division_id"))

    op.drop_table("invoice")
    op.drop_table("listing_usage")
    with op.batch_alter_table("reuse_delegate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reuse_delegate_user_id"))
        batch_op.drop_index(batch_op.f("ix_reuse_delegate_division_id"))

    op.drop_table("reuse_delegate")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user_read")

    op.drop_table("notification")
    op.drop_table("invoice_sequence")
