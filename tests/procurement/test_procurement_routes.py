"""Who may open the procurement pages: every route against every role (all roles are in CDC)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.models import User
from procurement.services import purchases, vendors
from procurement.services.purchases import PurchaseInput
from tests.route_matrix import ROLES, SIGNED_IN, check_route_access, role_clients

OFFICER = {"officer"}

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/procurement/purchases", SIGNED_IN),
    ("GET", "/procurement/purchases?q=claims&status=active", SIGNED_IN),
    ("GET", "/procurement/purchases/export.csv", SIGNED_IN),
    ("GET", "/procurement/purchases/1", SIGNED_IN),
    ("GET", "/procurement/purchases/new", OFFICER),
    ("POST", "/procurement/purchases/new", OFFICER),
    ("GET", "/procurement/purchases/1/edit", OFFICER),
    ("POST", "/procurement/purchases/1/edit", OFFICER),
    ("GET", "/procurement/purchases/1/licence", OFFICER),
    ("POST", "/procurement/purchases/1/licence", OFFICER),
    ("POST", "/procurement/purchases/1/listing", OFFICER),
    ("POST", "/procurement/purchases/1/documents", OFFICER),
    ("GET", "/procurement/vendors", SIGNED_IN),
    ("GET", "/procurement/vendors/1", SIGNED_IN),
    ("POST", "/procurement/vendors/1/merge", OFFICER),
    ("GET", "/procurement/renewals", SIGNED_IN),
    ("GET", "/procurement/imports", OFFICER),
    ("POST", "/procurement/imports", OFFICER),
    ("GET", "/procurement/imports/template.csv", SIGNED_IN),
]


def seed(db):
    officer = db.exec(select(User).where(User.email == "officer@hhs.gov")).one()
    principal = accounts.principal_for(db, officer)
    purchases.record_purchase(
        db,
        principal,
        PurchaseInput(
            division="CDC",
            vendor="Acme Health Data LLC",
            product="Claims database",
            start_on="2026-01-01",
            current_end_on="2030-12-31",
            obligated="1000",
        ),
        today=date(2026, 11, 26),
    )
    vendors.find_or_create_vendor(db, "Other Vendor Inc")
    db.commit()


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("procurement-matrix"), seed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
