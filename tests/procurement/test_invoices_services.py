"""Invoice services on SQLite and PostgreSQL: numbering, generation, status, permissions, CSV."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from marketplace import accounts
from marketplace.accounts import NotFound, ValidationFailed
from marketplace.auth import PermissionDenied
from marketplace.models import AuditEvent, Division
from procurement.invoicing import InvalidTransition, InvoiceNotEditable
from procurement.models import (
    Invoice,
    InvoiceLineRow,
    InvoiceSequence,
    Licence,
    ReuseRequest,
)
from procurement.services import invoices, licences, purchases
from procurement.services.invoices import InvoiceInput, InvoiceQuery, LineInput
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput
from tests.support import make_user, see_latest

CLI = "cli: test"
# 5 January 2026 at noon UTC: FY2026 in Washington.
NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
TODAY = date(2026, 1, 30)


def principal(db, email: str, division: str = "CDC", roles=("officer",)):
    return accounts.principal_for(db, make_user(db, email, division=division, roles=roles))


def division_id(db, code: str) -> int:
    return db.exec(select(Division.id).where(Division.code == code)).one()


def claims_licence(db, officer, *, share_method="equal", fixed_share="", seats="25") -> Licence:
    """The running example of docs/cost-definitions.md: CDC's $12,000.00 licence for FY2026."""
    purchase = purchases.record_purchase(
        db,
        officer,
        PurchaseInput(
            division="CDC",
            vendor="Acme Health Data LLC",
            product="Claims database",
            start_on="2025-10-01",
            current_end_on="2026-09-30",
            obligated="12000",
        ),
        today=date(2025, 10, 1),
    )
    return licences.save_licence(
        db,
        officer,
        purchase.id,
        LicenceInput(
            scope="department",
            seats=seats,
            term_start_on="2025-10-01",
            term_end_on="2026-09-30",
            reuse_policy="with_approval",
            price_per_seat="1200",
            share_method=share_method,
            fixed_share=fixed_share,
        ),
    )


def add_reuse(db, licence: Licence, requester, code: str, start, end, seats, status="active"):
    db.add(
        ReuseRequest(
            licence_id=licence.id,
            owner_division_id=division_id(db, "CDC"),
            requesting_division_id=division_id(db, code),
            requested_by_id=requester.id,
            contact_name="Requester",
            contact_email="requester@hhs.gov",
            purpose="Research",
            seats=seats,
            start_on=start,
            end_on=end,
            status=status,
            due_on=start,
        )
    )
    db.commit()


def running_example(db, **licence_options) -> tuple[object, Licence]:
    """CDC's licence reused by NIH (5 seats from 1 Nov), FDA (10 seats in December) and ACF
    (ended before FY2026 Q1), plus a denied FDA request that must never count."""
    officer = principal(db, "officer.cdc@hhs.gov")
    licence = claims_licence(db, officer, **licence_options)
    requester = principal(db, "someone.nih@hhs.gov", "NIH", ())
    add_reuse(db, licence, requester, "NIH", date(2025, 11, 1), date(2026, 9, 30), 5)
    add_reuse(db, licence, requester, "FDA", date(2025, 12, 1), date(2025, 12, 31), 10, "expired")
    add_reuse(db, licence, requester, "ACF", date(2025, 1, 1), date(2025, 9, 30), 2, "expired")
    add_reuse(db, licence, requester, "FDA", date(2025, 10, 1), date(2025, 12, 31), 7, "denied")
    return officer, licence


def hand_input(to: str = "NIH", unit: str = "1234.56", **changes) -> InvoiceInput:
    values = {
        "from_division": "CDC",
        "to_division": to,
        "from_agreement": "IAA-CDC-2026-0007",
        "to_agreement": "IPAC-NIH-775533",
        "period": "FY26Q1",
        "lines": (LineInput("Survey platform seats", "2", unit),),
    }
    values.update(changes)
    return InvoiceInput(**values)


def count(db, model) -> int:
    see_latest(db)
    return db.exec(select(func.count()).select_from(model)).one()


# ------------------------------------------------------------------ licence share method


