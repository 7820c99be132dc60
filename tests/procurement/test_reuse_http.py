"""Reuse request pages through the app: ask, decide, refusals shown, attachments guarded,
notifications, and the listing page's reuse button and usage counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.catalog.models import Listing, ListingUsage
from marketplace.models import AuditEvent
from procurement.models import Licence, ReuseAttachment, ReuseRequest
from procurement.services import licences, purchases
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput
from tests.support import login, make_user, post_form, text_of

TODAY = date(2026, 11, 25)


@pytest.fixture
def world(db):
    """A CMS licence (4 seats, 3 used by CMS, agreement required) tied to a published listing;
    a CMS officer, CDC and FDA viewers, and leadership."""
    users = {
        "cms": make_user(db, "officer@cms.hhs.gov", division="CMS", roles=("officer",)),
        "cdc": make_user(db, "analyst@cdc.hhs.gov", division="CDC", roles=("viewer",)),
        "fda": make_user(db, "analyst@fda.hhs.gov", division="FDA", roles=("viewer",)),
        "leader": make_user(db, "leader@hhs.gov", division="OS", roles=("leadership",)),
    }
    owner = accounts.principal_for(db, users["cms"])
    listing = Listing(
        identifier="cms-hospitalview",
        kind="purchased_dataset",
        status="published",
        division_id=owner.division_id,
        title="HospitalView hospital database",
        description="Commercial hospital and physician data bought by CMS.",
        access_level="restricted public",
        record={
            "title": "HospitalView hospital database",
            "description": "Commercial hospital and physician data bought by CMS.",
            "distributions": [{"download_url": "https://example.com/hv.csv", "title": "Extract"}],
        },
    )
    db.add(listing)
    db.commit()
    purchase = purchases.record_purchase(
        db,
        owner,
        PurchaseInput(
            division="CMS",
            vendor="Definitive Healthcare LLC",
            product="HospitalView",
            description="Hospital database subscription",
            start_on="2026-01-01",
            current_end_on="2026-12-31",
            obligated="$48,000.00",
        ),
        today=TODAY,
    )
    licence = licences.save_licence(
        db,
        owner,
        purchase.id,
        LicenceInput(
            scope="department",
            seats="4",
            owner_seats="3",
            term_start_on="2026-01-01",
            term_end_on="2026-12-31",
            price_per_seat="$12,000.00",
            dua_required=True,
            listing=str(listing.id),
        ),
    )
    return {"users": users, "listing_id": listing.id, "licence_id": licence.id}


def switch(client, email):
    post_form(client, "/logout")
    client.cookies.clear()
    login(client, email)


def ask(client, world, **changes):
    form = {
        "licence": world["licence_id"],
        "purpose": "Respiratory season hospital capacity analysis",
        "seats": "1",
        "start_on": "2026-11-01",
        "end_on": "2026-12-31",
        "contact_name": "Ana Lyst",
        "contact_email": "analyst@cdc.hhs.gov",
    }
    form.update(changes)
    return post_form(client, "/procurement/reuse/new", form)


def test_the_listing_page_offers_reuse_and_counts_views_and_downloads(client, db, world):
    login(client, "analyst@cdc.hhs.gov")
    page = client.get(f"/catalog/listings/{world['listing_id']}")
    assert page.status_code == 200
    assert f'href="/procurement/reuse/new?listing={world["listing_id"]}"' in page.text
    client.get(f"/catalog/listings/{world['listing_id']}")
    download = client.get(
        f"/catalog/listings/{world['listing_id']}/distributions/1", follow_redirects=False
    )
    assert download.status_code == 302
    assert download.headers["location"] == "https://example.com/hv.csv"
    assert client.get(f"/catalog/listings/{world['listing_id']}/distributions/9").status_code == 404
    db.rollback()
    usage = db.exec(select(ListingUsage)).one()
    assert (usage.views, usage.downloads) == (2, 1)
    assert usage.month.day == 1
    switch(client, "officer@cms.hhs.gov")
    owner_page = client.get(f"/catalog/listings/{world['listing_id']}")
    assert "request-reuse" not in owner_page.text and "Your division owns this" in owner_page.text


def test_the_form_shows_the_licence_terms_and_refills_with_errors(client, world):
    login(client, "analyst@cdc.hhs.gov")
    form = client.get(f"/procurement/reuse/new?listing={world['listing_id']}")
    assert form.status_code == 200
    text = text_of(form.text)
    assert "Seats free today 1 of 4" in text
    assert "Required: attach it or give its reference" in text
    response = ask(client, world, purpose="", seats="abc")
    assert response.status_code == 422
    assert "Say what your division will use it for." in response.text
    assert 'value="abc"' in response.text
    assert client.get("/procurement/reuse/new?licence=999999").status_code == 404


def test_request_then_refused_until_the_agreement_then_approved(client, db, world):
    login(client, "analyst@cdc.hhs.gov")
    response = ask(client, world)
    assert response.status_code == 303
    request_id = db.exec(select(ReuseRequest.id)).one()
    assert response.headers["location"] == f"/procurement/reuse/{request_id}"
    mine = client.get("/procurement/reuse/mine")
    assert "HospitalView" in mine.text and "Requested" in mine.text

    switch(client, "officer@cms.hhs.gov")
    incoming = client.get("/procurement/reuse/incoming")
    assert f"/procurement/reuse/{request_id}" in incoming.text
    detail = client.get(f"/procurement/reuse/{request_id}")
    assert "requires a data use agreement" in detail.text
    refused = post_form(client, f"/procurement/reuse/{request_id}/decide", {"decision": "approve"})
    assert refused.status_code == 422
    assert "requires a data use agreement" in text_of(refused.text)

    switch(client, "analyst@cdc.hhs.gov")
    upload = client.post(
        f"/procurement/reuse/{request_id}/attachments",
        files={"attachment": ("dua.pdf", b"%PDF-1.7\nsigned", "application/pdf")},
        data={"_csrf_token": client.cookies.get("csrftoken"), "is_agreement": "1"},
        follow_redirects=False,
    )
    assert upload.status_code == 303
    assert "Attached dua.pdf." in text_of(client.get(upload.headers["location"]).text)
    db.rollback()  # end the test's read snapshot to see the app's writes
    attachment = db.exec(select(ReuseAttachment)).one()
    assert attachment.filename == "dua.pdf" and attachment.stored_name.startswith("reuse-")

    switch(client, "officer@cms.hhs.gov")
    approved = post_form(client, f"/procurement/reuse/{request_id}/decide", {"decision": "approve"})
    assert approved.status_code == 303
    db.rollback()
    assert db.get(ReuseRequest, request_id).status == "active"
    assert db.get(Licence, world["licence_id"]).reuse_count == 1
    assert db.get(Listing, world["listing_id"]).reuse_count == 1

    switch(client, "analyst@cdc.hhs.gov")
    inbox = client.get("/notifications/")
    assert "Your reuse request" in inbox.text and "was approved" in inbox.text
    badge = client.get("/notifications/badge")
    assert 'data-testid="unread-count">1<' in badge.text
    post_form(client, "/notifications/read")
    assert "unread-count" not in client.get("/notifications/badge").text


def test_another_division_cannot_read_the_request_or_its_agreement(client, db, world, tmp_path):
    login(client, "analyst@cdc.hhs.gov")
    ask(client, world, dua_reference="DUA-CMS-2026-014")
    request_id = db.exec(select(ReuseRequest.id)).one()
    client.post(
        f"/procurement/reuse/{request_id}/attachments",
        files={"attachment": ("dua.pdf", b"%PDF-1.7\nsigned", "application/pdf")},
        data={"_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    db.rollback()
    attachment_id = db.exec(select(ReuseAttachment.id)).one()
    assert client.get(f"/procurement/reuse/attachments/{attachment_id}").content.startswith(b"%PDF")
    switch(client, "analyst@fda.hhs.gov")
    assert client.get(f"/procurement/reuse/{request_id}").status_code == 403
    assert client.get(f"/procurement/reuse/attachments/{attachment_id}").status_code == 403
    denied = post_form(client, f"/procurement/reuse/{request_id}/decide", {"decision": "approve"})
    assert denied.status_code == 403
    switch(client, "leader@hhs.gov")
    assert client.get(f"/procurement/reuse/attachments/{attachment_id}").status_code == 200
    db.rollback()
    reads = db.exec(select(AuditEvent).where(AuditEvent.action == "reuse.attachment_read")).all()
    assert len(reads) == 2


def test_a_disguised_executable_is_refused_and_nothing_is_stored(client, db, world, settings):
    login(client, "analyst@cdc.hhs.gov")
    ask(client, world)
    request_id = db.exec(select(ReuseRequest.id)).one()
    response = client.post(
        f"/procurement/reuse/{request_id}/attachments",
        files={"attachment": ("dua.pdf", b"MZ\x90\x00binary", "application/pdf")},
        data={"_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=True,
    )
    assert "The file is not a real .pdf document." in text_of(response.text)
    db.rollback()
    assert db.exec(select(ReuseAttachment)).first() is None
    assert not (settings.upload_dir / "reuse").exists() or not any(
        (settings.upload_dir / "reuse").iterdir()
    )


def test_a_denial_shows_its_reason_to_the_requester(client, db, world):
    login(client, "analyst@cdc.hhs.gov")
    ask(client, world)
    request_id = db.exec(select(ReuseRequest.id)).one()
    switch(client, "officer@cms.hhs.gov")
    missing = post_form(client, f"/procurement/reuse/{request_id}/decide", {"decision": "deny"})
    assert missing.status_code == 422 and "Give the reason" in missing.text
    post_form(
        client,
        f"/procurement/reuse/{request_id}/decide",
        {"decision": "deny", "reason": "Seats are reserved for <b>CMS</b> program offices."},
    )
    switch(client, "analyst@cdc.hhs.gov")
    page = client.get(f"/procurement/reuse/{request_id}")
    assert "Denied" in page.text
    assert "Seats are reserved for &lt;b&gt;CMS&lt;/b&gt; program offices." in page.text


def test_delegates_are_managed_by_the_division_and_validated(client, db, world):
    login(client, "officer@cms.hhs.gov")
    bad = post_form(client, "/procurement/reuse/delegates", {"email": "nobody@hhs.gov"})
    assert bad.status_code == 422 and "No active account" in bad.text
    good = post_form(
        client, "/procurement/reuse/delegates", {"email": "leader@hhs.gov", "until": "2027-01-31"}
    )
    assert good.status_code == 303
    page = client.get("/procurement/reuse/delegates")
    assert "leader@hhs.gov" in page.text
    switch(client, "analyst@cdc.hhs.gov")
    assert client.get("/procurement/reuse/delegates").status_code == 403


def test_anonymous_callers_are_sent_to_sign_in(client, world):
    response = client.get("/procurement/reuse/mine", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]


def test_the_licence_page_shows_cost_per_reuse_by_quarter(client, db, world):
    login(client, "analyst@cdc.hhs.gov")
    ask(client, world, dua_reference="DUA-CMS-2026-014")
    request_id = db.exec(select(ReuseRequest.id)).one()
    switch(client, "officer@cms.hhs.gov")
    post_form(client, f"/procurement/reuse/{request_id}/decide", {"decision": "approve"})
    db.rollback()
    purchase_id = db.get(Licence, world["licence_id"]).purchase_id
    page = client.get(f"/procurement/purchases/{purchase_id}")
    text = text_of(page.text)
    # $48,000 over 2026: Q1 of FY2027 (Oct–Dec) holds 92 of 365 days, shared by CMS and CDC.
    assert "FY2027 Q1 $12,098.63 CMS, CDC $6,049.32" in text
    assert "FY2026 Q4 $12,098.63 CMS $12,098.63" in text
    assert "<svg" in page.text and "Cost per reuse by fiscal quarter" in page.text


def test_a_duplicate_pairs_purchase_leads_to_its_licence_or_says_none_exists(client, db, world):
    login(client, "analyst@cdc.hhs.gov")
    licensed = db.get(Licence, world["licence_id"]).purchase_id
    form = client.get(f"/procurement/reuse/new?purchase={licensed}")
    assert form.status_code == 200
    assert f'name="licence" value="{world["licence_id"]}"' in form.text
    db.rollback()  # end the read snapshot before writing beside the app
    owner = accounts.principal_for(db, world["users"]["cms"])
    bare = purchases.record_purchase(
        db,
        owner,
        PurchaseInput(
            division="CMS",
            vendor="Acme Data LLC",
            product="Claims extract",
            start_on="2026-01-01",
            current_end_on="2026-12-31",
            obligated="1000",
        ),
        today=TODAY,
    )
    response = client.get(f"/procurement/reuse/new?purchase={bare.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/procurement/purchases/{bare.id}"
    page = client.get(response.headers["location"])
    assert "No licence terms are recorded for this purchase yet" in page.text


def test_the_listing_shows_its_licence_cost_per_reuse_to_staff_only(client, db, world):
    listing_url = f"/catalog/listings/{world['listing_id']}"
    anonymous = client.get(listing_url)
    assert anonymous.status_code == 200 and "cost-per-reuse" not in anonymous.text
    login(client, "analyst@fda.hhs.gov")
    page = client.get(listing_url)
    assert 'data-testid="cost-per-reuse"' in page.text
    assert "FY2027 Q1 $12,098.63 CMS $12,098.63" in text_of(page.text)
