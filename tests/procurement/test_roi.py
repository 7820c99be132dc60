"""Worked cases for procurement.roi: spend grouping, cost per reuse, seats, renewals, rankings."""

from __future__ import annotations

from datetime import date

import pytest

from procurement import roi
from procurement.costs import (
    Period,
    ReuseSpan,
    cost_in_period_cents,
    cost_per_reuse_series,
    fiscal_quarter_bounds,
    fiscal_year_bounds,
)
from procurement.licensing import LicenceScope, LicenceTerms

D = date
TODAY = D(2026, 11, 26)
FY26 = fiscal_year_bounds(2026)
FY26_START, FY26_END = FY26.start, FY26.end
Q1 = fiscal_quarter_bounds(2026, 1)


def terms(owner="CDC", seats=25, start=FY26_START, end=FY26_END, **extra):
    return LicenceTerms(
        owner_division=owner,
        scope=LicenceScope.DEPARTMENT,
        seats=seats,
        term_start=start,
        term_end=end,
        **extra,
    )


def licence(licence_id=1, owner="CDC", seats=25, obligated=1_200_000, reuses=(), **extra):
    start = extra.pop("start", D(2025, 10, 1))
    end = extra.pop("end", D(2026, 9, 30))
    return roi.LicenceFact(
        licence_id=licence_id,
        name=f"Licence {licence_id}",
        owner=owner,
        terms=terms(owner, seats, start, end, **extra),
        obligated_cents=obligated,
        pop_start=start,
        pop_end=end,
        owner_seats=0,
        reuses=tuple(reuses),
    )


# The running example of docs/cost-definitions.md: $12,000.00 for FY2026, reused by NIH from
# 1 Nov 2025 and FDA in December; ACF's reuse ended before the quarter.
EXAMPLE_REUSES = (
    ReuseSpan("NIH", D(2025, 11, 1), None, 5),
    ReuseSpan("FDA", D(2025, 12, 1), D(2025, 12, 31), 10),
    ReuseSpan("ACF", D(2025, 1, 1), D(2025, 9, 30), 2),
)


@pytest.mark.parametrize(
    "period,months,expected",
    [
        (None, [], ()),
        (None, [D(2025, 3, 1), D(2026, 10, 1)], ("FY2025", "FY2026", "FY2027")),
        (FY26, [], ("FY2026 Q1", "FY2026 Q2", "FY2026 Q3", "FY2026 Q4")),
        (Q1, [], ("Oct 2025", "Nov 2025", "Dec 2025")),
    ],
)
def test_series_periods_step_with_the_period(period, months, expected):
    assert tuple(p.label for p in roi.series_periods(period, months)) == expected


@pytest.mark.parametrize(
    "period,expected",
    [
        (None, TODAY),
        (FY26, D(2026, 9, 30)),  # a past period: its last day
        (fiscal_year_bounds(2027), TODAY),  # the current year: today
    ],
)
def test_as_of_day(period, expected):
    assert roi.as_of_day(period, TODAY) == expected


def test_spend_by_period_groups_months_and_keeps_undated_purchases():
    cells = [
        roi.SpendCell("CDC", D(2025, 10, 1), 100),
        roi.SpendCell("CDC", D(2025, 12, 1), 50),
        roi.SpendCell("CDC", D(2026, 1, 1), -30),  # a de-obligation reduces Q2
        roi.SpendCell("NIH", None, 7),
    ]
    table = roi.spend_by_period(cells, roi.series_periods(FY26, []))
    assert table == {"CDC": {"FY2026 Q1": 150, "FY2026 Q2": -30}, "NIH": {roi.NO_START: 7}}
    assert roi.fiscal_year_spend(cells, 2026) == 120
    assert roi.spend_totals(cells) == {"CDC": 120, "NIH": 7}