def test_licence_form_sets_the_share_method_and_checks_the_fixed_amount(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    with pytest.raises(ValidationFailed) as missing:
        claims_licence(db, officer, share_method="fixed")
    assert "fixed_share" in missing.value.errors
    db.rollback()
    with pytest.raises(ValidationFailed) as bogus:
        claims_licence(db, officer, share_method="whoever-pays")
    assert "share_method" in bogus.value.errors
    db.rollback()
    with pytest.raises(ValidationFailed) as unlimited:
        claims_licence(db, officer, share_method="per_seat", seats="")
    assert "share_method" in unlimited.value.errors
    db.rollback()
    licence = claims_licence(db, officer, share_method="fixed", fixed_share="1,500.00")
    see_latest(db)
    stored = db.get(Licence, licence.id)
    assert (stored.share_method, stored.fixed_share_cents) == ("fixed", 150000)
    assert LicenceInput.of(stored).fixed_share == "1500.00"


# ------------------------------------------------------------------ generation


def test_generate_equal_shares_one_invoice_per_payer_and_is_idempotent(db):
    officer, licence = running_example(db, share_method="equal")
    report = invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    # $3,024.66 split three ways (CDC, FDA, NIH): $1,008.22 each; ACF ended before the quarter
    # and the denied request never counts.
    assert [(g.number, g.to_division, g.total_cents) for g in report.created] == [
        ("HHS-FY26-000001", "FDA", 100822),
        ("HHS-FY26-000002", "NIH", 100822),
    ]
    assert report.existing == 0
    see_latest(db)
    stored = db.exec(select(Invoice).order_by(Invoice.sequence)).all()
    assert {i.status for i in stored} == {"draft"}
    assert {i.period_label for i in stored} == {"FY2026 Q1"}
    assert all(i.licence_id == licence.id for i in stored)
    lines = db.exec(select(InvoiceLineRow).where(InvoiceLineRow.invoice_id == stored[1].id)).all()
    assert [(line.amount_cents, line.quantity) for line in lines] == [(100822, 1)]
    assert "equal split among 3 uses" in lines[0].description

    again = invoices.generate_invoices(db, CLI, "FY2026 Q1", now=NOW)
    assert again.created == [] and again.existing == 2
    assert count(db, Invoice) == 2

    # A voided generated invoice is not recreated, and keeps its number.
    invoices.void_invoice(db, officer, "HHS-FY26-000001", "Wrong licence")
    third = invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    assert third.created == [] and third.existing == 2
    assert count(db, Invoice) == 2
    see_latest(db)
    assert db.get(InvoiceSequence, 2026).last_sequence == 2
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.object_type == "invoice")).all()
    assert sorted(actions) == ["invoice.generate", "invoice.generate", "invoice.void"]


def test_generate_per_seat_bills_seats_and_leaves_zero_shares_out(db):
    running_example(db, share_method="per_seat")
    report = invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    # FDA 10 of 25 seats: $1,209.86; NIH 5 of 25: $604.93 (cost-definitions.md).
    assert [(g.to_division, g.total_cents) for g in report.created] == [
        ("FDA", 120986),
        ("NIH", 60493),
    ]
    see_latest(db)
    descriptions = db.exec(select(InvoiceLineRow.description)).all()
    assert any("10 of 25 seats" in text for text in descriptions)
    # FY2025 Q4: nobody reused it (ACF's reuse is before the purchase's performance) → nothing.
    empty = invoices.generate_invoices(db, CLI, "FY25Q4", now=NOW)
    assert empty.created == [] and empty.existing == 0


def test_generate_reports_licences_it_cannot_bill_and_refuses_bad_periods(db):
    _, licence = running_example(db, share_method="equal")
    stored = db.get(Licence, licence.id)
    stored.share_method = "fixed"  # without an amount: cannot be billed, reported instead
    db.add(stored)
    db.commit()
    report = invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    assert report.created == []
    assert len(report.problems) == 1 and "Claims database" in report.problems[0]
    for bad in ("", "2026Q1", "FY26Q5", "FY26Q1; drop table invoice"):
        with pytest.raises(ValidationFailed) as refused:
            invoices.generate_invoices(db, CLI, bad, now=NOW)
        assert "period" in refused.value.errors
    assert count(db, Invoice) == 0


