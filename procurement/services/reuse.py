"""Reuse requests: ask to reuse a listing or licence, decide, revoke, attach the agreement.

Who may do what is decided here, never only in templates:
- any signed-in user asks for their own division (not for the owner division itself);
- the owner division's stewards and officers, and its delegates, decide; never the requester;
- the request, and its agreement, are readable by the two divisions, the delegates and
  leadership only; reading an agreement is audited.

A licence that governs the reuse is enforced with procurement.licensing.reuse_refusals: at the
request (reasons the requester cannot change refuse it outright) and again at the approval, under
a lock on the licence row, so two approvals of the last seat cannot both succeed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, func, or_, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, PermissionDenied, Principal, can, require
from marketplace.catalog.models import Listing
from marketplace.models import Division, Role, User, UserRole
from marketplace.notifications import notify
from marketplace.types import utcnow
from procurement import costs
from procurement.licensing import Refusal, RefusalCode, ReuseAsk, reuse_refusals
from procurement.models import Licence, Purchase, ReuseAttachment, ReuseDelegate, ReuseRequest
from procurement.reuse_rules import (
    ReuseState,
    add_business_days,
    ensure_move,
    reminder_due,
    scheduled_state,
    state_after_approval,
)
from procurement.services.common import parse_form_money
from procurement.services.licences import terms_of
from procurement.services.reuse_spans import seats_in_use

DEFAULT_SLA_BUSINESS_DAYS = 10
MAX_PURPOSE = 4000
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
# Agreements are documents: PDF, Word, OpenDocument, plain text. Checked by extension and content.
ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    ".odt": ("application/vnd.oasis.opendocument.text", b"PK\x03\x04"),
    ".doc": ("application/msword", b"\xd0\xcf\x11\xe0"),
    ".txt": ("text/plain", b""),
}
# Licence refusals that stop a request from being filed at all: it could never be approved as
# asked. Missing seats and a missing agreement only block the approval: seats free up, and the
# agreement can be attached after the request is filed.
REFUSED_AT_REQUEST = frozenset(RefusalCode) - {
    RefusalCode.NO_SEATS_LEFT,
    RefusalCode.AGREEMENT_MISSING,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Decision:
    APPROVE = "approve"
    APPROVE_WITH_CONDITIONS = "approve_with_conditions"
    DENY = "deny"
    REVOKE = "revoke"
    ALL = (APPROVE, APPROVE_WITH_CONDITIONS, DENY, REVOKE)


@dataclass(frozen=True)
class ReuseTarget:
    """What a request is about: a listing, a licence, or a listing covered by a licence."""

    owner: Division
    listing: Listing | None = None
    licence: Licence | None = None
    purchase: Purchase | None = None

    @property
    def title(self) -> str:
        if self.listing is not None:
            return self.listing.title
        if self.purchase is not None:
            return self.purchase.product or self.purchase.description[:80] or self.purchase.piid
        return "Licence"


def find_target(
    db: Session, *, listing_id: int | None = None, licence_id: int | None = None
) -> ReuseTarget:
    """The listing or licence to reuse, with the licence that governs a listing when one does.

    Raises:
        NotFound: neither exists, or the listing has no owning HHS division.
    """
    listing = db.get(Listing, listing_id) if listing_id else None
    licence = db.get(Licence, licence_id) if licence_id else None
    if listing is None and licence is None:
        raise NotFound
    if licence is None and listing is not None:
        licence = db.exec(
            select(Licence).where(Licence.listing_id == listing.id).order_by(col(Licence.id))
        ).first()
        if licence is None:
            licence = db.exec(
                select(Licence)
                .join(Purchase, col(Purchase.id) == Licence.purchase_id)
                .where(Purchase.listing_id == listing.id)
                .order_by(col(Licence.id))
            ).first()
    purchase = db.get(Purchase, licence.purchase_id) if licence is not None else None
    if listing is None and licence is not None and licence.listing_id:
        listing = db.get(Listing, licence.listing_id)
    owner_id = purchase.division_id if purchase is not None else listing.division_id  # type: ignore[union-attr]
    owner = db.get(Division, owner_id) if owner_id is not None else None
    if owner is None:
        raise NotFound
    return ReuseTarget(owner=owner, listing=listing, licence=licence, purchase=purchase)


def may_request(user: Principal | None, target: ReuseTarget) -> bool:
    """Whether a page shows the "Request reuse" button for this caller."""
    return user is not None and user.division_id != target.owner.id


def reuse_target_or_none(db: Session, *, listing_id: int) -> ReuseTarget | None:
    """The reuse target of a listing, or None when no HHS division owns it (external)."""
    try:
        return find_target(db, listing_id=listing_id)
    except NotFound:
        return None


@dataclass(frozen=True)
class ReuseInput:
    """The request form as typed."""

    purpose: str = ""
    seats: str = "1"
    start_on: str = ""
    end_on: str = ""
    dua_required: bool = False
    dua_reference: str = ""
    contact_name: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class CleanRequest:
    purpose: str
    seats: int
    start_on: date
    end_on: date
    dua_required: bool
    dua_reference: str
    contact_name: str
    contact_email: str


def _clean(data: ReuseInput, target: ReuseTarget) -> tuple[CleanRequest | None, dict[str, str]]:
    errors: dict[str, str] = {}
    purpose = data.purpose.strip()
    if not purpose:
        errors["purpose"] = "Say what your division will use it for."
    elif len(purpose) > MAX_PURPOSE:
        errors["purpose"] = f"Keep the purpose under {MAX_PURPOSE} characters."
    seats = 0
    if not data.seats.strip().isdigit() or not 1 <= int(data.seats.strip()) <= 100_000:
        errors["seats"] = "Enter the number of users or seats needed, 1 or more."
    else:
        seats = int(data.seats.strip())
    start = _date(data.start_on, "start_on", "The start", errors)
    end = _date(data.end_on, "end_on", "The end", errors)
    if start and end and end < start:
        errors["end_on"] = "The end cannot be before the start."
    name = data.contact_name.strip()
    if not name:
        errors["contact_name"] = "Enter a contact name."
    email = data.contact_email.strip()
    if not _EMAIL.match(email) or len(email) > 254:
        errors["contact_email"] = "Enter a contact e-mail address such as name@cdc.hhs.gov."
    reference = data.dua_reference.strip()[:200]
    licence_needs_dua = bool(target.licence and target.licence.dua_required)
    if errors or start is None or end is None:
        return None, errors
    return (
        CleanRequest(
            purpose=purpose,
            seats=seats,
            start_on=start,
            end_on=end,
            dua_required=data.dua_required or licence_needs_dua,
            dua_reference=reference,
            contact_name=name[:200],
            contact_email=email,
        ),
        {},
    )


def _date(text: str, name: str, label: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = f"{label}: enter a date as YYYY-MM-DD."
        return None


# --- Licence checks ------------------------------------------------------------------------------


def refusals_for(
    db: Session, request: ReuseRequest, requesting_code: str, *, today: date, has_agreement: bool
) -> tuple[Refusal, ...]:
    """Why the licence governing a request forbids approving it now (empty: it may be approved)."""
    if request.licence_id is None:
        return ()
    licence = db.get(Licence, request.licence_id)
    purchase = db.get(Purchase, licence.purchase_id) if licence else None
    owner = db.get(Division, purchase.division_id) if purchase else None
    if licence is None or owner is None:
        return ()
    ask = ReuseAsk(
        requesting_division=requesting_code,
        seats=request.seats,
        start=request.start_on,
        end=request.end_on,
        has_agreement=has_agreement,
    )
    return reuse_refusals(
        terms_of(licence, owner.code), ask, seats_in_use=seats_in_use(db, licence), today=today
    )


def has_agreement(db: Session, request: ReuseRequest) -> bool:
    """A signed agreement is attached, or referenced by its number."""
    if request.dua_reference.strip():
        return True
    return (
        db.exec(
            select(ReuseAttachment.id).where(
                ReuseAttachment.request_id == request.id,
                col(ReuseAttachment.is_agreement).is_(True),
            )
        ).first()
        is not None
    )


# --- Asking ---------------------------------------------------------------------------------------


def request_reuse(
    db: Session,
    actor: Principal | None,
    target: ReuseTarget,
    data: ReuseInput,
    *,
    today: date,
    sla_business_days: int = DEFAULT_SLA_BUSINESS_DAYS,
) -> ReuseRequest:
    """File a request for the actor's division, notify the owner's approvers.

    Raises:
        ValidationFailed: field errors, or a licence that can never allow it (under "licence").
    """
    actor = require(actor, Permission.VIEW_STAFF_CONTENT)
    if actor.division_id == target.owner.id:
        raise ValidationFailed(
            {"licence": f"{target.owner.code} owns this; its staff use it without a reuse request."}
        )
    clean, errors = _clean(data, target)
    if clean is None:
        raise ValidationFailed(errors)
    request = ReuseRequest(
        listing_id=target.listing.id if target.listing else None,
        licence_id=target.licence.id if target.licence else None,
        owner_division_id=target.owner.id or 0,
        requesting_division_id=actor.division_id,
        requested_by_id=actor.id,
        contact_name=clean.contact_name,
        contact_email=clean.contact_email,
        purpose=clean.purpose,
        seats=clean.seats,
        start_on=clean.start_on,
        end_on=clean.end_on,
        dua_required=clean.dua_required,
        dua_reference=clean.dua_reference,
        due_on=add_business_days(today, sla_business_days),
    )
    hard = [
        refusal
        for refusal in refusals_for(
            db, request, actor.division_code, today=today, has_agreement=True
        )
        if refusal.code in REFUSED_AT_REQUEST
    ]
    if hard:
        raise ValidationFailed({"licence": " ".join(refusal.message for refusal in hard)})
    db.add(request)
    db.flush()
    record_event(
        db,
        actor,
        "reuse.request",
        object_type="reuse_request",
        object_id=request.id or "",
        summary=f"{actor.division_code} asked {target.owner.code} to reuse {target.title}",
        after=_snapshot(request),
        division_code=actor.division_code,
    )
    notify(
        db,
        approver_ids(db, target.owner.id or 0, today=today),
        "reuse.requested",
        f"{actor.division_code} asks to reuse {target.title}",
        body=f"{clean.seats} seat(s), {clean.start_on} to {clean.end_on}. Decide by {request.due_on}.",
        link=f"/procurement/reuse/{request.id}",
    )
    db.commit()
    return request


def _snapshot(request: ReuseRequest) -> dict[str, Any]:
    return {
        "status": request.status,
        "seats": request.seats,
        "start_on": request.start_on,
        "end_on": request.end_on,
        "dua_required": request.dua_required,
        "dua_reference": request.dua_reference,
        "licence_id": request.licence_id,
        "listing_id": request.listing_id,
        "conditions": request.conditions,
        "reason": request.reason,
        "avoided_cents": request.avoided_cents,
    }


# --- Who decides ----------------------------------------------------------------------------------


def approver_ids(db: Session, division_id: int, *, today: date) -> list[int]:
    """Stewards and officers of a division plus its current delegates (people to notify)."""
    staff = db.exec(
        select(User.id)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .where(User.division_id == division_id, col(User.active).is_(True))
        .where(col(UserRole.role).in_([Role.STEWARD.value, Role.OFFICER.value]))
    ).all()
    delegates = db.exec(
        select(ReuseDelegate.user_id)
        .where(ReuseDelegate.division_id == division_id)
        .where(or_(col(ReuseDelegate.until_on).is_(None), col(ReuseDelegate.until_on) >= today))
    ).all()
    return sorted({*(i for i in staff if i is not None), *delegates})


def is_delegate(db: Session, actor: Principal, division_id: int, *, today: date) -> bool:
    return (
        db.exec(
            select(ReuseDelegate.id).where(
                ReuseDelegate.division_id == division_id,
                ReuseDelegate.user_id == actor.id,
                or_(col(ReuseDelegate.until_on).is_(None), col(ReuseDelegate.until_on) >= today),
            )
        ).first()
        is not None
    )


def may_decide(db: Session, actor: Principal | None, request: ReuseRequest, *, today: date) -> bool:
    """The owner's stewards, officers and delegates, except the person who asked."""
    if actor is None or actor.id == request.requested_by_id:
        return False
    return can(actor, Permission.DECIDE_REUSE, request.owner_division_id) or is_delegate(
        db, actor, request.owner_division_id, today=today
    )


