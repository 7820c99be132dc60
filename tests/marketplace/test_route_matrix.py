"""Who may open the app shell's pages: every route against every role."""

from __future__ import annotations

import pytest

from tests.route_matrix import PUBLIC, ROLES, SIGNED_IN, check_route_access, role_clients

ROUTES: list[tuple[str, str, object]] = [
    ("GET", "/", PUBLIC),
    ("GET", "/healthz", PUBLIC),
    ("GET", "/login", PUBLIC),
    ("GET", "/account", SIGNED_IN),
    ("GET", "/account/password", SIGNED_IN),
    ("GET", "/admin/", {"admin"}),
    ("GET", "/admin/users", {"admin"}),
    ("GET", "/admin/users/new", {"admin"}),
    ("GET", "/admin/users/1", {"admin"}),
    ("GET", "/admin/divisions", {"admin"}),
    ("GET", "/admin/divisions/1", {"admin"}),
    ("GET", "/admin/audit", {"admin"}),
    ("GET", "/admin/audit.csv", {"admin"}),
    ("POST", "/admin/users/1/sign-out", {"admin"}),
    ("POST", "/admin/divisions", {"admin"}),
]


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    yield from role_clients(tmp_path_factory.mktemp("matrix"))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    check_route_access(clients[role], role, method, path, rule)