@pytest.mark.parametrize(
    "period,expected_uses",
    [
        (Q1, 3),  # CDC, FDA, NIH (ACF ended before)
        (fiscal_quarter_bounds(2026, 2), 2),  # CDC, NIH
        (fiscal_year_bounds(2025), 0),  # the licence was not in use: no cost and no use
    ],
)
def test_licence_cost_and_uses_follow_the_cost_module(period, expected_uses):
    fact = licence(reuses=EXAMPLE_REUSES)
    cost, uses = roi.licence_cost_and_uses([fact], period)
    assert uses == expected_uses
    expected_cost = (
        cost_in_period_cents(1_200_000, D(2025, 10, 1), D(2026, 9, 30), period.start, period.end)
        if expected_uses
        else 0
    )
    assert cost == expected_cost


def test_cost_per_reuse_over_time_matches_the_documented_months():
    fact = licence(reuses=EXAMPLE_REUSES)
    periods = roi.series_periods(Q1, [])
    series = roi.cost_per_reuse_over_time([fact], periods)
    # docs/cost-definitions.md: Oct $1,019.18 ÷ 1, Nov $986.30 ÷ 2, Dec $1,019.18 ÷ 3.
    assert series == ((101_918, 1), (98_630, 2), (101_918, 3))


def test_cost_per_reuse_over_time_skips_licences_not_in_use():
    old = licence(2, start=D(2024, 10, 1), end=D(2025, 9, 30), obligated=500_000)
    current = licence(1, reuses=EXAMPLE_REUSES)
    series = roi.cost_per_reuse_over_time([old, current], roi.series_periods(Q1, []))
    assert [uses for _, uses in series] == [1, 2, 3]  # the old licence adds no use


@pytest.mark.parametrize(
    "owner_seats,reuses,day,expected_used",
    [
        (0, (), D(2025, 12, 31), 0),
        (2, EXAMPLE_REUSES, D(2025, 12, 31), 17),  # 2 + NIH 5 + FDA 10
        (2, EXAMPLE_REUSES, D(2026, 1, 1), 7),  # FDA's reuse ended
        (20, EXAMPLE_REUSES, D(2025, 12, 31), 25),  # capped at the licence's 25 seats
    ],
)
def test_seat_use_counts_reuses_active_that_day(owner_seats, reuses, day, expected_used):
    fact = roi.LicenceFact(
        1, "Claims", "CDC", terms(), 1_200_000, D(2025, 10, 1), D(2026, 9, 30), owner_seats, reuses
    )
    rows, active, unlimited = roi.seat_use([fact], day)
    assert (active, unlimited) == (1, 0)
    assert rows[0].used == expected_used and rows[0].seats == 25


def test_seat_use_leaves_out_inactive_and_counts_unlimited_apart():
    expired = licence(1, start=D(2024, 1, 1), end=D(2024, 12, 31))
    unlimited = licence(2, seats=None)
    active = licence(3, seats=10)
    rows, count, without_limit = roi.seat_use([expired, unlimited, active], D(2026, 1, 1))
    assert (count, without_limit) == (2, 1)
    assert [row.licence_id for row in rows] == [3]


@pytest.mark.parametrize(
    "renewal_on,end,expected_bucket",
    [
        (TODAY, D(2027, 9, 30), 30),
        (D(2026, 12, 26), D(2027, 9, 30), 30),  # 30 days
        (D(2026, 12, 27), D(2027, 9, 30), 60),  # 31 days
        (None, D(2027, 3, 26), 120),  # no renewal date: the term end, 120 days
        (None, D(2027, 3, 27), None),  # 121 days
        (D(2026, 11, 25), D(2027, 9, 30), None),  # overdue: not listed
    ],
)
def test_renewals_use_licensing_buckets(renewal_on, end, expected_bucket):
    fact = licence(start=D(2026, 1, 1), end=end, renewal_date=renewal_on)
    rows = roi.renewals_due([fact], TODAY)
    assert [row.bucket for row in rows] == ([expected_bucket] if expected_bucket else [])


