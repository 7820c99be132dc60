"""Invoice pages through the app on SQLite and PostgreSQL: forms, actions, CSV, PDF, refusals."""

from __future__ import annotations

import csv
import io
import re

from pypdf import PdfReader
from sqlmodel import select

from marketplace.models import AuditEvent
from marketplace.types import utcnow
from procurement.models import Invoice
from procurement.services import invoices
from procurement.services.common import today_at_hhs
from tests.procurement.test_invoices_services import CLI, NOW, running_example
from tests.support import login, make_user, post_form, see_latest, text_of

BASE = "/procurement/invoices"
FORM = {
    "from_division": "CDC",
    "to_division": "NIH",
    "from_agreement": "IAA-CDC-2026-0007",
    "to_agreement": "IPAC-NIH-775533",
    "period": "FY26Q1",
    "terms_days": "30",
    "line_description": ["Survey platform seats", "Support hours", ""],
    "line_quantity": ["2", "3", "1"],
    "line_unit_price": ["1,234.56", "$100", ""],
    "notes": "Quarterly charge",
}


def sign_in(db, client, email="officer@hhs.gov", division="CDC", roles=("officer",)):
    see_latest(db)  # end the test session's snapshot: SQLite refuses a write from a stale one
    make_user(db, email, division=division, roles=roles)
    login(client, email)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_create_with_field_errors_then_issue_pay_and_download(db, client):
    sign_in(db, client)
    bad = post_form(
        client,
        f"{BASE}/new",
        {**FORM, "line_unit_price": ["-5", "$100", ""], "to_division": "CDC"},
    )
    assert bad.status_code == 422
    page = text_of(bad.text)
    assert "Please correct 2 problems" in page
    assert "amounts cannot be negative" in page and "cannot invoice itself" in page
    assert 'value="Support hours"' in bad.text  # the form keeps what was typed
    htmx = post_form(
        client, f"{BASE}/new", {**FORM, "period": "soon"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200 and htmx.text.lstrip().startswith('<div id="invoice-form">')
    see_latest(db)
    assert db.exec(select(Invoice)).all() == []

    created = post_form(client, f"{BASE}/new", FORM)
    assert created.status_code == 303
    url = created.headers["location"]
    assert re.fullmatch(rf"{BASE}/HHS-FY\d\d-000001", url)
    number = url.rsplit("/", 1)[1]
    detail = client.get(url)
    assert detail.status_code == 200
    text = text_of(detail.text)
    assert f"Invoice {number}" in text and "$2,769.12" in text  # 2 × 1,234.56 + 3 × 100
    assert "Issue invoice" in text and "Edit draft" in text

    issued = post_form(client, f"{url}/issue")
    assert issued.status_code == 303
    after = text_of(client.get(url).text)
    assert "Issued" in after and "Edit draft" not in after and "Record payment" in after
    refused_edit = post_form(client, f"{url}/edit", FORM)
    assert refused_edit.status_code == 303
    assert "void and reissue" in text_of(client.get(url).text)

    missing = post_form(client, f"{url}/pay", {"paid_on": "", "payment_reference": ""})
    assert missing.status_code == 422 and "Enter the payment reference" in text_of(missing.text)
    paid = post_form(
        client,
        f"{url}/pay",
        {"paid_on": today_at_hhs(utcnow()).isoformat(), "payment_reference": "IPAC-42"},
    )
    assert paid.status_code == 303
    see_latest(db)
    stored = db.exec(select(Invoice).where(Invoice.number == number)).one()
    assert (stored.status, stored.payment_reference, stored.total_cents) == (
        "paid",
        "IPAC-42",
        276912,
    )
    again = post_form(client, f"{url}/void", {"void_reason": "late"})
    assert again.status_code == 409 and "cannot go from paid to void" in text_of(again.text)

    pdf = client.get(f"{url}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    printed = pdf_text(pdf.content)
    assert number in printed
    assert "$2,769.12" in printed and "$2,469.12" in printed and "$300.00" in printed
    assert "IAA-CDC-2026-0007" in printed and "IPAC-NIH-775533" in printed
    assert "IPAC-42" in printed and re.search(r"Page 1 of \d", printed)


def test_generate_page_reports_what_it_created_then_nothing(db, client):
    running_example(db, share_method="equal")
    sign_in(db, client, "officer2.cdc@hhs.gov")
    bad = post_form(client, f"{BASE}/generate", {"period": "next year"})
    assert bad.status_code == 422 and "Unrecognised period" in text_of(bad.text)
    first = post_form(client, f"{BASE}/generate", {"period": "FY26Q1"})
    assert first.status_code == 200
    text = text_of(first.text)
    assert "FY2026 Q1: created 2 invoices" in text and "$1,008.22" in text
    again = post_form(
        client, f"{BASE}/generate", {"period": "fy26q1"}, headers={"HX-Request": "true"}
    )
    assert again.text.lstrip().startswith('<div id="invoice-generate">')
    assert "created 0 invoices" in text_of(again.text) and "2 charges already invoiced" in text_of(
        again.text
    )


def test_list_filters_fragment_and_csv(db, client):
    sign_in(db, client)
    for to in ("NIH", "FDA"):
        post_form(client, f"{BASE}/new", {**FORM, "to_division": to, "from_agreement": "@SUM(A1)"})
    page = client.get(BASE)
    assert page.status_code == 200
    assert "2 invoices, $5,538.24 in all" in text_of(page.text)
    see_latest(db)
    first, second = db.exec(select(Invoice.number).order_by(Invoice.sequence)).all()
    fragment = client.get(f"{BASE}?to_division=FDA", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="invoice-results"')
    assert second in fragment.text and first not in fragment.text
    export = client.get(f"{BASE}/export.csv?to_division=NIH")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["number"], r["total_dollars"], r["from_agreement"]) for r in rows] == [
        (first, "2769.12", "'@SUM(A1)")
    ]


def test_outsiders_are_refused_and_unknown_numbers_are_404(db, client):
    running_example(db, share_method="equal")
    invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    number = "HHS-FY26-000002"  # CDC to NIH
    sign_in(db, client, "officer.hrsa@hhs.gov", "HRSA")
    assert client.get(f"{BASE}/{number}").status_code == 403
    assert client.get(f"{BASE}/{number}.pdf").status_code == 403
    assert "0 invoices" in text_of(client.get(BASE).text)
    assert post_form(client, f"{BASE}/{number}/issue").status_code == 403
    for missing in ("HHS-FY26-000999", "nonsense", "HHS-FY26-000999.pdf", "%00"):
        assert client.get(f"{BASE}/{missing}").status_code == 404
    assert post_form(client, f"{BASE}/nonsense/void", {"void_reason": "x"}).status_code == 404
    see_latest(db)
    denied = db.exec(select(AuditEvent).where(AuditEvent.action == "access.denied")).all()
    assert len(denied) >= 3


def test_the_paying_division_reads_but_cannot_change(db, client):
    running_example(db, share_method="equal")
    invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    number = "HHS-FY26-000002"  # CDC to NIH
    sign_in(db, client, "officer.nih@hhs.gov", "NIH")
    page = client.get(f"{BASE}/{number}")
    assert page.status_code == 200 and "Issue invoice" not in page.text
    assert "$1,008.22" in text_of(page.text)
    assert post_form(client, f"{BASE}/{number}/issue").status_code == 403
    assert post_form(client, f"{BASE}/{number}/void", {"void_reason": "no"}).status_code == 403
    assert client.get(f"{BASE}/{number}/edit").status_code == 403
    see_latest(db)
    assert db.exec(select(Invoice.status).where(Invoice.number == number)).one() == "draft"


def test_licence_form_offers_and_saves_the_share_method(db, client):
    sign_in(db, client)
    created = post_form(
        client,
        "/procurement/purchases/new",
        {
            "division": "CDC",
            "vendor": "Acme",
            "product": "Claims",
            "start_on": "2025-10-01",
            "current_end_on": "2026-09-30",
            "obligated": "12000",
        },
    )
    url = created.headers["location"]
    form = client.get(f"{url}/licence")
    assert 'name="share_method"' in form.text and 'name="fixed_share"' in form.text
    licence = {
        "scope": "department",
        "seats": "25",
        "term_start_on": "2025-10-01",
        "term_end_on": "2026-09-30",
        "reuse_policy": "with_approval",
        "share_method": "fixed",
        "fixed_share": "",
    }
    bad = post_form(client, f"{url}/licence", licence)
    assert bad.status_code == 422 and "Enter the amount each reusing division pays" in bad.text
    ok = post_form(client, f"{url}/licence", {**licence, "fixed_share": "1500"})
    assert ok.status_code == 303
    edit = client.get(f"{url}/licence")
    assert 'value="fixed" selected' in edit.text and 'value="1500.00"' in edit.text