def test_an_officer_generates_only_for_their_own_division(db):
    running_example(db, share_method="equal")
    nih_officer = principal(db, "officer.nih@hhs.gov", "NIH")
    assert invoices.generate_invoices(db, nih_officer, "FY26Q1", now=NOW).created == []
    viewer = principal(db, "viewer.cdc@hhs.gov", "CDC", ("viewer",))
    with pytest.raises(PermissionDenied):
        invoices.generate_invoices(db, viewer, "FY26Q1", now=NOW)
    cdc_officer = principal(db, "officer2.cdc@hhs.gov", "CDC")
    assert len(invoices.generate_invoices(db, cdc_officer, "FY26Q1", now=NOW).created) == 2


# ------------------------------------------------------------------ numbering


def test_numbers_follow_the_fiscal_year_in_washington_without_gaps(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    moments = [
        datetime(2025, 9, 30, 12, 0, tzinfo=UTC),  # FY2025
        datetime(2025, 10, 1, 2, 0, tzinfo=UTC),  # 22:00 on 30 September in New York: FY2025
        datetime(2025, 10, 1, 4, 30, tzinfo=UTC),  # 00:30 on 1 October in New York: FY2026
        datetime(2025, 10, 2, 9, 0, tzinfo=UTC),  # FY2026
    ]
    numbers = [invoices.create_invoice(db, officer, hand_input(), now=m).number for m in moments]
    assert numbers == [
        "HHS-FY25-000001",
        "HHS-FY25-000002",
        "HHS-FY26-000001",
        "HHS-FY26-000002",
    ]
    # A refused invoice takes no number.
    with pytest.raises(ValidationFailed):
        invoices.create_invoice(db, officer, hand_input(unit="-1"), now=moments[-1])
    db.rollback()
    later = invoices.create_invoice(db, officer, hand_input(), now=moments[-1])
    assert later.number == "HHS-FY26-000003"
    see_latest(db)
    assert {s.fiscal_year: s.last_sequence for s in db.exec(select(InvoiceSequence))} == {
        2025: 2,
        2026: 3,
    }


def test_invoices_created_at_once_get_numbers_one_to_n(database):
    """Separate sessions (own connections) creating invoices together: 1..N, no gap, no repeat."""
    with database.session() as db:
        officer = principal(db, "officer.cdc@hhs.gov")
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with Session(database.engine, expire_on_commit=False) as session:
                # Each session reads first, as a request does, before it writes.
                session.exec(select(func.count()).select_from(Division)).one()
                barrier.wait(timeout=30)
                invoice = invoices.create_invoice(session, officer, hand_input(), now=NOW)
                numbers.append(invoice.number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(numbers) == [f"HHS-FY26-{n:06d}" for n in range(1, threads_count + 1)]


def test_generation_runs_at_once_create_each_invoice_once(database):
    with database.session() as db:
        running_example(db, share_method="equal")
    barrier = threading.Barrier(3)
    created: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(database.engine, expire_on_commit=False) as session:
                barrier.wait(timeout=30)
                created.append(len(invoices.generate_invoices(session, CLI, "FY26Q1").created))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(created) == [0, 0, 2]
    with database.session() as db:
        assert db.exec(select(func.count()).select_from(Invoice)).one() == 2


# ------------------------------------------------------------------ status and editing


def test_issue_pay_and_void_follow_the_rules_and_are_audited(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    draft = invoices.create_invoice(db, officer, hand_input(), now=NOW)
    assert draft.total_cents == 246912  # 2 × $1,234.56

    edited = invoices.update_invoice(
        db, officer, draft.number, hand_input(lines=(LineInput("Seats", "3", "100"),))
    )
    assert edited.total_cents == 30000 and edited.number == draft.number

    with pytest.raises(InvalidTransition):
        invoices.record_payment(db, officer, draft.number, "2026-01-30", "IPAC-1", today=TODAY)
    issued = invoices.issue_invoice(db, officer, draft.number, today=TODAY)
    assert (issued.status, issued.issued_on, issued.due_on) == (
        "issued",
        TODAY,
        date(2026, 3, 1),  # 30 days after 30 January 2026
    )
    with pytest.raises(InvoiceNotEditable, match="void and reissue"):
        invoices.update_invoice(db, officer, draft.number, hand_input())
    with pytest.raises(InvalidTransition):
        invoices.issue_invoice(db, officer, draft.number, today=TODAY)

    with pytest.raises(ValidationFailed) as missing:
        invoices.record_payment(db, officer, draft.number, "", " ", today=TODAY)
    assert set(missing.value.errors) == {"paid_on", "payment_reference"}
    with pytest.raises(ValidationFailed) as early:
        invoices.record_payment(db, officer, draft.number, "2026-01-01", "IPAC-1", today=TODAY)
    assert "paid_on" in early.value.errors
    paid = invoices.record_payment(
        db, officer, draft.number, "2026-01-30", "IPAC-2026-000042", today=TODAY
    )
    assert (paid.status, paid.paid_on, paid.payment_reference) == (
        "paid",
        TODAY,
        "IPAC-2026-000042",
    )
    with pytest.raises(InvalidTransition):
        invoices.void_invoice(db, officer, draft.number, "Too late")

    second = invoices.create_invoice(db, officer, hand_input(), now=NOW)
    with pytest.raises(ValidationFailed):
        invoices.void_invoice(db, officer, second.number, "   ")
    voided = invoices.void_invoice(db, officer, second.number, "Duplicate of HHS-FY26-000001")
    assert (voided.status, voided.number) == ("void", "HHS-FY26-000002")
    assert count(db, Invoice) == 2  # never deleted
    actions = db.exec(
        select(AuditEvent.action).where(AuditEvent.object_type == "invoice").order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "invoice.create",
        "invoice.update",
        "invoice.issue",
        "invoice.payment",
        "invoice.create",
        "invoice.void",
    ]


def test_negative_empty_and_self_invoices_are_refused_and_nothing_is_written(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    cases = [
        (hand_input(unit="-5.00"), "line-1-unit"),
        (hand_input(unit="(5.00)"), "line-1-unit"),
        (hand_input(lines=(LineInput("Seats", "-2", "5"),)), "line-1-quantity"),
        (hand_input(lines=(LineInput("Seats", "²", "5"),)), "line-1-quantity"),
        (hand_input(lines=(LineInput("", "1", "5"),)), "line-1-description"),
        (hand_input(lines=()), "lines"),
        (hand_input(to="CDC"), "to_division"),
        (hand_input(to="NOPE"), "to_division"),
        (hand_input(period="next quarter"), "period"),
        (hand_input(terms_days="-1"), "terms_days"),
        (hand_input(from_division="NIH"), "from_division"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            invoices.create_invoice(db, officer, data, now=NOW)
        assert field in refused.value.errors, (data, refused.value.errors)
        db.rollback()
    assert count(db, Invoice) == 0
    assert count(db, InvoiceSequence) == 0


# ------------------------------------------------------------------ who may read and change


def test_only_the_parties_and_leadership_read_and_only_the_issuer_changes(db):
    cdc_officer = principal(db, "officer.cdc@hhs.gov")
    invoice = invoices.create_invoice(db, cdc_officer, hand_input(to="NIH"), now=NOW)
    number = invoice.number
    nih_officer = principal(db, "officer.nih@hhs.gov", "NIH")
    nih_viewer = principal(db, "viewer.nih@hhs.gov", "NIH", ("viewer",))
    cdc_steward = principal(db, "steward.cdc@hhs.gov", "CDC", ("steward",))
    hrsa_officer = principal(db, "officer.hrsa@hhs.gov", "HRSA")
    leader = principal(db, "leader@hhs.gov", "HHS", ("leadership",))

    view = invoices.invoice_view(db, nih_viewer, number)
    assert view.to_division.code == "NIH" and not view.can_change and not view.can_issue
    assert invoices.invoice_view(db, cdc_officer, number).can_issue
    assert not invoices.invoice_view(db, leader, number).can_change
    with pytest.raises(PermissionDenied):
        invoices.invoice_view(db, hrsa_officer, number)
    with pytest.raises(PermissionDenied):
        invoices.invoice_document(db, hrsa_officer, number)
    with pytest.raises(NotFound):
        invoices.invoice_view(db, leader, "HHS-FY26-000999")
    with pytest.raises(NotFound):
        invoices.invoice_view(db, leader, "../../etc/passwd")

    for outsider in (nih_officer, cdc_steward, leader):
        with pytest.raises(PermissionDenied):
            invoices.issue_invoice(db, outsider, number, today=TODAY)
        with pytest.raises(PermissionDenied):
            invoices.void_invoice(db, outsider, number, "Not mine")
        with pytest.raises(PermissionDenied):
            invoices.update_invoice(db, outsider, number, hand_input())
    with pytest.raises(PermissionDenied):
        invoices.create_invoice(db, cdc_steward, hand_input(), now=NOW)

    def visible(actor) -> list[str]:
        return [
            row.invoice.number for row in invoices.list_invoices(db, actor, InvoiceQuery()).rows
        ]

    assert visible(nih_viewer) == [number]
    assert visible(hrsa_officer) == []
    assert visible(leader) == [number]
    see_latest(db)
    assert db.get(Invoice, invoice.id).status == "draft"


def test_list_filters_and_csv_export_are_spreadsheet_safe(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    first = invoices.create_invoice(
        db, officer, hand_input(from_agreement='=HYPERLINK("http://evil")'), now=NOW
    )
    invoices.create_invoice(db, officer, hand_input(to="FDA", period="FY26Q2"), now=NOW)
    invoices.issue_invoice(db, officer, first.number, today=TODAY)

    def numbers(**filters) -> list[str]:
        query = invoices.clean_query(**filters)
        return [row.invoice.number for row in invoices.list_invoices(db, officer, query).rows]

    assert numbers() == ["HHS-FY26-000002", "HHS-FY26-000001"]
    assert numbers(status="issued") == ["HHS-FY26-000001"]
    assert numbers(to_division="fda") == ["HHS-FY26-000002"]
    assert numbers(from_division="NIH") == []
    assert numbers(period="FY26Q2") == ["HHS-FY26-000002"]
    assert numbers(period="FY2026 Q1") == ["HHS-FY26-000001"]
    assert numbers(fiscal_year="FY25") == []
    assert numbers(fiscal_year="2026", status="bogus") == ["HHS-FY26-000002", "HHS-FY26-000001"]

    text = "".join(invoices.export_csv(db, officer, invoices.clean_query(status="issued")))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["number"] for row in rows] == ["HHS-FY26-000001"]
    assert rows[0]["from_agreement"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["total_dollars"] == "2469.12"
    assert rows[0]["due_on"] == "2026-03-01"
    assert rows[0]["to_division"] == "NIH"


def test_pdf_document_carries_both_parties_references_and_totals(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    invoice = invoices.create_invoice(db, officer, hand_input(), now=NOW)
    document = invoices.invoice_document(db, officer, invoice.number)
    assert document.from_party.agreement_reference == "IAA-CDC-2026-0007"
    assert document.to_party.agreement_reference == "IPAC-NIH-775533"
    assert document.totals.total_cents == 246912
    assert document.period_label == "FY2026 Q1"
    assert document.created_on == date(2026, 1, 5)
    number, pdf = invoices.invoice_pdf(db, officer, invoice.number.lower())
    assert number == invoice.number and pdf.startswith(b"%PDF")


def test_summary_rows_are_the_cli_contract(db):
    officer = principal(db, "officer.cdc@hhs.gov")
    invoices.create_invoice(db, officer, hand_input(), now=NOW)
    assert invoices.summary_rows(db) == [
        {
            "number": "HHS-FY26-000001",
            "status": "draft",
            "total_cents": 246912,
            "from_division": "CDC",
            "to_division": "NIH",
        }
    ]


def test_demo_invoices_show_every_status_and_load_twice_without_duplicates(db):
    from procurement.demo_invoices import demo_invoices

    running_example(db, share_method="none")
    assert demo_invoices(db, now=NOW) == {"invoices_created": 4}
    see_latest(db)
    stored = db.exec(select(Invoice)).all()
    assert sorted(i.status for i in stored) == ["draft", "issued", "paid", "void"]
    # FY2026 Q1: NIH and FDA; Q2 (the quarter of NOW): NIH only. One hand-made fills in.
    assert sum(1 for i in stored if i.generation_key) == 3
    assert demo_invoices(db, now=NOW) == {"invoices_created": 0}
    assert count(db, Invoice) == 4
