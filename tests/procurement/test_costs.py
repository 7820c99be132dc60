"""Worked cases for procurement.costs: proration, uses, cost per reuse, shares, fiscal years."""

from __future__ import annotations

from datetime import date

import pytest

from procurement.costs import (
    Period,
    ReuseSpan,
    ShareMethod,
    allocate_cents,
    annualised_cents,
    avoided_spend_cents,
    cost_by_period_cents,
    cost_in_period_cents,
    cost_per_reuse_cents,
    cost_per_reuse_series,
    cost_shares,
    days_inclusive,
    fiscal_quarter_bounds,
    fiscal_year,
    fiscal_year_bounds,
    overlap_days,
    parse_period,
    periods_between,
    spend_in_fiscal_year_cents,
    uses_in_period,
)

D = date
FY26 = (D(2025, 10, 1), D(2026, 9, 30))  # 365 days
Q1_FY26 = (D(2025, 10, 1), D(2025, 12, 31))  # 92 days


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (D(2025, 3, 1), D(2025, 3, 1), 1),  # one day counts as one, not zero
        (D(2024, 1, 1), D(2024, 12, 31), 366),  # leap year
        (D(2025, 1, 1), D(2025, 12, 31), 365),
        (D(2024, 2, 1), D(2024, 3, 1), 30),  # through 29 February
        (D(2025, 3, 2), D(2025, 3, 1), 0),  # end before start
    ],
)
def test_days_inclusive(start, end, expected):
    assert days_inclusive(start, end) == expected


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ((D(2025, 1, 1), D(2025, 1, 31)), (D(2025, 1, 31), D(2025, 2, 28)), 1),  # touch on one day
        ((D(2025, 1, 1), D(2025, 1, 31)), (D(2025, 2, 1), D(2025, 2, 28)), 0),  # adjacent
        ((D(2025, 1, 1), D(2025, 12, 31)), (D(2025, 2, 1), D(2025, 2, 28)), 28),  # inside
    ],
)
def test_overlap_days(a, b, expected):
    assert overlap_days(*a, *b) == expected


@pytest.mark.parametrize(
    "obligated,start,end,expected",
    [
        (1_200_000, *FY26, 1_200_000),  # a 365-day award is its own annual cost
        (366_000, D(2024, 1, 1), D(2024, 12, 31), 365_000),  # a leap year costs 366 days' worth
        (600_000, D(2025, 10, 1), D(2026, 3, 31), 1_203_297),  # 182 days: 600,000 × 365 / 182
        (-36_500, *FY26, -36_500),  # de-obligations annualise too
    ],
)
def test_annualised_cents(obligated, start, end, expected):
    assert annualised_cents(obligated, start, end) == expected


@pytest.mark.parametrize(
    "obligated,pop,period,expected",
    [
        # $12,000.00 for FY2026, first quarter: 92 of 365 days = 302,465.75 cents
        (1_200_000, FY26, Q1_FY26, 302_466),
        (1_200_000, FY26, FY26, 1_200_000),  # the whole period of performance
        (1_200_000, FY26, (D(2025, 1, 1), D(2025, 12, 31)), 302_466),  # period wider than pop
        (1_200_000, FY26, (D(2026, 10, 1), D(2026, 12, 31)), 0),  # after the pop
        (1_200_000, FY26, (D(2026, 9, 30), D(2026, 9, 30)), 3_288),  # last day is inside
        (366_000, (D(2024, 1, 1), D(2024, 12, 31)), (D(2024, 2, 1), D(2024, 2, 29)), 29_000),
        (-36_500, FY26, (D(2025, 10, 1), D(2025, 10, 1)), -100),  # de-obligation prorates
        (1, (D(2025, 1, 1), D(2025, 1, 2)), (D(2025, 1, 1), D(2025, 1, 1)), 1),  # half rounds up
        (-1, (D(2025, 1, 1), D(2025, 1, 2)), (D(2025, 1, 1), D(2025, 1, 1)), -1),  # …away from 0
        (500, (D(2025, 3, 10), D(2025, 3, 1)), (D(2025, 3, 1), D(2025, 3, 31)), 500),  # bad pop
    ],
)
def test_cost_in_period_cents(obligated, pop, period, expected):
    assert cost_in_period_cents(obligated, *pop, *period) == expected


