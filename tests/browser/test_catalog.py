"""End to end: live catalog search with linkable URLs and Back, a listing page, publishing."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_live_search_updates_the_url_and_back_restores_it(page):
    page.goto("/catalog")
    check_accessibility(page)
    page.get_by_label("Search datasets, code, APIs and purchased data").fill("hospital")
    page.wait_for_url("**/catalog?q=hospital")
    heading = page.locator("#results-heading")
    assert "for “hospital”" in heading.inner_text()
    page.locator("#results a.facet-link", has_text="Restricted public").click()
    page.wait_for_url("**access_level=restricted+public**")
    assert "access level: restricted public" in page.locator(".active-filters").inner_text().lower()
    check_accessibility(page)
    page.go_back()
    page.wait_for_url("**/catalog?q=hospital")
    # htmx keeps no history snapshots (historyCacheSize 0): Back reloads the page from the server.
    page.wait_for_function("document.querySelectorAll('.active-filters').length === 0")
    assert "for “hospital”" in page.locator("#results-heading").inner_text()
    page.locator(".results-list a").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator('script[type="application/ld+json"]').count() == 1
    check_accessibility(page)


def test_steward_sees_field_errors_as_they_type_and_publishes(page):
    sign_in(page, "steward.cdc@demo.hhs.gov")
    page.goto("/catalog/new")
    check_accessibility(page)
    page.get_by_label("Bureau code").fill("9-20")
    page.get_by_label("Bureau code").blur()
    page.wait_for_selector("#bureau_codes-live.usa-error-message")
    page.get_by_label("Bureau code").fill("009:20")
    page.locator("#title").fill("Browser-made Birth Records")
    page.locator("#description").fill("Birth records by county, made in a browser test.")
    page.get_by_label("Keywords").fill("births, counties")
    page.get_by_label("Contact name").fill("Vital Statistics")
    page.get_by_label("Contact e-mail").fill("vital@cdc.gov")
    page.get_by_label("Save as").select_option("published")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Browser-made Birth Records").is_visible()
    check_accessibility(page)
