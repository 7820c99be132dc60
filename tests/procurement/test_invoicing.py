"""Worked cases for procurement.invoicing: statuses, numbering, lines, totals, money display."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import product

import pytest

from procurement.costs import Period, ReuseSpan, cost_shares, fiscal_quarter_bounds
from procurement.invoicing import (
    InvalidInvoiceLine,
    InvalidTransition,
    InvoiceLine,
    InvoiceNotEditable,
    InvoiceStatus,
    Totals,
    can_transition,
    due_date,
    ensure_editable,
    ensure_transition,
    format_invoice_number,
    format_usd,
    invoice_fiscal_year,
    invoice_lines_for_share,
    invoice_totals,
    next_sequence,
    parse_invoice_number,
)

D = date
ALLOWED = {("draft", "issued"), ("issued", "paid"), ("draft", "void"), ("issued", "void")}


@pytest.mark.parametrize("from_status,to_status", list(product(InvoiceStatus, InvoiceStatus)))
def test_can_transition(from_status, to_status):
    assert can_transition(from_status, to_status) is ((from_status, to_status) in ALLOWED)


@pytest.mark.parametrize(
    "from_status,to_status",
    [
        ("paid", "void"),
        ("void", "issued"),
        ("paid", "draft"),
        ("issued", "draft"),
        ("draft", "paid"),
    ],
)
def test_ensure_transition_refuses(from_status, to_status):
    with pytest.raises(InvalidTransition, match=f"cannot go from {from_status} to {to_status}"):
        ensure_transition(from_status, to_status)


def test_ensure_transition_allows():
    ensure_transition(InvoiceStatus.DRAFT, InvoiceStatus.ISSUED)


@pytest.mark.parametrize(
    "status,message",
    [
        ("issued", "void and reissue instead"),
        ("paid", "paid and can no longer be edited"),
        ("void", "void and can no longer be edited"),
    ],
)
def test_ensure_editable_refuses(status, message):
    with pytest.raises(InvoiceNotEditable, match=message):
        ensure_editable(status)


def test_ensure_editable_allows_drafts():
    ensure_editable(InvoiceStatus.DRAFT)


EASTERN_WINTER = timezone(timedelta(hours=-5))
PACIFIC_SUMMER = timezone(timedelta(hours=-7))


@pytest.mark.parametrize(
    "created_at,expected",
    [
        (datetime(2025, 10, 1, 2, 0, tzinfo=UTC), 2025),  # 22:00 on 30 Sep in New York (EDT)
        (datetime(2025, 10, 1, 3, 59, tzinfo=UTC), 2025),  # 23:59 EDT
        (datetime(2025, 10, 1, 4, 0, tzinfo=UTC), 2026),  # midnight EDT
        (datetime(2025, 10, 1, 4, 30, tzinfo=UTC), 2026),  # 00:30 EDT on 1 Oct
        (datetime(2025, 9, 30, 23, 30, tzinfo=PACIFIC_SUMMER), 2026),  # 02:30 EDT on 1 Oct
        (datetime(2026, 1, 15, 12, 0, tzinfo=EASTERN_WINTER), 2026),
        (datetime(2026, 9, 30, 23, 59, tzinfo=UTC), 2026),  # 19:59 EDT, still FY2026
    ],
)
def test_invoice_fiscal_year(created_at, expected):
    assert invoice_fiscal_year(created_at) == expected


def test_invoice_fiscal_year_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        invoice_fiscal_year(datetime(2025, 10, 1, 2, 0))


@pytest.mark.parametrize(
    "fy,seq,expected",
    [
        (2026, 123, "HHS-FY26-000123"),
        (2025, 1, "HHS-FY25-000001"),
        (2030, 999_999, "HHS-FY30-999999"),
        (2000, 42, "HHS-FY00-000042"),
    ],
)
def test_format_and_parse_invoice_number(fy, seq, expected):
    assert format_invoice_number(fy, seq) == expected
    assert parse_invoice_number(expected) == (fy, seq)


@pytest.mark.parametrize(
    "fy,seq,message",
    [
        (2026, 0, "1 to 999999"),
        (2026, 1_000_000, "1 to 999999"),
        (1999, 1, "2000 to 2099"),
        (2100, 1, "2000 to 2099"),
        (26, 1, "2000 to 2099"),  # a two-digit year is a bug upstream
    ],
)
def test_format_invoice_number_errors(fy, seq, message):
    with pytest.raises(ValueError, match=message):
        format_invoice_number(fy, seq)


@pytest.mark.parametrize(
    "text,expected",
    [(" hhs-fy26-000123 ", (2026, 123)), ("HHS-FY27-100000", (2027, 100_000))],
)
def test_parse_invoice_number(text, expected):
    assert parse_invoice_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["HHS-FY26-123", "HHS-FY2026-000123", "HHS-FY26-000000", "INV-FY26-000123", "", "HHS-FY26"],
)
def test_parse_invoice_number_errors(text):
    with pytest.raises(ValueError, match="Not an invoice number"):
        parse_invoice_number(text)


@pytest.mark.parametrize("last_seq,expected", [(None, 1), (1, 2), (41, 42), (999_998, 999_999)])
def test_next_sequence(last_seq, expected):
    assert next_sequence(last_seq) == expected


@pytest.mark.parametrize("last_seq", [0, -1, 999_999])
def test_next_sequence_errors(last_seq):
    with pytest.raises(ValueError):
        next_sequence(last_seq)


@pytest.mark.parametrize(
    "description,quantity,unit,amount,message",
    [
        ("Seats", 1, -500, -500, r"cannot be negative \(-\$5.00 per unit, -\$5.00 in all\)"),
        ("Seats", 2, 500, -1_000, "cannot be negative"),
        ("Seats", 2, 500, 999, r"Amount \$9.99 is not 2 × \$5.00"),
        ("Seats", 0, 500, 0, "Quantity must be 1 or more"),
        ("  ", 1, 500, 500, "needs a description"),
    ],
)
def test_invoice_line_validation(description, quantity, unit, amount, message):
    with pytest.raises(InvalidInvoiceLine, match=message):
        InvoiceLine(description, quantity, unit, amount)


@pytest.mark.parametrize(
    "lines,expected",
    [
        ([], Totals(0, 0)),
        ([InvoiceLine.priced("Share", 1, 302_466)], Totals(302_466, 302_466)),
        (
            [InvoiceLine.priced("Seats", 5, 24_000), InvoiceLine.priced("Share", 1, 1)],
            Totals(120_001, 120_001),
        ),
        ([InvoiceLine.priced("Waived", 1, 0)], Totals(0, 0)),
    ],
)
def test_invoice_totals(lines, expected):
    assert invoice_totals(lines) == expected


@pytest.mark.parametrize(
    "issued_on,terms_days,expected",
    [
        (D(2026, 1, 30), 30, D(2026, 3, 1)),  # February has 28 days in 2026
        (D(2024, 1, 30), 30, D(2024, 2, 29)),  # …and 29 in 2024
        (D(2025, 9, 15), 30, D(2025, 10, 15)),  # across the fiscal year end
        (D(2025, 12, 15), 45, D(2026, 1, 29)),
        (D(2025, 12, 15), 0, D(2025, 12, 15)),
    ],
)
def test_due_date(issued_on, terms_days, expected):
    assert due_date(issued_on, terms_days) == expected


def test_due_date_refuses_negative_terms():
    with pytest.raises(ValueError, match="negative"):
        due_date(D(2026, 1, 1), -1)


@pytest.mark.parametrize(
    "cents,expected",
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (100, "$1.00"),
        (123_456, "$1,234.56"),
        (10_000_000_000, "$100,000,000.00"),
        (-500, "-$5.00"),
        (-1, "-$0.01"),
        (-123_456, "-$1,234.56"),
    ],
)
def test_format_usd(cents, expected):
    assert format_usd(cents) == expected


Q1 = fiscal_quarter_bounds(2026, 1)


@pytest.mark.parametrize(
    "period,method,share,options,description",
    [
        (
            Q1,
            "equal",
            100_822,
            {"uses": 3},
            "Claims database: cost share for FY2026 Q1 (2025-10-01 to 2025-12-31), "
            "equal split among 3 uses",
        ),
        (
            Q1,
            "per_seat",
            60_493,
            {"seats": 5, "seats_total": 25},
            "Claims database: cost share for FY2026 Q1 (2025-10-01 to 2025-12-31), 5 of 25 seats",
        ),
        (
            Q1,
            "fixed",
            50_000,
            {},
            "Claims database: cost share for FY2026 Q1 (2025-10-01 to 2025-12-31), fixed share",
        ),
        (
            Period(D(2025, 11, 1), D(2025, 11, 30)),
            "equal",
            1_000,
            {},
            "Claims database: cost share for 2025-11-01 to 2025-11-30, equal split",
        ),
    ],
)
def test_invoice_lines_for_share(period, method, share, options, description):
    lines = invoice_lines_for_share("Claims database", period, method, share, **options)
    assert lines == (InvoiceLine(description, 1, share, share),)


@pytest.mark.parametrize("method,share", [("none", 0), ("none", 500), ("equal", 0)])
def test_invoice_lines_for_share_skips_nothing_owed(method, share):
    assert invoice_lines_for_share("Claims database", Q1, method, share) == ()


def test_invoice_lines_for_share_refuses_negative_shares():
    with pytest.raises(InvalidInvoiceLine, match=r"negative \(-\$0.01\)"):
        invoice_lines_for_share("Claims database", Q1, "equal", -1)


def test_invoices_for_every_share_add_up_to_the_shares():
    reuses = [ReuseSpan("NIH", Q1.start), ReuseSpan("FDA", Q1.start)]
    shares = cost_shares(302_466, "CDC", reuses, "equal")
    invoiced = {
        division: invoice_totals(invoice_lines_for_share("Claims", Q1, "equal", share, uses=3))
        for division, share in shares.items()
    }
    assert invoiced == {"FDA": Totals(100_822, 100_822), "NIH": Totals(100_822, 100_822)}