def may_read(db: Session, actor: Principal | None, request: ReuseRequest, *, today: date) -> bool:
    """The two divisions, the owner's delegates and leadership."""
    if actor is None:
        return False
    if actor.has(Role.LEADERSHIP):
        return True
    if actor.division_id in (request.owner_division_id, request.requesting_division_id):
        return True
    return is_delegate(db, actor, request.owner_division_id, today=today)


def get_request(
    db: Session, actor: Principal | None, request_id: int, *, today: date
) -> ReuseRequest:
    """A request the actor may read.

    Raises:
        SignInRequired, PermissionDenied (another division's request), NotFound.
    """
    actor = require(actor, Permission.VIEW_STAFF_CONTENT)
    request = db.get(ReuseRequest, request_id)
    if request is None:
        raise NotFound
    if not may_read(db, actor, request, today=today):
        raise PermissionDenied(
            "Only the two divisions concerned and leadership can see this request."
        )
    return request


# --- Deciding -------------------------------------------------------------------------------------


def decide(
    db: Session,
    actor: Principal | None,
    request_id: int,
    decision: str,
    *,
    today: date,
    conditions: str = "",
    reason: str = "",
    avoided_override: str = "",
    override_reason: str = "",
) -> ReuseRequest:
    """Approve (with or without conditions), deny with a reason, or revoke with a reason.

    An approval locks the licence row first (SELECT … FOR UPDATE on PostgreSQL; SQLite's write
    lock, taken by a first write in a fresh transaction), then checks the licence's terms with
    the seats held at that moment, so concurrent approvals of the last seat cannot both pass.

    Raises:
        PermissionDenied: not an approver of the owner division, or the requester.
        ValidationFailed: a missing reason or conditions, a decision the state does not allow,
            or licence refusals (under "licence", each message joined).
    """
    actor = require(actor, Permission.VIEW_STAFF_CONTENT)
    request = db.get(ReuseRequest, request_id)
    if request is None:
        raise NotFound
    if actor.id == request.requested_by_id:
        raise PermissionDenied("You asked for this reuse, so someone else must decide on it.")
    if not may_decide(db, actor, request, today=today):
        raise PermissionDenied(
            "Only stewards, officers or delegates of the owning division can decide on reuse."
        )
    if decision not in Decision.ALL:
        raise ValidationFailed(
            {"decision": "Choose approve, approve with conditions, deny or revoke."}
        )
    errors: dict[str, str] = {}
    if decision == Decision.APPROVE_WITH_CONDITIONS and not conditions.strip():
        errors["conditions"] = "Write the conditions of the approval."
    if decision in (Decision.DENY, Decision.REVOKE) and not reason.strip():
        errors["reason"] = "Give the reason; the requesting division will read it."
    override_cents = None
    if avoided_override.strip():
        override_cents = parse_form_money(
            avoided_override, "Avoided spend", errors, "avoided_override"
        )
        if override_cents is not None and override_cents < 0:
            errors["avoided_override"] = "Avoided spend cannot be negative."
        if not override_reason.strip():
            errors["override_reason"] = "Say why you override the computed avoided spend."
    if errors:
        raise ValidationFailed(errors)
    if decision in (Decision.APPROVE, Decision.APPROVE_WITH_CONDITIONS):
        return _approve(
            db,
            actor,
            request_id,
            request.licence_id,
            today=today,
            conditions=conditions.strip() if decision == Decision.APPROVE_WITH_CONDITIONS else "",
            override_cents=override_cents,
            override_reason=override_reason.strip()[:500],
        )
    target_state = ReuseState.DENIED if decision == Decision.DENY else ReuseState.REVOKED
    return _close(db, actor, request, target_state, reason.strip()[:4000], today=today)