@pytest.mark.parametrize(
    "obligated,pop,periods,expected",
    [
        # 100 cents over three days: 33.33 each, the spare cent goes to the earliest period
        (
            100,
            (D(2025, 1, 1), D(2025, 1, 3)),
            [Period(D(2025, 1, d), D(2025, 1, d)) for d in (1, 2, 3)],
            (34, 33, 33),
        ),
        # the third day is outside every period: it keeps its 33 cents, the series adds to 67
        (
            100,
            (D(2025, 1, 1), D(2025, 1, 3)),
            [Period(D(2025, 1, d), D(2025, 1, d)) for d in (1, 2)],
            (34, 33),
        ),
        (
            -100,
            (D(2025, 1, 1), D(2025, 1, 3)),
            [Period(D(2025, 1, d), D(2025, 1, d)) for d in (1, 2, 3)],
            (-34, -33, -33),
        ),
    ],
)
def test_cost_by_period_cents(obligated, pop, periods, expected):
    assert cost_by_period_cents(obligated, *pop, periods) == expected


@pytest.mark.parametrize("obligated", [1_000_000, 1_234_567, 1, -99_999])
def test_cost_by_period_cents_monthly_series_adds_up(obligated):
    months = periods_between(*FY26)
    series = cost_by_period_cents(obligated, *FY26, months)
    assert len(series) == 12
    assert sum(series) == obligated
    for month, cents in zip(months, series, strict=True):
        assert abs(cents - cost_in_period_cents(obligated, *FY26, month.start, month.end)) <= 1


def test_cost_by_period_cents_refuses_overlapping_periods():
    periods = [Period(D(2025, 1, 1), D(2025, 1, 31)), Period(D(2025, 1, 31), D(2025, 2, 28))]
    with pytest.raises(ValueError, match="without overlap"):
        cost_by_period_cents(100, D(2025, 1, 1), D(2025, 12, 31), periods)


@pytest.mark.parametrize(
    "reuses,expected",
    [
        ([], ("CDC",)),
        ([ReuseSpan("NIH", D(2025, 1, 1), D(2025, 9, 30))], ("CDC",)),  # ended the day before
        ([ReuseSpan("NIH", D(2025, 1, 1), D(2025, 10, 1))], ("CDC", "NIH")),  # first day counts
        ([ReuseSpan("NIH", D(2025, 12, 31))], ("CDC", "NIH")),  # starts on the last day
        ([ReuseSpan("NIH", D(2026, 1, 1))], ("CDC",)),  # starts after
        ([ReuseSpan("NIH", D(2024, 1, 1), None)], ("CDC", "NIH")),  # open-ended
        (  # a division with two reuses counts once; the owner's own reuse adds nothing
            [
                ReuseSpan("NIH", D(2025, 10, 1), D(2025, 10, 31)),
                ReuseSpan("NIH", D(2025, 11, 1), D(2025, 11, 30)),
                ReuseSpan("CDC", D(2025, 10, 1)),
            ],
            ("CDC", "NIH"),
        ),
        (  # owner first, then alphabetical whatever the input order
            [ReuseSpan("NIH", D(2025, 10, 1)), ReuseSpan("ACF", D(2025, 10, 1))],
            ("CDC", "ACF", "NIH"),
        ),
    ],
)
def test_uses_in_period(reuses, expected):
    assert uses_in_period("CDC", reuses, *Q1_FY26) == expected


@pytest.mark.parametrize(
    "cost,uses,expected",
    [
        (302_466, 1, 302_466),  # no reuse: the owner carries it all
        (302_466, 3, 100_822),
        (1_000, 3, 333),
        (1_001, 2, 501),  # 500.5 rounds half away from zero
        (-1_001, 2, -501),
    ],
)
def test_cost_per_reuse_cents(cost, uses, expected):
    assert cost_per_reuse_cents(cost, uses) == expected


def test_cost_per_reuse_cents_needs_a_use():
    with pytest.raises(ValueError, match="at least 1"):
        cost_per_reuse_cents(100, 0)


