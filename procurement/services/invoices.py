"""Chargeback invoices: create by hand or generate from granted reuses, number, issue, pay, void.

Who may read an invoice: every account of the two divisions it names, and leadership. Who may
change it: procurement officers of the issuing (from) division. Invoices are never deleted; every
change is audited. Numbers come from `invoice_sequence`, incremented in the invoice's own
transaction, so they are unique and gapless per fiscal year even when invoices are created at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, text
from sqlmodel import Session, col, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, PermissionDenied, Principal, can, require
from marketplace.models import Division, Role
from marketplace.spreadsheets import spreadsheet_safe
from marketplace.types import utcnow
from procurement import costs, invoicing
from procurement.costs import Period, ShareMethod
from procurement.invoicing import InvoiceLine, InvoiceStatus
from procurement.models import Invoice, InvoiceLineRow, Licence, Purchase
from procurement.pdf import InvoiceDocument, Party, render_invoice_pdf
from procurement.services.common import (
    DivisionTable,
    dollars,
    parse_form_date,
    parse_form_money,
    today_at_hhs,
)
from procurement.services.reuse_spans import reuse_spans_by_licence

Actor = Principal | str
STATUS_LABELS = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.ISSUED: "Issued",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
}
MAX_LINES = 200
MAX_LINE_CENTS = 10**13  # $100 billion: far above any licence, far below BigInteger's limit
FORM_LINE_ROWS = 5  # empty line rows the form offers beyond the lines already entered
PER_PAGE = 50
_STATUS_ACTIONS = {
    InvoiceStatus.ISSUED: "invoice.issue",
    InvoiceStatus.PAID: "invoice.payment",
    InvoiceStatus.VOID: "invoice.void",
}
_WHOLE = re.compile(r"[0-9]{1,9}")
READ_DENIED = "Only the two divisions an invoice names, and leadership, can see it."


# ------------------------------------------------------------------ permissions


def may_read(actor: Actor | None, invoice: Invoice) -> bool:
    """Both parties' divisions (any role) and leadership; trusted callers (CLI) always."""
    if isinstance(actor, str):
        return True
    if actor is None:
        return False
    return actor.has(Role.LEADERSHIP) or actor.division_id in (
        invoice.from_division_id,
        invoice.to_division_id,
    )


def may_change(actor: Actor | None, invoice: Invoice) -> bool:
    """Procurement officers of the issuing division; trusted callers (CLI) always."""
    if isinstance(actor, str):
        return True
    return can(actor, Permission.MANAGE_PURCHASES, invoice.from_division_id)


def _require_change(actor: Actor, invoice: Invoice) -> None:
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES, invoice.from_division_id)


def _actor_label(actor: Actor) -> str:
    return actor.email if isinstance(actor, Principal) else actor


# ------------------------------------------------------------------ numbering


def _end_read_transaction(db: Session) -> None:
    """End the session's read-only transaction so the next statement, a write, opens a new one.

    On SQLite (WAL) a transaction that read before another connection committed cannot upgrade to
    a write; one that starts with the write waits for the lock (busy_timeout) and then sees the
    latest data. On PostgreSQL this is harmless.
    """
    if db.in_transaction() and not (db.new or db.dirty or db.deleted):
        db.commit()


def _take_numbers(db: Session, fiscal_year: int, count: int) -> int:
    """Reserve `count` sequence numbers of the fiscal year; returns the last one reserved.

    One statement that writes the year's counter row and returns its new value: PostgreSQL keeps
    the row locked, and SQLite the database, until the caller's transaction ends, so concurrent
    creators wait and numbers stay gapless (a rollback returns them). `count` 0 only takes the lock.
    """
    row = db.execute(
        text(
            "INSERT INTO invoice_sequence (fiscal_year, last_sequence) VALUES (:fy, :n) "
            "ON CONFLICT (fiscal_year) DO UPDATE "
            "SET last_sequence = invoice_sequence.last_sequence + :n "
            "RETURNING last_sequence"
        ),
        {"fy": fiscal_year, "n": count},
    ).one()
    return int(row[0])


def _new_invoice(fiscal_year: int, sequence: int, **values: Any) -> Invoice:
    return Invoice(
        number=invoicing.format_invoice_number(fiscal_year, sequence),
        fiscal_year=fiscal_year,
        sequence=sequence,
        **values,
    )


# ------------------------------------------------------------------ input and validation


@dataclass(frozen=True)
class LineInput:
    """One invoice line as typed: description, quantity, unit price in dollars."""

    description: str = ""
    quantity: str = "1"
    unit_price: str = ""

    def is_blank(self) -> bool:
        return not (self.description.strip() or self.unit_price.strip())


