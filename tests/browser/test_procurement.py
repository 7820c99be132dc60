"""In Chromium: an officer imports a small file and reads the report; anyone searches purchases."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace import jobs
from marketplace.db import Database
from marketplace.types import utcnow
from tests.browser.conftest import check_accessibility, sign_in
from tests.support import settings_for

pytestmark = pytest.mark.browser

SMALL_FILE = (
    "piid,division,vendor,product,description,start,current_end,obligated\n"
    "75N95025P00901,NIH,Browser Test Analytics LLC,Test claims extract,Claims for a pilot,"
    "2026-01-01,2026-12-31,12500.00\n"
    "75N95025P00902,NIH,Browser Test Analytics LLC,,No amount,2026-01-01,2026-12-31,\n"
)


def run_jobs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Be the worker the live server does not run: import what the page queued."""
    live_db = next(tmp_path_factory.getbasetemp().glob("live*/live.db"))
    database = Database(settings_for(f"sqlite:///{live_db}", live_db.parent / "var"))
    try:
        jobs.run_pending(database, utcnow)
    finally:
        database.dispose()


def test_officer_imports_a_file_and_sees_the_report(page, tmp_path, tmp_path_factory):
    sign_in(page, "officer.nih@demo.hhs.gov")
    page.goto("/procurement/imports")
    check_accessibility(page)
    upload = Path(tmp_path) / "nih-purchases.csv"
    upload.write_text(SMALL_FILE)
    page.locator("input#file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload and import").click()
    page.wait_for_url("**/procurement/imports/*")
    run_jobs(tmp_path_factory)
    page.get_by_text("Import finished.").wait_for(timeout=10000)
    assert page.get_by_test_id("count-created").inner_text() == "1"
    assert page.get_by_test_id("count-rejected").inner_text() == "1"
    assert page.get_by_text("enter the amount obligated").is_visible()
    check_accessibility(page)


def test_anyone_signed_in_searches_purchases_and_opens_one(page):
    sign_in(page, "viewer.hrsa@demo.hhs.gov")
    page.get_by_role("link", name="Purchases").first.click()
    page.wait_for_url("**/procurement/purchases")
    check_accessibility(page)
    page.get_by_label("Search purchases by PIID, vendor, product, description or code").fill(
        "marketscan"
    )
    page.wait_for_url("**/procurement/purchases?q=marketscan")
    page.wait_for_function("document.querySelectorAll('#purchase-results tbody tr').length === 4")
    page.get_by_role("link", name="Expired").click()
    page.wait_for_url("**status=expired**")
    page.wait_for_function("document.querySelectorAll('#purchase-results tbody tr').length === 1")
    page.locator("#purchase-results tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Licence terms").is_visible()
    check_accessibility(page)
    page.goto("/procurement/renewals")
    check_accessibility(page)
    page.goto("/procurement/vendors")
    check_accessibility(page)
