"""Procurement tables: vendors and their aliases, purchases, licences, import runs, column mappings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Imported for the tables our foreign keys name (listing; division, user_account, job), so this
# module's metadata is complete wherever it is imported first.
import marketplace.catalog.models
import marketplace.models  # noqa: F401
from marketplace.types import UTCDateTime, utcnow
from procurement.reuse_rules import ReuseState


class PurchaseSource(StrEnum):
    MANUAL = "manual"  # entered by an officer (purchase-card subscriptions never reach FPDS)
    IMPORT = "import"  # read from an award file; `source_file` and `source_rows` say which


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Vendor(SQLModel, table=True):
    """A canonical vendor. Names reach it through `vendor_alias`; UEIs identify it directly."""

    __tablename__ = "vendor"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=300)  # as first written on an award or by an officer
    name_key: str = Field(max_length=300, unique=True, index=True)  # normalise_vendor_name(name)
    uei: str | None = Field(default=None, max_length=20, unique=True)
    parent_uei: str | None = Field(default=None, max_length=20, index=True)
    parent_name: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class VendorAlias(SQLModel, table=True):
    """A normalised name that means a vendor: its own name, d/b/a and former names, merged names.

    The key is unique, so one spelling always leads to one vendor; a merge moves the loser's
    aliases to the winner, which is how a merge teaches future imports.
    """

    __tablename__ = "vendor_alias"

    alias_key: str = Field(max_length=300, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=300)  # the spelling it was learnt from
    origin: str = Field(default="import", max_length=20)  # import, variant, manual, merge
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Purchase(SQLModel, table=True):
    """One award (or one hand-entered purchase) of one division from one vendor.

    `award_key` is the identity across imports (see procurement.importers.AwardRecord); `piid` is
    the contract number, or for manual purchases a generated reference such as HHS-MAN-2026-00042
    that stands wherever a PIID would. Money is integer cents (BigInteger: awards pass $21 million,
    the limit of a 32-bit cent count); obligations may be negative (de-obligations).
    """

    __tablename__ = "purchase"
    __table_args__ = (
        Index("ix_purchase_division_start", "division_id", "start_on"),
        Index("ix_purchase_start_id", "start_on", "id"),
        Index("ix_purchase_obligated_id", "obligated_cents", "id"),
        # Covering indexes for the facet counts of searches without words (see search_purchases).
        Index("ix_purchase_facets", "division_id", "psc", "current_end_on", "obligated_cents"),
        Index("ix_purchase_vendor_facets", "vendor_id", "division_id", "psc", "current_end_on"),
        # Covering indexes for the ROI report's spend totals by division, code and vendor.
        Index("ix_purchase_spend_division", "division_id", "psc", "start_on", "obligated_cents"),
        Index("ix_purchase_spend_vendor", "vendor_id", "start_on", "obligated_cents"),
        # The latest change, read by every kept-results stamp (searches, ROI, duplicate scans).
        Index("ix_purchase_updated_at", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    award_key: str = Field(max_length=300, unique=True)
    piid: str = Field(max_length=100, index=True)
    parent_piid: str | None = Field(default=None, max_length=100, index=True)
    division_id: int = Field(foreign_key="division.id")
    awarding_division_id: int | None = Field(default=None, foreign_key="division.id")
    funding_division_id: int | None = Field(default=None, foreign_key="division.id")
    vendor_id: int = Field(foreign_key="vendor.id")  # indexed by ix_purchase_vendor_facets
    product: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    award_type: str | None = Field(default=None, max_length=100)
    psc: str | None = Field(default=None, max_length=10, index=True)
    psc_description: str | None = Field(default=None, max_length=300)
    naics: str | None = Field(default=None, max_length=10)
    naics_description: str | None = Field(default=None, max_length=300)
    start_on: date | None = Field(default=None)
    current_end_on: date | None = Field(default=None, index=True)
    potential_end_on: date | None = Field(default=None)
    last_action_on: date | None = Field(default=None)
    obligated_cents: int = Field(default=0, sa_type=BigInteger)
    current_value_cents: int | None = Field(default=None, sa_type=BigInteger)
    potential_value_cents: int | None = Field(default=None, sa_type=BigInteger)
    source: str = Field(default=PurchaseSource.MANUAL, max_length=20)
    source_file: str | None = Field(default=None, max_length=300)
    source_rows: str | None = Field(default=None, max_length=500)  # "rows 2, 7–9" as imported
    import_run_id: int | None = Field(default=None, foreign_key="import_run.id", index=True)
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    # Visible only to the owning division and leadership (READ_SENSITIVE_PROCUREMENT).
    sensitive_notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Lower-case words of PIIDs, vendor, product, description and codes: what live search matches.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class PurchaseDocument(SQLModel, table=True):
    """A contract document attached to a purchase; stored under settings.upload_dir, sensitive."""

    __tablename__ = "purchase_document"

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchase.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(default=0)
    stored_name: str = Field(max_length=100, unique=True)  # random name on disk, never user input
    uploaded_by: str = Field(max_length=300)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Licence(SQLModel, table=True):
    """The licence terms of one purchase (see procurement.licensing.LicenceTerms for meanings)."""

    __tablename__ = "licence"

    id: int | None = Field(default=None, primary_key=True)
    purchase_id: int = Field(foreign_key="purchase.id", unique=True, ondelete="CASCADE")
    scope: str = Field(max_length=30)  # LicenceScope
    listed_divisions: str = Field(default="", max_length=300)  # comma-separated division codes
    seats: int | None = Field(default=None)  # None: unlimited
    owner_seats: int = Field(default=0)  # seats the owning division's own staff hold
    term_start_on: date
    term_end_on: date = Field(index=True)
    renewal_on: date | None = Field(default=None, index=True)
    auto_renew: bool = Field(default=False)
    renewal_cost_cents: int | None = Field(default=None, sa_type=BigInteger)
    reuse_policy: str = Field(default="with_approval", max_length=20)  # ReusePolicy
    redistribution_allowed: bool = Field(default=False)
    derivatives_allowed: bool = Field(default=False)
    dua_required: bool = Field(default=False)
    price_per_seat_cents: int | None = Field(default=None, sa_type=BigInteger)
    # How reusing divisions share the cost (procurement.costs.ShareMethod); fixed_share_cents is
    # the amount per reusing division per billed period when the method is "fixed".
    share_method: str = Field(default="none", max_length=20)
    fixed_share_cents: int | None = Field(default=None, sa_type=BigInteger)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    listing_id: int | None = Field(default=None, foreign_key="listing.id")
    # Approved reuses ever granted (approved, active, expired or revoked), kept by the reuse service.
    reuse_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())

    def listed_codes(self) -> tuple[str, ...]:
        return tuple(code for code in self.listed_divisions.split(",") if code)


class ImportRun(SQLModel, table=True):
    """The kept report of one award-file import (web or CLI, real or dry run)."""

    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor: str = Field(max_length=300)
    filename: str = Field(max_length=300)
    stored_name: str | None = Field(default=None, max_length=100)  # the upload under upload_dir
    requested_format: str = Field(default="auto", max_length=30)
    division_code: str | None = Field(default=None, max_length=20)
    mapping_id: int | None = Field(default=None, foreign_key="column_mapping_preset.id")
    dry_run: bool = Field(default=False)
    status: str = Field(default=ImportStatus.QUEUED, max_length=20)
    layout: str | None = Field(default=None, max_length=30)
    rows_read: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    skipped: int = Field(default=0)
    rejected: int = Field(default=0)
    # rejected rows (capped), skip reasons, warnings (capped), notices; or the unknown-layout columns
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ColumnMappingPreset(SQLModel, table=True):
    """An officer's mapping of a CSV header onto the template, reused for the same header."""

    __tablename__ = "column_mapping_preset"

    id: int | None = Field(default=None, primary_key=True)
    signature: str = Field(max_length=64, unique=True)  # sha256 of the normalised header
    header: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    columns: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


