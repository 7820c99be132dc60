"""Kept duplicate scans: incremental equals full, decisions hold, failures keep the old results;
the scan-again job; check-before-you-buy outcomes and their avoided spend."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace import accounts
from marketplace.jobs import run_pending
from marketplace.models import AuditEvent, Job
from marketplace.types import utcnow
from procurement import duplicate_scans, duplicates
from procurement.duplicate_groups import (
    Outcome,
    avoided_spend_cents,
    components,
    duplicate_groups,
)
from procurement.matching import PurchaseRecord, find_duplicates
from procurement.models import (
    CheckOutcome,
    DuplicateScanGroup,
    DuplicateScanPair,
    DuplicateScanRun,
    Purchase,
    Vendor,
)
from procurement.services import purchases
from procurement.services.imports import ImportOptions, import_awards
from procurement.services.purchases import PurchaseInput
from tests.support import login, make_user, post_form, see_latest, text_of

TODAY = date(2026, 11, 26)
VENDOR, PRODUCT = "Clarivate Analytics LLC", "Web of Science"


# ---------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("outcome", "planned", "avoided"),
    [
        ("reuse", 2_500_000, 2_500_000),
        ("reuse", None, 0),  # no planned amount given: nothing is claimed
        ("reuse", -500, 0),
        ("proceed", 2_500_000, 0),
        ("anything else", 100, 0),
    ],
)
def test_avoided_spend_is_the_planned_amount_of_a_reuse(outcome, planned, avoided):
    assert avoided_spend_cents(outcome, planned) == avoided


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([("a", "b"), ("c", "d")], [("a", "b"), ("c", "d")]),
        ([("a", "b"), ("b", "c"), ("x", "y")], [("a", "b", "c"), ("x", "y")]),
        ([("d", "c", "b"), ("a", "d")], [("a", "b", "c", "d")]),
        ([], []),
    ],
)
def test_components_join_groups_that_share_a_key(groups, expected):
    assert components(groups) == expected


def _rec(key, division, start, end, cents, product=PRODUCT, vendor=VENDOR):
    return PurchaseRecord(
        key=key,
        division=division,
        vendor_name=vendor,
        description=f"{product} subscription",
        product=product,
        start=date.fromisoformat(start),
        end=date.fromisoformat(end) if end else None,
        obligated_cents=cents,
        vendor_id=1,
    )


def test_duplicate_groups_equal_the_matchers_clusters():
    records = [
        _rec("A1", "CDC", "2026-01-01", "2026-12-31", 12_000_000),
        _rec("B1", "FDA", "2026-03-01", "2027-02-28", 9_000_000),
        _rec("C1", "NIH", "2026-06-01", None, 8_000_000),
        _rec("D1", "CMS", "2026-02-01", "2026-12-31", 500_000, "Scopus", "Elsevier Inc"),
    ]
    result = find_duplicates(records)
    assert result.clusters, "the fixture must hold a duplicate"
    mine = duplicate_groups(((p.key_a, p.key_b) for p in result.pairs), {r.key: r for r in records})
    assert [
        (g.key, g.keys, g.divisions, g.total_cents, g.estimated_avoidable_cents) for g in mine
    ] == [
        (c.id, c.keys, c.divisions, c.total_cents, c.estimated_avoidable_cents)
        for c in result.clusters
    ]


# ---------------------------------------------------------------------------- the register


def _record(db, officer, division, piid, start, end, dollars, product=PRODUCT, vendor=VENDOR):
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
    users = {
        "cdc": make_user(db, "officer.cdc@hhs.gov", division="CDC", roles=("officer",)),
        "fda": make_user(db, "officer.fda@hhs.gov", division="FDA", roles=("officer",)),
        "nih": make_user(db, "officer.nih@hhs.gov", division="NIH", roles=("officer",)),
        "viewer": make_user(db, "viewer@hhs.gov", division="CDC", roles=("viewer",)),
        "leader": make_user(db, "leader@hhs.gov", division="OS", roles=("leadership",)),
    }
    rows = {
        "cdc": _record(db, users["cdc"], "CDC", "75D30126P00001", "2026-01-01", "2026-12-31", "120000"),
        "fda": _record(db, users["fda"], "FDA", "75F40126P00002", "2026-03-01", "2027-02-28", "90000"),
        "nih": _record(db, users["nih"], "NIH", "75N90128P00003", "2028-01-01", "2028-12-31", "80000"),
    }  # fmt: skip
    return users, rows


def _kept_pairs(db):
    see_latest(db)
    return {(p.key_a, p.key_b): p for p in db.exec(select(DuplicateScanPair)).all()}


def _kept_groups(db, kind):
    return sorted(
        tuple(g.keys)
        for g in db.exec(select(DuplicateScanGroup).where(DuplicateScanGroup.kind == kind)).all()
    )


def _fresh(db):
    result, _ = duplicates.scan(db)
    return result


def test_incremental_after_an_edit_equals_a_full_rescan(db, register):
    users, rows = register
    duplicate_scans.full_scan(db, trigger="test")
    assert set(_kept_pairs(db)) == {tuple(sorted((rows["cdc"].award_key, rows["fda"].award_key)))}
    # NIH buys it again, overlapping FDA's period: a new purchase and an edit of the old one.
    new = _record(db, users["nih"], "NIH", "75N90126P00004", "2026-06-01", "2027-05-31", "70000")
    old = db.get(Purchase, rows["nih"].id)
    edit = replace(
        PurchaseInput.of(old, "NIH", db.get(Vendor, old.vendor_id)),
        start_on="2026-07-01",
        current_end_on="2027-06-30",
    )  # the hand edit moves the later NIH purchase into the overlap too
    purchases.update_purchase(db, accounts.principal_for(db, users["nih"]), old.id, edit)
    outcome = duplicate_scans.refresh_changed(db, trigger="test")
    assert outcome is not None and outcome.run.kind == "incremental"
    assert outcome.run.changed >= 1
    kept = _kept_pairs(db)
    fresh = _fresh(db)
    assert set(kept) == {(p.key_a, p.key_b) for p in fresh.pairs}
    assert any(new.award_key in pair for pair in kept)
    for pair in fresh.pairs:  # pairs that touch the change carry the full scan's figures
        stored = kept[(pair.key_a, pair.key_b)]
        assert stored.score == pytest.approx(pair.score, abs=1e-6)
        assert stored.estimated_avoidable_cents == pair.estimated_avoidable_cents
        assert stored.reasons == list(pair.reasons)
    assert _kept_groups(db, "duplicate") == sorted(c.keys for c in fresh.clusters)
    assert _kept_groups(db, "consolidation") == sorted(c.keys for c in fresh.consolidation)
    # Nothing changed since: no run, nothing rewritten.
    runs = len(db.exec(select(DuplicateScanRun)).all())
    assert duplicate_scans.refresh_changed(db, trigger="test") is None
    assert len(db.exec(select(DuplicateScanRun)).all()) == runs


def test_dismissed_pair_stays_gone_and_confirmed_stays_after_incremental(db, register):
    users, rows = register
    third = _record(db, users["nih"], "NIH", "75N90126P00005", "2026-04-01", "2027-03-31", "60000")
    duplicate_scans.full_scan(db, trigger="test")
    leader = accounts.principal_for(db, users["leader"])
    dismissed = tuple(sorted((rows["cdc"].award_key, rows["fda"].award_key)))
    confirmed = tuple(sorted((rows["fda"].award_key, third.award_key)))
    assert {dismissed, confirmed} <= set(_kept_pairs(db))
    duplicates.decide_pair(db, leader, *dismissed, "not_duplicate")
    duplicates.decide_pair(db, leader, *confirmed, "confirmed")
    kept = _kept_pairs(db)
    assert dismissed not in kept  # the decision updates the kept results at once
    assert kept[confirmed].confirmed and kept[confirmed].reasons[0] == "confirmed by an officer"
    # Both purchases of the dismissed pair change: the incremental scan must not bring it back.
    for key in ("cdc", "fda"):
        purchase = db.get(Purchase, rows[key].id)
        purchase.obligated_cents += 100
        purchase.updated_at = utcnow()
        db.add(purchase)
    db.commit()
    outcome = duplicate_scans.refresh_changed(db, trigger="test")
    assert outcome is not None and outcome.run.kind == "incremental"
    kept = _kept_pairs(db)
    assert dismissed not in kept
    assert kept[confirmed].confirmed
    assert set(kept) == {(p.key_a, p.key_b) for p in _fresh(db).pairs}


def test_a_failed_scan_keeps_the_previous_results(db, register, monkeypatch):
    users, _ = register
    duplicate_scans.full_scan(db, trigger="test")
    before = {k: (p.score, p.reasons) for k, p in _kept_pairs(db).items()}
    groups_before = _kept_groups(db, "duplicate")
    _record(db, users["nih"], "NIH", "75N90126P00006", "2026-05-01", "2027-04-30", "50000")

    def broken(*args, **kwargs):
        raise RuntimeError("matcher crashed")

    monkeypatch.setattr(duplicate_scans, "find_duplicates", broken)
    with pytest.raises(RuntimeError):
        duplicate_scans.refresh_changed(db, trigger="test")
    with pytest.raises(RuntimeError):
        duplicate_scans.full_scan(db, trigger="test")
    assert {k: (p.score, p.reasons) for k, p in _kept_pairs(db).items()} == before
    assert _kept_groups(db, "duplicate") == groups_before
    failed = db.exec(select(DuplicateScanRun).where(DuplicateScanRun.status == "failed")).all()
    assert len(failed) == 2 and "matcher crashed" in failed[0].error
    monkeypatch.undo()
    # The change is still pending, so the next refresh picks it up.
    outcome = duplicate_scans.refresh_changed(db, trigger="test")
    assert outcome is not None and len(_kept_pairs(db)) > len(before)


def test_scan_again_runs_a_full_scan_job_and_the_page_shows_it(client, db, database, register):
    login(client, "officer.cdc@hhs.gov")
    empty = client.get("/procurement/duplicates")
    assert empty.status_code == 200
    assert "No scan has been kept yet" in text_of(empty.text)
    response = post_form(client, "/procurement/duplicates/scan")
    assert response.status_code == 303
    again = post_form(client, "/procurement/duplicates/scan")  # a second click queues nothing
    assert again.status_code == 303
    see_latest(db)
    jobs = db.exec(select(Job).where(Job.kind == duplicate_scans.SCAN_JOB)).all()
    assert len(jobs) == 1 and jobs[0].status == "queued"
    page = client.get("/procurement/duplicates")
    assert f'hx-get="/jobs/{jobs[0].id}"' in page.text  # progress polls the job
    assert "Scan again" not in text_of(page.text)
    assert run_pending(database, utcnow) == 1
    page = client.get("/procurement/duplicates")
    text = text_of(page.text)
    assert "Last scan: full scan" in text and "scan again by officer.cdc@hhs.gov" in text
    assert "75D30126P00001" in text and "75F40126P00002" in text
    see_latest(db)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "duplicates.scan_request")).one()
    assert event.actor == "officer.cdc@hhs.gov"
    fragment = post_form(client, "/procurement/duplicates/scan", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="duplicate-scan-status"')


def test_viewer_may_not_ask_for_a_scan(client, db, register):
    login(client, "viewer@hhs.gov")
    assert post_form(client, "/procurement/duplicates/scan").status_code == 403
    see_latest(db)
    assert db.exec(select(Job)).first() is None


def test_pages_page_through_the_kept_clusters(client, db, register):
    duplicate_scans.full_scan(db, trigger="test")
    login(client, "leader@hhs.gov")
    for path in ("/procurement/duplicates", "/procurement/consolidation"):
        for page in ("1", "2", "0", "-1", "abc", "99999999999", "1e9"):
            assert client.get(f"{path}?page={page}").status_code == 200


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(piid, division, start, end, dollars):
    return {
        "piid": piid, "division": division, "vendor": VENDOR, "product": PRODUCT,
        "description": f"{PRODUCT} subscription", "start": start, "current_end": end,
        "obligated": dollars,
    }  # fmt: skip


def test_web_import_job_queues_the_incremental_scan(db, database, settings, tmp_path, register):
    duplicate_scans.full_scan(db, trigger="test")
    officer = make_user(db, "officer2.cms@hhs.gov", division="CMS", roles=("officer",))
    path = _csv(
        tmp_path / "cms.csv", [_row("75FCMC26P0001", "CMS", "2026-02-01", "2027-01-31", "75000")]
    )
    upload = Path(settings.upload_dir)
    upload.mkdir(parents=True, exist_ok=True)
    (upload / "stored.csv").write_bytes(path.read_bytes())
    from procurement.jobs import IMPORT_JOB
    from procurement.services.imports import start_run

    run = start_run(db, accounts.principal_for(db, officer), ImportOptions(filename="cms.csv"))
    run.stored_name, run.user_id = "stored.csv", officer.id
    db.add(run)
    from marketplace.jobs import enqueue

    enqueue(db, IMPORT_JOB, {"run_id": run.id}, user_id=officer.id)
    db.commit()
    assert run_pending(database, utcnow) == 2  # the import, then the scan it queued
    see_latest(db)
    refresh = db.exec(select(Job).where(Job.kind == duplicate_scans.REFRESH_JOB)).one()
    assert refresh.status == "succeeded", refresh.error
    assert refresh.result["kind"] == "incremental" and refresh.result["changed"] == 1
    new_key = db.exec(select(Purchase.award_key).where(Purchase.piid == "75FCMC26P0001")).one()
    assert any(new_key in pair for pair in _kept_pairs(db))
    assert set(_kept_pairs(db)) == {(p.key_a, p.key_b) for p in _fresh(db).pairs}


def test_import_of_a_few_rows_is_incremental_and_a_large_share_is_full(
    db, tmp_path, register, monkeypatch
):
    monkeypatch.setattr(duplicate_scans, "FULL_SCAN_MIN", 0)
    duplicate_scans.full_scan(db, trigger="test")
    path = _csv(
        tmp_path / "more.csv", [_row("75D30126P00077", "CDC", "2026-05-01", "2027-04-30", "1000")]
    )
    import_awards(db, "cli: test", path, ImportOptions(filename="more.csv"))
    # 1 of 4 purchases changed is exactly the share where a full scan starts to pay off.
    outcome = duplicate_scans.refresh_changed(db, trigger="test")
    assert outcome is not None and outcome.run.kind == "incremental"
    path = _csv(tmp_path / "many.csv", [
        _row(f"75D30126P01{i:03d}", "CDC", "2026-05-01", "2027-04-30", "1000") for i in range(5)
    ])  # fmt: skip
    import_awards(db, "cli: test", path, ImportOptions(filename="many.csv"))
    outcome = duplicate_scans.refresh_changed(db, trigger="test")
    assert outcome is not None and outcome.run.kind == "full"
    assert set(_kept_pairs(db)) == {(p.key_a, p.key_b) for p in _fresh(db).pairs}


# ------------------------------------------------------------------------------ check outcomes


CHECK = {"vendor": "Clarivate", "text": "Web of Science", "division": "CDC", "amount": "25000"}


def test_officer_records_reuse_with_avoided_spend_audited_and_listed(client, db, register):
    _, rows = register
    login(client, "officer.cdc@hhs.gov")
    page = client.get("/procurement/check", params=CHECK)
    assert 'action="/procurement/check/outcome"' in page.text
    assert f'value="purchase:{rows["fda"].id}"' in page.text
    response = post_form(
        client,
        "/procurement/check/outcome",
        {**CHECK, "outcome": "reuse", "match": f"purchase:{rows['fda'].id}"},
    )
    assert response.status_code == 303
    see_latest(db)
    stored = db.exec(select(CheckOutcome)).one()
    assert stored.outcome == "reuse" and stored.match_kind == "purchase"
    assert stored.match_label == "75F40126P00002"
    assert stored.planned_cents == 2_500_000 and stored.avoided_cents == 2_500_000
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "check.outcome")).one()
    assert event.actor == "officer.cdc@hhs.gov" and event.after["avoided_cents"] == 2_500_000
    text = text_of(client.get("/procurement/check").text)
    assert "Recent outcomes: CDC" in text and "$25,000.00" in text
    assert "Reuse purchase 75F40126P00002" in text
    # Another division's officer does not see CDC's outcomes; leadership sees every division.
    client.cookies.clear()
    login(client, "officer.fda@hhs.gov")
    assert "75F40126P00002" not in text_of(
        client.get("/procurement/check").text.split("Recent outcomes")[-1]
    )
    client.cookies.clear()
    login(client, "leader@hhs.gov")
    assert "Reuse purchase 75F40126P00002" in text_of(client.get("/procurement/check").text)


def test_outcome_errors_rerender_the_form_and_nothing_is_kept(client, db, register):
    login(client, "officer.cdc@hhs.gov")
    cases = [
        ({"outcome": "proceed", "justification": "   "}, "Say why"),
        ({"outcome": "reuse", "match": ""}, "Choose the purchase"),
        ({"outcome": "reuse", "match": "purchase:999999"}, "Choose the purchase"),
        ({"outcome": "reuse", "match": "listing:abc"}, "Choose the purchase"),
        ({"outcome": "maybe"}, "Choose reuse or proceed"),
        ({"outcome": "proceed", "justification": "x" * 2001}, "at most 2,000"),
    ]
    for extra, message in cases:
        response = post_form(client, "/procurement/check/outcome", {**CHECK, **extra})
        assert response.status_code == 422, extra
        assert message in text_of(response.text)
        assert 'value="Web of Science"' in response.text  # the need is kept
    response = post_form(
        client, "/procurement/check/outcome", {"outcome": "proceed", "justification": "x"}
    )
    assert response.status_code == 422 and "Describe the need" in text_of(response.text)
    see_latest(db)
    assert db.exec(select(CheckOutcome)).first() is None


def test_proceed_avoids_nothing_and_reuse_without_amount_says_so(client, db, register):
    _, rows = register
    login(client, "officer.cdc@hhs.gov")
    post_form(client, "/procurement/check/outcome", {
        **CHECK, "outcome": "proceed", "justification": "Need 40 more seats than FDA's licence has",
    })  # fmt: skip
    post_form(client, "/procurement/check/outcome", {
        **CHECK, "amount": "", "outcome": "reuse", "match": f"purchase:{rows['fda'].id}",
    })  # fmt: skip
    see_latest(db)
    stored = db.exec(select(CheckOutcome).order_by(CheckOutcome.id)).all()
    assert [(o.outcome, o.avoided_cents, o.planned_cents) for o in stored] == [
        (Outcome.PROCEED, 0, 2_500_000),
        (Outcome.REUSE, 0, None),
    ]
    assert "(no amount given)" in text_of(client.get("/procurement/check").text)


def test_only_officers_record_outcomes(client, db, register):
    for email in ("viewer@hhs.gov", "leader@hhs.gov"):
        client.cookies.clear()
        login(client, email)
        page = client.get("/procurement/check", params=CHECK)
        assert 'action="/procurement/check/outcome"' not in page.text
        response = post_form(
            client,
            "/procurement/check/outcome",
            {**CHECK, "outcome": "proceed", "justification": "x"},
        )
        assert response.status_code == 403
    see_latest(db)
    assert db.exec(select(CheckOutcome)).first() is None


def test_periodic_refresh_skips_an_unchanged_register_and_picks_up_a_hand_edit(db, register):
    users, rows = register
    duplicate_scans.full_scan(db, trigger="test")
    assert duplicate_scans.refresh_changed(db, trigger="tick", if_register_moved=True) is None
    old = db.get(Purchase, rows["nih"].id)
    edit = replace(
        PurchaseInput.of(old, "NIH", db.get(Vendor, old.vendor_id)),
        start_on="2026-02-01",
        current_end_on="2027-01-31",
    )
    purchases.update_purchase(db, accounts.principal_for(db, users["nih"]), old.id, edit)
    outcome = duplicate_scans.refresh_changed(db, trigger="tick", if_register_moved=True)
    assert outcome is not None and outcome.run.kind == "incremental" and outcome.run.changed == 1
    kept = _kept_pairs(db)
    assert any(rows["nih"].award_key in pair for pair in kept)  # the edit made NIH a duplicate
    assert set(kept) == {(p.key_a, p.key_b) for p in _fresh(db).pairs}


def _assert_kept_equal_fresh(db):
    kept = _kept_pairs(db)
    fresh = _fresh(db)
    assert set(kept) == {(p.key_a, p.key_b) for p in fresh.pairs}
    for pair in fresh.pairs:
        stored = kept[(pair.key_a, pair.key_b)]
        assert stored.score == pytest.approx(pair.score, abs=1e-6)
        assert stored.reasons == list(pair.reasons)
    assert _kept_groups(db, "duplicate") == sorted(c.keys for c in fresh.clusters)
    assert _kept_groups(db, "consolidation") == sorted(c.keys for c in fresh.consolidation)


def test_warm_context_is_updated_not_rebuilt_and_a_stale_one_is_never_used(
    db, register, monkeypatch
):
    users, rows = register
    calls = {"build": 0, "update": 0}
    build, update = duplicate_scans.build_context, duplicate_scans.update_context

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(duplicate_scans, "build_context", counted("build", build))
    monkeypatch.setattr(duplicate_scans, "update_context", counted("update", update))
    duplicate_scans.full_scan(db, trigger="test")
    assert calls == {"build": 1, "update": 0}
    # A new purchase, then a vendor renamed in the register, then a purchase removed: each
    # refresh starts from the warm context and keeps what a full rescan finds.
    _record(db, users["nih"], "NIH", "75N90126P00007", "2026-06-01", "2027-05-31", "70000")
    assert duplicate_scans.refresh_changed(db, trigger="test").run.kind == "incremental"
    _assert_kept_equal_fresh(db)
    vendor = db.get(Vendor, rows["fda"].vendor_id)
    vendor.name = "Clarivate Analytics (US) LLC"
    vendor.updated_at = utcnow()
    db.add(vendor)
    db.commit()
    assert duplicate_scans.refresh_changed(db, trigger="test") is not None
    _assert_kept_equal_fresh(db)
    db.delete(db.get(Purchase, rows["cdc"].id))
    db.commit()
    assert duplicate_scans.refresh_changed(db, trigger="test") is not None
    _assert_kept_equal_fresh(db)
    assert calls == {"build": 1, "update": 3}
    # Another process scanned (or the kept fingerprints moved): the warm context is not theirs.
    stale = duplicate_scans._warm
    assert stale is not None
    monkeypatch.setattr(duplicate_scans, "_warm", replace(stale, run_id=stale.run_id - 1))
    _record(db, users["cdc"], "CDC", "75D30126P00008", "2026-02-01", "2027-01-31", "65000")
    assert duplicate_scans.refresh_changed(db, trigger="test") is not None
    assert calls == {"build": 2, "update": 3}
    _assert_kept_equal_fresh(db)
    warm = duplicate_scans._warm
    forged = dict(warm.prints)
    forged[next(iter(forged))] = "0" * 32
    monkeypatch.setattr(duplicate_scans, "_warm", replace(warm, prints=forged))
    _record(db, users["fda"], "FDA", "75F40126P00009", "2026-02-01", "2027-01-31", "65000")
    assert duplicate_scans.refresh_changed(db, trigger="test") is not None
    assert calls == {"build": 3, "update": 3}
    _assert_kept_equal_fresh(db)


def test_a_failed_incremental_scan_drops_the_warm_context(db, register, monkeypatch):
    users, _ = register
    duplicate_scans.full_scan(db, trigger="test")
    assert duplicate_scans._warm is not None
    _record(db, users["nih"], "NIH", "75N90126P00006", "2026-05-01", "2027-04-30", "50000")

    def broken(*args, **kwargs):
        raise RuntimeError("matcher crashed")

    monkeypatch.setattr(duplicate_scans, "find_duplicates", broken)
    with pytest.raises(RuntimeError):
        duplicate_scans.refresh_changed(db, trigger="test")
    assert duplicate_scans._warm is None
    monkeypatch.undo()
    assert duplicate_scans.refresh_changed(db, trigger="test") is not None
    _assert_kept_equal_fresh(db)