def _lock_for_approval(db: Session, request_id: int, licence_id: int | None) -> Licence | None:
    """Hold the row that serialises approvals until commit: the licence when one governs the
    request (its seats are shared), else the request itself.

    PostgreSQL: SELECT … FOR UPDATE. SQLite: a no-op UPDATE as the transaction's first statement
    takes the database write lock (later approvals wait for it, see busy_timeout).
    """
    model, row_id = (Licence, licence_id) if licence_id is not None else (ReuseRequest, request_id)
    if db.get_bind().dialect.name == "sqlite":
        db.execute(update(model).where(col(model.id) == row_id).values(id=model.id))
    else:
        db.exec(select(model.id).where(model.id == row_id).with_for_update()).first()
    return db.get(Licence, licence_id, populate_existing=True) if licence_id is not None else None


def _approve(
    db: Session,
    actor: Principal,
    request_id: int,
    licence_id: int | None,
    *,
    today: date,
    conditions: str,
    override_cents: int | None,
    override_reason: str,
) -> ReuseRequest:
    # End the read transaction first: the lock must be the transaction's first statement, so
    # the state and seat counts read below include every approval committed before it.
    db.commit()
    licence = _lock_for_approval(db, request_id, licence_id)
    request = db.get(ReuseRequest, request_id, populate_existing=True)
    if request is None:
        db.rollback()
        raise NotFound
    if not _can_move(request.status, ReuseState.APPROVED):
        db.rollback()
        raise ValidationFailed(
            {"decision": f"This request is already {ReuseState(request.status).label.lower()}."}
        )
    requester = db.get(Division, request.requesting_division_id)
    refusals = refusals_for(
        db,
        request,
        requester.code if requester else "",
        today=today,
        has_agreement=has_agreement(db, request),
    )
    if refusals:
        db.rollback()
        raise ValidationFailed({"licence": " ".join(refusal.message for refusal in refusals)})
    before = _snapshot(request)
    state = state_after_approval(request.start_on, today)
    request.status = state
    request.conditions = conditions
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.updated_at = utcnow()
    request.avoided_cents = _avoided(licence, request, override_cents)
    request.avoided_override_reason = override_reason if override_cents is not None else ""
    db.add(request)
    if licence is not None:
        db.execute(
            update(Licence)
            .where(col(Licence.id) == licence.id)
            .values(reuse_count=Licence.reuse_count + 1)
        )
    if request.listing_id is not None:
        db.execute(
            update(Listing)
            .where(col(Listing.id) == request.listing_id)
            .values(reuse_count=Listing.reuse_count + 1)
        )
    label = "approved with conditions" if conditions else "approved"
    record_event(
        db,
        actor,
        "reuse.approve",
        object_type="reuse_request",
        object_id=request.id or "",
        summary=f"Reuse request {request.id} {label}",
        before=before,
        after=_snapshot(request),
        division_code=actor.division_code,
    )
    notify(
        db,
        [request.requested_by_id],
        "reuse.approved",
        f"Your reuse request {request.id} was {label}",
        body=conditions,
        link=f"/procurement/reuse/{request.id}",
    )
    db.commit()
    return request