def test_cost_per_reuse_series():
    # $3,650.00 over FY2026 Q1; NIH joins on 1 November, FDA for December only
    reuses = [
        ReuseSpan("NIH", D(2025, 11, 1)),
        ReuseSpan("FDA", D(2025, 12, 1), D(2025, 12, 31)),
    ]
    series = cost_per_reuse_series(365_000, *Q1_FY26, "CDC", reuses, periods_between(*Q1_FY26))
    assert [(p.period.label, p.cost_cents, p.uses, p.cost_per_reuse_cents) for p in series] == [
        ("Oct 2025", 122_989, ("CDC",), 122_989),  # 31/92 of 365,000 = 122,989.13
        ("Nov 2025", 119_022, ("CDC", "NIH"), 59_511),  # 30/92 = 119,021.74
        ("Dec 2025", 122_989, ("CDC", "FDA", "NIH"), 40_996),
    ]
    assert sum(p.cost_cents for p in series) == 365_000


CDC_NIH_FDA = [ReuseSpan("NIH", D(2025, 10, 1)), ReuseSpan("FDA", D(2025, 10, 1))]


@pytest.mark.parametrize(
    "cost,owner,reuses,method,options,expected",
    [
        (1_000, "CDC", CDC_NIH_FDA, "none", {}, {"FDA": 0, "NIH": 0}),
        # 1,000 ÷ 3 uses = 333.33: the spare cent goes to CDC, first code alphabetically
        (1_000, "CDC", CDC_NIH_FDA, "equal", {}, {"FDA": 333, "NIH": 333}),
        # …and to FDA when the owner is OS, which sorts after FDA and NIH
        (1_000, "OS", CDC_NIH_FDA, "equal", {}, {"FDA": 334, "NIH": 333}),
        (1_001, "CDC", CDC_NIH_FDA, "equal", {}, {"FDA": 334, "NIH": 333}),  # 2 spare: CDC, FDA
        (0, "CDC", CDC_NIH_FDA, "equal", {}, {"FDA": 0, "NIH": 0}),
        # $100.00 for 25 seats: NIH holds 5, FDA 10, the owner the other 10
        (
            10_000,
            "CDC",
            [ReuseSpan("NIH", D(2025, 10, 1), seats=5), ReuseSpan("FDA", D(2025, 10, 1), seats=10)],
            ShareMethod.PER_SEAT,
            {"seats_total": 25},
            {"FDA": 4_000, "NIH": 2_000},
        ),
        # 1 cent per seat is 33.33: the spare cent goes to CDC (its own seat), not to a reuser
        (100, "CDC", CDC_NIH_FDA, "per_seat", {"seats_total": 3}, {"FDA": 33, "NIH": 33}),
        # two NIH reuses add their seats: 5 of 10 seats
        (
            1_000,
            "CDC",
            [ReuseSpan("NIH", D(2025, 10, 1), seats=2), ReuseSpan("NIH", D(2025, 11, 1), seats=3)],
            "per_seat",
            {"seats_total": 10},
            {"NIH": 500},
        ),
        # more seats reused than bought (3 of 2): shares still add up to the cost, no more
        (
            900,
            "CDC",
            [ReuseSpan("NIH", D(2025, 10, 1), seats=2), ReuseSpan("FDA", D(2025, 10, 1))],
            "per_seat",
            {"seats_total": 2},
            {"FDA": 300, "NIH": 600},
        ),
        (2_000, "CDC", CDC_NIH_FDA, "fixed", {"fixed_cents": 500}, {"FDA": 500, "NIH": 500}),
        (1_000, "CDC", CDC_NIH_FDA, "fixed", {"fixed_cents": 500}, {"FDA": 500, "NIH": 500}),
        # 2 × $15.00 would exceed the $20.00 cost: capped to the cost, split equally
        (2_000, "CDC", CDC_NIH_FDA, "fixed", {"fixed_cents": 1_500}, {"FDA": 1_000, "NIH": 1_000}),
        (2_001, "CDC", CDC_NIH_FDA, "fixed", {"fixed_cents": 1_500}, {"FDA": 1_001, "NIH": 1_000}),
        (2_000, "CDC", CDC_NIH_FDA, "fixed", {"fixed_cents": 0}, {"FDA": 0, "NIH": 0}),
        (1_000, "CDC", [], "equal", {}, {}),  # no reuse, nothing owed
        (1_000, "CDC", [ReuseSpan("CDC", D(2025, 10, 1))], "equal", {}, {}),  # owner's own reuse
    ],
)
def test_cost_shares(cost, owner, reuses, method, options, expected):
    shares = cost_shares(cost, owner, reuses, method, **options)
    assert shares == expected
    assert list(shares) == sorted(shares)


