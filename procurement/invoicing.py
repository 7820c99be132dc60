"""Invoices for reuse charge-backs: status rules, numbering, lines, totals and money display.

Pure: no clock, no database. Money is integer cents; invoices are never negative.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from procurement.costs import Period, ShareMethod, fiscal_year

# HHS keeps its books on Washington time: an invoice created late on 30 September (Eastern) belongs
# to the closing fiscal year even though it is already 1 October in UTC.
HHS_TIME_ZONE = ZoneInfo("America/New_York")
_NUMBER_PATTERN = re.compile(r"HHS-FY(\d{2})-(\d{6})")
_MAX_SEQUENCE = 999_999  # six digits in the number


class InvoiceStatus(StrEnum):
    """Where an invoice is in its life."""

    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.ISSUED, InvoiceStatus.VOID}),
    InvoiceStatus.ISSUED: frozenset({InvoiceStatus.PAID, InvoiceStatus.VOID}),
    InvoiceStatus.PAID: frozenset(),
    InvoiceStatus.VOID: frozenset(),
}


class InvalidTransition(ValueError):
    """An invoice cannot move from one status to another."""

    def __init__(self, from_status: InvoiceStatus, to_status: InvoiceStatus) -> None:
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(f"An invoice cannot go from {from_status} to {to_status}.")


class InvoiceNotEditable(ValueError):
    """An invoice that has left draft cannot be changed."""


class InvalidInvoiceLine(ValueError):
    """An invoice line with a negative, empty or inconsistent figure."""


def can_transition(from_status: InvoiceStatus | str, to_status: InvoiceStatus | str) -> bool:
    """Whether the move is allowed: draft→issued, issued→paid, draft→void, issued→void."""
    return InvoiceStatus(to_status) in _TRANSITIONS[InvoiceStatus(from_status)]


def ensure_transition(from_status: InvoiceStatus | str, to_status: InvoiceStatus | str) -> None:
    """Raise InvalidTransition unless `can_transition(from_status, to_status)`."""
    if not can_transition(from_status, to_status):
        raise InvalidTransition(InvoiceStatus(from_status), InvoiceStatus(to_status))


def ensure_editable(status: InvoiceStatus | str) -> None:
    """Raise InvoiceNotEditable unless the invoice is a draft.

    An issued invoice has been sent and booked, so a correction is a void and a new invoice; a paid
    or void invoice is final.
    """
    status = InvoiceStatus(status)
    if status is InvoiceStatus.ISSUED:
        raise InvoiceNotEditable(
            "This invoice has been issued and can no longer be edited: void and reissue instead."
        )
    if status is not InvoiceStatus.DRAFT:
        raise InvoiceNotEditable(f"This invoice is {status} and can no longer be edited.")


def invoice_fiscal_year(created_at: datetime) -> int:
    """Fiscal year an invoice belongs to: that of its creation date in America/New_York.

    Raises:
        ValueError: for a naive datetime, whose moment in time is unknown.
    """
    if created_at.utcoffset() is None:
        raise ValueError("created_at must be timezone-aware (store UTC), not naive.")
    return fiscal_year(created_at.astimezone(HHS_TIME_ZONE).date())


def format_invoice_number(fy: int, seq: int) -> str:
    """The printed number, e.g. (2026, 123) → "HHS-FY26-000123".

    Raises:
        ValueError: when fy is outside 2000–2099 or seq outside 1–999999.
    """
    if not 2000 <= fy <= 2099:
        raise ValueError(f"Invoice numbers carry a fiscal year from 2000 to 2099, not {fy}.")
    if not 1 <= seq <= _MAX_SEQUENCE:
        raise ValueError(f"An invoice sequence runs from 1 to {_MAX_SEQUENCE}, not {seq}.")
    return f"HHS-FY{fy % 100:02d}-{seq:06d}"


def parse_invoice_number(text: str) -> tuple[int, int]:
    """(fiscal year, sequence) of a number like "HHS-FY26-000123" (surrounding spaces ignored).

    Raises:
        ValueError: when the text is not an invoice number.
    """
    match = _NUMBER_PATTERN.fullmatch(text.strip().upper())
    if match is None or int(match.group(2)) == 0:
        raise ValueError(f"Not an invoice number: {text!r} (expected e.g. HHS-FY26-000123).")
    return 2000 + int(match.group(1)), int(match.group(2))


def next_sequence(last_seq: int | None) -> int:
    """The sequence after the last one issued in the same fiscal year; 1 for the year's first.

    Numbering is gapless per fiscal year: the service reads the year's last sequence and inserts
    the next one in the same transaction (invoice numbers are unique), and a voided invoice keeps
    its number, so every number from 1 to the last exists exactly once.

    Raises:
        ValueError: when last_seq is below 1 or the year has used every six-digit number.
    """
    if last_seq is None:
        return 1
    if not 1 <= last_seq < _MAX_SEQUENCE:
        raise ValueError(f"No sequence follows {last_seq} (sequences run from 1 to 999999).")
    return last_seq + 1


@dataclass(frozen=True)
class InvoiceLine:
    """One line of an invoice.

    Attributes:
        description: what is charged, as printed.
        quantity: a whole number of units (1 or more).
        unit_cents: the price of one unit, in cents (0 or more).
        amount_cents: quantity × unit_cents, in cents; stored so the printed figure is the
            checked one.
    """

    description: str
    quantity: int
    unit_cents: int
    amount_cents: int

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise InvalidInvoiceLine("An invoice line needs a description.")
        if self.quantity < 1:
            raise InvalidInvoiceLine(f"Quantity must be 1 or more, not {self.quantity}.")
        if self.unit_cents < 0 or self.amount_cents < 0:
            raise InvalidInvoiceLine(
                f"Invoice amounts cannot be negative ({format_usd(self.unit_cents)} per unit, "
                f"{format_usd(self.amount_cents)} in all); void the invoice to cancel a charge."
            )
        if self.amount_cents != self.quantity * self.unit_cents:
            raise InvalidInvoiceLine(
                f"Amount {format_usd(self.amount_cents)} is not {self.quantity} × "
                f"{format_usd(self.unit_cents)}."
            )

    @classmethod
    def priced(cls, description: str, quantity: int, unit_cents: int) -> InvoiceLine:
        """A line whose amount is quantity × unit price."""
        return cls(description, quantity, unit_cents, quantity * unit_cents)


@dataclass(frozen=True)
class Totals:
    """An invoice's totals, in cents.

    Attributes:
        subtotal_cents: the sum of the lines.
        total_cents: what is owed; equal to the subtotal, since charges between HHS divisions
            carry no tax or discount.
    """

    subtotal_cents: int
    total_cents: int


def invoice_totals(lines: Iterable[InvoiceLine]) -> Totals:
    """Sum the lines of an invoice (an invoice without lines totals 0)."""
    subtotal = sum(line.amount_cents for line in lines)
    return Totals(subtotal_cents=subtotal, total_cents=subtotal)


def due_date(issued_on: date, terms_days: int = 30) -> date:
    """The day payment is due: `terms_days` calendar days after the issue date.

    Raises:
        ValueError: when terms_days is negative.
    """
    if terms_days < 0:
        raise ValueError(f"Payment terms cannot be negative ({terms_days} days).")
    return issued_on + timedelta(days=terms_days)


def format_usd(cents: int) -> str:
    """Cents as dollars for display: 123456 → "$1,234.56", -500 → "-$5.00" (reports only)."""
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{remainder:02d}"


def invoice_lines_for_share(
    licence_name: str,
    period: Period,
    method: ShareMethod | str,
    share_cents: int,
    *,
    seats: int | None = None,
    seats_total: int | None = None,
    uses: int | None = None,
) -> tuple[InvoiceLine, ...]:
    """The invoice line charging one division its cost share of a licence for a period.

    Args:
        licence_name: the licence as people know it ("Claims database").
        period: the period billed; its label and dates are printed.
        method: how the share was computed (see `costs.cost_shares`).
        share_cents: the division's share, in cents (0 or more).
        seats: seats the division holds, printed for per_seat shares.
        seats_total: the licence's seats, printed for per_seat shares.
        uses: uses in the period, printed for equal shares.

    Returns:
        One line of quantity 1 for the share, or no line when nothing is owed (method none or a
        zero share), so an invoice never carries $0.00 charges.

    Raises:
        InvalidInvoiceLine: when the share is negative.
    """
    method = ShareMethod(method)
    if share_cents < 0:
        raise InvalidInvoiceLine(f"A cost share cannot be negative ({format_usd(share_cents)}).")
    if method is ShareMethod.NONE or share_cents == 0:
        return ()
    if method is ShareMethod.EQUAL:
        basis = "equal split" if uses is None else f"equal split among {uses} uses"
    elif method is ShareMethod.PER_SEAT:
        if seats is None:
            basis = "per seat"
        elif seats_total is None:
            basis = f"{seats} seats"
        else:
            basis = f"{seats} of {seats_total} seats"
    else:
        basis = "fixed share"
    dates = f"{period.start.isoformat()} to {period.end.isoformat()}"
    when = f"{period.label} ({dates})" if period.label else dates
    description = f"{licence_name}: cost share for {when}, {basis}"
    return (InvoiceLine.priced(description, 1, share_cents),)