def test_opportunities_and_listings_rank_by_savings_and_reuses():
    ranked = roi.rank_opportunities(
        [
            roi.Opportunity("B", "x", ("CDC", "NIH"), 1_000, 100),
            roi.Opportunity("A", "y", ("CDC", "FDA"), 5_000, 900),
            roi.Opportunity("C", "z", ("FDA", "NIH"), 9_000, 100),
        ]
    )
    assert [o.vendor for o in ranked] == ["A", "C", "B"]
    listings = roi.rank_listings(
        [
            roi.ListingFact(1, "Never reused", "CDC", 0),
            roi.ListingFact(2, "Twice", "CDC", 2, downloads=1),
            roi.ListingFact(3, "Twice, more downloads", "NIH", 2, downloads=5),
            roi.ListingFact(4, "Five times", "FDA", 5),
        ]
    )
    assert [li.listing_id for li in listings] == [4, 3, 2]


def _inputs(**overrides):
    values = {
        "period": FY26,
        "today": TODAY,
        "division_spend": (
            roi.SpendCell("CDC", D(2025, 10, 1), 1_000_00, 2),
            roi.SpendCell("NIH", D(2026, 4, 1), 500_00, 1),
            roi.SpendCell("NIH", None, 1_00, 1),
        ),
        "licences": (licence(reuses=EXAMPLE_REUSES),),
        "reuses": (roi.MonthCell(D(2025, 11, 1), 2, 300_00, 1),),
        "checks": (roi.MonthCell(D(2026, 2, 1), 1, 45_00),),
        "duplicates": (
            roi.DuplicateFact(roi.DuplicateState.FOUND, 10),
            roi.DuplicateFact(roi.DuplicateState.CONFIRMED, 20),
            roi.DuplicateFact(roi.DuplicateState.RESOLVED, 40),
        ),
        "invoices": (
            roi.InvoiceCell("issued", 2, 70),
            roi.InvoiceCell("paid", 1, 30),
            roi.InvoiceCell("void", 1, 1000),
            roi.InvoiceCell("draft", 1, 500),
        ),
    }
    values.update(overrides)
    return roi.RoiInputs(**values)


def test_compute_adds_up_every_figure():
    report = roi.compute(_inputs())
    f = report.figures
    assert set(f) == set(roi.DEFINITIONS) == set(roi.LABELS)
    assert f["total_spend_cents"] == 1_000_00 + 500_00 + 1_00
    assert sum(report.spend_by_division.values()) == f["total_spend_cents"]
    assert f["purchase_count"] == 4
    assert (f["avoided_by_reuse_cents"], f["avoided_by_checks_cents"]) == (300_00, 45_00)
    assert f["avoided_spend_cents"] == 345_00
    assert (f["reuse_count"], f["reuses_without_avoided_figure"]) == (2, 1)
    assert f["duplicate_spend_cents"] == 70
    assert f["duplicate_confirmed_cents"] == 60  # resolved pairs were confirmed first
    assert f["duplicate_resolved_cents"] == 40
    assert (f["invoiced_cents"], f["paid_cents"]) == (100, 30)  # drafts and voids left out
    # FY2026 as a whole: the licence's full $12,000.00 over CDC, NIH, FDA (ACF ended before).
    assert (f["licence_cost_cents"], f["uses_count"]) == (1_200_000, 3)
    assert f["cost_per_reuse_cents"] == 400_000


def test_every_spend_chart_adds_up_to_total_spend():
    report = roi.compute(_inputs())
    total = report.figures["total_spend_cents"]
    for chart in report.charts:
        if chart.chart_id.startswith("chart-spend"):
            assert sum(v for s in chart.data.series for _, v in s.points) == total, chart.chart_id
    division = next(c for c in report.charts if c.chart_id == "chart-spend-division").data
    assert roi.NO_START in division.categories  # the undated purchase has its own bar


def test_vendor_chart_puts_the_rest_under_all_others():
    inputs = _inputs(vendor_spend=(roi.SpendCell("Acme", D(2025, 10, 1), 900_00),))
    chart = next(c for c in roi.compute(inputs).charts if c.chart_id == "chart-spend-vendor")
    series = {s.name: dict(s.points) for s in chart.data.series}
    assert series["Acme"]["FY2026 Q1"] == 900_00
    assert series[roi.OTHERS]["FY2026 Q1"] == 100_00


