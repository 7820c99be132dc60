"""In Chromium: an officer reviews duplicate purchases and turns one into a reuse request, checks
before buying and records the outcome; leadership reads consolidation opportunities."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_officer_reviews_duplicates_and_requests_reuse_instead(page):
    sign_in(page, "officer.cms@demo.hhs.gov")
    page.goto("/procurement/duplicates")
    check_accessibility(page)
    # The demo's CMS and HRSA Politico Pro subscriptions overlap: CMS may reuse HRSA's licence.
    pair = page.locator("tr", has_text="HHS-MAN-2025-00001")
    assert pair.count() >= 1
    pair.first.get_by_role("link", name="Request reuse of HRSA's licence instead").click()
    page.wait_for_url("**/procurement/reuse/new?purchase=*")
    assert "owned by HRSA" in page.locator(".usa-intro").inner_text()
    check_accessibility(page)


def test_officer_checks_before_buying_and_records_the_outcome(page):
    sign_in(page, "steward.fda@demo.hhs.gov")
    page.goto("/procurement/check")
    check_accessibility(page)
    page.get_by_label("Vendor").fill("Elsevier")
    page.get_by_label("Product or description").fill("Embase literature database")
    page.wait_for_url(re.compile(r".*/procurement/check\?.*vendor=Elsevier.*"))
    results = page.locator("#check-results")
    results.get_by_text("75N97024P00512").first.wait_for()
    page.get_by_label("Planned amount (dollars)").fill("250000")
    # Wait for the live search to redraw the outcome form with the amount before using it.
    page.get_by_text("Reusing avoids the planned amount (250000).").wait_for()
    page.locator("label[for=outcome-reuse]").click()
    page.get_by_label("Existing purchase, licence or listing to reuse").select_option(
        label="Licence: 75N97024P00512 (NIH)"
    )
    page.get_by_role("button", name="Record outcome").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("$250,000.00").first.is_visible()
    check_accessibility(page)


def test_leadership_reads_consolidation_opportunities(page):
    sign_in(page, "leader@demo.hhs.gov")
    page.goto("/procurement/consolidation")
    assert page.get_by_role("heading", name="Consolidation opportunities").is_visible()
    check_accessibility(page)