__all__ = [
    "CheckOutcome",
    "ColumnMappingPreset",
    "DuplicateDecision",
    "DuplicateScanGroup",
    "DuplicateScanPair",
    "DuplicateScanPurchase",
    "DuplicateScanRun",
    "ImportRun",
    "ImportStatus",
    "Invoice",
    "InvoiceLineRow",
    "InvoiceSequence",
    "Licence",
    "Purchase",
    "PurchaseDocument",
    "PurchaseSource",
    "ReuseAttachment",
    "ReuseDelegate",
    "ReuseRequest",
    "Vendor",
    "VendorAlias",
]


class ReuseRequest(SQLModel, table=True):
    """A division's request to reuse another division's listing or licence, and its decision.

    `licence_id` is set whenever a licence governs the reuse (asked from the licence, or from a
    listing that a licence covers); the licence's terms are then enforced at approval. Seats
    count against the licence while the request is approved or active.
    """

    __tablename__ = "reuse_request"
    __table_args__ = (
        Index("ix_reuse_request_owner_status", "owner_division_id", "status"),
        Index("ix_reuse_request_requester_status", "requesting_division_id", "status"),
        Index("ix_reuse_request_licence_status", "licence_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int | None = Field(default=None, foreign_key="listing.id", index=True)
    licence_id: int | None = Field(default=None, foreign_key="licence.id")
    owner_division_id: int = Field(foreign_key="division.id")
    requesting_division_id: int = Field(foreign_key="division.id")
    requested_by_id: int = Field(foreign_key="user_account.id", index=True)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    seats: int = Field(default=1)
    start_on: date
    end_on: date
    dua_required: bool = Field(default=False)  # the requester says an agreement is needed
    dua_reference: str = Field(default="", max_length=200)  # e.g. "DUA-CMS-2026-014"
    status: str = Field(default=ReuseState.REQUESTED, max_length=20)  # reuse_rules.ReuseState
    due_on: date  # the service level: a decision is due by this business day
    reminded_on: date | None = Field(default=None)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    conditions: str = Field(default="", sa_column=Column(Text, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))  # denial or revocation
    # What the requester would otherwise have paid (costs.avoided_spend_cents), set at approval;
    # an officer may override it with a reason.
    avoided_cents: int | None = Field(default=None, sa_type=BigInteger)
    avoided_override_reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ReuseAttachment(SQLModel, table=True):
    """A signed agreement or other file attached to a reuse request, stored under upload_dir."""

    __tablename__ = "reuse_attachment"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="reuse_request.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(default=0)
    stored_name: str = Field(max_length=100, unique=True)  # random name on disk, never user input
    is_agreement: bool = Field(default=True)
    uploaded_by: str = Field(max_length=300)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class ReuseDelegate(SQLModel, table=True):
    """A person who may decide a division's reuse requests while its stewards and officers are away."""

    __tablename__ = "reuse_delegate"
    __table_args__ = (UniqueConstraint("division_id", "user_id", name="uq_reuse_delegate"),)

    id: int | None = Field(default=None, primary_key=True)
    division_id: int = Field(foreign_key="division.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    until_on: date | None = Field(default=None)  # None: until removed
    added_by: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class InvoiceSequence(SQLModel, table=True):
    """The last invoice number used in a fiscal year; incremented in the invoice's transaction,
    so numbers have no gaps (a rolled-back invoice rolls its number back too)."""

    __tablename__ = "invoice_sequence"

    fiscal_year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_sequence: int = Field(default=0)


class Invoice(SQLModel, table=True):
    """A chargeback from the owner division to a reusing division for its cost share.

    Never deleted: a draft or issued invoice can be voided and keeps its number. `generation_key`
    makes `marketplace invoices generate` idempotent (one invoice per licence, payer and period).
    """

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "sequence", name="uq_invoice_fiscal_sequence"),
        Index("ix_invoice_status_created", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=30, unique=True)  # HHS-FY26-000123
    fiscal_year: int
    sequence: int
    from_division_id: int = Field(foreign_key="division.id", index=True)
    to_division_id: int = Field(foreign_key="division.id", index=True)
    from_agreement: str = Field(default="", max_length=100)  # the seller's IAA/IPAC reference
    to_agreement: str = Field(default="", max_length=100)  # the buyer's IAA/IPAC reference
    licence_id: int | None = Field(default=None, foreign_key="licence.id", index=True)
    period_label: str = Field(default="", max_length=20)  # "FY26Q1"
    period_start: date | None = Field(default=None)
    period_end: date | None = Field(default=None)
    status: str = Field(default="draft", max_length=10)  # procurement.invoicing.InvoiceStatus
    terms_days: int = Field(default=30)
    issued_on: date | None = Field(default=None)
    due_on: date | None = Field(default=None)
    paid_on: date | None = Field(default=None)
    payment_reference: str = Field(default="", max_length=100)
    void_reason: str = Field(default="", max_length=500)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    total_cents: int = Field(default=0, sa_type=BigInteger)  # the sum of the lines
    generation_key: str | None = Field(default=None, max_length=120, unique=True)
    created_by: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class InvoiceLineRow(SQLModel, table=True):
    """One stored line of an invoice (procurement.invoicing.InvoiceLine is its checked value)."""

    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True, ondelete="CASCADE")
    position: int
    description: str = Field(max_length=500)
    quantity: int = Field(default=1)
    unit_cents: int = Field(default=0, sa_type=BigInteger)
    amount_cents: int = Field(default=0, sa_type=BigInteger)
    reuse_request_id: int | None = Field(default=None, foreign_key="reuse_request.id")


class DuplicateDecision(SQLModel, table=True):
    """An officer's or leadership's decision on a pair of purchases a duplicate scan reported.

    The pair is two award keys in sorted order (`key_a` < `key_b`), unique together. `confirmed`
    keeps the pair in every scan; any other decision dismisses it for good.
    """

    __tablename__ = "duplicate_decision"
    __table_args__ = (UniqueConstraint("key_a", "key_b", name="uq_duplicate_decision_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    key_a: str = Field(max_length=300)
    key_b: str = Field(max_length=300)
    decision: str = Field(max_length=30)  # procurement.duplicates.Decision
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_by: str = Field(max_length=300)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


# --- kept duplicate scans and check-before-you-buy outcomes (procurement.duplicate_scans) ------


class DuplicateScanRun(SQLModel, table=True):
    """One duplicate scan: full (every purchase) or incremental (the purchases that changed).

    A run is written as "running" before it starts; its results replace the kept ones in the same
    transaction that marks it "succeeded", so a failed run leaves the previous results intact.
    """

    __tablename__ = "duplicate_scan_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # procurement.duplicate_scans.ScanKind
    status: str = Field(default="running", max_length=20)  # running, succeeded, failed
    trigger: str = Field(default="", max_length=300)  # "scan again by …", "import run 12", "cli"
    job_id: int | None = Field(default=None, foreign_key="job.id")
    threshold: float = Field(default=0.5)
    purchases: int = Field(default=0)  # purchases the scan compared against
    changed: int = Field(default=0)  # purchases rescanned (all of them for a full scan)
    pairs: int = Field(default=0)  # kept pairs after the run
    clusters: int = Field(default=0)  # kept duplicate clusters after the run
    seconds: float = Field(default=0.0)
    # max(purchase.updated_at), purchase count, max(vendor.updated_at) as the run saw them: the
    # periodic refresh skips loading the register when they have not moved.
    register_stamp: str = Field(default="", max_length=100)
    error: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class DuplicateScanPair(SQLModel, table=True):
    """A kept cross-division duplicate pair (award keys in sorted order), as the last scan that
    looked at either purchase scored it."""

    __tablename__ = "duplicate_scan_pair"
    __table_args__ = (
        UniqueConstraint("key_a", "key_b", name="uq_duplicate_scan_pair"),
        Index("ix_duplicate_scan_pair_key_b", "key_b"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key_a: str = Field(max_length=300)
    key_b: str = Field(max_length=300)
    division_a: str = Field(max_length=20)
    division_b: str = Field(max_length=20)
    score: float
    overlap_days: int
    estimated_avoidable_cents: int = Field(default=0, sa_type=BigInteger)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    features: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    confirmed: bool = Field(default=False)
    scan_run_id: int | None = Field(default=None, foreign_key="duplicate_scan_run.id")


class DuplicateScanGroup(SQLModel, table=True):
    """A kept group: a duplicate cluster (bought at the same time) or a consolidation candidate
    (bought one after another), with the figures the pages show."""

    __tablename__ = "duplicate_scan_group"
    __table_args__ = (
        UniqueConstraint("kind", "group_key", name="uq_duplicate_scan_group"),
        Index("ix_duplicate_scan_group_avoidable", "kind", "estimated_avoidable_cents"),
        Index("ix_duplicate_scan_group_total", "total_cents"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # "duplicate" or "consolidation"
    group_key: str = Field(max_length=310)  # "dup-" / "con-" + the smallest member key
    keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    divisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    vendor: str = Field(default="", max_length=300)
    product: str = Field(default="", max_length=300)
    purchase_count: int = Field(default=0)
    total_cents: int = Field(default=0, sa_type=BigInteger)
    estimated_avoidable_cents: int = Field(default=0, sa_type=BigInteger)
    first_start_on: date | None = Field(default=None)
    last_end_on: date | None = Field(default=None)
    scan_run_id: int | None = Field(default=None, foreign_key="duplicate_scan_run.id")


class DuplicateScanPurchase(SQLModel, table=True):
    """What the kept results know of each purchase: a fingerprint of its matcher record, so an
    incremental scan finds the purchases that changed (imported, edited, vendor merged) since."""

    __tablename__ = "duplicate_scan_purchase"

    award_key: str = Field(max_length=300, primary_key=True)
    fingerprint: str = Field(max_length=32)


class CheckOutcome(SQLModel, table=True):
    """What an officer decided after checking a planned purchase: reuse an existing purchase,
    licence or listing, or proceed with a justification. Feeds the avoided-spend figures."""

    __tablename__ = "check_outcome"
    __table_args__ = (Index("ix_check_outcome_division_created", "division_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    outcome: str = Field(max_length=20)  # procurement.duplicate_scans.Outcome
    division_id: int = Field(foreign_key="division.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor: str = Field(max_length=300)
    vendor: str = Field(default="", max_length=200)
    need: str = Field(default="", max_length=200)  # product or description as typed
    planned_cents: int | None = Field(default=None, sa_type=BigInteger)
    match_kind: str | None = Field(default=None, max_length=20)  # purchase, licence, listing
    match_id: int | None = Field(default=None)
    match_label: str = Field(default="", max_length=300)  # PIID or listing title when recorded
    justification: str = Field(default="", sa_column=Column(Text, nullable=False))
    avoided_cents: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
