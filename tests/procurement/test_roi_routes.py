"""Who may open the ROI pages and exports: every route against every role (all in CDC)."""

from __future__ import annotations

import pytest

from tests.route_matrix import ROLES, SIGNED_IN, check_route_access, role_clients

READERS = {"officer", "leadership", "admin"}

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/procurement/reports/roi", READERS),
    ("GET", "/procurement/reports/roi?fiscal_year=2026&quarter=1&division=NIH", READERS),
    ("GET", "/procurement/reports/roi?fiscal_year=abc", READERS),  # 422 with the message
    ("GET", "/procurement/reports/roi.pdf?fiscal_year=2026", READERS),
    ("GET", "/procurement/reports/roi.csv?kind=api", READERS),
    ("GET", "/procurement/reports/roi.json?vendor=acme", READERS),
    ("GET", "/procurement/reports/definitions", SIGNED_IN),
]


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("roi-matrix"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
    if rule is not SIGNED_IN and role in READERS:
        assert clients[role].get(path).status_code in (200, 422)
