"""Who may open what: every route against every role. Later features add their rows to ROUTES.

Each row: (method, path, who may). "public": anyone; "signed_in": any account; a set of roles:
only holders of one of them. Everyone else gets 403 (signed in) or a redirect to sign-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from marketplace.app import create_app
from marketplace.migrate import upgrade
from tests.support import login, make_user, settings_for

PUBLIC = "public"
SIGNED_IN = "signed_in"

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

ROLES = ["anonymous", "viewer", "steward", "officer", "leadership", "admin"]


@pytest.fixture(scope="module")
def clients(tmp_path_factory) -> Iterator[dict[str, TestClient]]:
    """One app with a user per role (SQLite; the permission API itself is engine-independent)."""
    tmp = tmp_path_factory.mktemp("matrix")
    url = f"sqlite:///{tmp / 'matrix.db'}"
    upgrade(url)
    settings = settings_for(url, tmp / "var")
    from marketplace.db import Database

    database = Database(settings)
    with database.session() as db:
        # Account 1 is the target of the user routes below, so no role's own session is touched.
        make_user(db, "target@hhs.gov", division="NIH")
        for role in ROLES[1:]:
            make_user(db, f"{role}@hhs.gov", division="CDC", roles=(role,))
    database.dispose()
    result: dict[str, TestClient] = {}
    for role in ROLES:
        # One app per client: TestClients sharing one app hang on shutdown.
        client = TestClient(app=create_app(settings))
        client.__enter__()
        if role != "anonymous":
            login(client, f"{role}@hhs.gov")
        result[role] = client
    yield result
    for client in result.values():
        client.__exit__(None, None, None)


def _allowed(rule: object, role: str) -> bool:
    if rule == PUBLIC:
        return True
    if role == "anonymous":
        return False
    if rule == SIGNED_IN:
        return True
    return role in rule  # type: ignore[operator]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "rule"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_route_access(clients, role, method, path, rule):
    client = clients[role]
    if method == "GET":
        response = client.get(path, follow_redirects=False)
    else:
        response = client.post(
            path,
            data={"_csrf_token": client.cookies.get("csrftoken") or ""},
            headers={"x-csrftoken": client.cookies.get("csrftoken") or ""},
            follow_redirects=False,
        )
    if _allowed(rule, role):
        assert response.status_code not in (401, 403), f"{role} refused {method} {path}"
        assert not (
            response.status_code == 303 and "/login" in response.headers.get("location", "")
        )
    elif role == "anonymous":
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == 403