def test_empty_scope_gives_zeros_and_empty_figures_not_errors():
    report = roi.compute(roi.RoiInputs(period=None, today=TODAY))
    assert report.figures["total_spend_cents"] == 0
    assert report.figures["cost_per_reuse_cents"] is None
    assert report.figures["seat_utilisation_bp"] is None
    assert all(chart.data.is_empty for chart in report.charts)
    assert all(not table.rows for table in roi.report_tables(report))


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("total_spend_cents", 123_456, "$1,234.56"),
        ("total_spend_cents", -500, "-$5.00"),
        ("seat_utilisation_bp", 7_000, "70%"),
        ("reuse_count", 1_234, "1,234"),
        ("cost_per_reuse_cents", None, "—"),
    ],
)
def test_format_figure(name, value, expected):
    assert roi.format_figure(name, value) == expected


def test_utilisation_basis_points_round_half_up():
    row = roi.UtilisationRow(1, "x", "CDC", seats=3, used=2)
    assert row.utilisation_bp == 6_667
    # On 30 September 2026 only NIH's open-ended reuse holds seats: 5 of 25.
    assert roi.compute(_inputs()).figures["seat_utilisation_bp"] == 2_000


def test_period_type_is_a_cost_module_period():
    assert isinstance(roi.series_periods(FY26, [])[0], Period)


def test_the_definitions_document_carries_every_definition_word_for_word():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "roi-definitions.md").read_text()
    for name, definition in roi.DEFINITIONS.items():
        assert f"| {roi.LABELS[name]} | `{name}` | {definition} |" in text, name


def test_kept_licence_results_follow_a_changed_licence():
    # Results are kept by every value they depend on: a changed licence is never served the
    # result of its old values, and a kept result equals a fresh computation.
    periods = roi.series_periods(FY26, [])
    before = licence(obligated=1_200_000, reuses=EXAMPLE_REUSES)
    changed = licence(obligated=2_400_001, reuses=EXAMPLE_REUSES[:1])
    first = (
        roi.cost_per_reuse_over_time([before], periods),
        roi.licence_cost_and_uses([before], Q1),
    )
    again = (
        roi.cost_per_reuse_over_time([changed], periods),
        roi.licence_cost_and_uses([changed], Q1),
    )
    assert again != first
    assert roi.cost_per_reuse_over_time([before], periods) == first[0]
    roi.forget_kept_results()
    assert again == (
        roi.cost_per_reuse_over_time([changed], periods),
        roi.licence_cost_and_uses([changed], Q1),
    )
    assert again[1] == (
        cost_in_period_cents(2_400_001, FY26_START, FY26_END, Q1.start, Q1.end),
        2,  # CDC and NIH (from November)
    )


def test_cost_per_reuse_over_time_adds_up_the_cost_modules_series():
    # roi sums each licence's (cost, uses) per period as costs.cost_per_reuse_series gives them,
    # over the periods the licence is in use during.
    periods = roi.series_periods(FY26, [])
    licences = [
        licence(obligated=1_200_001, reuses=EXAMPLE_REUSES),
        licence(obligated=-35_000, reuses=()),
        licence(
            obligated=999_999, reuses=EXAMPLE_REUSES[:1], start=D(2025, 12, 15), end=D(2026, 2, 10)
        ),
    ]
    expected = [[0, 0] for _ in periods]
    for fact in licences:
        for point, total in zip(
            cost_per_reuse_series(
                fact.obligated_cents,
                fact.pop_start,
                fact.pop_end,
                fact.owner,
                fact.reuses,
                periods,
            ),
            expected,
            strict=True,
        ):
            if point.period.end >= fact.pop_start and point.period.start <= fact.pop_end:
                total[0] += point.cost_cents
                total[1] += len(point.uses)
    roi.forget_kept_results()
    assert roi.cost_per_reuse_over_time(licences, periods) == tuple(map(tuple, expected))