def _avoided(
    licence: Licence | None, request: ReuseRequest, override_cents: int | None
) -> int | None:
    """costs.avoided_spend_cents with the licence's price per seat and term; None when unknown."""
    if override_cents is not None:
        return costs.avoided_spend_cents(
            0, 0, request.start_on, request.end_on, override_cents=override_cents
        )
    if licence is None or licence.price_per_seat_cents is None:
        return None
    return costs.avoided_spend_cents(
        licence.price_per_seat_cents,
        request.seats,
        request.start_on,
        request.end_on,
        licence_term_days=costs.days_inclusive(licence.term_start_on, licence.term_end_on),
    )


def _can_move(status: str, target: ReuseState) -> bool:
    try:
        ensure_move(status, target)
    except ValueError:
        return False
    return True


def _close(
    db: Session,
    actor: Principal,
    request: ReuseRequest,
    state: ReuseState,
    reason: str,
    *,
    today: date,
) -> ReuseRequest:
    if not _can_move(request.status, state):
        current = ReuseState(request.status).label.lower()
        verb = "denied" if state is ReuseState.DENIED else "revoked"
        raise ValidationFailed({"decision": f"A {current} request cannot be {verb}."})
    before = _snapshot(request)
    request.status = state
    request.reason = reason
    request.decided_by_id = actor.id
    request.decided_at = utcnow()
    request.updated_at = utcnow()
    if state is ReuseState.REVOKED:
        # The reuse ran until today: costs and uses count it up to here, not to its planned end.
        request.end_on = max(min(request.end_on, today), request.start_on)
    db.add(request)
    verb = "deny" if state is ReuseState.DENIED else "revoke"
    record_event(
        db,
        actor,
        f"reuse.{verb}",
        object_type="reuse_request",
        object_id=request.id or "",
        summary=f"Reuse request {request.id} {state.label.lower()}: {reason[:200]}",
        before=before,
        after=_snapshot(request),
        division_code=actor.division_code,
    )
    notify(
        db,
        [request.requested_by_id],
        f"reuse.{state.value}",
        f"Your reuse request {request.id} was {state.label.lower()}",
        body=reason,
        link=f"/procurement/reuse/{request.id}",
    )
    db.commit()
    return request


