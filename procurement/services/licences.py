"""Licence terms per purchase (create, edit, remove) and the renewals view by division."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import changed_fields, record_event
from marketplace.auth import Permission, Principal, require
from marketplace.catalog.models import Listing
from marketplace.types import utcnow
from procurement.costs import ShareMethod
from procurement.licensing import LicenceScope, LicenceTerms, ReusePolicy, renewal_bucket
from procurement.models import Invoice, Licence, Purchase, ReuseRequest, Vendor
from procurement.services.common import (
    DivisionTable,
    dollars,
    parse_form_date,
    parse_form_money,
)

SCOPE_LABELS = {
    LicenceScope.NAMED_USERS: "Named users",
    LicenceScope.DIVISION: "The owning division",
    LicenceScope.LISTED_DIVISIONS: "Listed divisions",
    LicenceScope.DEPARTMENT: "Department-wide (all of HHS)",
}
REUSE_LABELS = {
    ReusePolicy.NO: "No",
    ReusePolicy.WITH_APPROVAL: "With the owner's approval",
    ReusePolicy.YES: "Yes",
}
SHARE_LABELS = {
    ShareMethod.NONE: "None: the owner carries the whole cost",
    ShareMethod.EQUAL: "Equal split among the divisions using it",
    ShareMethod.PER_SEAT: "Per seat held",
    ShareMethod.FIXED: "A fixed amount per reusing division and period",
}
FLAGS = ("auto_renew", "redistribution_allowed", "derivatives_allowed", "dua_required")


@dataclass(frozen=True)
class LicenceInput:
    """Licence terms as typed in the form."""

    scope: str = LicenceScope.DIVISION.value
    listed_divisions: tuple[str, ...] = ()
    seats: str = ""  # empty: unlimited
    owner_seats: str = "0"  # seats the owning division's own staff hold
    term_start_on: str = ""
    term_end_on: str = ""
    renewal_on: str = ""
    auto_renew: bool = False
    renewal_cost: str = ""
    reuse_policy: str = ReusePolicy.WITH_APPROVAL.value
    redistribution_allowed: bool = False
    derivatives_allowed: bool = False
    dua_required: bool = False
    price_per_seat: str = ""
    notes: str = ""
    listing: str = ""  # listing id, or empty
    share_method: str = ShareMethod.NONE.value
    fixed_share: str = ""  # dollars per reusing division per billed period (method "fixed")

    @classmethod
    def of(cls, licence: Licence) -> LicenceInput:
        return cls(
            scope=licence.scope,
            listed_divisions=licence.listed_codes(),
            seats="" if licence.seats is None else str(licence.seats),
            owner_seats=str(licence.owner_seats),
            term_start_on=licence.term_start_on.isoformat(),
            term_end_on=licence.term_end_on.isoformat(),
            renewal_on=licence.renewal_on.isoformat() if licence.renewal_on else "",
            auto_renew=licence.auto_renew,
            renewal_cost=dollars(licence.renewal_cost_cents),
            reuse_policy=licence.reuse_policy,
            redistribution_allowed=licence.redistribution_allowed,
            derivatives_allowed=licence.derivatives_allowed,
            dua_required=licence.dua_required,
            price_per_seat=dollars(licence.price_per_seat_cents),
            notes=licence.notes,
            listing=str(licence.listing_id or ""),
            share_method=licence.share_method,
            fixed_share=dollars(licence.fixed_share_cents),
        )

    @classmethod
    def for_purchase(cls, purchase: Purchase) -> LicenceInput:
        """Defaults for a new licence: the purchase's period as the term."""
        return cls(
            term_start_on=purchase.start_on.isoformat() if purchase.start_on else "",
            term_end_on=purchase.current_end_on.isoformat() if purchase.current_end_on else "",
        )


