"""In Chromium: leadership opens the ROI dashboard, changes a filter, reads a chart's table, exports
the PDF; axe-core finds no serious or critical violation."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.browser.conftest import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_leadership_filters_the_dashboard_and_exports_the_pdf(page):
    sign_in(page, "leader@demo.hhs.gov")
    page.goto("/procurement/reports/roi")
    assert page.get_by_role("heading", name="Return on investment").is_visible()
    assert page.get_by_test_id("roi-scope").inner_text().startswith("All time")
    total_all_time = page.locator(
        '[data-figure="total_spend_cents"] .roi-figure__value'
    ).inner_text()
    chart = page.locator("svg#chart-spend-division")
    assert chart.get_attribute("role") == "img"
    assert chart.locator("title").first.text_content() == "Spend by division"
    check_accessibility(page)

    page.get_by_label("Fiscal year").select_option(label="FY2026")
    page.wait_for_url(re.compile(r".*fiscal_year=2026.*"))
    page.get_by_test_id("roi-scope").filter(has_text="FY2026").wait_for()
    total_fy = page.locator('[data-figure="total_spend_cents"] .roi-figure__value').inner_text()
    assert total_fy != total_all_time
    assert page.get_by_label("Fiscal year").input_value() == "2026"  # the form kept the choice

    page.get_by_text("Data table: Spend by division").click()
    table = page.locator("#roi-report details[open] table").first
    assert table.is_visible()
    assert "FY2026 Q1" in table.inner_text()
    check_accessibility(page)

    with page.expect_download() as info:
        page.get_by_test_id("export-pdf").click()
    download = info.value
    assert download.suggested_filename == "roi-fy2026-hhs.pdf"
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Return on investment, FY2026" in text
    assert total_fy in text


def test_back_restores_the_unfiltered_dashboard(page):
    sign_in(page, "leader@demo.hhs.gov")
    page.goto("/procurement/reports/roi")
    page.get_by_label("Fiscal year").select_option(label="FY2025")
    page.wait_for_url(re.compile(r".*fiscal_year=2025.*"))
    page.get_by_test_id("roi-scope").filter(has_text="FY2025").wait_for()
    page.go_back()
    page.wait_for_url(re.compile(r".*/procurement/reports/roi$"))
    page.get_by_test_id("roi-scope").filter(has_text="All time").wait_for()


def test_officer_sees_their_division_and_the_definitions_page(page):
    sign_in(page, "officer.nih@demo.hhs.gov")
    page.goto("/procurement/reports/roi?division=CDC")
    assert "NIH" in page.get_by_test_id("roi-scope").inner_text()
    assert page.get_by_text("You see your own division").is_visible()
    check_accessibility(page)
    page.get_by_role("link", name="definitions page").click()
    page.wait_for_url("**/procurement/reports/definitions")
    assert page.get_by_role("heading", name="How the ROI figures are computed").is_visible()
    check_accessibility(page)