@dataclass(frozen=True)
class InvoiceInput:
    """An invoice as typed in the form; every field is text, checked by `validate_invoice`."""

    from_division: str = ""
    to_division: str = ""
    from_agreement: str = ""
    to_agreement: str = ""
    period: str = ""  # a fiscal period such as FY26Q1, or empty
    terms_days: str = "30"
    notes: str = ""
    lines: tuple[LineInput, ...] = ()

    @classmethod
    def of(cls, invoice: Invoice, lines: Sequence[InvoiceLineRow], divisions: DivisionTable):
        """The form values of a stored invoice."""
        return cls(
            from_division=divisions.code(invoice.from_division_id) or "",
            to_division=divisions.code(invoice.to_division_id) or "",
            from_agreement=invoice.from_agreement,
            to_agreement=invoice.to_agreement,
            period=invoice.period_label,
            terms_days=str(invoice.terms_days),
            notes=invoice.notes,
            lines=tuple(
                LineInput(row.description, str(row.quantity), dollars(row.unit_cents))
                for row in lines
            ),
        )

    def form_lines(self) -> list[LineInput]:
        """The lines entered plus empty rows to add more (at least FORM_LINE_ROWS in all)."""
        entered = [line for line in self.lines if not line.is_blank()]
        spare = max(FORM_LINE_ROWS - len(entered), 2)
        return [*entered, *([LineInput()] * spare)][:MAX_LINES]


@dataclass(frozen=True)
class CheckedInvoice:
    from_division: Division
    to_division: Division
    from_agreement: str
    to_agreement: str
    period: Period | None
    terms_days: int
    notes: str
    lines: tuple[InvoiceLine, ...]


def line_field(position: int, name: str) -> str:
    """The form field id (and error key) of one line's field: "line-1-description"."""
    return f"line-{position}-{name}"


def _check_lines(lines: Sequence[LineInput], errors: dict[str, str]) -> tuple[InvoiceLine, ...]:
    checked: list[InvoiceLine] = []
    position = 0
    for line in lines:
        if line.is_blank():
            continue
        position += 1
        if position > MAX_LINES:
            errors["lines"] = f"An invoice has at most {MAX_LINES} lines."
            break
        description = " ".join(line.description.split())
        if not description or len(description) > 500:
            errors[line_field(position, "description")] = (
                f"Line {position}: describe the charge (up to 500 characters)."
            )
        quantity_text = line.quantity.strip().replace(",", "") or "1"
        quantity = int(quantity_text) if _WHOLE.fullmatch(quantity_text) else 0
        if not 1 <= quantity <= 1_000_000:
            errors[line_field(position, "quantity")] = (
                f"Line {position}: enter a whole quantity from 1 to 1,000,000."
            )
        unit = parse_form_money(
            line.unit_price, f"Line {position} unit price", errors, line_field(position, "unit")
        )
        if unit is None and line_field(position, "unit") not in errors:
            errors[line_field(position, "unit")] = f"Line {position}: enter the unit price."
        elif unit is not None and unit < 0:
            errors[line_field(position, "unit")] = (
                f"Line {position}: amounts cannot be negative; void the invoice to cancel a charge."
            )
        elif unit is not None and quantity and unit * quantity > MAX_LINE_CENTS:
            errors[line_field(position, "unit")] = f"Line {position}: the amount is too large."
        if any(key.startswith(f"line-{position}-") for key in errors):
            continue
        assert unit is not None
        checked.append(InvoiceLine.priced(description, quantity, unit))
    if not checked and not any(key.startswith("line-") for key in errors):
        errors.setdefault("lines", "Enter at least one line with a description and a unit price.")
    return tuple(checked)


def validate_invoice(
    db: Session, actor: Actor, data: InvoiceInput
) -> tuple[CheckedInvoice | None, dict[str, str]]:
    """Checked values and field errors (keys are the form's field ids)."""
    errors: dict[str, str] = {}
    divisions = DivisionTable.load(db)
    source = divisions.by_code.get(data.from_division.strip().upper())
    target = divisions.by_code.get(data.to_division.strip().upper())
    if source is None:
        errors["from_division"] = "Choose the division that charges (the licence owner)."
    elif isinstance(actor, Principal) and not can(actor, Permission.MANAGE_PURCHASES, source.id):
        errors["from_division"] = "You can only invoice on behalf of your own division."
    if target is None or not target.active:
        errors["to_division"] = "Choose the division that is charged."
    elif source is not None and target.id == source.id:
        errors["to_division"] = "A division cannot invoice itself."
    for name, label in (("from_agreement", "Your"), ("to_agreement", "Their")):
        if len(getattr(data, name).strip()) > 100:
            errors[name] = f"{label} agreement reference: up to 100 characters."
    period: Period | None = None
    if data.period.strip():
        try:
            period = costs.parse_period(data.period)
        except ValueError as exc:
            errors["period"] = str(exc)
    terms_text = data.terms_days.strip() or "30"
    terms = int(terms_text) if _WHOLE.fullmatch(terms_text) else -1
    if not 0 <= terms <= 365:
        errors["terms_days"] = "Enter the payment terms as 0 to 365 days."
    if len(data.notes) > 5000:
        errors["notes"] = "Keep the notes under 5,000 characters."
    lines = _check_lines(data.lines, errors)
    if errors or source is None or target is None:
        return None, errors
    checked = CheckedInvoice(
        from_division=source,
        to_division=target,
        from_agreement=data.from_agreement.strip(),
        to_agreement=data.to_agreement.strip(),
        period=period,
        terms_days=terms,
        notes=data.notes.strip(),
        lines=lines,
    )
    return checked, {}