@pytest.mark.parametrize("method", list(ShareMethod))
@pytest.mark.parametrize("cost", [0, 1, 2, 3, 99, 100, 101, 1_234_567])
def test_cost_shares_never_exceed_the_cost(method, cost):
    reuses = [
        ReuseSpan("NIH", D(2025, 10, 1), seats=3),
        ReuseSpan("FDA", D(2025, 10, 1), seats=1),
        ReuseSpan("ACF", D(2025, 10, 1), seats=2),
    ]
    shares = cost_shares(cost, "CDC", reuses, method, seats_total=7, fixed_cents=40)
    assert set(shares) == {"ACF", "FDA", "NIH"}
    assert all(share >= 0 for share in shares.values())
    assert sum(shares.values()) <= cost


@pytest.mark.parametrize(
    "method,options,message",
    [
        ("per_seat", {}, "seats_total"),
        ("per_seat", {"seats_total": 0}, "seats_total"),
        ("fixed", {}, "fixed_cents"),
        ("fixed", {"fixed_cents": -1}, "fixed_cents"),
        ("halves", {}, "not a valid ShareMethod"),
    ],
)
def test_cost_shares_errors(method, options, message):
    with pytest.raises(ValueError, match=message):
        cost_shares(1_000, "CDC", CDC_NIH_FDA, method, **options)


def test_cost_shares_refuse_a_negative_cost():
    with pytest.raises(ValueError, match="negative"):
        cost_shares(-1, "CDC", CDC_NIH_FDA, "equal")


@pytest.mark.parametrize(
    "total,weights,expected",
    [
        (10, {"NIH": 1, "CDC": 1, "FDA": 1}, {"CDC": 4, "FDA": 3, "NIH": 3}),
        (10, {"FDA": 1, "NIH": 1, "CDC": 1}, {"CDC": 4, "FDA": 3, "NIH": 3}),  # order-free
        (10, {"CDC": 1, "FDA": 2}, {"CDC": 3, "FDA": 7}),  # 3.33 / 6.67: largest remainder wins
        (5, {"CDC": 0, "FDA": 1}, {"CDC": 0, "FDA": 5}),
        (0, {"CDC": 0}, {"CDC": 0}),
        (0, {}, {}),
    ],
)
def test_allocate_cents(total, weights, expected):
    assert allocate_cents(total, weights) == expected


@pytest.mark.parametrize(
    "total,weights",
    [(5, {"CDC": 0}), (5, {}), (-5, {"CDC": 1}), (5, {"CDC": -1, "FDA": 2})],
)
def test_allocate_cents_errors(total, weights):
    with pytest.raises(ValueError):
        allocate_cents(total, weights)


@pytest.mark.parametrize(
    "price,seats,start,end,options,expected",
    [
        (120_000, 5, *FY26, {}, 600_000),  # $1,200/seat, 5 seats, a whole 365-day year
        (120_000, 5, D(2025, 10, 1), D(2026, 3, 31), {}, 299_178),  # 182 days: 299,178.08
        (120_000, 5, D(2026, 1, 1), D(2026, 1, 1), {}, 1_644),  # one day: 1,643.84
        (120_000, 5, D(2025, 10, 1), D(2027, 9, 30), {}, 1_200_000),  # two years: twice
        # FY2024 has 366 days: with the term's own length a full-term reuse is exactly the price…
        (
            120_000,
            5,
            D(2023, 10, 1),
            D(2024, 9, 30),
            {"licence_term_days": 366},
            600_000,
        ),
        # …while the 365-day default counts one day more: 600,000 × 366 / 365
        (120_000, 5, D(2023, 10, 1), D(2024, 9, 30), {}, 601_644),
        (120_000, 5, *FY26, {"override_cents": 250_000}, 250_000),  # an officer's figure wins
        (120_000, 5, *FY26, {"override_cents": 0}, 0),  # even zero
        (0, 5, *FY26, {}, 0),
    ],
)
def test_avoided_spend_cents(price, seats, start, end, options, expected):
    assert avoided_spend_cents(price, seats, start, end, **options) == expected


@pytest.mark.parametrize(
    "price,seats,start,end,options,message",
    [
        (100, 1, D(2026, 1, 2), D(2026, 1, 1), {}, "before it starts"),
        (100, 1, *FY26, {"licence_term_days": 0}, "at least one day"),
        (100, 1, *FY26, {"override_cents": -1}, "negative"),
        (-100, 1, *FY26, {}, "0 or more"),
        (100, -1, *FY26, {}, "0 or more"),
    ],
)
def test_avoided_spend_cents_errors(price, seats, start, end, options, message):
    with pytest.raises(ValueError, match=message):
        avoided_spend_cents(price, seats, start, end, **options)


