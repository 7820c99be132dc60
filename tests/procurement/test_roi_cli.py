"""`marketplace reports roi --format pdf|csv|json`: the same figures as the records, any format."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from pypdf import PdfReader

from procurement import roi
from procurement.costs import fiscal_year
from tests.procurement.test_roi_reconcile import build_dataset

CLI = [sys.executable, "-m", "marketplace"]


def run(args, database_url, tmp_path, *, ok=True):
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)
    assert (result.returncode == 0) is ok, result.stderr[-800:]
    return result


@pytest.fixture
def data(db):
    return build_dataset(db)


def test_json_is_exactly_filters_figures_definitions(data, database_url, tmp_path):
    out = tmp_path / "roi.json"
    result = run(
        ["reports", "roi", "--format", "json", "--output", str(out)], database_url, tmp_path
    )
    assert result.stdout == ""  # the file is the output; a summary line goes to stderr
    document = json.loads(out.read_text())
    assert list(document) == ["filters", "figures", "definitions"]
    figures = document["figures"]
    assert document["filters"]["period"] == "All time" and document["filters"]["division"] is None
    total = sum(p.obligated_cents for p in data.purchases.values())
    assert figures["total_spend_cents"] == total
    granted = [r for r in data.reuses.values() if r.status not in ("requested", "denied")]
    assert figures["reuse_count"] == len(granted)
    assert figures["avoided_spend_cents"] == sum(r.avoided_cents or 0 for r in granted)
    assert figures["duplicate_spend_cents"] > 0
    assert document["definitions"] == roi.DEFINITIONS


def test_fiscal_year_and_division(data, database_url, tmp_path):
    out = tmp_path / "roi.json"
    run(
        ["reports", "roi", "--format", "json", "-o", str(out), "--fiscal-year", "2026",
         "--division", "cdc"],
        database_url,
        tmp_path,
    )  # fmt: skip
    document = json.loads(out.read_text())
    assert document["filters"]["division"] == "CDC" and document["filters"]["fiscal_year"] == 2026
    cdc = data.divisions["CDC"]
    expected = sum(
        p.obligated_cents
        for p in data.purchases.values()
        if p.division_id == cdc and p.start_on and fiscal_year(p.start_on) == 2026
    )
    assert document["figures"]["total_spend_cents"] == expected == 100_000_000


def test_csv_and_pdf_carry_the_json_figures(data, database_url, tmp_path):
    paths = {fmt: tmp_path / f"roi.{fmt}" for fmt in ("json", "csv", "pdf")}
    for fmt, path in paths.items():
        run(["reports", "roi", "--format", fmt, "-o", str(path), "--fiscal-year", "2026"],
            database_url, tmp_path)  # fmt: skip
    figures = json.loads(paths["json"].read_text())["figures"]
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    from_csv = {
        r["item"]: int(r["value"]) if r["value"] else None for r in rows if r["section"] == "figure"
    }
    assert from_csv == figures
    reader = PdfReader(io.BytesIO(paths["pdf"].read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Return on investment, FY2026" in text
    for name in ("total_spend_cents", "avoided_spend_cents", "duplicate_spend_cents"):
        assert roi.format_figure(name, figures[name]) in text
    assert f"Page 1 of {len(reader.pages)}" in text and "Generated" in text
    first_page = reader.pages[0].extract_text()
    total = roi.format_figure("total_spend_cents", figures["total_spend_cents"])
    assert f"Total spend: {total}" in first_page and "Period" in first_page


@pytest.mark.parametrize(
    "args,message",
    [
        (["--division", "NOPE"], "No division has the code"),
        (["--fiscal-year", "1899"], "Enter a fiscal year"),
        (["--quarter", "2"], "Choose a fiscal year for the quarter"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(data, database_url, tmp_path, args, message):
    out = tmp_path / "roi.json"
    result = run(["reports", "roi", "--format", "json", "-o", str(out), *args], database_url,
                 tmp_path, ok=False)  # fmt: skip
    assert message in result.stderr
    assert not out.exists()
