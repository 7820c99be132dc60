"""Who may open the reuse and notification pages: every route against every role (all in CDC).

The seeded licence belongs to NIH and a CDC viewer asked to reuse it, so CDC accounts may read
the request but none may decide on it (only NIH's approvers may).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.models import User
from procurement.services import licences, purchases
from procurement.services import reuse as reuse_service
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput
from tests.route_matrix import ROLES, SIGNED_IN, check_route_access, role_clients
from tests.support import make_user

TODAY = date(2026, 11, 25)
APPROVERS = {"steward", "officer"}

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/procurement/reuse/mine", SIGNED_IN),
    ("GET", "/procurement/reuse/incoming", SIGNED_IN),
    ("GET", "/procurement/reuse/mine?status=requested", SIGNED_IN),
    ("GET", "/procurement/reuse/new?licence=1", SIGNED_IN),
    ("GET", "/procurement/reuse/1", SIGNED_IN),
    ("POST", "/procurement/reuse/1/decide", set()),  # NIH decides, nobody in CDC
    ("GET", "/procurement/reuse/delegates", APPROVERS),
    ("POST", "/procurement/reuse/delegates", APPROVERS),
    ("GET", "/notifications/", SIGNED_IN),
    ("GET", "/notifications/badge", SIGNED_IN),
    ("POST", "/notifications/read", SIGNED_IN),
]


def seed(db):
    nih = accounts.principal_for(
        db, make_user(db, "officer.nih@hhs.gov", division="NIH", roles=("officer",))
    )
    purchase = purchases.record_purchase(
        db,
        nih,
        PurchaseInput(
            division="NIH",
            vendor="Elsevier Inc",
            product="Scopus",
            start_on="2026-01-01",
            current_end_on="2026-12-31",
            obligated="50000",
        ),
        today=TODAY,
    )
    licence = licences.save_licence(
        db,
        nih,
        purchase.id,
        LicenceInput(scope="department", term_start_on="2026-01-01", term_end_on="2026-12-31"),
    )
    viewer = accounts.principal_for(
        db, db.exec(select(User).where(User.email == "viewer@hhs.gov")).one()
    )
    reuse_service.request_reuse(
        db,
        viewer,
        reuse_service.find_target(db, licence_id=licence.id),
        reuse_service.ReuseInput(
            purpose="Literature review",
            seats="1",
            start_on="2026-11-01",
            end_on="2026-12-31",
            contact_name="Viewer",
            contact_email="viewer@hhs.gov",
        ),
        today=TODAY,
    )


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("reuse-matrix"), seed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
