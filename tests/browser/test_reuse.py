"""In Chromium: a division asks to reuse another's licence, the owner approves, the reuse is
invoiced and paid; and a request the licence forbids is refused with the reason on the page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def sign_out(page) -> None:
    page.get_by_test_id("sign-out").click()
    page.wait_for_load_state("networkidle")


def open_purchase(page, piid: str) -> None:
    page.goto(f"/procurement/purchases?q={piid}")
    page.locator("#purchase-results tbody tr th a").first.click()
    page.wait_for_load_state("networkidle")


def test_request_is_approved_then_invoiced_and_paid(page):
    sign_in(page, "viewer.hrsa@demo.hhs.gov")
    open_purchase(page, "75N98024F00021")
    page.get_by_test_id("request-licence-reuse").click()
    page.wait_for_url("**/procurement/reuse/new?licence=*")
    check_accessibility(page)
    page.get_by_label("Purpose: what your division will use it for").fill(
        "Citation analysis of HRSA-funded research"
    )
    page.get_by_label("Users or seats needed").fill("4")
    page.locator("#start_on").fill("2026-10-01")
    page.locator("#end_on").fill("2026-12-31")
    page.get_by_test_id("send-request").click()
    page.wait_for_url(re.compile(r".*/procurement/reuse/\d+$"))
    request_url = page.url
    request_path = "/procurement/reuse/" + request_url.rsplit("/", 1)[1]
    assert page.get_by_text("a decision is due by").is_visible()
    assert page.get_by_test_id("licence-ok").is_visible()
    check_accessibility(page)
    sign_out(page)

    sign_in(page, "officer.nih@demo.hhs.gov")
    assert page.get_by_test_id("unread-count").inner_text() != ""
    page.goto("/procurement/reuse/incoming")
    check_accessibility(page)
    page.locator(f'a[href="{request_path}"]').click()
    page.wait_for_url(request_url)
    page.get_by_label("Approve", exact=True).check()
    page.get_by_test_id("decide").click()
    page.wait_for_url(request_url)
    assert page.get_by_text("is now active").is_visible()
    check_accessibility(page)


def test_request_refused_by_the_licence_shows_why(page):
    sign_in(page, "steward.fda@demo.hhs.gov")
    open_purchase(page, "75D30124P00412")  # CDC MarketScan: covers CDC, ATSDR and NIH only
    page.get_by_test_id("request-licence-reuse").click()
    page.get_by_label("Purpose: what your division will use it for").fill("Sentinel validation")
    page.get_by_label("Users or seats needed").fill("2")
    page.locator("#start_on").fill("2026-11-01")
    page.locator("#end_on").fill("2026-12-31")
    page.get_by_test_id("send-request").click()
    refusal = page.get_by_test_id("licence-refusal")
    refusal.wait_for()
    assert "The licence covers ATSDR, CDC, NIH only; FDA is outside its scope." in (
        refusal.inner_text()
    )
    # Nothing was filed, and the form kept what was typed.
    assert page.get_by_label("Purpose: what your division will use it for").input_value() == (
        "Sentinel validation"
    )
    check_accessibility(page)
    page.goto("/procurement/reuse/mine")
    assert page.get_by_text("Sentinel validation").count() == 0
