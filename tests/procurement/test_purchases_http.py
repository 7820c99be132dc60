"""Procurement pages through the app on SQLite and PostgreSQL: forms, fragments, uploads, 403s."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from sqlmodel import select

from marketplace import jobs
from marketplace.types import utcnow
from procurement.models import ImportRun, Purchase, PurchaseDocument, Vendor
from tests.procurement.test_purchases_services import ROW_A, ROW_B, TEMPLATE_HEADER
from tests.support import csrf_token, login, make_user, post_form, see_latest, text_of

FORM = {
    "division": "CDC",
    "vendor": "Politico LLC",
    "product": "Politico Pro",
    "description": "News service",
    "award_type": "PURCHASE CARD",
    "start_on": "2026-01-01",
    "current_end_on": "2026-12-31",
    "obligated": "9800",
    "sensitive_notes": "Card holder: J. Doe",
}


def sign_in(db, client, email="officer@hhs.gov", division="CDC", roles=("officer",)):
    see_latest(db)  # end the test session's snapshot: SQLite refuses a write from a stale one
    make_user(db, email, division=division, roles=roles)
    login(client, email)


def upload(client, content: bytes, name="purchases.csv", **fields):
    data = {"_csrf_token": csrf_token(client), "format": "auto", **fields}
    return client.post(
        "/procurement/imports",
        files={"file": (name, content, "text/csv")},
        data=data,
        follow_redirects=False,
    )


def template(*rows: str) -> bytes:
    return ("\n".join([TEMPLATE_HEADER, *rows]) + "\n").encode()


def test_record_a_purchase_with_field_errors_then_success(db, client):
    sign_in(db, client)
    bad = post_form(
        client, "/procurement/purchases/new", {**FORM, "obligated": "lots", "product": ""}
    )
    assert bad.status_code == 422
    page = text_of(bad.text)
    assert "Please correct 2 problems" in page and "Politico LLC" in bad.text
    htmx = post_form(
        client,
        "/procurement/purchases/new",
        {**FORM, "product": ""},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 200
    assert htmx.text.lstrip().startswith('<div id="purchase-form">')
    done = post_form(client, "/procurement/purchases/new", FORM)
    assert done.status_code == 303
    detail = client.get(done.headers["location"])
    assert "HHS-MAN-" in detail.text and "Card holder: J. Doe" in detail.text
    see_latest(db)
    assert db.exec(select(Purchase)).one().obligated_cents == 980000


def test_edit_by_another_division_is_refused_and_viewers_read_without_sensitive_notes(
    db, client, app
):
    sign_in(db, client)
    location = post_form(client, "/procurement/purchases/new", FORM).headers["location"]
    purchase_id = int(location.rsplit("/", 1)[1])
    client.post("/logout", data={"_csrf_token": csrf_token(client)})
    client.cookies.clear()
    sign_in(db, client, "nih@hhs.gov", division="NIH")
    assert client.get(f"/procurement/purchases/{purchase_id}/edit").status_code == 403
    refused = post_form(client, f"/procurement/purchases/{purchase_id}/edit", FORM)
    assert refused.status_code == 403
    detail = client.get(f"/procurement/purchases/{purchase_id}")
    assert detail.status_code == 200
    assert "Politico Pro" in detail.text and "Card holder" not in detail.text
    client.cookies.clear()
    sign_in(db, client, "viewer@hhs.gov", division="CDC", roles=())
    assert client.get("/procurement/purchases/new").status_code == 403
    assert "Card holder" not in client.get(f"/procurement/purchases/{purchase_id}").text
    client.cookies.clear()
    sign_in(db, client, "leader@hhs.gov", division="HHS", roles=("leadership",))
    assert "Card holder: J. Doe" in client.get(f"/procurement/purchases/{purchase_id}").text


def test_officer_edits_a_purchase_with_htmx_and_plain_posts(db, client):
    sign_in(db, client)
    location = post_form(client, "/procurement/purchases/new", FORM).headers["location"]
    edit = f"{location}/edit"
    assert client.get(edit).status_code == 200
    bad = post_form(client, edit, {**FORM, "current_end_on": "2025-01-01"})
    assert bad.status_code == 422 and "before the start date" in bad.text
    ok = post_form(
        client, edit, {**FORM, "product": "Politico Pro Health"}, headers={"HX-Request": "true"}
    )
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == location
    assert "Politico Pro Health" in client.get(location).text


def test_search_page_fragment_facets_and_export(db, client, tmp_path):
    sign_in(db, client)
    response = upload(client, template(ROW_A, ROW_B))
    assert response.status_code == 303
    jobs.run_pending(client.app.state.database, utcnow)
    page = client.get("/procurement/purchases?q=acme")
    assert page.status_code == 200
    assert "1 purchase for “acme”" in text_of(page.text)
    assert '<div id="purchase-results"' in page.text and "<html" in page.text
    fragment = client.get("/procurement/purchases?status=expired", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="purchase-results"')
    assert "<html" not in fragment.text and "75D30124P00002" in fragment.text
    assert "75D30124P00001" not in fragment.text
    exported = client.get("/procurement/purchases/export.csv?division=CDC")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(r["obligated_amount"] for r in rows) == ["-250.50", "1000.00"]
    assert client.get("/procurement/purchases?page=0").status_code == 400
    assert client.get("/procurement/purchases?vendor=x&status=bogus&sort=bogus").status_code == 200


def test_import_page_upload_progress_and_report(db, client):
    sign_in(db, client)
    page = client.get("/procurement/imports")
    assert page.status_code == 200 and "Download the template CSV" in page.text
    template_csv = client.get("/procurement/imports/template.csv")
    assert template_csv.text.startswith("piid,parent_piid,division,vendor")
    response = upload(client, template(ROW_A, ROW_B, "75D30124P00003,,CDC,Broken,,,,,,,x,,,1,,"))
    run_url = response.headers["location"]
    waiting = client.get(run_url)
    assert "Waiting to start" in waiting.text and 'hx-trigger="load delay:1s"' in waiting.text
    jobs.run_pending(client.app.state.database, utcnow)
    report = client.get(run_url, headers={"HX-Request": "true"})
    text = text_of(report.text)
    assert report.text.lstrip().startswith('<div id="import-report"')
    assert "Import finished" in text and "Created 2" in text and "Rows rejected 1" in text
    assert "is not a date" in text
    assert "hx-trigger" not in report.text


def test_bad_uploads_give_clear_messages_never_a_500(db, client, settings):
    sign_in(db, client)
    for content, message in [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x00\x00zip", "ZIP archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        (TEMPLATE_HEADER.encode(), "header but no data rows"),
    ]:
        response = upload(client, content)
        assert response.status_code == 303
        jobs.run_pending(client.app.state.database, utcnow)
        report = client.get(response.headers["location"])
        assert report.status_code == 200
        assert message in text_of(report.text)
    missing = client.post(
        "/procurement/imports",
        data={"_csrf_token": csrf_token(client), "format": "auto"},
        files={"other": ("x.txt", b"x", "text/plain")},
        follow_redirects=False,
    )
    assert missing.status_code == 422 and "Choose a file to upload." in missing.text
    bad_format = upload(client, template(ROW_A), format="excel")
    assert bad_format.status_code == 422
    see_latest(db)
    assert db.exec(select(Purchase)).all() == []


def test_an_oversize_upload_is_refused_with_the_limit(db, settings, tmp_path):
    from litestar.testing import TestClient

    from marketplace.app import create_app
    from tests.support import settings_for

    small = settings_for(settings.database_url, tmp_path / "small", max_upload_bytes=2000)
    with TestClient(app=create_app(small)) as client:
        sign_in(db, client)
        response = upload(client, template(*([ROW_A] * 40)))
        assert response.status_code == 413
        assert "larger than the 0 MB limit" in text_of(response.text) or "limit" in response.text
        huge = upload(client, b"x" * (3 * 1024 * 1024))
        assert huge.status_code == 413
    see_latest(db)
    assert db.exec(select(ImportRun)).all() == []


def test_unknown_layout_offers_a_mapping_that_is_saved_and_reused(db, client):
    sign_in(db, client)
    theirs = b"Contract No,Supplier,Amount,Div\n75D30124P00001,Acme Health Data LLC,1000,CDC\n"
    run_url = upload(client, theirs, "odd.csv").headers["location"]
    jobs.run_pending(client.app.state.database, utcnow)
    page = client.get(run_url)
    text = text_of(page.text)
    assert "Needed: piid, vendor, obligated" in text and "Found: Contract No, Supplier" in text
    run_id = run_url.rsplit("/", 1)[1]
    incomplete = post_form(
        client,
        f"/procurement/imports/{run_id}/mapping",
        {"map_piid": "Contract No"},
        headers={"HX-Request": "true"},
    )
    assert incomplete.status_code == 200 and 'id="column-mapping"' in incomplete.text
    saved = post_form(
        client,
        f"/procurement/imports/{run_id}/mapping",
        {
            "map_piid": "Contract No",
            "map_vendor": "Supplier",
            "map_obligated": "Amount",
            "map_division": "Div",
        },
    )
    assert saved.status_code == 303
    jobs.run_pending(client.app.state.database, utcnow)
    assert "Created 1" in text_of(client.get(saved.headers["location"]).text)
    second = upload(client, theirs.replace(b"00001", b"00002"), "odd-again.csv")
    jobs.run_pending(client.app.state.database, utcnow)
    assert "Created 1" in text_of(client.get(second.headers["location"]).text)


def test_a_dry_run_then_import_for_real(db, client):
    sign_in(db, client)
    dry = upload(client, template(ROW_A), dry_run="1")
    jobs.run_pending(client.app.state.database, utcnow)
    page = client.get(dry.headers["location"])
    assert "Dry run finished: nothing was written." in text_of(page.text)
    see_latest(db)
    assert db.exec(select(Purchase)).all() == []
    run_id = dry.headers["location"].rsplit("/", 1)[1]
    real = post_form(client, f"/procurement/imports/{run_id}/apply")
    jobs.run_pending(client.app.state.database, utcnow)
    assert "Import finished." in text_of(client.get(real.headers["location"]).text)
    see_latest(db)
    assert len(db.exec(select(Purchase)).all()) == 1


def test_vendor_pages_and_merge(db, client):
    sign_in(db, client)
    upload(client, template(ROW_A, ROW_B))
    jobs.run_pending(client.app.state.database, utcnow)
    see_latest(db)
    acme = db.exec(select(Vendor).where(Vendor.name_key == "ACME HEALTH DATA")).one()
    other = db.exec(select(Vendor).where(Vendor.name_key == "ROADRUNNER ANALYTICS")).one()
    listing = client.get("/procurement/vendors?q=roadrunner", headers={"HX-Request": "true"})
    assert (
        listing.text.lstrip().startswith('<div id="vendor-table">') and "Roadrunner" in listing.text
    )
    bad = post_form(client, f"/procurement/vendors/{acme.id}/merge", {"merge_id": str(acme.id)})
    assert bad.status_code == 422
    merged = post_form(client, f"/procurement/vendors/{acme.id}/merge", {"merge_id": str(other.id)})
    assert merged.status_code == 303
    page = client.get(f"/procurement/vendors/{acme.id}")
    assert "ROADRUNNER ANALYTICS" in page.text and "75D30124P00002" in page.text
    assert client.get(f"/procurement/vendors/{other.id}").status_code == 404


def test_licence_form_renewals_and_documents(db, client, settings):
    sign_in(db, client)
    location = post_form(client, "/procurement/purchases/new", FORM).headers["location"]
    purchase_id = int(location.rsplit("/", 1)[1])
    today = datetime.now().date()
    bad = post_form(
        client,
        f"{location}/licence",
        {
            "scope": "named_users",
            "term_start_on": "2026-05-01",
            "term_end_on": "2026-01-01",
            "reuse_policy": "no",
        },
    )
    assert bad.status_code == 422 and "The term ends before it starts." in bad.text
    ok = post_form(
        client,
        f"{location}/licence",
        {
            "scope": "named_users",
            "seats": "25",
            "term_start_on": "2026-01-01",
            "term_end_on": today.replace(year=today.year + 1).isoformat(),
            "renewal_on": (today.fromordinal(today.toordinal() + 20)).isoformat(),
            "reuse_policy": "with_approval",
            "dua_required": "1",
        },
    )
    assert ok.status_code == 303
    detail = client.get(location)
    assert "Named users" in detail.text and "Required" in detail.text
    renewals = client.get("/procurement/renewals?division=CDC")
    assert "Politico Pro" in renewals.text and "CDC: Within 30 days" in renewals.text
    fragment = client.get("/procurement/renewals?division=NIH", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="renewals"')
    attached = client.post(
        f"{location}/documents",
        files={"document": ("contract.pdf", b"%PDF-1.4 contract", "application/pdf")},
        data={"_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert attached.status_code == 303
    see_latest(db)
    document = db.exec(select(PurchaseDocument)).one()
    assert document.purchase_id == purchase_id
    download = client.get(f"/procurement/purchases/documents/{document.id}")
    assert download.status_code == 200 and download.content == b"%PDF-1.4 contract"
    client.cookies.clear()
    sign_in(db, client, "nih@hhs.gov", division="NIH")
    assert client.get(f"/procurement/purchases/documents/{document.id}").status_code == 403
    assert "contract.pdf" not in client.get(location).text


def test_refused_documents_leave_no_file_and_say_why(db, settings, tmp_path):
    from litestar.testing import TestClient

    from marketplace import accounts
    from marketplace.app import create_app
    from marketplace.models import User
    from procurement.services import purchases
    from procurement.services.purchases import PurchaseInput
    from tests.support import settings_for

    small = settings_for(settings.database_url, tmp_path / "small", max_upload_bytes=4000)
    documents = small.upload_dir / "documents"
    with TestClient(app=create_app(small)) as client:
        sign_in(db, client)
        user = db.exec(select(User).where(User.email == "officer@hhs.gov")).one()
        officer = accounts.principal_for(db, user)
        purchase = purchases.record_purchase(
            db,
            officer,
            PurchaseInput(
                division="CDC",
                vendor="Politico LLC",
                product="Politico Pro",
                start_on="2026-01-01",
                obligated="9800",
            ),
            today=datetime(2026, 11, 26).date(),
        )

        def attach(files: dict) -> str:
            response = client.post(
                f"/procurement/purchases/{purchase.id}/documents",
                files=files,
                data={"_csrf_token": csrf_token(client)},
            )
            assert response.status_code == 200  # back on the purchase, with the message
            return text_of(response.text)

        assert "The document is empty." in attach({"document": ("empty.pdf", b"", "x/y")})
        assert "Choose a document to attach." in attach({"other": ("a.pdf", b"%PDF", "x/y")})
        assert "larger than the 0 MB limit" in attach({"document": ("big.pdf", b"x" * 8000, "x/y")})
        assert not documents.exists() or list(documents.iterdir()) == []
        assert "Attached ok.pdf." in attach({"document": ("../../ok.pdf", b"%PDF-1.4", "x/y")})
        stored = list(documents.iterdir())
        assert len(stored) == 1 and stored[0].stat().st_mode & 0o777 == 0o600
    see_latest(db)
    assert [d.filename for d in db.exec(select(PurchaseDocument)).all()] == ["ok.pdf"]