def _period_values(period: Period | None) -> dict[str, Any]:
    if period is None:
        return {"period_label": "", "period_start": None, "period_end": None}
    return {"period_label": period.label, "period_start": period.start, "period_end": period.end}


def _line_rows(invoice_id: int, lines: Sequence[InvoiceLine]) -> list[InvoiceLineRow]:
    return [
        InvoiceLineRow(
            invoice_id=invoice_id,
            position=position,
            description=line.description[:500],
            quantity=line.quantity,
            unit_cents=line.unit_cents,
            amount_cents=line.amount_cents,
        )
        for position, line in enumerate(lines, start=1)
    ]


def _snapshot(invoice: Invoice, lines: Sequence[InvoiceLine] | None = None) -> dict[str, Any]:
    values = {
        name: getattr(invoice, name)
        for name in (
            "number", "status", "from_division_id", "to_division_id", "from_agreement",
            "to_agreement", "licence_id", "period_label", "terms_days", "issued_on", "due_on",
            "paid_on", "payment_reference", "void_reason", "notes", "total_cents",
        )
    }  # fmt: skip
    if lines is not None:
        values["lines"] = [
            [line.description, line.quantity, line.unit_cents, line.amount_cents] for line in lines
        ]
    return values


# ------------------------------------------------------------------ create and edit


def create_invoice(
    db: Session, actor: Actor, data: InvoiceInput, *, now: datetime | None = None
) -> Invoice:
    """Create a draft invoice by hand (officers of the charging division).

    The number is assigned now: the fiscal year of `now` in America/New_York, the next sequence of
    that year, in the same transaction as the invoice.

    Args:
        now: the creation instant, timezone-aware (default: the current time).

    Raises:
        PermissionDenied: the caller is not a procurement officer.
        ValidationFailed: field errors; nothing is written.
    """
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES)
    checked, errors = validate_invoice(db, actor, data)
    if checked is None:
        raise ValidationFailed(errors)
    now = now or utcnow()
    fiscal_year = invoicing.invoice_fiscal_year(now)
    totals = invoicing.invoice_totals(checked.lines)
    _end_read_transaction(db)
    sequence = _take_numbers(db, fiscal_year, 1)
    invoice = _new_invoice(
        fiscal_year,
        sequence,
        from_division_id=checked.from_division.id,
        to_division_id=checked.to_division.id,
        from_agreement=checked.from_agreement,
        to_agreement=checked.to_agreement,
        terms_days=checked.terms_days,
        notes=checked.notes,
        total_cents=totals.total_cents,
        created_by=_actor_label(actor),
        created_at=now,
        updated_at=now,
        **_period_values(checked.period),
    )
    db.add(invoice)
    db.flush()
    db.add_all(_line_rows(invoice.id or 0, checked.lines))
    record_event(
        db,
        actor,
        "invoice.create",
        object_type="invoice",
        object_id=invoice.number,
        summary=(
            f"Created invoice {invoice.number} from {checked.from_division.code} to "
            f"{checked.to_division.code} for {invoicing.format_usd(totals.total_cents)}"
        ),
        after=_snapshot(invoice, checked.lines),
        division_code=checked.from_division.code,
    )
    db.commit()
    return invoice


