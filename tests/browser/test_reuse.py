"""In Chromium: a division asks to reuse another's licence, the owner approves, the reuse is
invoiced and paid; and a request the licence forbids is refused with the reason on the page."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

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

    # NIH bills this quarter's shares: HRSA's 4 of 150 seats since 1 October.
    page.goto("/procurement/invoices/generate")
    check_accessibility(page)
    page.get_by_label("Fiscal period").fill("FY27Q1")
    page.get_by_role("button", name="Generate invoices").click()
    created = page.locator("#invoice-generate table tbody tr", has_text="HRSA")
    created.wait_for()
    created.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*/procurement/invoices/HHS-FY\d\d-\d{6}$"))
    number = page.url.rsplit("/", 1)[1]
    assert "NIH charges HRSA" in page.locator(".usa-intro").inner_text()
    check_accessibility(page)
    page.get_by_role("button", name="Issue invoice").click()
    page.get_by_label("Payment reference (IPAC transaction or other)").fill("IPAC-2026-11-0042")
    page.get_by_role("button", name="Record payment").click()
    page.get_by_role("button", name="Record payment").wait_for(state="detached")
    page.reload()
    assert "Paid" in page.get_by_role("heading", level=1).text_content()
    assert page.get_by_text("IPAC-2026-11-0042").is_visible()
    pdf = page.request.get(f"/procurement/invoices/{number}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    total = page.locator(".usa-intro strong").inner_text()  # "$1,234.56"
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert number in pdf_text and total in pdf_text
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
