"""Who may open the catalog's pages."""

from __future__ import annotations

import pytest

from tests.route_matrix import PUBLIC, ROLES, SIGNED_IN, check_route_access, role_clients

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/catalog", PUBLIC),
    ("GET", "/catalog?q=x", PUBLIC),
    ("GET", "/data.json", PUBLIC),
    ("GET", "/api/v1/listings", PUBLIC),
    ("GET", "/catalog/mine", SIGNED_IN),
    ("GET", "/catalog/new", {"steward"}),
    ("GET", "/admin/harvest/", {"admin"}),
    ("GET", "/admin/harvest/validation", {"admin"}),
    ("POST", "/catalog/new", {"steward"}),
]


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("catalog-matrix"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