def update_invoice(db: Session, actor: Actor, number: str, data: InvoiceInput) -> Invoice:
    """Replace a draft's parties' references, period, terms, notes and lines (not its number).

    The charging division cannot change: the invoice stays its division's.

    Raises:
        NotFound: no such invoice.
        PermissionDenied: not an officer of the charging division.
        InvoiceNotEditable: the invoice has been issued, paid or voided.
        ValidationFailed: field errors; nothing is written.
    """
    invoice = _get(db, number)
    _require_change(actor, invoice)
    invoicing.ensure_editable(invoice.status)
    divisions = DivisionTable.load(db)
    fixed_source = divisions.code(invoice.from_division_id) or ""
    checked, errors = validate_invoice(
        db, actor, InvoiceInput(**{**data.__dict__, "from_division": fixed_source})
    )
    if checked is None:
        raise ValidationFailed(errors)
    old_lines = _lines_of(db, invoice.id or 0)
    before = _snapshot(invoice, [_as_line(row) for row in old_lines])
    for row in old_lines:
        db.delete(row)
    db.flush()
    invoice.to_division_id = checked.to_division.id or 0
    invoice.from_agreement = checked.from_agreement
    invoice.to_agreement = checked.to_agreement
    invoice.terms_days = checked.terms_days
    invoice.notes = checked.notes
    invoice.total_cents = invoicing.invoice_totals(checked.lines).total_cents
    for name, value in _period_values(checked.period).items():
        setattr(invoice, name, value)
    invoice.updated_at = utcnow()
    db.add(invoice)
    db.add_all(_line_rows(invoice.id or 0, checked.lines))
    record_event(
        db,
        actor,
        "invoice.update",
        object_type="invoice",
        object_id=invoice.number,
        summary=f"Edited draft invoice {invoice.number}",
        before=before,
        after=_snapshot(invoice, checked.lines),
        division_code=fixed_source,
    )
    db.commit()
    return invoice


# ------------------------------------------------------------------ status changes


def _change_status(
    db: Session,
    actor: Actor,
    number: str,
    to_status: InvoiceStatus,
    apply: Any,
    summary: str,
) -> Invoice:
    """Move the invoice to `to_status` after `apply(invoice)`; audited; `summary` names it."""
    invoice = _get(db, number)
    _require_change(actor, invoice)
    invoicing.ensure_transition(invoice.status, to_status)
    before = _snapshot(invoice)
    apply(invoice)
    invoice.status = to_status.value
    invoice.updated_at = utcnow()
    db.add(invoice)
    record_event(
        db,
        actor,
        _STATUS_ACTIONS[to_status],
        object_type="invoice",
        object_id=invoice.number,
        summary=f"{summary} {invoice.number}",
        before=before,
        after=_snapshot(invoice),
        division_code=DivisionTable.load(db).code(invoice.from_division_id),
    )
    db.commit()
    return invoice


def issue_invoice(db: Session, actor: Actor, number: str, *, today: date) -> Invoice:
    """Issue a draft: it gets its issue date and due date (terms days later) and is frozen.

    Raises:
        NotFound, PermissionDenied, InvalidTransition (not a draft), ValidationFailed (no lines
        or nothing owed).
    """
    invoice = _get(db, number)
    _require_change(actor, invoice)
    invoicing.ensure_transition(invoice.status, InvoiceStatus.ISSUED)
    if not _lines_of(db, invoice.id or 0) or invoice.total_cents <= 0:
        raise ValidationFailed({"issue": "An invoice needs at least one charge to be issued."})

    def apply(inv: Invoice) -> None:
        inv.issued_on = today
        inv.due_on = invoicing.due_date(today, inv.terms_days)

    return _change_status(db, actor, number, InvoiceStatus.ISSUED, apply, "Issued invoice")


def record_payment(
    db: Session, actor: Actor, number: str, paid_on: str, reference: str, *, today: date
) -> Invoice:
    """Record by hand that an issued invoice was paid: the day and the payment reference.

    Raises:
        NotFound, PermissionDenied, InvalidTransition (not issued), ValidationFailed.
    """
    errors: dict[str, str] = {}
    paid = parse_form_date(paid_on, "Payment date", errors, "paid_on")
    if paid is None and "paid_on" not in errors:
        errors["paid_on"] = "Enter the day the payment was received."
    reference = " ".join(reference.split())
    if not reference or len(reference) > 100:
        errors["payment_reference"] = (
            "Enter the payment reference (IPAC transaction or other), up to 100 characters."
        )
    invoice = _get(db, number)
    _require_change(actor, invoice)
    invoicing.ensure_transition(invoice.status, InvoiceStatus.PAID)
    if paid is not None and "paid_on" not in errors:
        if paid > today:
            errors["paid_on"] = "The payment date cannot be in the future."
        elif invoice.issued_on and paid < invoice.issued_on:
            errors["paid_on"] = "The payment date cannot be before the invoice was issued."
    if errors:
        raise ValidationFailed(errors)

    def apply(inv: Invoice) -> None:
        inv.paid_on = paid
        inv.payment_reference = reference

    return _change_status(db, actor, number, InvoiceStatus.PAID, apply, "Recorded payment of")


def void_invoice(db: Session, actor: Actor, number: str, reason: str) -> Invoice:
    """Void a draft or issued invoice with a reason; it keeps its number and is never deleted.

    Raises:
        NotFound, PermissionDenied, InvalidTransition (paid or already void), ValidationFailed.
    """
    reason = reason.strip()
    invoice = _get(db, number)
    _require_change(actor, invoice)
    invoicing.ensure_transition(invoice.status, InvoiceStatus.VOID)
    if not reason or len(reason) > 500:
        raise ValidationFailed(
            {"void_reason": "Say why the invoice is void (up to 500 characters)."}
        )

    def apply(inv: Invoice) -> None:
        inv.void_reason = reason

    return _change_status(db, actor, number, InvoiceStatus.VOID, apply, "Voided invoice")


