"""Who may open the duplicate-procurement pages: every route against every role (all in CDC)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.models import User
from procurement.services import purchases
from procurement.services.purchases import PurchaseInput
from tests.route_matrix import ROLES, SIGNED_IN, check_route_access, role_clients

REVIEWERS = {"officer", "leadership"}

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/procurement/duplicates", REVIEWERS),
    # The form posts no pair here: reviewers pass the guard and get a 404, not a refusal.
    ("POST", "/procurement/duplicates/decide", REVIEWERS),
    ("GET", "/procurement/check", SIGNED_IN),
    ("GET", "/procurement/check?vendor=Acme&text=claims+database&division=CDC", SIGNED_IN),
    ("GET", "/procurement/check?vendor=Acme&text=claims", SIGNED_IN),
    ("GET", "/procurement/consolidation", REVIEWERS),
    ("GET", "/procurement/consolidation?page=2", REVIEWERS),
    ("GET", "/procurement/duplicates?page=x", REVIEWERS),
    ("POST", "/procurement/duplicates/scan", REVIEWERS),
    # Officers only (their own division); an empty form is a 422 with field errors.
    ("POST", "/procurement/check/outcome", {"officer"}),
]


def seed(db):
    officer = db.exec(select(User).where(User.email == "officer@hhs.gov")).one()
    purchases.record_purchase(
        db,
        accounts.principal_for(db, officer),
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


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("duplicates-matrix"), seed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