# --- Daily sweep ----------------------------------------------------------------------------------


@dataclass
class SweepResult:
    moved: dict[str, int] = field(default_factory=dict)
    reminded: int = 0


def sweep(db: Session, *, today: date) -> SweepResult:
    """Start approved reuses whose day has come, expire finished ones, remind slow approvers.

    Idempotent: a second run on the same day changes nothing and reminds no one again.
    """
    result = SweepResult()
    open_states = [ReuseState.REQUESTED.value, ReuseState.APPROVED.value, ReuseState.ACTIVE.value]
    requests = db.exec(select(ReuseRequest).where(col(ReuseRequest.status).in_(open_states))).all()
    for request in requests:
        state = scheduled_state(request.status, request.start_on, request.end_on, today)
        if state.value != request.status:
            before = _snapshot(request)
            request.status = state
            request.updated_at = utcnow()
            db.add(request)
            result.moved[state.value] = result.moved.get(state.value, 0) + 1
            record_event(
                db,
                "job: reuse.sweep",
                f"reuse.{state.value}",
                object_type="reuse_request",
                object_id=request.id or "",
                summary=f"Reuse request {request.id} is now {state.label.lower()}",
                before=before,
                after=_snapshot(request),
            )
            if state is ReuseState.EXPIRED:
                notify(
                    db,
                    [request.requested_by_id],
                    "reuse.expired",
                    f"Reuse {request.id} has expired",
                    body=f"It ended on {request.end_on}.",
                    link=f"/procurement/reuse/{request.id}",
                )
        elif reminder_due(request.status, request.due_on, request.reminded_on, today):
            late = today > request.due_on
            notify(
                db,
                approver_ids(db, request.owner_division_id, today=today),
                "reuse.reminder",
                f"Reuse request {request.id} {'is overdue' if late else 'is due soon'}",
                body=f"A decision was due by {request.due_on}.",
                link=f"/procurement/reuse/{request.id}",
            )
            request.reminded_on = today
            db.add(request)
            result.reminded += 1
    db.commit()
    return result


