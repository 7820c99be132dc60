"""Administration pages: users, roles, divisions, the audit log."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from marketplace.models import AuditEvent, Division, User, UserRole
from tests.support import PASSWORD, login, make_user, post_form, see_latest, text_of


@pytest.fixture
def admin_client(client, db):
    make_user(db, "admin@hhs.gov", division="OS", roles=("admin",), name="Avery Admin")
    login(client, "admin@hhs.gov")
    return client


def test_admin_creates_an_account_that_must_change_its_password(admin_client, db, app):
    response = post_form(
        admin_client,
        "/admin/users/new",
        {
            "email": "New.Person@hhs.gov",
            "name": "New Person",
            "division": "NIH",
            "roles": ["steward", "officer"],
            "password": "temporary password 1",
        },
    )
    assert response.status_code == 303
    user = db.exec(select(User).where(User.email == "new.person@hhs.gov")).one()
    roles = set(db.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())
    assert roles == {"steward", "officer", "viewer"}
    assert user.must_change_password
    from litestar.testing import TestClient

    with TestClient(app=app) as newcomer:
        first = post_form(
            newcomer, "/login", {"email": "new.person@hhs.gov", "password": "temporary password 1"}
        )
        assert first.headers["location"] == "/account/password"
    event = db.exec(
        select(AuditEvent).where(
            AuditEvent.action == "user.create", AuditEvent.object_id == str(user.id)
        )
    ).one()
    assert event.actor == "admin@hhs.gov"
    assert event.after["roles"] == ["officer", "steward", "viewer"]


def test_create_user_form_shows_field_errors_and_keeps_input(admin_client, db):
    before = db.exec(select(User)).all()
    response = post_form(
        admin_client,
        "/admin/users/new",
        {
            "email": "not-an-email",
            "name": "",
            "division": "NOPE",
            "roles": ["wizard"],
            "password": "short",
        },
    )
    assert response.status_code == 422
    body = text_of(response.text)
    for message in (
        "Enter a valid e-mail address.",
        "Enter the person's name",
        "Unknown division 'NOPE'.",
        "Unknown role(s) wizard",
        "Use at least 12 characters.",
    ):
        assert message in body
    assert 'value="not-an-email"' in response.text
    assert len(db.exec(select(User)).all()) == len(before)


def test_roles_change_and_division_move_are_audited(admin_client, db):
    target = make_user(db, "carmen@hhs.gov", division="CDC", roles=("steward",))
    response = post_form(
        admin_client, f"/admin/users/{target.id}/roles", {"roles": ["officer"], "division": "FDA"}
    )
    assert response.status_code == 303
    see_latest(db)
    user = db.get(User, target.id)
    division = db.get(Division, user.division_id)
    assert division.code == "FDA"
    assert set(db.exec(select(UserRole.role).where(UserRole.user_id == target.id)).all()) == {
        "officer",
        "viewer",
    }
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.before["division"] == "CDC" and event.after["division"] == "FDA"


def test_admin_cannot_remove_own_admin_role(admin_client, db):
    me = db.exec(select(User).where(User.email == "admin@hhs.gov")).one()
    response = post_form(
        admin_client, f"/admin/users/{me.id}/roles", {"roles": ["viewer"], "division": "OS"}
    )
    assert response.status_code == 422
    assert "cannot remove your own administrator role" in text_of(response.text)


def test_deactivate_signs_the_user_out_and_blocks_sign_in(admin_client, db, app):
    from litestar.testing import TestClient

    target = make_user(db, "carmen@hhs.gov")
    with TestClient(app=app) as victim:
        login(victim, "carmen@hhs.gov")
        assert victim.get("/account", follow_redirects=False).status_code == 200
        post_form(admin_client, f"/admin/users/{target.id}/active", {"active": "false"})
        assert victim.get("/account", follow_redirects=False).status_code == 303
        again = post_form(victim, "/login", {"email": "carmen@hhs.gov", "password": PASSWORD})
        assert again.status_code == 400


def test_force_sign_out_ends_sessions_but_allows_new_sign_in(admin_client, db, app):
    from litestar.testing import TestClient

    target = make_user(db, "carmen@hhs.gov")
    with TestClient(app=app) as victim:
        login(victim, "carmen@hhs.gov")
        post_form(admin_client, f"/admin/users/{target.id}/sign-out")
        assert victim.get("/account", follow_redirects=False).status_code == 303
        login(victim, "carmen@hhs.gov")
        assert victim.get("/account", follow_redirects=False).status_code == 200


def test_reset_password_sets_a_temporary_one(admin_client, db, app):
    from litestar.testing import TestClient

    target = make_user(db, "carmen@hhs.gov")
    weak = post_form(admin_client, f"/admin/users/{target.id}/password", {"password": "123"})
    assert weak.status_code == 422
    post_form(
        admin_client, f"/admin/users/{target.id}/password", {"password": "brand new temporary"}
    )
    with TestClient(app=app) as person:
        old = post_form(person, "/login", {"email": "carmen@hhs.gov", "password": PASSWORD})
        assert old.status_code == 400
        new = post_form(
            person, "/login", {"email": "carmen@hhs.gov", "password": "brand new temporary"}
        )
        assert new.headers["location"] == "/account/password"


def test_user_search_fragment(admin_client, db):
    make_user(db, "carmen@hhs.gov", name="Carmen Steward")
    make_user(db, "omar@hhs.gov", name="Omar Officer")
    fragment = admin_client.get("/admin/users?q=carm", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="user-table">')
    assert "carmen@hhs.gov" in fragment.text and "omar@hhs.gov" not in fragment.text
    page = admin_client.get("/admin/users?q=carm")
    assert "<html" in page.text and "carmen@hhs.gov" in page.text


def test_add_rename_and_retire_a_division(admin_client, db):
    bad = post_form(
        admin_client, "/admin/divisions", {"code": "x", "name": "", "bureau_code": "9:1"}
    )
    assert bad.status_code == 422
    assert "Use the OMB bureau code form NNN:NN" in text_of(bad.text)
    created = post_form(
        admin_client,
        "/admin/divisions",
        {
            "code": "oga",
            "name": "Office of Global Affairs",
            "bureau_code": "009:90",
            "subtier_codes": "7574",
            "kind": "staff",
        },
    )
    assert created.status_code == 303
    division = db.exec(select(Division).where(Division.code == "OGA")).one()
    renamed = post_form(
        admin_client,
        f"/admin/divisions/{division.id}",
        {
            "code": "OGH",
            "name": "Office of Global Health",
            "bureau_code": "009:90",
            "subtier_codes": "7574",
            "aliases": "",
            "kind": "staff",
        },
    )
    assert renamed.status_code == 303
    see_latest(db)
    division = db.get(Division, division.id)
    assert division.code == "OGH" and division.aliases == "OGA"
    from marketplace.accounts import find_division

    assert find_division(db, "oga").id == division.id
    retired = post_form(admin_client, f"/admin/divisions/{division.id}/active", {"active": "false"})
    assert retired.status_code == 303
    see_latest(db)
    assert db.get(Division, division.id).active is False
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.object_type == "division")).all()
    assert actions == ["division.create", "division.update", "division.retire"]


def test_a_division_with_active_members_cannot_be_retired(admin_client, db):
    make_user(db, "carmen@hhs.gov", division="CDC")
    cdc = db.exec(select(Division).where(Division.code == "CDC")).one()
    response = post_form(admin_client, f"/admin/divisions/{cdc.id}/active", {"active": "false"})
    assert response.status_code == 422
    assert "still belong to CDC" in text_of(response.text)


def test_audit_log_filters_and_exports_csv(admin_client, db):
    make_user(db, "carmen@hhs.gov")
    post_form(admin_client, "/login", {"email": "nobody@hhs.gov", "password": "wrong password!"})
    page = admin_client.get("/admin/audit?action=auth.sign_in_failed")
    assert page.status_code == 200
    assert "nobody@hhs.gov" in page.text
    assert "user.create" not in page.text
    export = admin_client.get("/admin/audit.csv?action=user.")
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows and all(row["action"].startswith("user.") for row in rows)
    assert any(row["object_id"] and row["action"] == "user.create" for row in rows)
    assert (
        db.exec(select(AuditEvent).where(AuditEvent.action == "audit.export")).first() is not None
    )


def test_audit_csv_neutralises_formulas(admin_client, db):
    post_form(
        admin_client,
        "/login",
        {"email": '=HYPERLINK("http://x")@x.gov', "password": "wrong password!"},
    )
    export = admin_client.get("/admin/audit.csv?action=auth.sign_in_failed")
    row = next(csv.DictReader(io.StringIO(export.text)))
    assert row["object_id"].startswith("'=")


def test_audit_log_is_append_only_in_the_database(db):
    db.add(AuditEvent(actor="test", action="test.event"))
    db.commit()
    for statement in ("UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.exec(text(statement))
        db.rollback()
    assert db.exec(select(AuditEvent.action)).all() == ["test.event"]
