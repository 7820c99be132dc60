"""The ROI pages over HTTP: dashboard, htmx fragment, filters, exports that agree, permissions."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from pypdf import PdfReader

from procurement import roi
from procurement.services import roi as roi_service
from tests.procurement.test_roi_reconcile import build_dataset
from tests.support import login, text_of

URL = "/procurement/reports/roi"


@pytest.fixture(autouse=True)
def _no_kept_reports():
    roi_service.clear_cache()


@pytest.fixture
def data(db):
    return build_dataset(db)


def _csv_figures(text: str) -> dict[str, int | None]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {
        row["item"]: (int(row["value"]) if row["value"] != "" else None)
        for row in rows
        if row["section"] == "figure"
    }


def test_dashboard_shows_figures_charts_and_tables(client, data):
    login(client, "leader@hhs.gov")
    response = client.get(URL)
    assert response.status_code == 200
    assert response.headers["vary"] == "HX-Request"
    page = response.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert 'aria-labelledby="chart-spend-division-title chart-spend-division-desc"' in page
    assert "<details" in page and "Data table: Spend by division" in page
    text = text_of(page)
    assert "Total spend $3,348,333.33" in text
    assert roi.DEFINITIONS["total_spend_cents"] in text
    assert 'href="/procurement/reports/definitions"' in page
    assert '<link rel="stylesheet" href="/static/css/roi.css">' in page
    assert "style=" not in page.split('<main id="main-content"', 1)[1]  # CSP: no inline styles


def test_htmx_request_gets_the_fragment_with_the_filtered_report(client, data):
    login(client, "leader@hhs.gov")
    response = client.get(f"{URL}?fiscal_year=2026&division=CDC", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="roi-report"')
    assert "<html" not in response.text
    text = text_of(response.text)
    assert "FY2026 · CDC" in text
    assert "Total spend $1,000,000.00" in text  # CDC's only FY2026 purchase
    assert 'href="/procurement/reports/roi.pdf?fiscal_year=2026&amp;division=CDC"' in response.text


def test_history_restore_gets_the_full_page(client, data):
    login(client, "leader@hhs.gov")
    response = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in response.text


@pytest.mark.parametrize(
    "query,message",
    [
        ("fiscal_year=twenty", "Enter a fiscal year"),
        ("quarter=3", "Choose a fiscal year for the quarter"),
        ("fiscal_year=2026&quarter=9", "Choose quarter 1, 2, 3 or 4"),
        ("division=NOPE", "No division has the code"),
        ("kind=%3Cscript%3E", "Choose a listing kind"),
    ],
)
def test_bad_filters_re_render_the_form_with_a_message(client, data, query, message):
    login(client, "leader@hhs.gov")
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert message in text_of(response.text)
    assert '<form class="usa-form' in response.text
    assert "<script>" not in response.text.split("</header>", 1)[1].split("<script src")[0]
    fragment = client.get(f"{URL}?{query}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and message in text_of(fragment.text)
    for export in ("roi.pdf", "roi.csv", "roi.json"):
        refused = client.get(f"/procurement/reports/{export}?{query}")
        assert refused.status_code == 422 and message in text_of(refused.text)


@pytest.mark.parametrize(
    "query", ["vendor=" + "x" * 5000, "fiscal_year=%00", "vendor=%25_%5C'%22", "quarter=-1"]
)
def test_odd_input_never_fails(client, data, query):
    login(client, "leader@hhs.gov")
    assert client.get(f"{URL}?{query}").status_code in (200, 422)


def test_exports_carry_the_same_figures(client, data):
    login(client, "leader@hhs.gov")
    query = "fiscal_year=2026"
    document = client.get(f"/procurement/reports/roi.json?{query}").json()
    assert set(document) == {"filters", "figures", "definitions"}
    figures = document["figures"]
    assert document["filters"]["fiscal_year"] == 2026 and document["filters"]["period"] == "FY2026"
    assert set(document["definitions"]) == set(figures) == set(roi.DEFINITIONS)
    assert figures["total_spend_cents"] == 186_500_000
    exported = client.get(f"/procurement/reports/roi.csv?{query}")
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="roi-fy2026-hhs.csv"' in exported.headers["content-disposition"]
    assert _csv_figures(exported.text) == figures
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    by_division = [int(r["value"]) for r in rows if r["section"] == "spend_by_division"]
    assert sum(by_division) == figures["total_spend_cents"]
    pdf = client.get(f"/procurement/reports/roi.pdf?{query}")
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for name in ("total_spend_cents", "avoided_spend_cents", "reuse_count", "invoiced_cents"):
        assert roi.format_figure(name, figures[name]) in text, name
    assert "Period: FY2026" in text
    assert re.search(r"Page 1 of \d+", text)
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in text


def test_exports_are_limited_like_the_page(client, data):
    login(client, "officer.nih@hhs.gov")
    document = json.loads(client.get("/procurement/reports/roi.json?division=CDC").text)
    assert document["filters"]["division"] == "NIH"
    exported = client.get("/procurement/reports/roi.csv?division=CDC").text
    divisions = {
        r["item"]
        for r in csv.DictReader(io.StringIO(exported))
        if r["section"] == "spend_by_division"
    }
    assert divisions == {"NIH"}
    page = client.get(f"{URL}?division=CDC")
    assert "You see your own division" in text_of(page.text)
    assert 'name="division"' not in page.text  # no division choice for officers


@pytest.mark.parametrize("email", ["viewer@hhs.gov", "steward@hhs.gov"])
def test_viewers_and_stewards_get_403(client, data, email):
    login(client, email)
    for path in (URL, f"{URL}.pdf", f"{URL}.csv", f"{URL}.json"):
        assert client.get(path).status_code == 403, path
    assert client.get(URL, headers={"HX-Request": "true"}).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, data):
    response = client.get(URL, follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_definitions_page_lists_every_figure(client, data):
    login(client, "viewer@hhs.gov")
    response = client.get("/procurement/reports/definitions")
    assert response.status_code == 200
    text = text_of(response.text)
    for name, definition in roi.DEFINITIONS.items():
        assert name in text and definition in text
    assert "1 October to 30 September" in text


def test_csv_cells_that_look_like_formulas_are_neutralised(client, db, data):
    from procurement.models import Purchase, Vendor

    vendor = Vendor(name="=HYPERLINK(1) Data", name_key="=hyperlink(1) data")
    db.add(vendor)
    db.flush()
    db.add(
        Purchase(
            award_key="award-evil",
            piid="75X-EVIL",
            division_id=data.divisions["CDC"],
            vendor_id=vendor.id,
            start_on=data.purchases["p1"].start_on,
            obligated_cents=900_000_000,  # the largest vendor, so it is in the vendor chart
        )
    )
    db.commit()
    login(client, "leader@hhs.gov")
    exported = client.get("/procurement/reports/roi.csv").text
    rows = list(csv.reader(io.StringIO(exported)))
    names = [row[1] for row in rows if row[0] == "spend-vendor"]
    assert "'=HYPERLINK(1) Data" in names
    assert not any(cell.startswith("=") for row in rows for cell in row)
    figures = _csv_figures(exported)
    assert figures["total_spend_cents"] == 334_833_333 + 900_000_000


def test_charts_are_drawn_once_per_report_and_again_for_a_new_one():
    from dataclasses import replace
    from datetime import date

    from procurement.roi_web import chart_views

    report = roi.compute(roi.RoiInputs(period=None, today=date(2026, 11, 26)))
    drawn = chart_views(report)
    assert chart_views(report) is drawn  # the kept report: its drawings are kept too
    changed = replace(report, charts=report.charts[:1])
    assert [view.chart_id for view in chart_views(changed)] == [report.charts[0].chart_id]
    assert chart_views(report) is drawn