# --- Lists ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    request: ReuseRequest
    title: str
    owner_code: str
    requester_code: str

    @property
    def state(self) -> ReuseState:
        return ReuseState(self.request.status)


def list_requests(
    db: Session,
    actor: Principal | None,
    *,
    scope: str,
    status: str = "",
    today: date,
) -> list[RequestRow]:
    """ "mine": requests of the actor's division; "division": requests to it (and its delegations)."""
    actor = require(actor, Permission.VIEW_STAFF_CONTENT)
    query = select(ReuseRequest)
    if scope == "division":
        delegated = db.exec(
            select(ReuseDelegate.division_id).where(
                ReuseDelegate.user_id == actor.id,
                or_(col(ReuseDelegate.until_on).is_(None), col(ReuseDelegate.until_on) >= today),
            )
        ).all()
        query = query.where(
            col(ReuseRequest.owner_division_id).in_([actor.division_id, *delegated])
        )
    else:
        query = query.where(ReuseRequest.requesting_division_id == actor.division_id)
    if status in {state.value for state in ReuseState}:
        query = query.where(ReuseRequest.status == status)
    requests = db.exec(query.order_by(col(ReuseRequest.created_at).desc()).limit(500)).all()
    return _rows(db, requests)


def _rows(db: Session, requests: Sequence[ReuseRequest]) -> list[RequestRow]:
    codes = {d.id: d.code for d in db.exec(select(Division)).all()}
    listing_ids = {r.listing_id for r in requests if r.listing_id}
    licence_ids = {r.licence_id for r in requests if r.licence_id}
    titles = (
        dict(
            db.exec(select(Listing.id, Listing.title).where(col(Listing.id).in_(listing_ids))).all()
        )
        if listing_ids
        else {}
    )
    products = (
        dict(
            db.exec(
                select(Licence.id, Purchase.product)
                .join(Purchase, col(Purchase.id) == Licence.purchase_id)
                .where(col(Licence.id).in_(licence_ids))
            ).all()
        )
        if licence_ids
        else {}
    )
    return [
        RequestRow(
            request=r,
            title=titles.get(r.listing_id) or products.get(r.licence_id) or f"Request {r.id}",
            owner_code=codes.get(r.owner_division_id, "?"),
            requester_code=codes.get(r.requesting_division_id, "?"),
        )
        for r in requests
    ]