def _validate(
    db: Session, data: LicenceInput, owner_code: str
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if data.scope not in LicenceScope._value2member_map_:
        errors["scope"] = "Choose whom the licence covers."
    if data.reuse_policy not in ReusePolicy._value2member_map_:
        errors["reuse_policy"] = "Choose whether other divisions may reuse it."
    divisions = DivisionTable.load(db)
    listed = sorted({code.strip().upper() for code in data.listed_divisions if code.strip()})
    unknown = [code for code in listed if code not in divisions.by_code]
    if unknown:
        errors["listed_divisions"] = f"Unknown division(s): {', '.join(unknown)}."
    listed = [code for code in listed if code != owner_code and code not in unknown]
    if (
        data.scope == LicenceScope.LISTED_DIVISIONS
        and not listed
        and "listed_divisions" not in errors
    ):
        errors["listed_divisions"] = "List the other divisions the licence covers."
    seats: int | None = None
    if data.seats.strip():
        try:
            seats = int(data.seats.strip().replace(",", ""))
        except ValueError:
            errors["seats"] = "Enter a whole number of seats, or leave empty for unlimited."
        else:
            if not 1 <= seats <= 10_000_000:
                errors["seats"] = (
                    "Enter between 1 and 10,000,000 seats, or leave empty for unlimited."
                )
    owner_seats = 0
    if data.owner_seats.strip():
        text = data.owner_seats.strip().replace(",", "")
        if not text.isdigit():
            errors["owner_seats"] = "Enter a whole number of seats (0 or more)."
        else:
            owner_seats = int(text)
            if seats is not None and owner_seats > seats:
                errors["owner_seats"] = f"The owner cannot hold more than the {seats} seats bought."
    start = parse_form_date(data.term_start_on, "Term start", errors, "term_start_on")
    end = parse_form_date(data.term_end_on, "Term end", errors, "term_end_on")
    if start is None and "term_start_on" not in errors:
        errors["term_start_on"] = "Enter the first day of the licence term."
    if end is None and "term_end_on" not in errors:
        errors["term_end_on"] = "Enter the last day of the licence term."
    if start and end and end < start:
        errors["term_end_on"] = "The term ends before it starts."
    renewal = parse_form_date(data.renewal_on, "Renewal date", errors, "renewal_on")
    renewal_cost = parse_form_money(data.renewal_cost, "Renewal cost", errors, "renewal_cost")
    price = parse_form_money(data.price_per_seat, "Price per seat", errors, "price_per_seat")
    for name, value in (("renewal_cost", renewal_cost), ("price_per_seat", price)):
        if value is not None and value < 0:
            errors[name] = "Enter a positive amount."
    if len(data.notes) > 5000:
        errors["notes"] = "Keep the notes under 5,000 characters."
    if data.share_method not in ShareMethod._value2member_map_:
        errors["share_method"] = "Choose how reusing divisions share the cost."
    fixed_share = parse_form_money(data.fixed_share, "Fixed share", errors, "fixed_share")
    if fixed_share is not None and fixed_share < 0:
        errors["fixed_share"] = "Enter a positive amount."
    if (
        data.share_method == ShareMethod.FIXED
        and fixed_share is None
        and "fixed_share" not in errors
    ):
        errors["fixed_share"] = "Enter the amount each reusing division pays per period."
    if data.share_method == ShareMethod.PER_SEAT and seats is None and "seats" not in errors:
        errors["share_method"] = "Sharing per seat needs a number of seats."
    listing_id: int | None = None
    if data.listing.strip():
        listing_id = int(data.listing) if data.listing.strip().isdigit() else None
        if listing_id is None or db.get(Listing, listing_id) is None:
            errors["listing"] = "No listing has this number."
    values = {
        "scope": data.scope,
        "listed_divisions": ",".join(listed),
        "seats": seats,
        "owner_seats": owner_seats,
        "term_start_on": start,
        "term_end_on": end,
        "renewal_on": renewal,
        "renewal_cost_cents": renewal_cost,
        "reuse_policy": data.reuse_policy,
        "price_per_seat_cents": price,
        "notes": data.notes.strip(),
        "listing_id": listing_id,
        "share_method": data.share_method,
        "fixed_share_cents": fixed_share if data.share_method == ShareMethod.FIXED else None,
        **{flag: bool(getattr(data, flag)) for flag in FLAGS},
    }
    return values, errors


def _snapshot(licence: Licence) -> dict[str, Any]:
    return {
        name: getattr(licence, name)
        for name in (
            "scope", "listed_divisions", "seats", "term_start_on", "term_end_on", "renewal_on",
            "auto_renew", "renewal_cost_cents", "reuse_policy", "redistribution_allowed",
            "derivatives_allowed", "dua_required", "price_per_seat_cents", "notes", "listing_id",
            "share_method", "fixed_share_cents", "owner_seats",
        )
    }  # fmt: skip


def _owned_purchase(db: Session, actor: Principal, purchase_id: int) -> tuple[Purchase, str]:
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    code = DivisionTable.load(db).code(purchase.division_id) or ""
    return purchase, code


def licence_of(db: Session, purchase_id: int) -> Licence | None:
    return db.exec(select(Licence).where(Licence.purchase_id == purchase_id)).first()


def save_licence(db: Session, actor: Principal, purchase_id: int, data: LicenceInput) -> Licence:
    """Create or replace the licence terms of a purchase (officers of its division).

    Raises:
        ValidationFailed: field errors; nothing is written.
    """
    purchase, owner = _owned_purchase(db, actor, purchase_id)
    values, errors = _validate(db, data, owner)
    if errors:
        raise ValidationFailed(errors)
    licence = licence_of(db, purchase_id)
    created = licence is None
    before = _snapshot(licence) if licence else {}
    if licence is None:
        licence = Licence(purchase_id=purchase_id, **values)
    else:
        for name, value in values.items():
            setattr(licence, name, value)
        licence.updated_at = utcnow()
    db.add(licence)
    db.flush()
    old, new = changed_fields(before, _snapshot(licence))
    record_event(
        db,
        actor,
        "licence.create" if created else "licence.update",
        object_type="purchase",
        object_id=purchase_id,
        summary=f"{'Added' if created else 'Edited'} the licence of purchase {purchase.piid}",
        before=None if created else old,
        after=new,
        division_code=owner,
    )
    db.commit()
    return licence


def delete_licence(db: Session, actor: Principal, purchase_id: int) -> None:
    """Remove the licence terms of a purchase (officers of its division)."""
    purchase, owner = _owned_purchase(db, actor, purchase_id)
    licence = licence_of(db, purchase_id)
    if licence is None:
        raise NotFound
    # Reuses and invoices cite the licence: removing it would rewrite their history.
    cited = db.exec(select(ReuseRequest.id).where(ReuseRequest.licence_id == licence.id)).first()
    invoiced = db.exec(select(Invoice.id).where(Invoice.licence_id == licence.id)).first()
    if cited is not None or invoiced is not None:
        raise ValidationFailed(
            {
                "licence": "Reuse requests or invoices cite these terms, so they cannot be "
                "removed; edit them instead (a new term, no more reuse)."
            }
        )
    before = _snapshot(licence)
    db.delete(licence)
    record_event(
        db,
        actor,
        "licence.delete",
        object_type="purchase",
        object_id=purchase_id,
        summary=f"Removed the licence of purchase {purchase.piid}",
        before=before,
        division_code=owner,
    )
    db.commit()


def terms_of(licence: Licence, owner_code: str) -> LicenceTerms:
    """The pure-module view of a stored licence."""
    return LicenceTerms(
        owner_division=owner_code,
        scope=LicenceScope(licence.scope),
        listed_divisions=frozenset(licence.listed_codes()),
        seats=licence.seats,
        term_start=licence.term_start_on,
        term_end=licence.term_end_on,
        renewal_date=licence.renewal_on,
        auto_renew=licence.auto_renew,
        renewal_cost_cents=licence.renewal_cost_cents,
        reuse_policy=ReusePolicy(licence.reuse_policy),
        redistribution_allowed=licence.redistribution_allowed,
        derivatives_allowed=licence.derivatives_allowed,
        dua_required=licence.dua_required,
        price_per_seat_cents=licence.price_per_seat_cents,
    )


@dataclass(frozen=True)
class Renewal:
    licence: Licence
    purchase: Purchase
    vendor_name: str
    division_code: str
    deadline: date
    days_left: int
    bucket: int


@dataclass(frozen=True)
class RenewalsView:
    """Licences due within 120 days, by division then bucket (30, 60, 120), soonest first."""

    today: date
    by_division: dict[str, dict[int, list[Renewal]]]
    counts: dict[int, int]
    division: str


def renewals(
    db: Session, actor: Principal | None, *, today: date, division: str = ""
) -> RenewalsView:
    """What must be renewed (or cancelled) within 30, 60 and 120 days, optionally one division.

    One query: licences whose deadline (renewal date, else term end) falls in the next 120 days.
    """
    require(actor, Permission.VIEW_STAFF_CONTENT)
    divisions = DivisionTable.load(db)
    deadline = func.coalesce(Licence.renewal_on, Licence.term_end_on)
    statement = (
        select(Licence, Purchase, Vendor.name)
        .join(Purchase, col(Purchase.id) == Licence.purchase_id)
        .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
        .where(deadline >= today, deadline <= today + timedelta(days=120))
    )
    wanted = divisions.by_code.get(division.upper()) if division else None
    if division:
        statement = statement.where(Purchase.division_id == (wanted.id if wanted else -1))
    found: list[Renewal] = []
    for licence, purchase, vendor_name in db.exec(statement).all():
        code = divisions.code(purchase.division_id) or "?"
        bucket = renewal_bucket(terms_of(licence, code), today)
        if bucket is None:
            continue
        due = licence.renewal_on or licence.term_end_on
        found.append(Renewal(licence, purchase, vendor_name, code, due, (due - today).days, bucket))
    found.sort(key=lambda r: (r.division_code, r.deadline, r.purchase.piid))
    by_division: dict[str, dict[int, list[Renewal]]] = {}
    counts = {30: 0, 60: 0, 120: 0}
    for renewal in found:
        by_division.setdefault(renewal.division_code, {30: [], 60: [], 120: []})[
            renewal.bucket
        ].append(renewal)
        counts[renewal.bucket] += 1
    return RenewalsView(today, by_division, counts, wanted.code if wanted else "")