# ------------------------------------------------------------------ generation from reuses


@dataclass(frozen=True)
class Generated:
    """One invoice a generation run created."""

    number: str
    licence_id: int
    licence_name: str
    from_division: str
    to_division: str
    total_cents: int


@dataclass
class GenerationReport:
    """What `generate_invoices` did for a period.

    Attributes:
        period: the period billed.
        created: invoices created by this run, in number order.
        existing: charges already invoiced by an earlier run (voided ones included), not recreated.
        problems: licences that could not be billed, with the reason.
    """

    period: Period
    created: list[Generated] = field(default_factory=list)
    existing: int = 0
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.label,
            "created": [
                {
                    "number": g.number,
                    "licence_id": g.licence_id,
                    "from_division": g.from_division,
                    "to_division": g.to_division,
                    "total_cents": g.total_cents,
                }
                for g in self.created
            ],
            "existing": self.existing,
            "problems": self.problems,
        }


@dataclass(frozen=True)
class _Charge:
    key: str
    licence: Licence
    licence_name: str
    from_division: Division
    to_division: Division
    lines: tuple[InvoiceLine, ...]


def generation_key(licence_id: int, to_division_id: int, period: Period) -> str:
    """What makes a generated invoice unique: one per licence, paying division and period."""
    return (
        f"share:{licence_id}:{to_division_id}:{period.start.isoformat()}:{period.end.isoformat()}"
    )


def licence_name(purchase: Purchase) -> str:
    """The licence as people know it: the product bought, else the description, else the PIID."""
    return (purchase.product or purchase.description[:120] or purchase.piid).strip()


def _charges(
    db: Session, period: Period, division_id: int | None, problems: list[str]
) -> list[_Charge]:
    """Every cost share owed for the period, as invoice lines per licence and paying division."""
    divisions = DivisionTable.load(db)
    query = (
        select(Licence, Purchase)
        .join(Purchase, col(Purchase.id) == Licence.purchase_id)
        .where(Licence.share_method != ShareMethod.NONE.value)
        .order_by(col(Licence.id))
    )
    if division_id is not None:
        query = query.where(Purchase.division_id == division_id)
    found = db.exec(query).all()
    spans = reuse_spans_by_licence(
        db, [lic.id or 0 for lic, _ in found], period_start=period.start, period_end=period.end
    )
    charges: list[_Charge] = []
    for licence, purchase in found:
        reuses = spans.get(licence.id or 0)
        if not reuses:
            continue
        owner = divisions.by_id.get(purchase.division_id)
        if owner is None:
            continue
        name = licence_name(purchase)
        start = purchase.start_on or licence.term_start_on
        end = purchase.current_end_on or licence.term_end_on
        cost = costs.cost_in_period_cents(
            purchase.obligated_cents, start, end, period.start, period.end
        )
        if cost <= 0:
            if cost < 0:
                problems.append(f"{name} ({purchase.piid}): negative obligation, nothing billed.")
            continue
        try:
            shares = costs.cost_shares(
                cost,
                owner.code,
                reuses,
                licence.share_method,
                seats_total=licence.seats,
                fixed_cents=licence.fixed_share_cents,
            )
        except ValueError as exc:
            problems.append(f"{name} ({purchase.piid}): {exc}")
            continue
        uses = len(costs.uses_in_period(owner.code, reuses, period.start, period.end))
        for code, share in shares.items():
            payer = divisions.by_code.get(code)
            if payer is None:
                continue
            seats = sum(r.seats for r in reuses if r.division == code)
            lines = invoicing.invoice_lines_for_share(
                name,
                period,
                licence.share_method,
                share,
                seats=seats,
                seats_total=licence.seats,
                uses=uses,
            )
            if lines:
                key = generation_key(licence.id or 0, payer.id or 0, period)
                charges.append(_Charge(key, licence, name, owner, payer, lines))
    return charges


