"""Purchases: record and edit them, read one (sensitive parts only when allowed), search, export.

Every signed-in user may search and read purchases; officers change those of their own division;
sensitive notes and contract documents are shown to the owning division and leadership only.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlmodel import Session, col, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import changed_fields, record_event
from marketplace.auth import Permission, Principal, can, require
from marketplace.catalog.models import Listing, ListingKind
from marketplace.catalog.search import fts5_expression, query_tokens, tsquery_expression
from marketplace.memo import KeptResults, database_key, read_stamp
from marketplace.models import Division
from marketplace.spreadsheets import spreadsheet_safe
from marketplace.types import utcnow
from procurement.importers import clean_code
from procurement.models import (
    Licence,
    Purchase,
    PurchaseDocument,
    PurchaseSource,
    Vendor,
)
from procurement.services.common import (
    DivisionTable,
    dollars,
    parse_form_date,
    parse_form_money,
)
from procurement.services.vendors import find_or_create_vendor, purchase_search_text

Actor = Principal | str
MANUAL_PREFIX = "HHS-MAN"
_PIID = re.compile(r"[A-Z0-9][A-Z0-9-]{0,49}")
_PSC = re.compile(r"[A-Z0-9]{4}")
_NAICS = re.compile(r"\d{2,6}")


# ------------------------------------------------------------------ create and edit


@dataclass(frozen=True)
class PurchaseInput:
    """A purchase as typed in the form; every field is text, checked by `validate_purchase`."""

    division: str = ""
    vendor: str = ""
    vendor_uei: str = ""
    product: str = ""
    description: str = ""
    piid: str = ""
    parent_piid: str = ""
    award_type: str = ""
    psc: str = ""
    naics: str = ""
    start_on: str = ""
    current_end_on: str = ""
    potential_end_on: str = ""
    obligated: str = ""
    current_value: str = ""
    potential_value: str = ""
    sensitive_notes: str = ""

    @classmethod
    def of(cls, purchase: Purchase, division_code: str, vendor: Vendor) -> PurchaseInput:
        """The form values of a stored purchase."""
        return cls(
            division=division_code,
            vendor=vendor.name,
            vendor_uei=vendor.uei or "",
            product=purchase.product,
            description=purchase.description,
            piid=purchase.piid,
            parent_piid=purchase.parent_piid or "",
            award_type=purchase.award_type or "",
            psc=purchase.psc or "",
            naics=purchase.naics or "",
            start_on=purchase.start_on.isoformat() if purchase.start_on else "",
            current_end_on=purchase.current_end_on.isoformat() if purchase.current_end_on else "",
            potential_end_on=(
                purchase.potential_end_on.isoformat() if purchase.potential_end_on else ""
            ),
            obligated=dollars(purchase.obligated_cents),
            current_value=dollars(purchase.current_value_cents),
            potential_value=dollars(purchase.potential_value_cents),
            sensitive_notes=purchase.sensitive_notes,
        )


def _code(text: str, pattern: re.Pattern[str], label: str, name: str, errors: dict) -> str | None:
    try:
        value = clean_code(text)
    except ValueError as exc:
        errors[name] = f"{label}: {exc}."
        return None
    if value is not None and not pattern.fullmatch(value):
        errors[name] = f"{label}: {text.strip()[:40]!r} is not in the expected form."
        return None
    return value


def validate_purchase(db: Session, data: PurchaseInput) -> tuple[dict[str, Any], dict[str, str]]:
    """Checked and normalised values (vendor still as text) and field errors."""
    errors: dict[str, str] = {}
    divisions = DivisionTable.load(db)
    division = divisions.by_code.get(data.division.strip().upper())
    if division is None or not division.active:
        errors["division"] = "Choose the division that owns the purchase."
    vendor = data.vendor.strip()
    if not vendor or len(vendor) > 300:
        errors["vendor"] = "Enter the vendor's name (up to 300 characters)."
    uei = _code(data.vendor_uei, re.compile(r"[A-Z0-9]{12}"), "UEI", "vendor_uei", errors)
    product = data.product.strip()
    if not product or len(product) > 300:
        errors["product"] = (
            "Name what was bought, e.g. the dataset or subscription (up to 300 characters)."
        )
    description = data.description.strip()
    if len(description) > 5000:
        errors["description"] = "Keep the description under 5,000 characters."
    piid = _code(data.piid, _PIID, "PIID", "piid", errors)
    parent = _code(data.parent_piid, _PIID, "Parent award PIID", "parent_piid", errors)
    psc = _code(data.psc, _PSC, "Product and Service Code", "psc", errors)
    naics = _code(data.naics, _NAICS, "NAICS code", "naics", errors)
    award_type = data.award_type.strip().upper()[:100] or None
    start = parse_form_date(data.start_on, "Start", errors, "start_on")
    current_end = parse_form_date(data.current_end_on, "Current end", errors, "current_end_on")
    potential_end = parse_form_date(
        data.potential_end_on, "Potential end", errors, "potential_end_on"
    )
    if start and current_end and current_end < start:
        errors["current_end_on"] = "The current end date is before the start date."
    if start and potential_end and potential_end < start:
        errors["potential_end_on"] = "The potential end date is before the start date."
    if current_end and potential_end and potential_end < current_end:
        errors["potential_end_on"] = "The potential end date is before the current end date."
    obligated = parse_form_money(data.obligated, "Obligated", errors, "obligated")
    if obligated is None and "obligated" not in errors:
        errors["obligated"] = "Enter the amount obligated in dollars (0 if nothing yet)."
    current_value = parse_form_money(data.current_value, "Current value", errors, "current_value")
    potential_value = parse_form_money(
        data.potential_value, "Potential value", errors, "potential_value"
    )
    if len(data.sensitive_notes) > 20000:
        errors["sensitive_notes"] = "Keep the notes under 20,000 characters."
    values = {
        "division_id": division.id if division else None,
        "division_code": division.code if division else None,
        "vendor": vendor,
        "vendor_uei": uei,
        "product": product,
        "description": description,
        "piid": piid,
        "parent_piid": parent,
        "award_type": award_type,
        "psc": psc,
        "naics": naics,
        "start_on": start,
        "current_end_on": current_end,
        "potential_end_on": potential_end,
        "obligated_cents": obligated,
        "current_value_cents": current_value,
        "potential_value_cents": potential_value,
        "sensitive_notes": data.sensitive_notes.strip(),
    }
    return values, errors


def template_award_key(division_code: str, piid: str, parent_piid: str | None) -> str:
    """The key the template importer gives the same purchase, so both paths fold together."""
    return f"TEMPLATE_{division_code}_{piid}_{parent_piid or '-NONE-'}"


def next_manual_reference(db: Session, year: int) -> str:
    """The next free reference of a purchase without a PIID: HHS-MAN-2026-00042."""
    prefix = f"{MANUAL_PREFIX}-{year}-"
    existing = db.exec(
        select(Purchase.piid).where(col(Purchase.piid).startswith(prefix, autoescape=True))
    ).all()
    numbers = [int(p[len(prefix) :]) for p in existing if p[len(prefix) :].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:05d}"


def _snapshot(purchase: Purchase, divisions: DivisionTable, vendor_name: str) -> dict[str, Any]:
    return {
        "award_key": purchase.award_key,
        "piid": purchase.piid,
        "parent_piid": purchase.parent_piid,
        "division": divisions.code(purchase.division_id),
        "vendor": vendor_name,
        "product": purchase.product,
        "description": purchase.description,
        "award_type": purchase.award_type,
        "psc": purchase.psc,
        "naics": purchase.naics,
        "start_on": purchase.start_on,
        "current_end_on": purchase.current_end_on,
        "potential_end_on": purchase.potential_end_on,
        "obligated_cents": purchase.obligated_cents,
        "current_value_cents": purchase.current_value_cents,
        "potential_value_cents": purchase.potential_value_cents,
        "sensitive_notes": "(changed)" if purchase.sensitive_notes else "",
        "listing_id": purchase.listing_id,
    }


_EDITABLE = (
    "product", "description", "parent_piid", "award_type", "psc", "naics", "start_on",
    "current_end_on", "potential_end_on", "obligated_cents", "current_value_cents",
    "potential_value_cents", "sensitive_notes",
)  # fmt: skip


def record_purchase(db: Session, actor: Principal, data: PurchaseInput, *, today: date) -> Purchase:
    """Record a purchase by hand (an officer of its division); without a PIID it gets a reference.

    Raises:
        ValidationFailed: field errors; nothing is written.
        PermissionDenied: the caller is not an officer of that division.
    """
    require(actor, Permission.MANAGE_PURCHASES, actor.division_id)
    values, errors = validate_purchase(db, data)
    if values["division_id"] is not None and not can(
        actor, Permission.MANAGE_PURCHASES, values["division_id"]
    ):
        errors["division"] = f"You can record purchases of {actor.division_code} only."
    piid = values["piid"] or next_manual_reference(db, today.year)
    award_key = template_award_key(values["division_code"] or "", piid, values["parent_piid"])
    if not errors and db.exec(select(Purchase.id).where(Purchase.award_key == award_key)).first():
        errors["piid"] = f"{piid} is already recorded for {values['division_code']}."
    if errors:
        raise ValidationFailed(errors)
    vendor = find_or_create_vendor(db, values["vendor"], values["vendor_uei"])
    purchase = Purchase(
        award_key=award_key,
        piid=piid,
        division_id=values["division_id"],
        vendor_id=vendor.id or 0,
        source=PurchaseSource.MANUAL,
        **{name: values[name] for name in _EDITABLE},
    )
    purchase.description = purchase.description or ""
    purchase.search_text = purchase_search_text(purchase, vendor.name)
    db.add(purchase)
    db.flush()
    divisions = DivisionTable.load(db)
    record_event(
        db,
        actor,
        "purchase.create",
        object_type="purchase",
        object_id=purchase.id or "",
        summary=f"Recorded purchase {piid} from {vendor.name}",
        after=_snapshot(purchase, divisions, vendor.name),
        division_code=values["division_code"],
    )
    db.commit()
    return purchase


def update_purchase(
    db: Session, actor: Principal, purchase_id: int, data: PurchaseInput
) -> Purchase:
    """Edit a purchase (officers of its division; moving it needs the new division too).

    The PIID of an imported purchase is its identity in the source and stays as imported.
    """
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    values, errors = validate_purchase(db, data)
    if values["division_id"] is not None and not can(
        actor, Permission.MANAGE_PURCHASES, values["division_id"]
    ):
        errors["division"] = f"You can move purchases to {actor.division_code} only."
    if errors:
        raise ValidationFailed(errors)
    divisions = DivisionTable.load(db)
    old_vendor = db.get(Vendor, purchase.vendor_id)
    before = _snapshot(purchase, divisions, old_vendor.name if old_vendor else "")
    before_notes = purchase.sensitive_notes
    vendor = old_vendor
    if old_vendor is None or values["vendor"] != old_vendor.name:
        vendor = find_or_create_vendor(db, values["vendor"], values["vendor_uei"])
    assert vendor is not None
    if purchase.source == PurchaseSource.MANUAL and values["piid"]:
        purchase.piid = values["piid"]
    for name in _EDITABLE:
        setattr(purchase, name, values[name])
    purchase.division_id = values["division_id"]
    purchase.vendor_id = vendor.id or 0
    purchase.search_text = purchase_search_text(purchase, vendor.name)
    purchase.updated_at = utcnow()
    after = _snapshot(purchase, divisions, vendor.name)
    after["sensitive_notes"] = "(changed)" if purchase.sensitive_notes != before_notes else ""
    before["sensitive_notes"] = ""
    old, new = changed_fields(before, after)
    if old or new:
        db.add(purchase)
        record_event(
            db,
            actor,
            "purchase.update",
            object_type="purchase",
            object_id=purchase.id or "",
            summary=f"Edited purchase {purchase.piid}",
            before=old,
            after=new,
            division_code=divisions.code(purchase.division_id),
        )
        db.commit()
    else:
        db.rollback()
    return purchase


# ------------------------------------------------------------------ read one


@dataclass(frozen=True)
class PurchaseView:
    """One purchase as a caller may see it; sensitive parts are None when they may not."""

    purchase: Purchase
    vendor: Vendor
    division: Division
    awarding_division: Division | None
    funding_division: Division | None
    licence: Licence | None
    listing: Listing | None
    licence_listing: Listing | None
    can_edit: bool
    can_read_sensitive: bool
    sensitive_notes: str | None
    documents: list[PurchaseDocument] | None
    orders: list[Purchase] = field(default_factory=list)  # awards placed under this one (a vehicle)


def purchase_view(db: Session, actor: Principal | None, purchase_id: int) -> PurchaseView:
    """A purchase, its vendor, divisions, licence, listing, and sensitive parts when allowed."""
    principal = require(actor, Permission.VIEW_STAFF_CONTENT)
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    vendor = db.get(Vendor, purchase.vendor_id)
    divisions = DivisionTable.load(db)
    licence = db.exec(select(Licence).where(Licence.purchase_id == purchase_id)).first()
    sensitive = can(principal, Permission.READ_SENSITIVE_PROCUREMENT, purchase.division_id)
    documents = None
    if sensitive:
        documents = list(
            db.exec(
                select(PurchaseDocument)
                .where(PurchaseDocument.purchase_id == purchase_id)
                .order_by(col(PurchaseDocument.uploaded_at))
            ).all()
        )
    orders = list(
        db.exec(
            select(Purchase)
            .where(Purchase.parent_piid == purchase.piid, Purchase.id != purchase.id)
            .order_by(col(Purchase.start_on))
            .limit(100)
        ).all()
    )
    assert vendor is not None
    return PurchaseView(
        purchase=purchase,
        vendor=vendor,
        division=divisions.by_id[purchase.division_id],
        awarding_division=divisions.by_id.get(purchase.awarding_division_id or -1),
        funding_division=divisions.by_id.get(purchase.funding_division_id or -1),
        licence=licence,
        listing=db.get(Listing, purchase.listing_id) if purchase.listing_id else None,
        licence_listing=(
            db.get(Listing, licence.listing_id) if licence and licence.listing_id else None
        ),
        can_edit=can(principal, Permission.MANAGE_PURCHASES, purchase.division_id),
        can_read_sensitive=sensitive,
        sensitive_notes=purchase.sensitive_notes if sensitive else None,
        documents=documents,
        orders=orders,
    )


def editable_purchase(
    db: Session, actor: Principal | None, purchase_id: int
) -> tuple[Purchase, PurchaseInput]:
    """A purchase and its form values, for an officer of its division."""
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    vendor = db.get(Vendor, purchase.vendor_id)
    division = db.get(Division, purchase.division_id)
    assert vendor is not None and division is not None
    return purchase, PurchaseInput.of(purchase, division.code, vendor)


# ------------------------------------------------------------------ listings


def link_listing(db: Session, actor: Principal, purchase_id: int, listing_ref: str) -> Purchase:
    """Link a purchase to a catalog listing given by id or identifier ("" unlinks)."""
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    listing = _find_listing(db, listing_ref) if listing_ref.strip() else None
    if listing_ref.strip() and listing is None:
        raise ValidationFailed({"listing": "No listing has this number or identifier."})
    before = purchase.listing_id
    purchase.listing_id = listing.id if listing else None
    purchase.updated_at = utcnow()
    db.add(purchase)
    record_event(
        db,
        actor,
        "purchase.link_listing",
        object_type="purchase",
        object_id=purchase_id,
        summary=f"Linked purchase {purchase.piid} to listing {listing.id if listing else 'none'}",
        before={"listing_id": before},
        after={"listing_id": purchase.listing_id},
    )
    db.commit()
    return purchase


def _find_listing(db: Session, ref: str) -> Listing | None:
    ref = ref.strip()
    if ref.isdigit():
        return db.get(Listing, int(ref))
    return db.exec(select(Listing).where(Listing.identifier == ref[:500])).first()


def create_listing_from_purchase(db: Session, actor: Principal, purchase_id: int) -> Listing:
    """A draft, staff-only purchased-dataset listing describing the purchase, linked to it.

    Officers of the division create the draft; its data stewards complete and publish it in the
    catalog. Indexed for search in the same transaction, as every listing change is.
    """
    from marketplace.catalog.models import AccessLevel, ListingStatus
    from marketplace.catalog.search import index_documents

    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    if purchase.listing_id:
        raise ValidationFailed({"listing": "This purchase already has a listing."})
    vendor = db.get(Vendor, purchase.vendor_id)
    division = db.get(Division, purchase.division_id)
    assert vendor is not None and division is not None
    title = purchase.product or purchase.description[:200] or f"Purchase {purchase.piid}"
    description = purchase.description or title
    listing = Listing(
        identifier=f"purchase-{purchase.award_key}".lower()[:500],
        kind=ListingKind.PURCHASED_DATASET,
        status=ListingStatus.DRAFT,
        division_id=purchase.division_id,
        title=title[:500],
        description=f"{description}\n\nBought from {vendor.name} under {purchase.piid}.",
        access_level=AccessLevel.NON_PUBLIC,
        details={"purchase_id": purchase.id, "vendor": vendor.name, "piid": purchase.piid},
    )
    db.add(listing)
    db.flush()
    index_documents(db, [(listing.id or 0, listing.title, "", division.name, listing.description)])
    purchase.listing_id = listing.id
    purchase.updated_at = utcnow()
    db.add(purchase)
    record_event(
        db,
        actor,
        "purchase.create_listing",
        object_type="purchase",
        object_id=purchase_id,
        summary=f"Created draft listing {listing.id} from purchase {purchase.piid}",
        after={"listing_id": listing.id, "identifier": listing.identifier},
        division_code=division.code,
    )
    db.commit()
    return listing


# ------------------------------------------------------------------ search


STATUSES = {"active": "Active", "expired": "Expired"}
LICENCE_FILTERS = {"yes": "Has a licence", "no": "No licence"}
SORTS = {
    "newest": "Newest start",
    "oldest": "Oldest start",
    "amount": "Largest obligation",
    "ending": "Ending soonest",
}
FACET_LIMIT = 10


@dataclass(frozen=True)
class PurchaseQuery:
    """Search and facet choices; empty strings mean "any"."""

    q: str = ""
    division: str = ""
    vendor_id: int | None = None
    psc: str = ""
    status: str = ""  # active, expired
    licence: str = ""  # yes, no
    sort: str = "newest"
    page: int = 1
    per_page: int = 25

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string of this search (with `changes`), without empty values."""
        values = {
            "q": self.q,
            "division": self.division,
            "vendor": str(self.vendor_id) if self.vendor_id else "",
            "psc": self.psc,
            "status": self.status,
            "licence": self.licence,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        values.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class PurchaseRow:
    purchase: Purchase
    vendor_name: str
    division_code: str
    has_licence: bool


@dataclass(frozen=True)
class PurchasePage:
    query: PurchaseQuery
    rows: list[PurchaseRow]
    total: int
    facets: dict[str, list[FacetValue]]
    total_obligated_cents: int


def _has_licence() -> Any:
    # IN over the (small) licence table: both engines build its set once per query, where a
    # correlated EXISTS would probe the index once per purchase.
    return col(Purchase.id).in_(select(Licence.purchase_id))


# The word index (migration 0007): an FTS5 table on SQLite, a tsvector column on PostgreSQL. Both
# hold the words of `purchase.search_text` split at ASCII punctuation, unstemmed.
_FTS = table("purchase_fts", column("rowid", Integer))
# Where at least this share of the register matches, SQLite walks an index of the purchase table
# and tests each row against the matched ids; below it, it looks the matched ids up one by one.
_DENSE_SHARE = 8
# A page of sparse matches walks the order's index instead when that walk reads at most about
# 1/_WALK_SHARE of the register before passing the page's last match.
_WALK_SHARE = 64
# PostgreSQL: how many of the first and of the latest purchases are tested for words before a
# search counts them.
_PROBE_ROWS = 1000


def search_words(q: str) -> list[str]:
    """The words of a search box as the word index holds them: lower case, no query syntax.

    Quotes, `*`, `-`, `OR`, `NEAR(` and SQL become plain words or vanish, so any input is safe;
    at most 12 words of at most 40 characters count. Each word of three characters or more
    matches as a prefix ("clari" finds "clarivate"); shorter ones match whole words.
    """
    return query_tokens(q)


class WordReach(StrEnum):
    """How many purchases hold a search's words, which decides how the query is written."""

    EVERY = "every"  # the words filter nothing: counted from the facet indexes without them
    DENSE = "dense"  # many: walk an index in the wanted order, testing each row
    SPARSE = "sparse"  # few: look the matched ids up one by one
    SOME = "some"  # not every, how many unknown (PostgreSQL): the plan is the planner's
    LIKELY = "likely"  # probably every (PostgreSQL): settled when the matches are counted


@dataclass(frozen=True)
class WordMatch:
    """How the word part of a search is written for one engine."""

    dialect: str
    tokens: tuple[str, ...]
    any_word: bool = False  # True: purchases holding any of the words, not all of them

    def _clause(self) -> Any:
        if self.dialect == "postgresql":
            expression = tsquery_expression(self.tokens)
            if self.any_word:
                expression = expression.replace(" & ", " | ")
            # A cast, not to_tsquery: no parser or dictionary, so the words stay as indexed.
            words = bindparam("purchase_words", expression)
            return literal_column("purchase.search_vector").op("@@", is_comparison=True)(
                cast(words, TSQUERY)
            )
        expression = fts5_expression(self.tokens)
        if self.any_word:
            expression = " OR ".join(fts5_expression([token]) for token in self.tokens)
        return text("purchase_fts MATCH :purchase_words").bindparams(purchase_words=expression)

    def condition(self, *, dense: bool = False) -> Any:
        """WHERE condition: the purchase holds every word (as a prefix from 3 characters).

        Args:
            dense: SQLite only; True when many purchases match, so that the query walks the
                purchase table (or an index in the wanted order) instead of the matched ids.
        """
        if self.dialect == "postgresql":
            return self._clause()
        matched = select(_FTS.c.rowid).where(self._clause())
        key = col(Purchase.id) + 0 if dense else col(Purchase.id)
        return key.in_(matched)

    def reach(self, db: Session) -> WordReach:
        """How much of the register holds the words, in one query.

        SQLite counts the word index's matches against the register. PostgreSQL's GIN index
        gives no cheap count (its matches are counted on the table's pages), so it is first
        asked whether any of the first or the latest purchases does not match (the latest:
        a newer source may word its purchases otherwise). One that does not is SOME (the plan
        is then the planner's); otherwise LIKELY, and the counts of the search, which need the
        number of matches anyway, compare it with the words' (see `_tally_many`).
        """
        if self.dialect == "postgresql":
            # Tested in the limited subqueries: a filter outside them was pushed into the scan
            # of the whole table.
            ends = union_all(
                *(
                    select((~self._clause()).label("miss"))
                    .select_from(Purchase)
                    .order_by(order)
                    .limit(_PROBE_ROWS)
                    for order in (col(Purchase.id).asc(), col(Purchase.id).desc())
                )
            ).subquery()
            some = db.exec(select(func.coalesce(func.bool_or(ends.c.miss), False))).one()
            return WordReach.SOME if some else WordReach.LIKELY
        matched = select(func.count()).select_from(_FTS).where(self._clause()).scalar_subquery()
        everything = select(func.count()).select_from(Purchase).scalar_subquery()
        matched_n, everything_n = db.exec(select(matched, everything)).one()
        if matched_n == everything_n:
            return WordReach.EVERY
        return WordReach.DENSE if matched_n * _DENSE_SHARE >= everything_n else WordReach.SPARSE

    def latest_ids(self, limit: int) -> Any:
        """SELECT of the ids of the latest recorded `limit` purchases holding the words.

        SQLite reads them from the word index backwards and stops after `limit`; going through
        the purchase table would first collect every match of a broad word.
        """
        if self.dialect == "postgresql":
            return (
                select(Purchase.id)
                .where(self._clause())
                .order_by(col(Purchase.id).desc())
                .limit(limit)
            )
        return select(_FTS.c.rowid).where(self._clause()).order_by(_FTS.c.rowid.desc()).limit(limit)

    def condition_for(self, reach: WordReach) -> Any:
        """WHERE condition for words of this reach; None when they filter nothing."""
        if reach == WordReach.EVERY:
            return None
        return self.condition(dense=reach == WordReach.DENSE)


def word_match(db: Session, q: str, *, any_word: bool = False) -> WordMatch | None:
    """The word part of a search for this session's engine, None when `q` holds no word."""
    tokens = search_words(q)
    if not tokens:
        return None
    return WordMatch(db.get_bind().dialect.name, tuple(tokens), any_word)


def _filtered(
    query: PurchaseQuery, divisions: DivisionTable, today: date, words: Any = None
) -> list[Any]:
    """The WHERE conditions of a search; `words` is the word condition, if any."""
    conditions: list[Any] = []
    if words is not None:
        conditions.append(words)
    if query.division:
        division = divisions.by_code.get(query.division.upper())
        conditions.append(Purchase.division_id == (division.id if division else -1))
    if query.vendor_id:
        conditions.append(Purchase.vendor_id == query.vendor_id)
    if query.psc:
        conditions.append(Purchase.psc == query.psc.upper()[:10])
    if query.status == "active":
        conditions.append(
            col(Purchase.current_end_on).is_(None) | (col(Purchase.current_end_on) >= today)
        )
    elif query.status == "expired":
        conditions.append(col(Purchase.current_end_on) < today)
    if query.licence == "yes":
        conditions.append(_has_licence())
    elif query.licence == "no":
        conditions.append(~_has_licence())
    return conditions


@dataclass(frozen=True)
class _ResultSummary:
    """What a search shows besides its page: total, obligated sum and facet counts."""

    total: int
    total_obligated_cents: int
    facets: dict[str, list[FacetValue]]
    reach: WordReach = WordReach.EVERY  # of the search's words, if any


# Summaries of recent searches, valid while the register is unchanged (see marketplace.memo):
# counting 80,000 matches of a broad word by division, PSC, vendor, status and licence is most of
# a search's cost, and officers page, sort and come back to the same searches.
SUMMARY_CACHE_SIZE = 256
_summaries: KeptResults[_ResultSummary] = KeptResults(SUMMARY_CACHE_SIZE)


def clear_summary_cache() -> None:
    """Forget every kept summary (benchmarks measuring the first request of a search use this)."""
    _summaries.clear()


def search_stamp(db: Session) -> tuple[Any, ...]:
    """Moves whenever a search summary could change, in one query of index lookups.

    Purchases are never deleted; every write path sets `updated_at` (imports, edits, vendor
    merges) or adds a row. Licences decide the licence facet; vendors and divisions name the
    vendor and division facets.
    """

    return read_stamp(
        db,
        func.max(col(Purchase.id)),
        func.max(Purchase.updated_at),
        func.count(col(Licence.id)),
        func.max(Licence.updated_at),
        func.count(col(Vendor.id)),
        func.max(Vendor.updated_at),
        func.max(Division.updated_at),
    )


def search_purchases(
    db: Session, actor: Principal | None, query: PurchaseQuery, *, today: date
) -> PurchasePage:
    """One page of purchases and the facet counts of the whole result.

    Queries: the register's stamp; unless this search's summary is kept for the stamp, how many
    purchases hold its words and the counts (see `_summarise`); then the page, unless the
    summary says it is empty. Facet counts are over the current result, so they always add up
    to what a click on them shows.

    Words are matched through the word index (see `search_words`); their reach (kept in the
    summary) decides how: words every purchase holds filter nothing and are left out; many
    matches are tested row by row along the index of the page's order; few are looked up by id
    and counted in one pass, and their page walks the order's index when it comes early in it.
    """
    require(actor, Permission.VIEW_STAFF_CONTENT)
    divisions = DivisionTable.load(db)
    words = word_match(db, query.q)
    # Page and order do not change the summary; the date decides active and expired.
    summary_key = (
        database_key(db),
        search_stamp(db),
        replace(query, page=1, sort="newest", per_page=0),
        today,
    )
    summary = _summaries.get(summary_key)
    if summary is None:
        reach = words.reach(db) if words is not None else WordReach.EVERY
        # "No licence" is in no index: testing it reads every purchase. PostgreSQL counts the
        # matches without it from its covering indexes and subtracts the licensed ones, looked
        # up from the licence side (first request p50 about 75 -> 36 ms over 98,027 purchases).
        # SQLite's covering indexes hold the purchase id, so it tests the licence in them.
        counted, excluded = query, None
        if db.get_bind().dialect.name == "postgresql" and query.licence == "no":
            counted, excluded = replace(query, licence=""), _has_licence()
        if words is not None and reach == WordReach.LIKELY:
            where = _filtered(counted, divisions, today)
            summary = _summarise(
                db, where, divisions, today, likely_words=words.condition(), excluded=excluded
            )
        else:
            word_condition = words.condition_for(reach) if words is not None else None
            where = _filtered(counted, divisions, today, word_condition)
            summary = _summarise(
                db, where, divisions, today, few=reach == WordReach.SPARSE, excluded=excluded
            )
            summary = replace(summary, reach=reach)
        _summaries.put(summary_key, summary)
    offset = (query.page - 1) * query.per_page
    rows: list[PurchaseRow] = []
    if offset < summary.total:
        reach = summary.reach
        if reach == WordReach.SPARSE and (offset + query.per_page) * _WALK_SHARE <= summary.total:
            # The page's matches come early in the order's index: walking it stops after them,
            # where looking every match up would fetch and sort them all.
            reach = WordReach.DENSE
        word_condition = words.condition_for(reach) if words is not None else None
        order = {
            "oldest": (col(Purchase.start_on).asc(), col(Purchase.id).asc()),
            "amount": (col(Purchase.obligated_cents).desc(), col(Purchase.id).desc()),
            "ending": (col(Purchase.current_end_on).asc(), col(Purchase.id).asc()),
        }.get(query.sort, (col(Purchase.start_on).desc(), col(Purchase.id).desc()))
        page_rows = db.exec(
            select(Purchase, Vendor.name, _has_licence().label("has_licence"))
            .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
            .where(*_filtered(query, divisions, today, word_condition))
            .order_by(*order)
            .offset(offset)
            .limit(query.per_page)
        ).all()
        rows = [
            PurchaseRow(p, name, divisions.code(p.division_id) or "?", bool(lic))
            for p, name, lic in page_rows
        ]
    return PurchasePage(query, rows, summary.total, summary.facets, summary.total_obligated_cents)


def _summarise(
    db: Session,
    where: list[Any],
    divisions: DivisionTable,
    today: date,
    *,
    few: bool = False,
    likely_words: Any = None,
    excluded: Any = None,
) -> _ResultSummary:
    """Total, obligated sum and facet counts of the purchases matching `where`.

    Args:
        few: the matches are a small share of the register (sparse words), so that reaching
            them is the cost: one pass groups them by division, PSC and vendor at once, where
            the three queries of a broad search would each look every match up again.
        likely_words: a word condition that every purchase matching `where` probably meets;
            the summary's reach says whether it did (EVERY: it filtered nothing) or not (SOME).
        excluded: a condition few purchases meet (being licensed); the matches are those of
            `where` that do not meet it, and a broad search counts them as a difference.
    """
    reach = WordReach.EVERY
    if few:
        conditions = where if excluded is None else [*where, ~excluded]
        groups, by_vendor, active_count, licensed_count = _tally_few(db, conditions, today)
    else:
        (groups, by_vendor, active_count, licensed_count), every = _tally_many(
            db, where, today, likely_words, excluded=excluded
        )
        reach = WordReach.EVERY if every else WordReach.SOME
    total = obligated = 0
    by_division: Counter[int] = Counter()
    by_psc: Counter[str] = Counter()
    for division_id, psc, n, cents in groups:
        total += n
        obligated += int(cents)
        by_division[division_id] += n
        if psc:
            by_psc[psc] += n
    facets: dict[str, list[FacetValue]] = {
        "division": [
            FacetValue(code, code, n)
            for division_id, n in sorted(by_division.items(), key=lambda item: (-item[1], item[0]))
            if (code := divisions.code(division_id))
        ],
        "vendor": [FacetValue(str(v), name, int(n)) for v, name, n in by_vendor],
        "psc": [
            FacetValue(psc, psc, n)
            for psc, n in sorted(by_psc.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]
        ],
        "status": [
            FacetValue("active", "Active", active_count),
            FacetValue("expired", "Expired", total - active_count),
        ],
        "licence": [
            FacetValue("yes", "Has a licence", licensed_count),
            FacetValue("no", "No licence", total - licensed_count),
        ],
    }
    return _ResultSummary(total, obligated, facets, reach)


# (division id, PSC, purchases, obligated cents) per group; (vendor id, name, purchases) of the
# top vendors, most purchases first; active purchases; licensed purchases.
_Tally = tuple[list[tuple[int, str | None, int, int]], list[tuple[int, str, int]], int, int]


def _tally_many(
    db: Session, where: list[Any], today: date, likely_words: Any = None, *, excluded: Any = None
) -> tuple[_Tally, bool]:
    """Counts of a broad search in three statements (four with `excluded`), each answered
    from covering indexes, and whether every match holds `likely_words`.

    The words are left out of the counts when every match holds them. That is proven by
    counting their matches through the word index (in the statement of the licensed count),
    which visits the table's pages but decodes no row; testing the words on each purchase
    decodes every column before them, the last (PostgreSQL, 98,027 purchases: 65 ms for the
    grouping pass testing them, 21 ms for the index count plus 19 ms for the pass without
    them). When some match lacks them, the counts are taken again with the words.

    With `excluded`, each count is the count over `where` minus that over `where` and
    `excluded`: the covering indexes answer the first, the few excluded purchases the second.
    """
    active = col(Purchase.current_end_on).is_(None) | (col(Purchase.current_end_on) >= today)
    # SQLite spends a third of the grouping pass testing every end date; its index on the end
    # date counts the active purchases as a range instead. PostgreSQL tests them in the pass,
    # where a count apart would read the table again.
    active_apart = db.get_bind().dialect.name == "sqlite"
    sums = [func.count(), func.coalesce(func.sum(Purchase.obligated_cents), 0)]
    if not active_apart:
        sums.append(func.sum(case((active, 1), else_=0)))
    grouped = (col(Purchase.division_id), col(Purchase.psc))

    def tally_groups(conditions: list[Any]) -> list[tuple[Any, ...]]:
        def of(*these: Any) -> list[tuple[Any, ...]]:
            statement = select(*grouped, *sums).where(*these).group_by(*grouped)
            return [tuple(row) for row in db.exec(statement).all()]

        if excluded is None:
            return of(*conditions)
        less = {row[:2]: row[2:] for row in of(*conditions, excluded)}
        rows = []
        for row in of(*conditions):
            key, figures = row[:2], row[2:]
            if key in less:
                figures = tuple(a - b for a, b in zip(figures, less[key], strict=True))
            if figures[0]:  # a group whose every match is excluded is no group of the result
                rows.append((*key, *figures))
        return rows

    def count(conditions: list[Any], *more: Any) -> Any:
        def of(*these: Any) -> Any:
            return select(func.count()).select_from(Purchase).where(*these).scalar_subquery()

        if excluded is None:
            return of(*conditions, *more)
        return of(*conditions, *more) - of(*conditions, excluded, *more)

    def other_counts(conditions: list[Any], *also: Any) -> list[Any]:
        # Licensed purchases are counted from the licence side: as IN, both engines walk the
        # few thousand licensed ids and look each purchase up, where testing each of 100,000
        # matches against the licences would cost a lookup per purchase (a plain join let
        # SQLite start from the purchases).
        counts = [count(conditions, _has_licence()), *also]
        if active_apart:
            counts.append(count(conditions, active))
        return list(db.connection().execute(select(*counts)).one())

    rows = tally_groups(where)
    every = True
    if likely_words is None:
        licensed_count, *active_apart_count = other_counts(where)
    else:
        licensed_count, word_count, *active_apart_count = other_counts(
            where, count(where, likely_words)
        )
        every = word_count == sum(row[2] for row in rows)
        if not every:
            where = [*where, likely_words]
            rows = tally_groups(where)
            licensed_count, *active_apart_count = other_counts(where)
    active_count = active_apart_count[0] if active_apart else sum(int(row[4] or 0) for row in rows)
    groups = [(division_id, psc, n, cents) for division_id, psc, n, cents, *_ in rows]
    vendor_key = col(Purchase.vendor_id).label("vendor_key")
    by_vendor_key = select(vendor_key, func.count().label("n")).where(*where).group_by(vendor_key)
    matches = func.count()
    if excluded is not None:
        both = union_all(
            by_vendor_key,
            select(vendor_key, -func.count()).where(*where, excluded).group_by(vendor_key),
        ).subquery()
        vendor_key, matches = both.c.vendor_key, func.sum(both.c.n)
        # A vendor whose every match is excluded is no vendor of the result.
        by_vendor_key = (
            select(vendor_key, matches.label("n")).group_by(vendor_key).having(matches > 0)
        )
    top_vendors = by_vendor_key.order_by(matches.desc(), vendor_key).limit(FACET_LIMIT).subquery()
    by_vendor = db.exec(
        select(top_vendors.c.vendor_key, Vendor.name, top_vendors.c.n)
        .join(Vendor, col(Vendor.id) == top_vendors.c.vendor_key)
        .order_by(top_vendors.c.n.desc(), Vendor.name)
    ).all()
    vendors = [(v, name, int(n)) for v, name, n in by_vendor]
    return (groups, vendors, active_count, licensed_count), every


def _tally_few(db: Session, where: list[Any], today: date) -> _Tally:
    """Counts of a narrow search: one pass grouping the matches by division, PSC and vendor
    (at most as many groups as matches), then the names of the top vendors."""
    expired = case((col(Purchase.current_end_on) < today, 1), else_=0)
    licensed = case((_has_licence(), 1), else_=0)
    rows = db.exec(
        select(
            Purchase.division_id,
            Purchase.psc,
            Purchase.vendor_id,
            func.count(),
            func.coalesce(func.sum(Purchase.obligated_cents), 0),
            func.sum(expired),
            func.sum(licensed),
        )
        .where(*where)
        .group_by(Purchase.division_id, Purchase.psc, Purchase.vendor_id)
    ).all()
    by_group: Counter[tuple[int, str | None]] = Counter()
    cents_by_group: Counter[tuple[int, str | None]] = Counter()
    by_vendor: Counter[int] = Counter()
    active_count = licensed_count = 0
    for division_id, psc, vendor_id, n, cents, expired_n, licensed_n in rows:
        by_group[division_id, psc] += n
        cents_by_group[division_id, psc] += int(cents)
        by_vendor[vendor_id] += n
        active_count += n - int(expired_n or 0)
        licensed_count += int(licensed_n or 0)
    groups = [(d, psc, n, cents_by_group[d, psc]) for (d, psc), n in by_group.items()]
    return groups, _top_vendors(db, by_vendor), active_count, licensed_count


def _top_vendors(db: Session, by_vendor: Mapping[int, int]) -> list[tuple[int, str, int]]:
    """The same top vendors as `_tally_many`'s query: most purchases, then lowest id; shown by
    count and then name in the database's collation (the names come back in it, and sorting by
    count keeps their order among equal counts)."""
    top = dict(sorted(by_vendor.items(), key=lambda item: (-item[1], item[0]))[:FACET_LIMIT])
    named = (
        db.exec(
            select(Vendor.id, Vendor.name).where(col(Vendor.id).in_(top)).order_by(Vendor.name)
        ).all()
        if top
        else []
    )
    return sorted(((v, name, top[v]) for v, name in named), key=lambda item: -item[2])


# ------------------------------------------------------------------ export

EXPORT_COLUMNS = (
    "piid", "parent_piid", "division", "vendor", "vendor_uei", "product", "description",
    "award_type", "psc", "naics", "start", "end", "potential_end", "obligated_amount",
    "current_value", "potential_value", "has_licence", "source", "award_key", "id",
)  # fmt: skip


def export_csv(
    db: Session, actor: Principal | str, query: PurchaseQuery, *, today: date
) -> Iterator[str]:
    """The matching purchases as CSV text chunks, one row each, spreadsheet-safe.

    Dollars are plain numbers ("-1234.50"); dates ISO; text that a spreadsheet would run as a
    formula is prefixed with an apostrophe. Sensitive notes are never exported.
    """
    if isinstance(actor, Principal) or actor is None:
        require(actor, Permission.VIEW_STAFF_CONTENT)
    divisions = DivisionTable.load(db)
    words = word_match(db, query.q)
    where = _filtered(query, divisions, today, words.condition() if words else None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue()
    statement = (
        select(
            Purchase,
            Vendor.name,
            Vendor.uei,
            _has_licence().label("has_licence"),
        )
        .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
        .where(*where)
        .order_by(col(Purchase.id))
        .execution_options(yield_per=2000)
    )
    for purchase, vendor_name, vendor_uei, licensed in db.exec(statement):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            [
                spreadsheet_safe(purchase.piid),
                spreadsheet_safe(purchase.parent_piid or ""),
                divisions.code(purchase.division_id) or "",
                spreadsheet_safe(vendor_name),
                spreadsheet_safe(vendor_uei or ""),
                spreadsheet_safe(purchase.product),
                spreadsheet_safe(purchase.description),
                spreadsheet_safe(purchase.award_type or ""),
                spreadsheet_safe(purchase.psc or ""),
                spreadsheet_safe(purchase.naics or ""),
                purchase.start_on.isoformat() if purchase.start_on else "",
                purchase.current_end_on.isoformat() if purchase.current_end_on else "",
                purchase.potential_end_on.isoformat() if purchase.potential_end_on else "",
                dollars(purchase.obligated_cents),
                dollars(purchase.current_value_cents),
                dollars(purchase.potential_value_cents),
                "yes" if licensed else "no",
                purchase.source,
                spreadsheet_safe(purchase.award_key),
                purchase.id,
            ]
        )
        yield buffer.getvalue()
