"""Who may open the invoice pages: every route against every role (all roles are in CDC).

The seeded invoice goes from CDC to NIH, so every CDC role may read it; only CDC's officer may
change it. Reading by a third division is covered in test_invoices_http.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.models import User
from procurement.services import invoices
from procurement.services.invoices import InvoiceInput, LineInput
from tests.route_matrix import ROLES, SIGNED_IN, check_route_access, role_clients

OFFICER = {"officer"}
NUMBER = "HHS-FY26-000001"
ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/procurement/invoices", SIGNED_IN),
    (
        "GET",
        "/procurement/invoices?status=draft&from_division=CDC&fy=2026&period=FY26Q1",
        SIGNED_IN,
    ),
    ("GET", "/procurement/invoices/export.csv", SIGNED_IN),
    ("GET", f"/procurement/invoices/{NUMBER}", SIGNED_IN),
    ("GET", f"/procurement/invoices/{NUMBER}.pdf", SIGNED_IN),
    ("GET", "/procurement/invoices/new", OFFICER),
    ("POST", "/procurement/invoices/new", OFFICER),
    ("GET", "/procurement/invoices/generate", OFFICER),
    ("POST", "/procurement/invoices/generate", OFFICER),
    ("GET", f"/procurement/invoices/{NUMBER}/edit", OFFICER),
    ("POST", f"/procurement/invoices/{NUMBER}/edit", OFFICER),
    # Empty forms: the officer gets field errors, everyone else a refusal.
    ("POST", f"/procurement/invoices/{NUMBER}/pay", OFFICER),
    ("POST", f"/procurement/invoices/{NUMBER}/void", OFFICER),
    # Issues the draft for the officer: the routes above stay allowed or refused either way.
    ("POST", f"/procurement/invoices/{NUMBER}/issue", OFFICER),
]


def seed(db):
    officer = db.exec(select(User).where(User.email == "officer@hhs.gov")).one()
    invoices.create_invoice(
        db,
        accounts.principal_for(db, officer),
        InvoiceInput(
            from_division="CDC",
            to_division="NIH",
            period="FY26Q1",
            lines=(LineInput("Claims database share", "1", "1008.22"),),
        ),
        now=datetime(2026, 1, 5, 17, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("invoices-matrix"), seed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