@pytest.mark.parametrize(
    "day,expected",
    [
        (D(2025, 9, 30), 2025),  # last day of FY2025
        (D(2025, 10, 1), 2026),  # first day of FY2026
        (D(2025, 12, 31), 2026),
        (D(2026, 1, 1), 2026),
        (D(2026, 9, 30), 2026),
        (D(2024, 2, 29), 2024),
    ],
)
def test_fiscal_year(day, expected):
    assert fiscal_year(day) == expected


@pytest.mark.parametrize(
    "fy,start,end,days",
    [
        (2026, D(2025, 10, 1), D(2026, 9, 30), 365),
        (2024, D(2023, 10, 1), D(2024, 9, 30), 366),  # holds 29 February 2024
    ],
)
def test_fiscal_year_bounds(fy, start, end, days):
    period = fiscal_year_bounds(fy)
    assert (period.start, period.end, period.days, period.label) == (start, end, days, f"FY{fy}")


@pytest.mark.parametrize(
    "fy,quarter,start,end,days",
    [
        (2026, 1, D(2025, 10, 1), D(2025, 12, 31), 92),
        (2026, 2, D(2026, 1, 1), D(2026, 3, 31), 90),
        (2026, 3, D(2026, 4, 1), D(2026, 6, 30), 91),
        (2026, 4, D(2026, 7, 1), D(2026, 9, 30), 92),
        (2024, 2, D(2024, 1, 1), D(2024, 3, 31), 91),  # leap February
    ],
)
def test_fiscal_quarter_bounds(fy, quarter, start, end, days):
    period = fiscal_quarter_bounds(fy, quarter)
    assert (period.start, period.end, period.days) == (start, end, days)
    assert period.label == f"FY{fy} Q{quarter}"


@pytest.mark.parametrize("quarter", [0, 5, -1])
def test_fiscal_quarter_bounds_refuses_other_quarters(quarter):
    with pytest.raises(ValueError, match="1 to 4"):
        fiscal_quarter_bounds(2026, quarter)


@pytest.mark.parametrize(
    "text,start,end,label",
    [
        ("FY26Q1", D(2025, 10, 1), D(2025, 12, 31), "FY2026 Q1"),
        ("FY2026Q1", D(2025, 10, 1), D(2025, 12, 31), "FY2026 Q1"),
        ("FY26", D(2025, 10, 1), D(2026, 9, 30), "FY2026"),
        ("FY2026", D(2025, 10, 1), D(2026, 9, 30), "FY2026"),
        (" fy25q4 ", D(2025, 7, 1), D(2025, 9, 30), "FY2025 Q4"),
        ("FY2026 Q2", D(2026, 1, 1), D(2026, 3, 31), "FY2026 Q2"),  # a label parses back
        ("FY00", D(1999, 10, 1), D(2000, 9, 30), "FY2000"),
    ],
)
def test_parse_period(text, start, end, label):
    assert parse_period(text) == Period(start, end, label)


@pytest.mark.parametrize(
    "text,message",
    [
        ("2026", "expected FY26, FY2026, FY26Q1 or FY2026Q1"),
        ("FY", "expected FY26"),
        ("FY202", "expected FY26"),
        ("Q1FY26", "expected FY26"),
        ("FY26Q", "expected FY26"),
        ("", "expected FY26"),
        ("FY2026Q5", "1 to 4"),
        ("FY26Q0", "1 to 4"),
    ],
)
def test_parse_period_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_period(text)


