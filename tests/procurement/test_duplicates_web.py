"""Duplicate-procurement pages: the scan with decisions kept, check before you buy, consolidation."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.auth import PermissionDenied
from marketplace.models import AuditEvent
from procurement import duplicate_scans, duplicates
from procurement.models import DuplicateDecision, Purchase
from procurement.services import purchases
from procurement.services.purchases import PurchaseInput
from tests.support import login, make_user, post_form, see_latest, text_of

TODAY = date(2026, 11, 26)


def _record(db, officer, division, piid, vendor, product, start, end, dollars):
    return purchases.record_purchase(
        db,
        accounts.principal_for(db, officer),
        PurchaseInput(
            division=division,
            vendor=vendor,
            product=product,
            description=f"{product} annual subscription",
            piid=piid,
            start_on=start,
            current_end_on=end,
            obligated=dollars,
        ),
        today=TODAY,
    )


@pytest.fixture
def register(db):
    """A CDC/FDA duplicate (same vendor and product, overlapping), a NIH renewal after it and an
    unrelated CDC purchase; officers of CDC, FDA and NIH, a viewer and leadership."""
    users = {
        "cdc": make_user(db, "officer.cdc@hhs.gov", division="CDC", roles=("officer",)),
        "fda": make_user(db, "officer.fda@hhs.gov", division="FDA", roles=("officer",)),
        "nih": make_user(db, "officer.nih@hhs.gov", division="NIH", roles=("officer",)),
        "viewer": make_user(db, "viewer@hhs.gov", division="CDC", roles=("viewer",)),
        "leader": make_user(db, "leader@hhs.gov", division="OS", roles=("leadership",)),
    }
    vendor, product = "Clarivate Analytics LLC", "Web of Science"
    rows = {
        "cdc": _record(
            db, users["cdc"], "CDC", "75D30126P00001", vendor, product, "2026-01-01",
            "2026-12-31", "120000",
        ),
        "fda": _record(
            db, users["fda"], "FDA", "75F40126P00002", vendor, product, "2026-03-01",
            "2027-02-28", "90000",
        ),
        "nih": _record(
            db, users["nih"], "NIH", "75N90128P00003", vendor, product, "2028-01-01",
            "2028-12-31", "80000",
        ),
        "other": _record(
            db, users["cdc"], "CDC", "75D30126P00009", "Acme Lab Supplies Inc",
            "Centrifuge tubes", "2026-02-01", "2026-08-31", "5000",
        ),
    }  # fmt: skip
    duplicate_scans.full_scan(db, trigger="test")  # the pages read the kept results
    return users, rows


def _pair_keys(db):
    result, _ = duplicates.scan(db)
    return {frozenset((p.key_a, p.key_b)) for p in result.pairs}


def test_scan_page_lists_the_duplicate_with_reasons(client, db, register):
    _, rows = register
    login(client, "officer.cdc@hhs.gov")
    response = client.get("/procurement/duplicates")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "75D30126P00001" in page and "75F40126P00002" in page
    assert f'href="/procurement/purchases/{rows["cdc"].id}"' in response.text
    result, _ = duplicates.scan(db)
    pair = result.pairs[0]
    assert {pair.division_a, pair.division_b} == {"CDC", "FDA"}
    for reason in pair.reasons:
        assert reason in page
    assert "overlapping share of the smaller annualised cost" in page
    assert "75D30126P00009" not in page  # the unrelated purchase is no duplicate


def test_viewer_gets_403_and_unrelated_officer_may_not_decide(client, db, register):
    users, rows = register
    login(client, "viewer@hhs.gov")
    assert client.get("/procurement/duplicates").status_code == 403
    assert client.get("/procurement/consolidation").status_code == 403
    client.cookies.clear()
    login(client, "officer.nih@hhs.gov")
    response = post_form(
        client,
        "/procurement/duplicates/decide",
        {
            "key_a": rows["cdc"].award_key,
            "key_b": rows["fda"].award_key,
            "decision": "not_duplicate",
        },
    )
    assert response.status_code == 403
    see_latest(db)
    assert db.exec(select(DuplicateDecision)).first() is None
    with pytest.raises(PermissionDenied):
        duplicates.decide_pair(
            db,
            accounts.principal_for(db, users["nih"]),
            rows["cdc"].award_key,
            rows["fda"].award_key,
            "confirmed",
        )


def test_dismissing_a_pair_removes_it_from_page_and_scan_and_is_audited(client, db, register):
    _, rows = register
    pair = frozenset((rows["cdc"].award_key, rows["fda"].award_key))
    assert pair in _pair_keys(db)
    login(client, "officer.fda@hhs.gov")
    response = post_form(
        client,
        "/procurement/duplicates/decide",
        {
            "key_a": rows["fda"].award_key,
            "key_b": rows["cdc"].award_key,
            "decision": "shared_vehicle",
            "note": "Both ordered under the NIH BPA",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    first, second = sorted([rows["cdc"], rows["fda"]], key=lambda p: p.award_key)
    assert response.text.strip().startswith(f'<tr id="pair-{first.id}-{second.id}"')
    assert "It will not be reported again" in text_of(response.text)
    page = client.get("/procurement/duplicates")
    assert "75F40126P00002" not in text_of(page.text)
    see_latest(db)
    assert pair not in _pair_keys(db)
    stored = db.exec(select(DuplicateDecision)).one()
    assert (stored.key_a, stored.key_b) == tuple(sorted(pair))
    assert stored.decision == "shared_vehicle" and stored.decided_by == "officer.fda@hhs.gov"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "duplicate.decide")).one()
    assert event.actor == "officer.fda@hhs.gov"
    assert event.before is None
    assert event.after["decision"] == "shared_vehicle"
    assert event.after["note"] == "Both ordered under the NIH BPA"


def test_confirmed_pair_stays_and_a_changed_decision_is_audited_with_before(db, register):
    users, rows = register
    leader = accounts.principal_for(db, users["leader"])
    key_a, key_b = rows["cdc"].award_key, rows["fda"].award_key
    duplicates.decide_pair(db, leader, key_a, key_b, "confirmed", "same seats")
    result, _ = duplicates.scan(db)
    assert result.pairs[0].confirmed
    assert "confirmed by an officer" in " ".join(result.pairs[0].reasons)
    duplicates.decide_pair(db, leader, key_b, key_a, "different_product")
    assert frozenset((key_a, key_b)) not in _pair_keys(db)
    events = db.exec(
        select(AuditEvent).where(AuditEvent.action == "duplicate.decide").order_by(AuditEvent.id)
    ).all()
    assert [e.after["decision"] for e in events] == ["confirmed", "different_product"]
    assert events[1].before == {"decision": "confirmed", "note": "same seats"}
    assert len(db.exec(select(DuplicateDecision)).all()) == 1


def test_plain_post_decision_redirects_back(client, db, register):
    _, rows = register
    login(client, "officer.cdc@hhs.gov")
    response = post_form(
        client,
        "/procurement/duplicates/decide",
        {"key_a": rows["cdc"].award_key, "key_b": rows["fda"].award_key, "decision": "confirmed"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/procurement/duplicates"
    page = client.get("/procurement/duplicates")
    assert "Recorded: Confirmed duplicate." in text_of(page.text)
    assert "Confirmed" in page.text


def test_check_results_fragment_ranks_the_matching_purchase_first(client, db, register):
    _, rows = register
    login(client, "viewer@hhs.gov")
    params = {"vendor": "Clarivate", "text": "Web of Science", "division": "CDC"}
    fragment = client.get("/procurement/check", params=params, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="check-results"')
    assert 'aria-live="polite"' in fragment.text
    assert "<html" not in fragment.text
    links = re.findall(r'href="/procurement/purchases/(\d+)"', fragment.text)
    assert links and int(links[0]) in {rows["cdc"].id, rows["fda"].id, rows["nih"].id}
    assert str(rows["other"].id) not in links
    # The URL htmx pushes is the same one: reloaded without htmx it is the whole page.
    full = client.get("/procurement/check", params=params)
    assert full.status_code == 200
    assert "<html" in full.text and 'id="check-results"' in full.text
    assert re.findall(r'href="/procurement/purchases/(\d+)"', full.text)[:1] == links[:1]
    assert 'value="Web of Science"' in full.text  # the form keeps what was typed
    empty = client.get("/procurement/check")
    assert "Enter a vendor or a description" in text_of(empty.text)


def test_consolidation_lists_offerings_of_several_divisions(client, db, register):
    login(client, "leader@hhs.gov")
    response = client.get("/procurement/consolidation")
    assert response.status_code == 200
    page = text_of(response.text)
    assert "75N90128P00003" in page
    assert "department-wide licence covering" in page
    assert "CDC, FDA" in page


def test_purchases_page_links_to_the_three_pages(client, db, register):
    login(client, "officer.cdc@hhs.gov")
    page = client.get("/procurement/purchases").text
    for path in ("/procurement/duplicates", "/procurement/check", "/procurement/consolidation"):
        assert f'href="{path}"' in page
    assert db.exec(select(Purchase)).all()