def _existing_keys(db: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update(
            key
            for key in db.exec(
                select(Invoice.generation_key).where(col(Invoice.generation_key).in_(chunk))
            ).all()
            if key
        )
    return found


def generate_invoices(
    db: Session, actor: Actor, period_text: str, *, now: datetime | None = None
) -> GenerationReport:
    """Draft one invoice per licence, paying division and period from the granted reuses.

    For each licence whose share method is not "none" and that has reuses active in the period:
    the cost in the period (the purchase's obligation prorated by days), split by
    `costs.cost_shares`, one invoice per reusing division that owes more than $0.00. Idempotent:
    a charge already invoiced (even if that invoice was voided) is not invoiced again. An officer
    generates for their own division's licences; the CLI for every division.

    Raises:
        ValidationFailed: {"period": message} for a period that is not FY26, FY26Q1, ….
        PermissionDenied: the caller is not a procurement officer.
    """
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES)
    try:
        period = costs.parse_period(period_text)
    except ValueError as exc:
        raise ValidationFailed({"period": str(exc)}) from exc
    report = GenerationReport(period)
    division_id = actor.division_id if isinstance(actor, Principal) else None
    charges = _charges(db, period, division_id, report.problems)
    now = now or utcnow()
    fiscal_year = invoicing.invoice_fiscal_year(now)
    _end_read_transaction(db)
    # The counter row's lock serialises generation runs; re-read what exists once it is held.
    last = _take_numbers(db, fiscal_year, 0)
    done = _existing_keys(db, [charge.key for charge in charges])
    todo = [charge for charge in charges if charge.key not in done]
    report.existing = len(charges) - len(todo)
    if not todo:
        db.commit()
        return report
    last = _take_numbers(db, fiscal_year, len(todo))
    first = last - len(todo) + 1
    label = _actor_label(actor)
    invoices: list[tuple[_Charge, Invoice]] = []
    for sequence, charge in enumerate(todo, start=first):
        total = invoicing.invoice_totals(charge.lines).total_cents
        invoice = _new_invoice(
            fiscal_year,
            sequence,
            from_division_id=charge.from_division.id,
            to_division_id=charge.to_division.id,
            licence_id=charge.licence.id,
            total_cents=total,
            generation_key=charge.key,
            created_by=label,
            created_at=now,
            updated_at=now,
            notes=f"Cost share of {charge.licence_name}, generated from the reuses granted.",
            **_period_values(period),
        )
        db.add(invoice)
        invoices.append((charge, invoice))
    db.flush()
    for charge, invoice in invoices:
        db.add_all(_line_rows(invoice.id or 0, charge.lines))
        record_event(
            db,
            actor,
            "invoice.generate",
            object_type="invoice",
            object_id=invoice.number,
            summary=(
                f"Generated invoice {invoice.number} from {charge.from_division.code} to "
                f"{charge.to_division.code} for {period.label}, "
                f"{invoicing.format_usd(invoice.total_cents)}"
            ),
            after=_snapshot(invoice, charge.lines),
            division_code=charge.from_division.code,
        )
        report.created.append(
            Generated(
                invoice.number,
                charge.licence.id or 0,
                charge.licence_name,
                charge.from_division.code,
                charge.to_division.code,
                invoice.total_cents,
            )
        )
    db.commit()
    return report


# ------------------------------------------------------------------ reading


def _get(db: Session, number: str) -> Invoice:
    try:
        fiscal_year, sequence = invoicing.parse_invoice_number(number[:40])
    except ValueError as exc:
        raise NotFound from exc
    invoice = db.exec(
        select(Invoice).where(Invoice.fiscal_year == fiscal_year, Invoice.sequence == sequence)
    ).first()
    if invoice is None:
        raise NotFound
    return invoice


def _lines_of(db: Session, invoice_id: int) -> list[InvoiceLineRow]:
    return list(
        db.exec(
            select(InvoiceLineRow)
            .where(InvoiceLineRow.invoice_id == invoice_id)
            .order_by(col(InvoiceLineRow.position))
        ).all()
    )


def _as_line(row: InvoiceLineRow) -> InvoiceLine:
    return InvoiceLine(row.description, row.quantity, row.unit_cents, row.amount_cents)


def get_invoice(db: Session, actor: Actor | None, number: str) -> Invoice:
    """The invoice if the caller may read it.

    Raises:
        NotFound: no invoice has this number (or it is not a number).
        SignInRequired / PermissionDenied: the caller may not read it.
    """
    if actor is None:
        require(actor, Permission.VIEW_STAFF_CONTENT)
    invoice = _get(db, number)
    if not may_read(actor, invoice):
        raise PermissionDenied(READ_DENIED, permission=Permission.READ_SENSITIVE_PROCUREMENT)
    return invoice


@dataclass(frozen=True)
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLineRow]
    from_division: Division
    to_division: Division
    licence: Licence | None
    purchase: Purchase | None
    can_change: bool
    can_edit: bool
    can_issue: bool
    can_pay: bool
    can_void: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[InvoiceStatus(self.invoice.status)]


