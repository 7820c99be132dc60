"""Signing in and out: sessions, rotation, throttling, CSRF, timeouts, audit."""

from __future__ import annotations

import json
from datetime import timedelta

from litestar.testing import TestClient
from sqlmodel import select

from marketplace.app import create_app
from marketplace.models import AuditEvent, StoredSession
from marketplace.sessions import COOKIE_NAME
from tests.support import PASSWORD, login, make_user, post_form, text_of


def test_sign_in_redirects_and_shows_the_user(client, db):
    make_user(db, "carmen@hhs.gov", division="CDC", roles=("steward",), name="Carmen Steward")
    response = post_form(client, "/login", {"email": "Carmen@HHS.gov ", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Carmen Steward" in page.text
    assert "Data steward" in page.text
    events = db.exec(select(AuditEvent.action)).all()
    assert "auth.sign_in" in events


def test_wrong_password_and_unknown_account_get_the_same_message(client, db):
    make_user(db, "carmen@hhs.gov")
    wrong = post_form(client, "/login", {"email": "carmen@hhs.gov", "password": "nope-nope-nope"})
    unknown = post_form(client, "/login", {"email": "nobody@hhs.gov", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    message = "The e-mail address or password is not correct."
    assert message in text_of(wrong.text)
    assert message in text_of(unknown.text)
    assert COOKIE_NAME not in client.cookies
    failures = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).all()
    assert {e.object_id for e in failures} == {"carmen@hhs.gov", "nobody@hhs.gov"}


def test_ten_failures_throttle_even_the_right_password(client, db):
    make_user(db, "carmen@hhs.gov")
    for _ in range(10):
        post_form(client, "/login", {"email": "carmen@hhs.gov", "password": "wrong-password-x"})
    response = post_form(client, "/login", {"email": "carmen@hhs.gov", "password": PASSWORD})
    assert response.status_code == 400
    assert "Too many failed sign-ins" in text_of(response.text)
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_nine_failures_then_success_resets_the_count(client, db):
    make_user(db, "carmen@hhs.gov")
    for _ in range(9):
        post_form(client, "/login", {"email": "carmen@hhs.gov", "password": "wrong-password-x"})
    login(client, "carmen@hhs.gov")
    post_form(client, "/logout")
    for _ in range(9):
        post_form(client, "/login", {"email": "carmen@hhs.gov", "password": "wrong-password-x"})
    login(client, "carmen@hhs.gov")


def test_session_id_rotates_at_sign_in(client, db):
    make_user(db, "carmen@hhs.gov")
    # An anonymous session (a flash message) exists before sign-in…
    post_form(client, "/logout")
    before = client.cookies.get(COOKIE_NAME)
    assert before
    login(client, "carmen@hhs.gov")
    after = client.cookies.get(COOKIE_NAME)
    assert after and after != before
    # …and the old id no longer works.
    stale = TestClient(app=client.app)
    stale.cookies.set(COOKIE_NAME, before)
    assert stale.get("/account", follow_redirects=False).status_code == 303


def test_anonymous_requests_store_no_session(client, database):
    for path in ("/", "/login", "/healthz", "/static/css/app.css"):
        assert client.get(path).status_code == 200
    with database.session() as db:
        assert db.exec(select(StoredSession)).all() == []
    assert COOKIE_NAME not in client.cookies


def test_post_without_csrf_token_is_refused(client, db):
    make_user(db, "carmen@hhs.gov")
    client.get("/login")
    response = client.post(
        "/login", data={"email": "carmen@hhs.gov", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    forged = client.post(
        "/login",
        data={"email": "carmen@hhs.gov", "password": PASSWORD, "_csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def test_htmx_header_token_is_accepted(client, db):
    make_user(db, "carmen@hhs.gov")
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": "carmen@hhs.gov", "password": PASSWORD},
        headers={"x-csrftoken": client.cookies["csrftoken"]},
        follow_redirects=False,
    )
    assert response.status_code == 303


def test_sign_out_ends_the_session(client, db):
    make_user(db, "carmen@hhs.gov")
    login(client, "carmen@hhs.gov")
    cookie = client.cookies[COOKIE_NAME]
    response = post_form(client, "/logout")
    assert response.status_code == 303
    replay = TestClient(app=client.app)
    replay.cookies.set(COOKIE_NAME, cookie)
    assert replay.get("/account", follow_redirects=False).status_code == 303


def test_anonymous_is_sent_to_sign_in_and_back(client, db):
    make_user(db, "carmen@hhs.gov")
    response = client.get("/account?tab=roles", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account%3Ftab%3Droles"
    page = client.get(response.headers["location"])
    assert 'name="next" value="/account?tab=roles"' in page.text
    signed_in = post_form(
        client,
        "/login",
        {"email": "carmen@hhs.gov", "password": PASSWORD, "next": "/account?tab=roles"},
    )
    assert signed_in.headers["location"] == "/account?tab=roles"


def test_next_cannot_leave_the_site(client, db):
    make_user(db, "carmen@hhs.gov")
    for target in (
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        response = post_form(
            client, "/login", {"email": "carmen@hhs.gov", "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/"
        post_form(client, "/logout")


def test_sessions_survive_a_restart(settings, db):
    make_user(db, "carmen@hhs.gov")
    with TestClient(app=create_app(settings)) as first:
        login(first, "carmen@hhs.gov")
        cookie = first.cookies[COOKIE_NAME]
    with TestClient(app=create_app(settings)) as second:
        second.cookies.set(COOKIE_NAME, cookie)
        assert second.get("/account", follow_redirects=False).status_code == 200


def test_idle_timeout_signs_out(client, db, database):
    make_user(db, "carmen@hhs.gov")
    login(client, "carmen@hhs.gov")
    with database.session() as session:
        stored = session.exec(select(StoredSession)).one()
        data = json.loads(stored.data)
        seen = data["seen"]
        from datetime import datetime

        data["seen"] = (datetime.fromisoformat(seen) - timedelta(minutes=31)).isoformat()
        stored.data = json.dumps(data).encode()
        session.add(stored)
        session.commit()
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303


def test_absolute_timeout_signs_out(client, db, database):
    make_user(db, "carmen@hhs.gov")
    login(client, "carmen@hhs.gov")
    with database.session() as session:
        stored = session.exec(select(StoredSession)).one()
        data = json.loads(stored.data)
        from datetime import datetime

        data["created"] = (
            datetime.fromisoformat(data["created"]) - timedelta(hours=13)
        ).isoformat()
        stored.data = json.dumps(data).encode()
        session.add(stored)
        session.commit()
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_change_password_checks_and_rotates(client, db):
    make_user(db, "carmen@hhs.gov")
    login(client, "carmen@hhs.gov")
    bad = post_form(
        client,
        "/account/password",
        {"current_password": "wrong", "new_password": "short", "confirm_password": "other"},
    )
    assert bad.status_code == 422
    body = text_of(bad.text)
    assert "Your current password is not correct." in body
    assert "Use at least 12 characters." in body
    assert "The two new passwords do not match." in body
    before = client.cookies[COOKIE_NAME]
    ok = post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a much longer passphrase",
            "confirm_password": "a much longer passphrase",
        },
    )
    assert ok.status_code == 303
    assert client.cookies[COOKIE_NAME] != before
    post_form(client, "/logout")
    login(client, "carmen@hhs.gov", "a much longer passphrase")


def test_session_cookie_flags(settings, db):
    make_user(db, "carmen@hhs.gov")
    secure_settings = type(settings)(**{**settings.__dict__, "cookie_secure": True})
    with TestClient(app=create_app(secure_settings), base_url="https://testserver") as client:
        response = login(client, "carmen@hhs.gov")
        header = next(
            v
            for k, v in response.headers.multi_items()
            if k == "set-cookie" and v.startswith(COOKIE_NAME)
        )
        assert "HttpOnly" in header
        assert "Secure" in header
        assert "SameSite=lax" in header or "SameSite=Lax" in header
