"""Catalog: harvest, search, visibility, publishing with versions, the API and /data.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlmodel import select

from marketplace.catalog.harvest import HarvestError, get_or_create_source, harvest_catalog
from marketplace.catalog.models import Listing
from marketplace.dcat import validate_v11_catalog
from tests.support import login, make_user, post_form, see_latest, text_of


def catalog(*datasets: dict) -> bytes:
    return json.dumps(
        {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": list(datasets)}
    ).encode()


def dataset(identifier: str, title: str, **extra) -> dict:
    base = {
        "identifier": identifier,
        "title": title,
        "description": f"About {title}.",
        "keyword": ["health"],
        "modified": "2024-01-02",
        "accessLevel": "public",
        "publisher": {"name": "Centers for Disease Control and Prevention"},
        "contactPoint": {"fn": "Data Team", "hasEmail": "data@cdc.gov"},
        "bureauCode": ["009:20"],
        "programCode": ["009:000"],
    }
    base.update(extra)
    return base


def harvest(db, key: str, data: bytes):
    source = get_or_create_source(db, key)
    report = harvest_catalog(db, source, data, "test")
    db.commit()
    return report


def test_harvest_is_idempotent_and_withdraws_only_its_own_vanished_datasets(db):
    first = harvest(
        db, "a.json", catalog(dataset("a-1", "Hospital Beds"), dataset("a-2", "Flu Vaccines"))
    )
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    harvest(db, "b.json", catalog(dataset("b-1", "Birth Records")))
    again = harvest(
        db, "a.json", catalog(dataset("a-1", "Hospital Beds"), dataset("a-2", "Flu Vaccines"))
    )
    assert (again.created, again.updated, again.unchanged, again.withdrawn) == (0, 0, 2, 0)
    later = harvest(db, "a.json", catalog(dataset("a-1", "Hospital Beds, revised")))
    assert (later.updated, later.withdrawn) == (1, 1)
    rows = {row.identifier: row for row in db.exec(select(Listing)).all()}
    assert rows["a-2"].status == "retired" and rows["a-2"].retired_reason.startswith("Withdrawn")
    assert rows["b-1"].status == "published"
    assert rows["a-1"].title == "Hospital Beds, revised"
    assert rows["a-1"].division_id is not None


def test_harvest_keeps_external_publishers_and_rejects_only_unusable_records(db):
    report = harvest(
        db,
        "dol.json",
        catalog(
            dataset(
                "x-1", "Wage Data", publisher={"name": "Department of Labor"}, bureauCode=["012:05"]
            ),
            {"title": "No identifier"},
            dataset("x-1", "Duplicate id"),
        ),
    )
    assert report.created == 1
    assert [r["identifier"] for r in report.rejected] == [None, "x-1"]
    listing = db.exec(select(Listing)).one()
    assert listing.division_id is None and listing.publisher_name == "Department of Labor"


def test_a_file_that_is_not_a_catalog_writes_nothing(db):
    with pytest.raises(HarvestError, match="HTTP error response"):
        harvest(db, "bad.json", b'{"error": {"code": 500}}')
    db.rollback()
    assert db.exec(select(Listing)).all() == []


def test_local_edits_survive_a_reharvest(client, db):
    harvest(db, "cdc.json", catalog(dataset("c-1", "Original title")))
    make_user(db, "steward@hhs.gov", division="CDC", roles=("steward",))
    login(client, "steward@hhs.gov")
    listing = db.exec(select(Listing)).one()
    form = client.get(f"/catalog/listings/{listing.id}/edit")
    assert form.status_code == 200
    response = post_form(
        client,
        f"/catalog/listings/{listing.id}/edit",
        {
            "kind": "dataset",
            "status": "published",
            "title": "Title fixed by steward",
            "description": "About Original title.",
            "keywords": "health",
            "access_level": "public",
            "contact_name": "Data Team",
            "contact_email": "data@cdc.gov",
            "modified": "2024-01-02",
            "bureau_codes": "009:20",
            "program_codes": "009:000",
        },
    )
    assert response.status_code == 303, text_of(response.text)[:500]
    see_latest(db)
    report = harvest(
        db, "cdc.json", catalog(dataset("c-1", "Original title", description="New description."))
    )
    assert report.updated == 1
    see_latest(db)
    listing = db.exec(select(Listing)).one()
    assert listing.title == "Title fixed by steward"
    assert listing.description == "New description."
    assert "title" in listing.locally_edited


@pytest.fixture
def seeded(db):
    harvest(
        db,
        "seed.json",
        catalog(
            dataset("h-1", "Hospitals", keyword=["beds"]),
            dataset("h-2", "Hospital Beds by State", keyword=["hospitals"]),
            dataset("h-3", "Nursing Homes", description="Inspections of hospitals and homes."),
            dataset("h-4", "Secret Claims", accessLevel="non-public", rights="Staff only."),
            dataset(
                "h-5",
                "Restricted Survey",
                accessLevel="restricted public",
                rights="Small cells.",
                distribution=[
                    {"downloadURL": "https://example.gov/secret.csv", "mediaType": "text/csv"}
                ],
            ),
        ),
    )
    return db


def titles(response) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


def test_exact_title_first_then_title_phrase_then_relevance(client, seeded):
    found = titles(client.get("/api/v1/listings?q=hospitals"))
    assert found[0] == "Hospitals"
    assert set(found) >= {"Hospitals", "Hospital Beds by State", "Nursing Homes"}
    assert found.index("Hospital Beds by State") < found.index("Nursing Homes")


@pytest.mark.parametrize("q", ["hosp", "hospital", "HOSPITALS", "beds state"])
def test_prefixes_plurals_and_case(client, seeded, q):
    assert "Hospital Beds by State" in titles(client.get(f"/api/v1/listings?q={q}"))


@pytest.mark.parametrize(
    "q",
    ['"', "*", "hospital OR", "NEAR(", "-", "'; DROP TABLE listing; --", "x" * 10000, "ünïcödé"],
)
def test_any_query_string_gives_results_or_none_never_an_error(client, seeded, q):
    assert client.get("/catalog", params={"q": q}).status_code == 200
    api = client.get("/api/v1/listings", params={"q": q})
    assert api.status_code == 200 and isinstance(api.json()["items"], list)


def test_facets_count_and_combine(client, seeded):
    body = client.get("/api/v1/listings?q=hospital").json()
    access = {f["value"]: f["count"] for f in body["facets"]["access_level"]}
    assert access == {"public": 3}
    divisions = {f["value"]: f["count"] for f in body["facets"]["division"]}
    assert divisions == {"CDC": 3}
    narrowed = client.get("/api/v1/listings?q=hospital&keyword=beds").json()
    assert [i["title"] for i in narrowed["items"]] == ["Hospitals"]


def test_visibility_is_the_same_in_pages_api_and_export(client, seeded, db):
    anonymous = titles(client.get("/api/v1/listings?per_page=100"))
    assert "Secret Claims" not in anonymous and "Restricted Survey" in anonymous
    secret = db.exec(select(Listing).where(Listing.identifier == "h-4")).one()
    assert client.get(f"/catalog/listings/{secret.id}").status_code == 404
    assert client.get("/api/v1/listings/h-4").status_code == 404
    restricted = client.get("/api/v1/listings/h-5").json()
    assert all(d["download_url"] is None for d in restricted["record"]["distributions"])
    exported = client.get("/data.json").json()
    assert "https://example.gov/secret.csv" not in json.dumps(exported)
    assert {d["identifier"] for d in exported["dataset"]} >= {"h-1", "h-5"}
    assert "h-4" not in {d["identifier"] for d in exported["dataset"]}
    make_user(db, "viewer@hhs.gov", division="HRSA")
    login(client, "viewer@hhs.gov")
    assert "Secret Claims" in titles(client.get("/api/v1/listings?per_page=100"))
    staff = client.get("/api/v1/listings/h-5").json()
    assert staff["record"]["distributions"][0]["download_url"] == "https://example.gov/secret.csv"


def test_data_json_is_valid_and_cacheable(client, seeded):
    response = client.get("/data.json")
    assert response.status_code == 200
    assert validate_v11_catalog(response.json()) == []
    etag = response.headers["etag"]
    assert response.headers["last-modified"]
    assert client.get("/data.json", headers={"If-None-Match": etag}).status_code == 304
    v3 = client.get("/data.json?version=3.0")
    assert v3.status_code == 200 and v3.headers["etag"] != etag


def test_live_search_fragment_and_full_page(client, seeded):
    fragment = client.get("/catalog?q=hosp", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="results"')
    assert "<html" not in fragment.text
    page = client.get("/catalog?q=hosp")
    assert "<html" in page.text and 'id="results"' in page.text
    restore = client.get(
        "/catalog?q=hosp", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text


def test_steward_publishes_edits_and_sees_history(client, db):
    make_user(db, "steward@hhs.gov", division="CDC", roles=("steward",))
    login(client, "steward@hhs.gov")
    bad = post_form(
        client,
        "/catalog/new",
        {
            "kind": "dataset",
            "title": "",
            "description": "",
            "access_level": "non-public",
            "bureau_codes": "9:2",
            "contact_email": "not-an-email",
            "modified": "yesterday",
            "distributions_0_download_url": "ftp://x",
        },
    )
    assert bad.status_code == 422
    body = text_of(bad.text)
    for message in ("Enter a title.", "NNN:NN"):
        assert message in body
    assert "rights" in body.lower()
    ok = post_form(
        client,
        "/catalog/new",
        {
            "kind": "dataset",
            "status": "published",
            "title": "<script>alert(1)</script> Births",
            "description": "Births by county.",
            "keywords": "births, vital statistics",
            "access_level": "public",
            "contact_name": "Vital Stats",
            "contact_email": "vs@cdc.gov",
            "modified": "2026-10-01",
            "bureau_codes": "009:20",
            "program_codes": "009:000",
            "distributions_0_download_url": "https://cdc.gov/births.csv",
            "distributions_0_media_type": "text/csv",
        },
    )
    assert ok.status_code == 303
    page = client.get(ok.headers["location"])
    assert "<script>alert(1)</script>" not in page.text
    assert "\\u003cscript\\u003e" in page.text  # the JSON-LD is escaped too
    listing_id = int(ok.headers["location"].rsplit("/", 1)[1])
    post_form(
        client,
        f"/catalog/listings/{listing_id}/edit",
        {
            "kind": "dataset",
            "status": "published",
            "title": "Births by County",
            "description": "Births by county.",
            "keywords": "births",
            "access_level": "public",
            "contact_name": "Vital Stats",
            "contact_email": "vs@cdc.gov",
            "modified": "2026-10-01",
            "bureau_codes": "009:20",
            "program_codes": "009:000",
        },
    )
    history = text_of(client.get(f"/catalog/listings/{listing_id}/history").text)
    assert "Version 2" in history and "Births by County" in history
    assert "Births by County" in titles(client.get("/api/v1/listings?q=births"))
    post_form(client, f"/catalog/listings/{listing_id}/status", {"status": "retired"})
    assert "Births by County" not in titles(client.get("/api/v1/listings?q=births"))
    assert client.get(f"/catalog/listings/{listing_id}").status_code == 200


def test_a_steward_cannot_edit_another_divisions_listing(client, db, seeded):
    make_user(db, "fda@hhs.gov", division="FDA", roles=("steward",))
    login(client, "fda@hhs.gov")
    listing = db.exec(select(Listing).where(Listing.identifier == "h-1")).one()
    assert client.get(f"/catalog/listings/{listing.id}/edit").status_code == 403
    assert (
        post_form(
            client, f"/catalog/listings/{listing.id}/status", {"status": "retired"}
        ).status_code
        == 403
    )


def test_field_check_endpoint(client, db):
    make_user(db, "steward@hhs.gov", division="CDC", roles=("steward",))
    login(client, "steward@hhs.gov")
    bad = post_form(client, "/catalog/check", {"field": "bureau_codes", "bureau_codes": "9-20"})
    assert "usa-error-message" in bad.text
    good = post_form(client, "/catalog/check", {"field": "bureau_codes", "bureau_codes": "009:20"})
    assert "usa-error-message" not in good.text


def test_cli_import_and_export_real_catalog(shared_data, database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "MARKETPLACE_VAR_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    source = shared_data / "datajson" / "cms.data.2025-01-31.json"
    cli = [sys.executable, "-m", "marketplace"]
    first = subprocess.run(
        [*cli, "catalog", "import", str(source), "--json"], capture_output=True, text=True, env=env
    )
    assert first.returncode == 0, first.stderr[-500:]
    assert json.loads(first.stdout)["created"] == 139
    second = subprocess.run(
        [*cli, "catalog", "import", str(source), "--json"], capture_output=True, text=True, env=env
    )
    assert json.loads(second.stdout)["unchanged"] == 139
    out = tmp_path / "out.json"
    export = subprocess.run(
        [*cli, "catalog", "export", "-o", str(out)], capture_output=True, text=True, env=env
    )
    assert export.returncode == 0
    assert validate_v11_catalog(json.loads(out.read_text())) == []
    for bad in sorted((shared_data / "datajson" / "bad").iterdir()):
        result = subprocess.run(
            [*cli, "catalog", "import", str(bad), "--json"], capture_output=True, text=True, env=env
        )
        assert result.returncode == 1, bad.name
        assert json.loads(result.stdout)["error"]


def test_admin_upload_harvests_in_the_background_with_a_kept_report(client, db, database):
    from datetime import UTC, datetime

    from marketplace import jobs
    from tests.support import csrf_token

    make_user(db, "admin@hhs.gov", division="OS", roles=("admin",))
    login(client, "admin@hhs.gov")
    upload = catalog(
        dataset("u-1", "Uploaded One"), dataset("u-2", "Uploaded Two"), {"title": "no id"}
    )
    response = client.post(
        "/admin/harvest/upload",
        files={"file": ("cdc.json", upload, "application/json")},
        data={"_csrf_token": csrf_token(client), "key": "", "division": "CDC"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    run_page = response.headers["location"]
    queued = client.get(run_page)
    assert "hx-trigger" in queued.text  # the job's progress polls
    assert jobs.run_pending(database, lambda: datetime.now(UTC)) == 1
    done = text_of(client.get(run_page).text)
    assert "Status: succeeded" in done
    assert "New 2" in done and "Rejected 1" in done
    see_latest(db)
    assert {row.identifier for row in db.exec(select(Listing)).all()} == {"u-1", "u-2"}
    assert list((database.settings.upload_dir / "harvest").iterdir()) == []


def test_a_failed_background_harvest_keeps_its_error_and_writes_nothing(client, db, database):
    from datetime import UTC, datetime

    from marketplace import jobs
    from tests.support import csrf_token

    make_user(db, "admin@hhs.gov", division="OS", roles=("admin",))
    login(client, "admin@hhs.gov")
    response = client.post(
        "/admin/harvest/upload",
        files={"file": ("broken.json", b"{not json", "application/json")},
        data={"_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    jobs.run_pending(database, lambda: datetime.now(UTC))
    page = text_of(client.get(response.headers["location"]).text)
    assert "Status: failed" in page and "Nothing was written." in page
    see_latest(db)
    assert db.exec(select(Listing)).all() == []


def test_a_registered_url_source_is_harvested_again_by_a_worker(client, db, database, monkeypatch):
    from datetime import UTC, datetime

    import marketplace.catalog.jobs as harvest_jobs
    from marketplace import jobs
    from marketplace.catalog.models import HarvestSource

    served = [
        catalog(dataset("r-1", "Remote One"), dataset("r-2", "Remote Two")),
        catalog(dataset("r-1", "Remote One")),
    ]
    monkeypatch.setattr(harvest_jobs, "fetch_catalog", lambda url, allow_private: served.pop(0))
    make_user(db, "admin@hhs.gov", division="OS", roles=("admin",))
    login(client, "admin@hhs.gov")
    assert (
        post_form(
            client, "/admin/harvest/run", {"url": "https://data.example.gov/data.json"}
        ).status_code
        == 303
    )
    jobs.run_pending(database, lambda: datetime.now(UTC))
    see_latest(db)
    source = db.exec(select(HarvestSource)).one()
    assert post_form(client, f"/admin/harvest/sources/{source.id}/run").status_code == 303
    jobs.run_pending(database, lambda: datetime.now(UTC))
    see_latest(db)
    statuses = {row.identifier: row.status for row in db.exec(select(Listing)).all()}
    assert statuses == {"r-1": "published", "r-2": "retired"}
    assert post_form(client, "/admin/harvest/run", {"url": "file:///etc/passwd"}).status_code == 422


def test_every_real_catalog_imports_and_the_whole_catalog_exports_valid(shared_data, db, client):
    """All real agency catalogs through the service, then /data.json against the official schema."""
    from marketplace.dcat import validate_v30_catalog

    folder = shared_data / "datajson"
    totals = {}
    for path in sorted(folder.glob("*.json")):
        report = harvest(db, path.name, path.read_bytes())
        totals[path.name] = report
    for name, report in totals.items():
        read = json.loads((folder / name).read_bytes())["dataset"]
        accounted = report.created + report.updated + report.unchanged + len(report.rejected)
        assert accounted + len(report.published_elsewhere) == len(read), name
    # healthdata.gov republishes CDC datasets under CDC's own identifiers: kept once, reported.
    republished = totals["healthdata.gov.data.2021-06-01.json"].published_elsewhere
    assert len(republished) > 500
    publishers = {item["published_by"] for item in republished}
    assert any(name.startswith("cdc.gov") for name in publishers)
    exported = client.get("/data.json").json()
    assert validate_v11_catalog(exported) == []
    assert len(exported["dataset"]) > 2900
    v3 = client.get("/data.json?version=3.0").json()
    assert validate_v30_catalog(v3) == []


def test_a_search_page_costs_the_same_number_of_queries_whatever_the_result_size(client, db, app):
    from sqlalchemy import event

    harvest(
        db,
        "many.json",
        catalog(
            *[
                dataset(f"m-{i}", f"Measles cases {i}", keyword=["measles", f"k{i}"])
                for i in range(60)
            ]
        ),
    )
    engine = app.state.database.engine
    counted: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            counted.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        sizes = {}
        for q, per_page in (("measles 7", 20), ("measles", 20), ("measles", 100)):
            counted.clear()
            response = client.get("/catalog", params={"q": q, "per_page": per_page})
            assert response.status_code == 200
            sizes[(q, per_page)] = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(set(sizes.values())) == 1, sizes


def test_a_republished_dataset_is_flagged_with_its_match_but_not_blocked(client, db):
    harvest(
        db, "cdc.json", catalog(dataset("https://data.cdc.gov/a", "Provisional COVID-19 Deaths"))
    )
    report = harvest(
        db,
        "healthdata.json",
        catalog(
            dataset("https://healthdata.gov/b", "Provisional  covid-19 deaths"),
            dataset(
                "https://healthdata.gov/c",
                "Provisional COVID-19 Deaths",
                publisher={"name": "Another Agency"},
            ),
        ),
    )
    assert report.created == 2 and report.possible_duplicates == 1
    rows = {row.identifier: row for row in db.exec(select(Listing)).all()}
    original = rows["https://data.cdc.gov/a"]
    assert rows["https://healthdata.gov/b"].duplicate_of_id == original.id
    assert (
        rows["https://healthdata.gov/c"].duplicate_of_id is None
    )  # another publisher: not the same
    page = text_of(client.get(f"/catalog/listings/{rows['https://healthdata.gov/b'].id}").text)
    assert "This listing may duplicate Provisional COVID-19 Deaths" in page


def test_number_ranges_in_titles_are_found_on_both_engines(client, db):
    harvest(
        db,
        "ranges.json",
        catalog(dataset("n-1", "Vaccination Coverage among Young Children (0-35 Months)")),
    )
    assert titles(client.get("/api/v1/listings", params={"q": "children (0-35 months)"})) == [
        "Vaccination Coverage among Young Children (0-35 Months)"
    ]