def invoice_view(db: Session, actor: Actor | None, number: str) -> InvoiceView:
    """An invoice with its lines, parties, licence and the actions the caller may take."""
    invoice = get_invoice(db, actor, number)
    divisions = DivisionTable.load(db)
    licence = db.get(Licence, invoice.licence_id) if invoice.licence_id else None
    purchase = db.get(Purchase, licence.purchase_id) if licence else None
    changer = may_change(actor, invoice)
    status = InvoiceStatus(invoice.status)
    return InvoiceView(
        invoice=invoice,
        lines=_lines_of(db, invoice.id or 0),
        from_division=divisions.by_id[invoice.from_division_id],
        to_division=divisions.by_id[invoice.to_division_id],
        licence=licence,
        purchase=purchase,
        can_change=changer,
        can_edit=changer and status is InvoiceStatus.DRAFT,
        can_issue=changer and invoicing.can_transition(status, InvoiceStatus.ISSUED),
        can_pay=changer and invoicing.can_transition(status, InvoiceStatus.PAID),
        can_void=changer and invoicing.can_transition(status, InvoiceStatus.VOID),
    )


def editable_invoice(db: Session, actor: Actor, number: str) -> tuple[Invoice, InvoiceInput]:
    """A draft and its form values, for officers of the charging division."""
    invoice = get_invoice(db, actor, number)
    _require_change(actor, invoice)
    invoicing.ensure_editable(invoice.status)
    values = InvoiceInput.of(invoice, _lines_of(db, invoice.id or 0), DivisionTable.load(db))
    return invoice, values


@dataclass(frozen=True)
class InvoiceQuery:
    """Filters of the invoice list; empty strings mean any."""

    status: str = ""
    from_division: str = ""
    to_division: str = ""
    fiscal_year: int | None = None
    period: str = ""  # a period label as stored ("FY2026 Q1") or typed ("FY26Q1")
    page: int = 1
    per_page: int = PER_PAGE

    def params(self, **changes: Any) -> dict[str, str]:
        """Non-empty filters as query parameters (page left out), with changes applied."""
        values = {
            "status": self.status,
            "from_division": self.from_division,
            "to_division": self.to_division,
            "fy": str(self.fiscal_year) if self.fiscal_year else "",
            "period": self.period,
            **changes,
        }
        return {key: str(value) for key, value in values.items() if value}


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    from_code: str
    to_code: str


@dataclass(frozen=True)
class InvoiceList:
    rows: list[InvoiceRow]
    total: int
    total_cents: int
    fiscal_years: list[int]


def _filtered(db: Session, actor: Actor | None, query: InvoiceQuery, statement: Any) -> Any:
    if isinstance(actor, Principal) and not actor.has(Role.LEADERSHIP):
        statement = statement.where(
            or_(
                Invoice.from_division_id == actor.division_id,
                Invoice.to_division_id == actor.division_id,
            )
        )
    divisions = DivisionTable.load(db)
    if query.status:
        statement = statement.where(Invoice.status == query.status)
    for code, column in (
        (query.from_division, Invoice.from_division_id),
        (query.to_division, Invoice.to_division_id),
    ):
        if code:
            division = divisions.by_code.get(code.upper())
            statement = statement.where(column == (division.id if division else -1))
    if query.fiscal_year:
        statement = statement.where(Invoice.fiscal_year == query.fiscal_year)
    if query.period:
        try:
            label = costs.parse_period(query.period).label
        except ValueError:
            label = query.period
        statement = statement.where(Invoice.period_label == label)
    return statement


def clean_query(
    status: str = "",
    from_division: str = "",
    to_division: str = "",
    fiscal_year: str = "",
    period: str = "",
    page: int = 1,
) -> InvoiceQuery:
    """The list's query parameters, bounded and checked (unknown values are ignored)."""
    fy = fiscal_year.strip().upper().removeprefix("FY")
    year = int(fy) if fy.isdigit() and len(fy) in (2, 4) else None
    if year is not None and year < 100:
        year += 2000
    return InvoiceQuery(
        status=status if status in InvoiceStatus._value2member_map_ else "",
        from_division=from_division.strip().upper()[:20],
        to_division=to_division.strip().upper()[:20],
        fiscal_year=year,
        period=period.strip()[:20],
        page=max(page, 1),
    )


def list_invoices(db: Session, actor: Actor | None, query: InvoiceQuery) -> InvoiceList:
    """One page of the invoices the caller may read, newest number first, with the count and sum."""
    if not isinstance(actor, str):
        require(actor, Permission.VIEW_STAFF_CONTENT)
    divisions = DivisionTable.load(db)
    count, cents = db.exec(
        _filtered(
            db, actor, query, select(func.count(), func.coalesce(func.sum(Invoice.total_cents), 0))
        )
    ).one()
    statement = _filtered(db, actor, query, select(Invoice)).order_by(
        col(Invoice.fiscal_year).desc(), col(Invoice.sequence).desc()
    )
    invoices = db.exec(
        statement.offset((query.page - 1) * query.per_page).limit(query.per_page)
    ).all()
    years = db.exec(
        _filtered(db, actor, InvoiceQuery(), select(Invoice.fiscal_year).distinct())
    ).all()
    rows = [
        InvoiceRow(
            invoice,
            divisions.code(invoice.from_division_id) or "?",
            divisions.code(invoice.to_division_id) or "?",
        )
        for invoice in invoices
    ]
    return InvoiceList(rows, int(count), int(cents), sorted(years, reverse=True))