def counts_by_state(db: Session, division_id: int, *, owner: bool) -> dict[str, int]:
    column = ReuseRequest.owner_division_id if owner else ReuseRequest.requesting_division_id
    rows = db.exec(
        select(ReuseRequest.status, func.count())
        .where(column == division_id)
        .group_by(ReuseRequest.status)
    ).all()
    return {status: count for status, count in rows}


# --- Attachments ----------------------------------------------------------------------------------


def check_may_attach(
    db: Session, actor: Principal | None, request_id: int, *, today: date
) -> ReuseRequest:
    """The request, when the actor may attach to it: the requesting division or an approver."""
    actor = require(actor, Permission.VIEW_STAFF_CONTENT)
    request = db.get(ReuseRequest, request_id)
    if request is None:
        raise NotFound
    if actor.division_id != request.requesting_division_id and not may_decide(
        db, actor, request, today=today
    ):
        raise PermissionDenied(
            "Only the requesting division or the owner's approvers can attach files."
        )
    if request.status not in (ReuseState.REQUESTED, ReuseState.APPROVED, ReuseState.ACTIVE):
        raise ValidationFailed(
            {"attachment": "This request is closed; nothing more can be attached."}
        )
    return request


def attachment_type(filename: str, head: bytes) -> str:
    """The stored content type of an upload, checked by extension and first bytes.

    Raises:
        ValidationFailed: a type other than PDF, Word, OpenDocument or plain text, or content that
            does not match its extension.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationFailed(
            {
                "attachment": "Attach the agreement as PDF, Word (.docx, .doc), OpenDocument (.odt) or text."
            }
        )
    content_type, magic = ATTACHMENT_TYPES[suffix]
    if magic and not head.startswith(magic):
        raise ValidationFailed({"attachment": f"The file is not a real {suffix} document."})
    if not magic and b"\x00" in head:
        raise ValidationFailed({"attachment": "The text file contains binary data."})
    return content_type


def attach(
    db: Session,
    actor: Principal,
    request_id: int,
    *,
    filename: str,
    content_type: str,
    size: int,
    stored_name: str,
    is_agreement: bool,
    today: date,
) -> ReuseAttachment:
    """Record a file already stored under upload_dir/reuse (see check_may_attach, attachment_type)."""
    request = check_may_attach(db, actor, request_id, today=today)
    if size == 0:
        raise ValidationFailed({"attachment": "The file is empty."})
    if size > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed(
            {
                "attachment": f"The file is larger than the {MAX_ATTACHMENT_BYTES // 1_048_576} MB limit."
            }
        )
    name = Path(filename.replace("\\", "/")).name.strip()[:255]
    if not name:
        raise ValidationFailed({"attachment": "The file needs a name."})
    attachment = ReuseAttachment(
        request_id=request.id or 0,
        filename=name,
        content_type=content_type,
        size_bytes=size,
        stored_name=stored_name,
        is_agreement=is_agreement,
        uploaded_by=actor.email,
    )
    db.add(attachment)
    db.flush()
    record_event(
        db,
        actor,
        "reuse.attach",
        object_type="reuse_request",
        object_id=request.id or "",
        summary=f"Attached {name} to reuse request {request.id}",
        after={"attachment_id": attachment.id, "filename": name, "size_bytes": size},
        division_code=actor.division_code,
    )
    db.commit()
    return attachment


def attachments_of(db: Session, request_id: int) -> list[ReuseAttachment]:
    return list(
        db.exec(
            select(ReuseAttachment)
            .where(ReuseAttachment.request_id == request_id)
            .order_by(col(ReuseAttachment.uploaded_at))
        ).all()
    )


def open_attachment(
    db: Session, actor: Principal | None, upload_dir: Path, attachment_id: int, *, today: date
) -> tuple[ReuseAttachment, Path]:
    """An attachment and its path, for those who may read the request; the read is audited."""
    attachment = db.get(ReuseAttachment, attachment_id)
    if attachment is None:
        raise NotFound
    request = get_request(db, actor, attachment.request_id, today=today)
    path = upload_dir / "reuse" / attachment.stored_name
    if not path.is_file():
        raise NotFound
    record_event(
        db,
        actor,
        "reuse.attachment_read",
        object_type="reuse_request",
        object_id=request.id or "",
        summary=f"Downloaded {attachment.filename} of reuse request {request.id}",
    )
    db.commit()
    return attachment, path


# --- Delegates ------------------------------------------------------------------------------------


def list_delegates(db: Session, actor: Principal | None) -> list[tuple[ReuseDelegate, User]]:
    actor = require(actor, Permission.DECIDE_REUSE)
    return list(
        db.exec(
            select(ReuseDelegate, User)
            .join(User, col(User.id) == ReuseDelegate.user_id)
            .where(ReuseDelegate.division_id == actor.division_id)
            .order_by(col(User.name))
        ).all()
    )


def add_delegate(
    db: Session, actor: Principal | None, email: str, until: str, *, today: date
) -> ReuseDelegate:
    """Let a person decide the actor's division's requests (until a date, or until removed)."""
    actor = require(actor, Permission.DECIDE_REUSE, None)
    errors: dict[str, str] = {}
    user = db.exec(
        select(User).where(User.email == email.strip().lower(), col(User.active).is_(True))
    ).first()
    if user is None:
        errors["email"] = "No active account has this e-mail address."
    elif user.id == actor.id:
        errors["email"] = "You already decide for your division."
    until_on = None
    if until.strip():
        until_on = _date(until, "until", "Until", errors)
        if until_on is not None and until_on < today:
            errors["until"] = "Until cannot be in the past."
    if errors or user is None:
        raise ValidationFailed(errors)
    existing = db.exec(
        select(ReuseDelegate).where(
            ReuseDelegate.division_id == actor.division_id, ReuseDelegate.user_id == user.id
        )
    ).first()
    delegate = existing or ReuseDelegate(
        division_id=actor.division_id, user_id=user.id or 0, added_by=actor.email
    )
    delegate.until_on = until_on
    db.add(delegate)
    db.flush()
    record_event(
        db,
        actor,
        "reuse.delegate_add",
        object_type="division",
        object_id=actor.division_id,
        summary=f"{user.email} may decide {actor.division_code} reuse requests"
        + (f" until {until_on}" if until_on else ""),
        division_code=actor.division_code,
    )
    db.commit()
    return delegate


def remove_delegate(db: Session, actor: Principal | None, delegate_id: int) -> None:
    actor = require(actor, Permission.DECIDE_REUSE, None)
    delegate = db.get(ReuseDelegate, delegate_id)
    if delegate is None or delegate.division_id != actor.division_id:
        raise NotFound
    user = db.get(User, delegate.user_id)
    db.delete(delegate)
    record_event(
        db,
        actor,
        "reuse.delegate_remove",
        object_type="division",
        object_id=actor.division_id,
        summary=f"{user.email if user else delegate.user_id} no longer decides {actor.division_code} reuse requests",
        division_code=actor.division_code,
    )
    db.commit()
