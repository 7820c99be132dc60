"""Procurement services on SQLite and PostgreSQL: imports, vendors, purchases, licences, export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func
from sqlmodel import select

from marketplace import accounts, jobs
from marketplace.accounts import ValidationFailed
from marketplace.auth import PermissionDenied
from marketplace.models import AuditEvent, Job, JobStatus
from procurement.jobs import IMPORT_JOB
from procurement.models import ImportRun, Licence, Purchase, Vendor, VendorAlias
from procurement.services import imports, licences, purchases, vendors
from procurement.services.imports import ImportOptions, ImportRefused, import_awards
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput, PurchaseQuery
from tests.support import make_user, see_latest

CLI = "cli: marketplace purchases import"
TODAY = date(2026, 11, 26)
TEMPLATE_HEADER = (
    "piid,parent_piid,division,vendor,vendor_uei,product,description,award_type,psc,naics,"
    "start,current_end,potential_end,obligated,current_value,potential_value"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def template_file(tmp_path: Path, rows: list[str], name: str = "purchases.csv") -> Path:
    return write(tmp_path, name, "\n".join([TEMPLATE_HEADER, *rows]) + "\n")


def run_import(db, path: Path, actor=CLI, **options) -> imports.ImportOutcome:
    return import_awards(db, actor, path, ImportOptions(filename=path.name, **options))


def officer(db, email: str = "officer@hhs.gov", division: str = "CDC", roles=("officer",)):
    user = make_user(db, email, division=division, roles=roles)
    return accounts.principal_for(db, user)


def count(db, model) -> int:
    see_latest(db)
    return db.exec(select(func.count()).select_from(model)).one()


ROW_A = "75D30124P00001,,CDC,Acme Health Data LLC,AB12CD34EF56,Claims DB,Claims data,PURCHASE ORDER,7A21,519290,2026-01-01,2026-12-31,2027-12-31,1000.00,1000.00,2000.00"
ROW_B = "75D30124P00002,,CDC,Roadrunner Analytics Inc.,,News,News service,PURCHASE ORDER,7A21,519290,2026-02-01,2026-06-30,,-250.50,,"


# ------------------------------------------------------------------ real files


def test_duplicates_dev_file_imports_completely_and_again_unchanged(db, shared_data):
    path = shared_data / "eval" / "duplicates-dev" / "purchases.csv"
    first = run_import(db, path)
    assert first.summary() == {
        "format": "usaspending",
        "created": 376,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": [],
    }
    second = run_import(db, path)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 376)
    assert count(db, Purchase) == 376
    runs = db.exec(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.status, r.created, r.unchanged) for r in runs] == [
        ("succeeded", 376, 0),
        ("succeeded", 0, 376),
    ]


REAL_FILES = {
    "usaspending-search-export/nih_awards_last_90d.csv": ("usaspending-search", 4850, 0),
    "usaspending-search-export/cms_awards_last_90d.csv": ("usaspending-search", 631, 52),
    "usaspending-search-export/ahrq_awards_last_90d.csv": ("usaspending-search", 40, 0),
    "fpds-atom/kapangyu-gsa_fpds_feed_result_DOE.csv": ("fpds-csv", 0, 0),
    "fpds-atom/kapangyu-gsa_fpds_feed_result_USGS.csv": ("fpds-csv", 0, 0),
    "fpds-atom/dherincx92_full_response_GSA_4740_FY14.xml": ("fpds-atom", 0, 0),
    "reference/Contracts_PrimeAwardSummaries.columns.txt": "match no layout",
    "reference/fpds-ezsearch.header.csv": "header but no data rows",
    "reference/usaspending-download-columns.csv": "match no layout",
    "reference/usaspending_agency_codes_list.csv": "match no layout",
    "reference/usaspending_psc_codes_2017.csv": "match no layout",
}


def test_every_real_procurement_file_is_listed(shared_data):
    found = {
        str(p.relative_to(shared_data / "procurement"))
        for p in (shared_data / "procurement").rglob("*")
        if p.is_file()
    }
    assert found == set(REAL_FILES)


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_every_real_procurement_file_imports_with_a_sensible_report(db, shared_data, name):
    path = shared_data / "procurement" / name
    expected = REAL_FILES[name]
    if isinstance(expected, str):
        with pytest.raises(ImportRefused) as refused:
            run_import(db, path)
        assert expected in refused.value.message
        assert count(db, Purchase) == 0
        run = db.get(ImportRun, refused.value.run_id)
        assert run.status == "failed" and expected in run.error
        return
    layout, created, rejected = expected
    outcome = run_import(db, path)
    assert (outcome.format, outcome.created, len(outcome.rejected)) == (layout, created, rejected)
    assert outcome.created + outcome.skipped + len(outcome.rejected) <= outcome.rows_read
    again = run_import(db, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, created)


# ------------------------------------------------------------------ idempotency and updates


def test_a_changed_row_updates_its_purchase_with_an_audited_before_and_after(db, tmp_path):
    run_import(db, template_file(tmp_path, [ROW_A, ROW_B]))
    changed = ROW_A.replace("1000.00,1000.00,2000.00", "1500.00,1500.00,2000.00")
    outcome = run_import(db, template_file(tmp_path, [changed, ROW_B], "v2.csv"))
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 1)
    see_latest(db)
    purchase = db.exec(select(Purchase).where(Purchase.piid == "75D30124P00001")).one()
    assert purchase.obligated_cents == 150000
    assert purchase.source_file == "v2.csv"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "purchase.update")).one()
    assert event.object_id == str(purchase.id)
    assert event.before == {"obligated_cents": 100000, "current_value_cents": 100000}
    assert event.after == {"obligated_cents": 150000, "current_value_cents": 150000}
    assert event.actor == CLI
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "purchases.import")).all()


def test_negative_obligations_are_kept(db, tmp_path):
    run_import(db, template_file(tmp_path, [ROW_B]))
    see_latest(db)
    assert db.exec(select(Purchase.obligated_cents)).one() == -25050


def test_an_officer_edit_of_the_product_survives_a_reimport(db, tmp_path):
    path = template_file(tmp_path, [ROW_A.replace(",Claims DB,", ",,")])
    run_import(db, path)
    see_latest(db)
    purchase = db.exec(select(Purchase)).one()
    user = officer(db)
    values = purchases.editable_purchase(db, user, purchase.id)[1]
    purchases.update_purchase(
        db, user, purchase.id, PurchaseInput(**{**values.__dict__, "product": "Claims database"})
    )
    again = run_import(db, path)
    assert again.unchanged == 1
    see_latest(db)
    assert db.get(Purchase, purchase.id).product == "Claims database"


def test_dry_run_writes_nothing_but_its_report(db, tmp_path):
    outcome = run_import(db, template_file(tmp_path, [ROW_A, ROW_B]), dry_run=True)
    assert (outcome.created, outcome.dry_run) == (2, True)
    assert count(db, Purchase) == 0 and count(db, Vendor) == 0
    run = db.get(ImportRun, outcome.run_id)
    assert (run.status, run.dry_run, run.created) == ("succeeded", True, 2)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04binary zip content", "ZIP archive"),
        (b"\x00\x01\x02\x03 not text", "binary file"),
        (TEMPLATE_HEADER.encode() + b"\n", "header but no data rows"),
        (b"name,amount\nfoo,1\n", "match no layout"),
    ],
    ids=["empty", "zip", "binary", "header-only", "unknown-layout"],
)
def test_an_unusable_file_is_refused_whole_and_nothing_is_written(db, tmp_path, content, message):
    with pytest.raises(ImportRefused) as refused:
        run_import(db, write(tmp_path, "bad.csv", content))
    assert message in refused.value.message
    assert count(db, Purchase) == 0 and count(db, Vendor) == 0


def test_an_oversize_file_is_refused_with_the_limit(db, tmp_path):
    path = template_file(tmp_path, [ROW_A] * 50)
    with pytest.raises(ImportRefused) as refused:
        run_import(db, path, max_bytes=1000)
    assert "limit" in refused.value.message
    assert count(db, Purchase) == 0


def test_bad_rows_are_reported_by_number_and_the_valid_rows_import(db, tmp_path):
    rows = [
        ROW_A,
        "75D30124P00003,,CDC,Huge Corp,,X,Y,PURCHASE ORDER,7A21,519290,2026-01-01,2026-12-31,,999999999999999.00,,",
        "75D30124P00004,,CDC,Backwards LLC,,X,Y,PURCHASE ORDER,7A21,519290,2026-06-01,2026-01-01,,10.00,,",
        "75D30124P00005,,CDC,Ragged Inc",
        ROW_B,
    ]
    outcome = run_import(db, template_file(tmp_path, rows))
    assert outcome.created == 2
    by_row = {r.row: " ".join(r.errors) for r in outcome.rejected}
    assert set(by_row) == {3, 4, 5}
    assert "$100 billion" in by_row[3]
    assert "before the start" in by_row[4]
    assert "cells" in by_row[5]
    assert count(db, Purchase) == 2


def test_an_unknown_division_for_the_file_is_refused(db, tmp_path):
    with pytest.raises(ImportRefused) as refused:
        run_import(db, template_file(tmp_path, [ROW_A]), division="NOPE")
    assert "not a division we know" in refused.value.message


# ------------------------------------------------------------------ vendors


def test_names_variants_and_ueis_lead_to_one_vendor(db, tmp_path):
    rows = [
        ROW_A,
        ROW_A.replace("75D30124P00001", "75D30124P00011").replace(
            "Acme Health Data LLC", "ACME HEALTH DATA, L.L.C."
        ),
        ROW_A.replace("75D30124P00001", "75D30124P00012").replace(
            "Acme Health Data LLC", "Acme Data Holdings (formerly Acme Health Data)"
        ),
        ROW_B.replace("Roadrunner Analytics Inc.", "Coyote Holdings d/b/a Roadrunner Analytics"),
        ROW_B.replace("75D30124P00002", "75D30124P00013"),
    ]
    run_import(db, template_file(tmp_path, rows))
    see_latest(db)
    names = sorted(v.name for v in db.exec(select(Vendor)).all())
    assert names == ["Acme Health Data LLC", "Coyote Holdings d/b/a Roadrunner Analytics"]
    aliases = {a.alias_key for a in db.exec(select(VendorAlias)).all()}
    assert {
        "ACME HEALTH DATA",
        "ACME DATA HOLDINGS",
        "COYOTE HOLDINGS",
        "ROADRUNNER ANALYTICS",
    } <= aliases


def test_a_merge_is_audited_and_teaches_the_next_import(db, tmp_path):
    run_import(db, template_file(tmp_path, [ROW_A, ROW_B]))
    see_latest(db)
    acme = db.exec(select(Vendor).where(Vendor.name_key == "ACME HEALTH DATA")).one()
    roadrunner = db.exec(select(Vendor).where(Vendor.name_key == "ROADRUNNER ANALYTICS")).one()
    user = officer(db)
    vendors.merge_vendors(db, user, acme.id, roadrunner.id)
    see_latest(db)
    assert count(db, Vendor) == 1
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "vendor.merge")).one()
    assert event.before["merged"]["name"] == "Roadrunner Analytics Inc."
    assert event.after["kept"]["id"] == acme.id
    later = ROW_B.replace("75D30124P00002", "75D30124P00099").replace(
        "Roadrunner Analytics Inc.", "ROADRUNNER ANALYTICS L.L.C."
    )
    outcome = run_import(db, template_file(tmp_path, [later], "later.csv"))
    assert outcome.created == 1
    assert count(db, Vendor) == 1
    see_latest(db)
    moved = db.exec(select(Purchase).where(Purchase.piid == "75D30124P00099")).one()
    assert moved.vendor_id == acme.id
    # Search follows the merge: the old purchases are found by the kept vendor's name.
    page = purchases.search_purchases(db, user, PurchaseQuery(q="acme"), today=TODAY)
    assert page.total == 3


def test_a_viewer_cannot_merge_vendors(db, tmp_path):
    run_import(db, template_file(tmp_path, [ROW_A, ROW_B]))
    viewer = officer(db, "viewer@hhs.gov", roles=())
    with pytest.raises(PermissionDenied):
        vendors.merge_vendors(db, viewer, 1, 2)


# ------------------------------------------------------------------ record and edit


def manual(**changes) -> PurchaseInput:
    values = {
        "division": "CDC",
        "vendor": "Politico LLC",
        "product": "Politico Pro",
        "description": "News service",
        "award_type": "PURCHASE CARD",
        "start_on": "2026-01-01",
        "current_end_on": "2026-12-31",
        "obligated": "$9,800.00",
        "sensitive_notes": "Card holder: J. Doe",
    }
    values.update(changes)
    return PurchaseInput(**values)


def test_a_manual_purchase_gets_its_own_reference_and_is_audited(db):
    user = officer(db)
    first = purchases.record_purchase(db, user, manual(), today=TODAY)
    second = purchases.record_purchase(db, user, manual(product="Other"), today=TODAY)
    assert (first.piid, second.piid) == ("HHS-MAN-2026-00001", "HHS-MAN-2026-00002")
    assert first.source == "manual" and first.obligated_cents == 980000
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "purchase.create")).first()
    assert event.after["piid"] == "HHS-MAN-2026-00001"
    found = purchases.search_purchases(db, user, PurchaseQuery(q="HHS-MAN-2026-00002"), today=TODAY)
    assert [r.purchase.id for r in found.rows] == [second.id]


def test_field_errors_write_nothing(db):
    user = officer(db)
    with pytest.raises(ValidationFailed) as failed:
        purchases.record_purchase(
            db,
            user,
            manual(product="", current_end_on="2025-01-01", obligated="lots", psc="TOOLONG"),
            today=TODAY,
        )
    assert set(failed.value.errors) >= {"product", "current_end_on", "obligated", "psc"}
    db.rollback()
    assert count(db, Purchase) == 0


def test_officers_change_their_own_division_only(db):
    cdc = officer(db)
    nih = officer(db, "nih@hhs.gov", division="NIH")
    viewer = officer(db, "viewer@hhs.gov", roles=())
    purchase = purchases.record_purchase(db, cdc, manual(), today=TODAY)
    with pytest.raises(ValidationFailed) as failed:
        purchases.record_purchase(db, nih, manual(), today=TODAY)
    assert "division" in failed.value.errors
    db.rollback()
    with pytest.raises(PermissionDenied):
        purchases.update_purchase(db, nih, purchase.id, manual(product="Mine now"))
    with pytest.raises(PermissionDenied):
        purchases.record_purchase(db, viewer, manual(), today=TODAY)


def test_sensitive_notes_are_for_the_owning_division_and_leadership(db):
    cdc = officer(db)
    purchase = purchases.record_purchase(db, cdc, manual(), today=TODAY)
    nih_officer = officer(db, "nih@hhs.gov", division="NIH")
    cdc_viewer = officer(db, "cdc.viewer@hhs.gov", roles=())
    leader = officer(db, "leader@hhs.gov", division="HHS", roles=("leadership",))
    assert purchases.purchase_view(db, cdc, purchase.id).sensitive_notes == "Card holder: J. Doe"
    assert purchases.purchase_view(db, leader, purchase.id).sensitive_notes == "Card holder: J. Doe"
    for user in (nih_officer, cdc_viewer):
        view = purchases.purchase_view(db, user, purchase.id)
        assert view.sensitive_notes is None and view.documents is None


def test_a_web_officer_imports_only_their_own_divisions_rows(db, tmp_path):
    user = officer(db, division="CDC")
    nih_row = ROW_B.replace(",CDC,", ",NIH,").replace("75D30124P00002", "75N30124P00002")
    outcome = run_import(db, template_file(tmp_path, [ROW_A, nih_row]), actor=user)
    assert (outcome.created, outcome.skipped) == (1, 1)
    assert any("NIH" in reason for reason in outcome.skipped_reasons)


# ------------------------------------------------------------------ search and export


def test_search_costs_a_fixed_number_of_queries(db, tmp_path, shared_data):
    run_import(db, shared_data / "eval" / "duplicates-dev" / "purchases.csv")
    user = officer(db)
    statements: list[str] = []

    def count_statement(*args):
        statements.append(args[2])

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        page = purchases.search_purchases(
            db, user, PurchaseQuery(q="services", status="active"), today=TODAY
        )
        small = len(statements)
        statements.clear()
        purchases.search_purchases(db, user, PurchaseQuery(per_page=100), today=TODAY)
        large = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert small == large <= 7
    assert page.total == sum(f.count for f in page.facets["division"])
    assert {f.value for f in page.facets["status"]} == {"active", "expired"}


def test_facets_filter_by_division_vendor_psc_status_and_licence(db, tmp_path):
    run_import(db, template_file(tmp_path, [ROW_A, ROW_B]))
    user = officer(db)
    see_latest(db)
    a = db.exec(select(Purchase).where(Purchase.piid == "75D30124P00001")).one()
    licences.save_licence(
        db, user, a.id, LicenceInput(term_start_on="2026-01-01", term_end_on="2026-12-31")
    )

    def piids(**query):
        page = purchases.search_purchases(db, user, PurchaseQuery(**query), today=TODAY)
        return sorted(r.purchase.piid for r in page.rows)

    assert piids() == ["75D30124P00001", "75D30124P00002"]
    assert piids(status="expired") == ["75D30124P00002"]
    assert piids(status="active") == ["75D30124P00001"]
    assert piids(licence="yes") == ["75D30124P00001"]
    assert piids(licence="no") == ["75D30124P00002"]
    assert piids(vendor_id=a.vendor_id) == ["75D30124P00001"]
    assert piids(division="NIH") == []
    assert piids(psc="7a21") == ["75D30124P00001", "75D30124P00002"]
    assert piids(q="roadrunner news") == ["75D30124P00002"]
    assert piids(q="100%_") == []


def test_csv_export_has_the_columns_plain_dollars_and_escaped_formulas(db, tmp_path):
    evil = (
        '75D30124P00007,,CDC,@Evil Vendor,,"=HYPERLINK(""http://x"")",+cmd,PURCHASE ORDER,'
        "7A21,519290,2026-01-01,2026-12-31,,-1234.50,,"
    )
    run_import(db, template_file(tmp_path, [ROW_A, evil]))
    text = "".join(purchases.export_csv(db, CLI, PurchaseQuery(), today=TODAY))
    rows = list(csv.DictReader(io.StringIO(text)))
    for column in (
        "piid", "parent_piid", "division", "vendor", "product", "description", "start", "end",
        "obligated_amount", "current_value", "potential_value",
    ):  # fmt: skip
        assert column in rows[0]
    by_piid = {row["piid"]: row for row in rows}
    assert by_piid["75D30124P00001"]["obligated_amount"] == "1000.00"
    assert by_piid["75D30124P00001"]["potential_value"] == "2000.00"
    assert by_piid["75D30124P00001"]["start"] == "2026-01-01"
    bad = by_piid["75D30124P00007"]
    assert bad["obligated_amount"] == "-1234.50"
    assert bad["vendor"] == "'@Evil Vendor"
    assert bad["product"] == '\'=HYPERLINK("http://x")'
    assert bad["description"] == "'+cmd"


# ------------------------------------------------------------------ licences and renewals


def test_licences_are_validated_audited_and_bucketed_for_renewal(db):
    user = officer(db)
    ends = {"soon": 10, "month": 45, "quarter": 100, "later": 200, "past": -3}
    ids = {}
    for name, days in ends.items():
        purchase = purchases.record_purchase(db, user, manual(product=name), today=TODAY)
        ids[name] = purchase.id
        licences.save_licence(
            db,
            user,
            purchase.id,
            LicenceInput(
                scope="named_users",
                seats="25",
                term_start_on="2026-01-01",
                term_end_on=(TODAY + timedelta(days=days)).isoformat(),
                renewal_cost="$10,200",
                auto_renew=name == "soon",
            ),
        )
    view = licences.renewals(db, user, today=TODAY)
    cdc = view.by_division["CDC"]
    assert [r.purchase.product for r in cdc[30]] == ["soon"]
    assert [r.purchase.product for r in cdc[60]] == ["month"]
    assert [r.purchase.product for r in cdc[120]] == ["quarter"]
    assert view.counts == {30: 1, 60: 1, 120: 1}
    assert licences.renewals(db, user, today=TODAY, division="NIH").by_division == {}
    stored = db.exec(select(Licence).where(Licence.purchase_id == ids["soon"])).one()
    assert (stored.seats, stored.renewal_cost_cents, stored.auto_renew) == (25, 1020000, True)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "licence.create")).all()


def test_licence_field_errors(db):
    user = officer(db)
    purchase = purchases.record_purchase(db, user, manual(), today=TODAY)
    with pytest.raises(ValidationFailed) as failed:
        licences.save_licence(
            db,
            user,
            purchase.id,
            LicenceInput(
                scope="listed_divisions",
                seats="0",
                term_start_on="2026-05-01",
                term_end_on="2026-01-01",
                listing="999",
            ),
        )
    assert set(failed.value.errors) == {"listed_divisions", "seats", "term_end_on", "listing"}
    db.rollback()
    assert count(db, Licence) == 0
    nih = officer(db, "nih@hhs.gov", division="NIH")
    with pytest.raises(PermissionDenied):
        licences.save_licence(
            db, nih, purchase.id, LicenceInput(term_start_on="2026-01-01", term_end_on="2026-02-01")
        )


# ------------------------------------------------------------------ the background job


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_import_job_reports_progress_and_keeps_the_report(database, db, settings, tmp_path):
    user = officer(db)
    upload = Path(settings.upload_dir)
    upload.mkdir(parents=True, exist_ok=True)
    rows = [
        ROW_A.replace("75D30124P00001", f"75D30124P{n:05d}").replace(",Claims DB,", f",DB {n},")
        for n in range(2000)
    ]
    template_file(upload, rows, "stored-upload")
    run = imports.start_run(
        db, user, ImportOptions(filename="big.csv"), stored_name="stored-upload"
    )
    clock = FakeClock(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
    job = jobs.enqueue(db, IMPORT_JOB, {"run_id": run.id}, user_id=user.id, run_after=clock.now)
    db.commit()
    # The import, then the duplicate refresh it queues.
    assert jobs.run_pending(database, clock) == 2
    see_latest(db)
    done = db.get(Job, job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result["created"] == 2000
    assert done.progress_total and done.progress_done == done.progress_total
    assert done.heartbeat_at == clock.now and done.finished_at == clock.now
    stored = db.get(ImportRun, run.id)
    assert (stored.status, stored.created) == ("succeeded", 2000)
    assert not (upload / "stored-upload").exists()
    assert count(db, Purchase) == 2000


def test_an_unknown_layout_is_mapped_once_and_the_mapping_reused(db, tmp_path):
    user = officer(db)
    theirs = "Contract No,Supplier,Amount,Div\n75D30124P00001,Acme Health Data LLC,1000,CDC\n"
    with pytest.raises(ImportRefused) as refused:
        run_import(db, write(tmp_path, "odd.csv", theirs), actor=user)
    assert refused.value.needed == ("piid", "vendor", "obligated")
    assert refused.value.found == ("Contract No", "Supplier", "Amount", "Div")
    with pytest.raises(ValidationFailed):
        imports.save_mapping(db, user, refused.value.found, {"piid": "Contract No"})
    db.rollback()
    imports.save_mapping(
        db,
        user,
        refused.value.found,
        {"piid": "Contract No", "vendor": "Supplier", "obligated": "Amount", "division": "Div"},
    )
    outcome = run_import(db, write(tmp_path, "odd2.csv", theirs), actor=user)
    assert (outcome.format, outcome.created, outcome.mapping_used) == ("template", 1, True)
    assert db.get(ImportRun, outcome.run_id).mapping_id is not None