CSV_COLUMNS = (
    "number", "status", "from_division", "to_division", "from_agreement", "to_agreement",
    "period", "period_start", "period_end", "created_at", "issued_on", "due_on", "paid_on",
    "payment_reference", "total_dollars", "void_reason", "created_by",
)  # fmt: skip


def export_csv(db: Session, actor: Actor | None, query: InvoiceQuery) -> Iterator[str]:
    """The invoices the caller may read that match the filters, as spreadsheet-safe CSV chunks.

    Dollars are plain numbers ("1234.56"), dates ISO 8601; oldest number first.
    """
    if not isinstance(actor, str):
        require(actor, Permission.VIEW_STAFF_CONTENT)
    divisions = DivisionTable.load(db)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    statement = _filtered(db, actor, query, select(Invoice)).order_by(
        col(Invoice.fiscal_year), col(Invoice.sequence)
    )
    for invoice in db.exec(statement.execution_options(yield_per=500)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            spreadsheet_safe(value)
            for value in (
                invoice.number,
                invoice.status,
                divisions.code(invoice.from_division_id) or "",
                divisions.code(invoice.to_division_id) or "",
                invoice.from_agreement,
                invoice.to_agreement,
                invoice.period_label,
                _iso(invoice.period_start),
                _iso(invoice.period_end),
                invoice.created_at.isoformat(),
                _iso(invoice.issued_on),
                _iso(invoice.due_on),
                _iso(invoice.paid_on),
                invoice.payment_reference,
                dollars(invoice.total_cents),
                invoice.void_reason,
                invoice.created_by,
            )
        )
        yield buffer.getvalue()


def _iso(day: date | None) -> str:
    return day.isoformat() if day else ""


def summary_rows(db: Session) -> list[dict[str, Any]]:
    """Every invoice for `marketplace invoices list`: number, status, total, division codes."""
    divisions = DivisionTable.load(db)
    invoices = db.exec(select(Invoice).order_by(col(Invoice.fiscal_year), col(Invoice.sequence)))
    return [
        {
            "number": invoice.number,
            "status": invoice.status,
            "total_cents": invoice.total_cents,
            "from_division": divisions.code(invoice.from_division_id),
            "to_division": divisions.code(invoice.to_division_id),
        }
        for invoice in invoices
    ]


# ------------------------------------------------------------------ PDF


def terms_text(invoice: Invoice) -> str:
    """The payment terms printed on the invoice and shown on its page."""
    days = invoice.terms_days
    when = "on the issue date" if days == 0 else f"within {days} days of the issue date"
    return (
        f"Payment is due {when} by IPAC transfer quoting the invoice number and both agreement "
        "references. Charges between HHS divisions carry no tax. To dispute a charge, contact "
        "the billing division before the due date; a corrected invoice replaces a voided one."
    )


def _party(division: Division, agreement: str, contact_email: str) -> Party:
    return Party(
        division_code=division.code,
        division_name=division.name,
        address_lines=("U.S. Department of Health and Human Services",),
        contact_name=f"{division.code} procurement office",
        contact_email=contact_email,
        agreement_reference=agreement or "not recorded",
    )


def invoice_document(db: Session, actor: Actor | None, number: str) -> InvoiceDocument:
    """What the PDF prints for an invoice the caller may read."""
    view = invoice_view(db, actor, number)
    invoice = view.invoice
    lines = tuple(_as_line(row) for row in view.lines)
    creator = invoice.created_by if "@" in invoice.created_by else ""
    references = " / ".join(ref for ref in (invoice.from_agreement, invoice.to_agreement) if ref)
    notes = invoice.notes
    if invoice.status == InvoiceStatus.VOID and invoice.void_reason:
        notes = f"Void: {invoice.void_reason}" + (f"\n{notes}" if notes else "")
    return InvoiceDocument(
        number=invoice.number,
        status=InvoiceStatus(invoice.status),
        created_on=today_at_hhs(invoice.created_at),
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        period_label=invoice.period_label or "—",
        from_party=_party(view.from_division, invoice.from_agreement, creator),
        to_party=_party(view.to_division, invoice.to_agreement, ""),
        lines=lines,
        totals=invoicing.invoice_totals(lines),
        terms=terms_text(invoice),
        agreement_reference=references or "not recorded",
        payment_reference=invoice.payment_reference or None,
        paid_on=invoice.paid_on,
        notes=notes,
    )


def invoice_pdf(db: Session, actor: Actor | None, number: str) -> tuple[str, bytes]:
    """The invoice's number and PDF (letterhead, parties, lines, totals, terms, page numbers)."""
    document = invoice_document(db, actor, number)
    return document.number, render_invoice_pdf(document)