@pytest.mark.parametrize(
    "start,end,step,expected",
    [
        (
            D(2025, 11, 15),
            D(2026, 2, 2),
            "month",
            [
                ("Nov 2025", D(2025, 11, 1), D(2025, 11, 30)),
                ("Dec 2025", D(2025, 12, 1), D(2025, 12, 31)),
                ("Jan 2026", D(2026, 1, 1), D(2026, 1, 31)),
                ("Feb 2026", D(2026, 2, 1), D(2026, 2, 28)),
            ],
        ),
        (D(2024, 2, 10), D(2024, 2, 10), "month", [("Feb 2024", D(2024, 2, 1), D(2024, 2, 29))]),
        (
            D(2025, 9, 30),
            D(2026, 1, 1),
            "quarter",
            [
                ("FY2025 Q4", D(2025, 7, 1), D(2025, 9, 30)),
                ("FY2026 Q1", D(2025, 10, 1), D(2025, 12, 31)),
                ("FY2026 Q2", D(2026, 1, 1), D(2026, 3, 31)),
            ],
        ),
        (
            D(2025, 9, 30),
            D(2025, 10, 1),
            "fiscal_year",
            [
                ("FY2025", D(2024, 10, 1), D(2025, 9, 30)),
                ("FY2026", D(2025, 10, 1), D(2026, 9, 30)),
            ],
        ),
    ],
)
def test_periods_between(start, end, step, expected):
    assert [(p.label, p.start, p.end) for p in periods_between(start, end, step)] == expected


def test_periods_between_errors():
    with pytest.raises(ValueError, match="before it starts"):
        periods_between(D(2026, 1, 2), D(2026, 1, 1))
    with pytest.raises(ValueError, match="not a valid PeriodStep"):
        periods_between(D(2026, 1, 1), D(2026, 1, 2), "week")


AWARDS = [
    (1_000_000, D(2025, 9, 30)),  # FY2025's last day
    (2_000_000, D(2025, 10, 1)),  # FY2026's first day
    (-500_000, D(2026, 9, 30)),  # de-obligation in FY2026
    (99_900, D(2026, 10, 1)),  # FY2027
]


@pytest.mark.parametrize(
    "fy,expected",
    [(2025, 1_000_000), (2026, 1_500_000), (2027, 99_900), (2024, 0)],
)
def test_spend_in_fiscal_year_cents(fy, expected):
    assert spend_in_fiscal_year_cents(AWARDS, fy) == expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: Period(D(2025, 1, 2), D(2025, 1, 1)),
        lambda: ReuseSpan("NIH", D(2025, 1, 2), D(2025, 1, 1)),
        lambda: ReuseSpan("NIH", D(2025, 1, 1), seats=0),
    ],
)
def test_value_objects_refuse_bad_input(make):
    with pytest.raises(ValueError):
        make()


# The running example of docs/cost-definitions.md: change both together.
DOC_FY, DOC_Q1 = fiscal_year_bounds(2026), fiscal_quarter_bounds(2026, 1)
DOC_REUSES = [
    ReuseSpan("NIH", D(2025, 11, 1), None, seats=5),
    ReuseSpan("FDA", D(2025, 12, 1), D(2025, 12, 31), seats=10),
    ReuseSpan("ACF", D(2025, 1, 1), D(2025, 9, 30), seats=2),
]


def test_cost_definitions_running_example_figures():
    cost = cost_in_period_cents(1_200_000, DOC_FY.start, DOC_FY.end, DOC_Q1.start, DOC_Q1.end)
    uses = uses_in_period("CDC", DOC_REUSES, DOC_Q1.start, DOC_Q1.end)
    series = cost_per_reuse_series(
        1_200_000, DOC_FY.start, DOC_FY.end, "CDC", DOC_REUSES, periods_between(*Q1_FY26)
    )
    avoided = avoided_spend_cents(120_000, 5, D(2025, 11, 1), D(2026, 9, 30))
    assert (cost, uses, cost_per_reuse_cents(cost, len(uses)), avoided) == (
        302_466,
        ("CDC", "FDA", "NIH"),
        100_822,
        549_041,
    )
    assert [(p.cost_cents, p.cost_per_reuse_cents) for p in series] == [
        (101_918, 101_918),
        (98_630, 49_315),
        (101_918, 33_973),
    ]


@pytest.mark.parametrize(
    "method,options,fda,nih",
    [
        ("none", {}, 0, 0),
        ("equal", {}, 100_822, 100_822),
        ("per_seat", {"seats_total": 25}, 120_986, 60_493),
        ("fixed", {"fixed_cents": 150_000}, 150_000, 150_000),
        ("fixed", {"fixed_cents": 200_000}, 151_233, 151_233),
    ],
)
def test_cost_definitions_running_example_shares(method, options, fda, nih):
    active = [r for r in DOC_REUSES if r.active_during(DOC_Q1.start, DOC_Q1.end)]
    assert cost_shares(302_466, "CDC", active, method, **options) == {"FDA": fda, "NIH": nih}
