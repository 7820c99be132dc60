"""Shared machinery for role-by-route tests: one signed-in client per role, and the check.

Each package's test declares rows (method, path, who may) and calls `check_route_access`.
"Public": anyone; "signed_in": any account; a set of roles: holders of one of them. Everyone else
gets 403 when signed in, or a redirect to sign-in when anonymous.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from marketplace.app import create_app
from marketplace.db import Database
from marketplace.migrate import upgrade
from tests.support import login, make_user, settings_for

PUBLIC = "public"
SIGNED_IN = "signed_in"
ROLES = ["anonymous", "viewer", "steward", "officer", "leadership", "admin"]
ROLE_DIVISION = "CDC"


def role_clients(
    tmp: Path, seed: Callable[[Any], None] | None = None
) -> Iterator[dict[str, TestClient]]:
    """Build a SQLite app with one user per role (all in CDC) and yield a signed-in client each.

    Account 1 is a separate NIH user, the target of user routes, so no role's session is touched.
    `seed(db)` may add objects the routes need (their ids are then known to the test).
    """
    url = f"sqlite:///{tmp / 'matrix.db'}"
    upgrade(url)
    settings = settings_for(url, tmp / "var")
    database = Database(settings)
    with database.session() as db:
        make_user(db, "target@hhs.gov", division="NIH")
        for role in ROLES[1:]:
            make_user(db, f"{role}@hhs.gov", division=ROLE_DIVISION, roles=(role,))
        if seed:
            seed(db)
    database.dispose()
    clients: dict[str, TestClient] = {}
    for role in ROLES:
        # One app per client: TestClients sharing one app hang on shutdown.
        client = TestClient(app=create_app(settings))
        client.__enter__()
        if role != "anonymous":
            login(client, f"{role}@hhs.gov")
        clients[role] = client
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def allowed(rule: object, role: str) -> bool:
    if rule == PUBLIC:
        return True
    if role == "anonymous":
        return False
    if rule == SIGNED_IN:
        return True
    return role in rule  # type: ignore[operator]


def check_route_access(client: TestClient, role: str, method: str, path: str, rule: object) -> None:
    token = client.cookies.get("csrftoken") or ""
    if method == "GET":
        response = client.get(path, follow_redirects=False)
    else:
        response = client.request(
            method,
            path,
            data={"_csrf_token": token},
            headers={"x-csrftoken": token},
            follow_redirects=False,
        )
    if allowed(rule, role):
        assert response.status_code not in (401, 403), f"{role} refused {method} {path}"
        assert not (
            response.status_code == 303 and "/login" in response.headers.get("location", "")
        ), f"{role} sent to sign in for {method} {path}"
    elif role == "anonymous":
        if path.startswith("/api/"):
            assert response.status_code == 401
        else:
            assert response.status_code == 303, f"anonymous got {response.status_code} for {path}"
            assert response.headers["location"].startswith("/login?next=")
    else:
        assert response.status_code == 403, f"{role} got {response.status_code} for {method} {path}"
