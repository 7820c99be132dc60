"""Security baseline: headers, escaping, error pages, request limits, health, denied access audit."""

from __future__ import annotations

import os

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from marketplace.app import create_app
from marketplace.models import AuditEvent
from tests.support import login, make_user, post_form, settings_for


def test_security_headers_on_pages_and_static_files(client):
    for path in ("/", "/static/css/app.css", "/healthz"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert len(response.headers["x-request-id"]) == 16


def test_incoming_request_id_is_kept_when_sane(client):
    assert (
        client.get("/healthz", headers={"x-request-id": "abc123"}).headers["x-request-id"]
        == "abc123"
    )
    odd = client.get("/healthz", headers={"x-request-id": "<script>"}).headers["x-request-id"]
    assert odd != "<script>"


def test_healthz_reports_the_database(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    settings = settings_for("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    with TestClient(app=create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "unreachable" in response.json()["database"]


def test_names_are_escaped_everywhere(client, db):
    make_user(
        db, "admin@hhs.gov", division="OS", roles=("admin",), name="<script>alert(1)</script>"
    )
    login(client, "admin@hhs.gov")
    for path in ("/account", "/admin/users"):
        body = client.get(path).text
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_not_found_page_is_styled_and_json_for_the_api(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "usa-banner" in page.text and "Page not found" in page.text
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.json()["error"] == "Page not found"


def test_viewer_on_admin_page_is_denied_and_audited(client, db):
    make_user(db, "viewer@hhs.gov")
    login(client, "viewer@hhs.gov")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "This page is for administrators." in response.text
    db.rollback()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "access.denied")).one()
    assert event.actor == "viewer@hhs.gov" and event.object_id == "/admin/users"


def test_oversized_request_bodies_are_refused(client, db):
    make_user(db, "admin@hhs.gov", division="OS", roles=("admin",))
    login(client, "admin@hhs.gov")
    response = post_form(client, "/admin/divisions", {"name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_htmx_request_needing_sign_in_asks_htmx_to_redirect(client):
    response = client.get("/admin/users", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login"


@pytest.mark.skipif(
    not os.environ.get("TEST_REDIS_URL") and os.environ.get("CI") != "true",
    reason="TEST_REDIS_URL not set",
)
def test_sessions_in_redis_survive_a_restart(settings, db):
    redis_url = os.environ["TEST_REDIS_URL"]
    make_user(db, "carmen@hhs.gov")
    redis_settings = type(settings)(**{**settings.__dict__, "redis_url": redis_url})
    with TestClient(app=create_app(redis_settings)) as first:
        login(first, "carmen@hhs.gov")
        cookie = first.cookies["mp_session"]
    with TestClient(app=create_app(redis_settings)) as second:
        second.cookies.set("mp_session", cookie)
        assert second.get("/account", follow_redirects=False).status_code == 200
        post_form(second, "/logout")
    with TestClient(app=create_app(redis_settings)) as third:
        third.cookies.set("mp_session", cookie)
        assert third.get("/account", follow_redirects=False).status_code == 303
