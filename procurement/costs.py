"""Cost arithmetic shared by every page and report: proration, cost per reuse, shares, fiscal years.

All money is integer cents; all periods are inclusive date ranges. Pure: no clock, no database.
Every split of an amount into parts uses largest-remainder allocation, so parts always add up to
the whole to the cent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

_MONTH_ABBREVIATIONS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_PERIOD_PATTERN = re.compile(r"FY(\d{4}|\d{2})(?:[\s-]*Q(\d+))?")


def days_inclusive(start: date, end: date) -> int:
    """Number of days from start to end, both included; 0 when end is before start."""
    return max((end - start).days + 1, 0)


def overlap_days(a_start: date, a_end: date, b_start: date, b_end: date) -> int:
    """Days two inclusive periods share; 0 when they do not meet."""
    return days_inclusive(max(a_start, b_start), min(a_end, b_end))


def annualised_cents(obligated_cents: int, start: date, end: date) -> int:
    """Obligated amount ÷ days in the period of performance × 365, rounded half away from zero.

    Args:
        obligated_cents: the award's obligated amount in cents (may be negative: de-obligations).
        start: first day of the period of performance.
        end: last day of the period of performance (inclusive).

    Returns:
        The cost of one year at the award's rate, in cents. A period shorter than one day (end
        before start) is treated as one day so the figure stays defined.
    """
    days = max(days_inclusive(start, end), 1)
    return _divide_rounded(obligated_cents * 365, days)


def _divide_rounded(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (cents must not drift in one direction)."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


# --- Periods and fiscal years -------------------------------------------------------------------


class PeriodStep(StrEnum):
    """Length of each period in a series (see `periods_between`)."""

    MONTH = "month"
    QUARTER = "quarter"
    FISCAL_YEAR = "fiscal_year"


@dataclass(frozen=True)
class Period:
    """An inclusive date range with the label a page or invoice shows for it.

    Attributes:
        start: first day, included.
        end: last day, included.
        label: "FY2026", "FY2026 Q1", "Oct 2025", or "" for an ad-hoc range.
    """

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"Period ends ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        """Number of days in the period, both ends included."""
        return days_inclusive(self.start, self.end)

    def contains(self, day: date) -> bool:
        """Whether the day falls inside the period."""
        return self.start <= day <= self.end


def fiscal_year(day: date) -> int:
    """Federal fiscal year of a date: FY2026 runs from 1 October 2025 to 30 September 2026."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_year_bounds(fy: int) -> Period:
    """The whole fiscal year `fy` (1 October of fy-1 to 30 September of fy), labelled "FY2026"."""
    return Period(date(fy - 1, 10, 1), date(fy, 9, 30), f"FY{fy}")


def fiscal_quarter_bounds(fy: int, quarter: int) -> Period:
    """Quarter 1–4 of fiscal year `fy`; Q1 is October–December of the previous calendar year.

    Raises:
        ValueError: when quarter is not 1, 2, 3 or 4.
    """
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"A fiscal quarter is 1 to 4, not {quarter}.")
    first_month = 10 + 3 * (quarter - 1)  # 10, 13, 16, 19: months counted from January of fy-1
    start = date(fy - 1 + (first_month - 1) // 12, (first_month - 1) % 12 + 1, 1)
    return Period(start, _add_months(start, 3) - timedelta(days=1), f"FY{fy} Q{quarter}")


def parse_period(text: str) -> Period:
    """Read a fiscal period typed by a user: "FY26", "FY2026", "FY26Q1", "FY2026Q1" (any case).

    A space or hyphen before the quarter is accepted too ("FY2026 Q1"), so every label this module
    produces for a fiscal period parses back. Two-digit years are 20xx.

    Raises:
        ValueError: with a message saying what was expected.
    """
    match = _PERIOD_PATTERN.fullmatch(text.strip().upper())
    if match is None:
        raise ValueError(
            f"Unrecognised period {text!r}: expected FY26, FY2026, FY26Q1 or FY2026Q1."
        )
    year_text, quarter_text = match.groups()
    fy = int(year_text) + (2000 if len(year_text) == 2 else 0)
    if quarter_text is None:
        return fiscal_year_bounds(fy)
    return fiscal_quarter_bounds(fy, int(quarter_text))


def periods_between(
    start: date, end: date, step: PeriodStep | str = PeriodStep.MONTH
) -> tuple[Period, ...]:
    """Consecutive whole periods (calendar months, fiscal quarters or fiscal years) over a range.

    The first period is the one containing `start` and the last the one containing `end`; they are
    not clipped, so each point of a "cost per reuse over time" chart covers a whole month or
    quarter.

    Args:
        start: first day of the range, included.
        end: last day of the range, included.
        step: "month", "quarter" (fiscal) or "fiscal_year".

    Raises:
        ValueError: when end is before start or the step is unknown.
    """
    if end < start:
        raise ValueError(f"Range ends ({end}) before it starts ({start}).")
    step = PeriodStep(step)
    periods: list[Period] = []
    if step is PeriodStep.MONTH:
        first = date(start.year, start.month, 1)
        while first <= end:
            following = _add_months(first, 1)
            label = f"{_MONTH_ABBREVIATIONS[first.month - 1]} {first.year}"
            periods.append(Period(first, following - timedelta(days=1), label))
            first = following
    elif step is PeriodStep.QUARTER:
        fy, quarter = fiscal_year(start), _fiscal_quarter(start)
        while not periods or periods[-1].end < end:
            periods.append(fiscal_quarter_bounds(fy, quarter))
            fy, quarter = (fy, quarter + 1) if quarter < 4 else (fy + 1, 1)
    else:
        periods = [fiscal_year_bounds(fy) for fy in range(fiscal_year(start), fiscal_year(end) + 1)]
    return tuple(periods)


def spend_in_fiscal_year_cents(awards: Iterable[tuple[int, date]], fy: int) -> int:
    """Sum of obligated amounts of awards whose start date falls in fiscal year `fy`.

    Args:
        awards: (obligated_cents, start date) pairs; negative amounts (de-obligations) count as
            negative spend, so a de-obligation in the year reduces the year's spend.
        fy: the fiscal year, e.g. 2026.

    Returns:
        The year's spend in cents (may be negative).
    """
    return sum(cents for cents, start in awards if fiscal_year(start) == fy)


def _fiscal_quarter(day: date) -> int:
    """Fiscal quarter 1–4 of a date (October is the first month of Q1)."""
    return (day.month - 10) % 12 // 3 + 1


def _add_months(first_of_month: date, months: int) -> date:
    """First day of the month `months` after the month of `first_of_month`."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- Cost in a period and cost per reuse --------------------------------------------------------


@dataclass(frozen=True)
class ReuseSpan:
    """When a division reuses a licence, and with how many seats.

    Attributes:
        division: the reusing division's code ("CDC").
        start: first day of the reuse, included.
        end: last day of the reuse, included; None while the reuse is open-ended.
        seats: seats the reuse holds (1 when the licence does not count seats).
    """

    division: str
    start: date
    end: date | None = None
    seats: int = 1

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"Reuse ends ({self.end}) before it starts ({self.start}).")
        if self.seats < 1:
            raise ValueError(f"A reuse holds at least one seat, not {self.seats}.")

    def active_during(self, period_start: date, period_end: date) -> bool:
        """Whether the reuse is active on at least one day of the inclusive period."""
        return self.start <= period_end and (self.end is None or self.end >= period_start)


def cost_in_period_cents(
    obligated_cents: int, pop_start: date, pop_end: date, period_start: date, period_end: date
) -> int:
    """Obligated amount prorated by the days of the period of performance inside a period.

    Args:
        obligated_cents: the award's obligated amount in cents (may be negative).
        pop_start: first day of the period of performance.
        pop_end: last day of the period of performance (inclusive); a date before pop_start is
            treated as pop_start, as in `annualised_cents`.
        period_start: first day of the reporting period.
        period_end: last day of the reporting period (inclusive).

    Returns:
        obligated × overlapping days ÷ days of performance, in cents, rounded half away from zero.
        Summing this over several periods may differ from the total by a cent; use
        `cost_by_period_cents` for a series that must add up.
    """
    pop_end = max(pop_end, pop_start)
    inside = overlap_days(pop_start, pop_end, period_start, period_end)
    return _divide_rounded(obligated_cents * inside, days_inclusive(pop_start, pop_end))


def cost_by_period_cents(
    obligated_cents: int, pop_start: date, pop_end: date, periods: Sequence[Period]
) -> tuple[int, ...]:
    """Obligated amount prorated over consecutive periods, adding up exactly.

    Largest-remainder allocation over the periods plus the days of performance outside all of them,
    so the series plus what falls outside equals the obligated amount to the cent. Each value is
    within one cent of `cost_in_period_cents` for the same period; ties go to the earlier period.

    Args:
        obligated_cents: the award's obligated amount in cents (may be negative).
        pop_start: first day of the period of performance.
        pop_end: last day of the period of performance (inclusive).
        periods: periods in date order that do not overlap (as `periods_between` returns).

    Returns:
        One amount in cents per period, in the same order.

    Raises:
        ValueError: when the periods overlap or are out of order.
    """
    for earlier, later in pairwise(periods):
        if later.start <= earlier.end:
            raise ValueError(f"Periods must be in order without overlap: {earlier} then {later}.")
    pop_end = max(pop_end, pop_start)
    inside = [overlap_days(pop_start, pop_end, p.start, p.end) for p in periods]
    outside = days_inclusive(pop_start, pop_end) - sum(inside)
    parts = _largest_remainder(abs(obligated_cents), [*inside, outside])[:-1]
    return tuple(part if obligated_cents >= 0 else -part for part in parts)


def uses_in_period(
    owner_division: str, reuses: Iterable[ReuseSpan], period_start: date, period_end: date
) -> tuple[str, ...]:
    """Divisions using a licence in a period: the owner, then each division with an active reuse.

    Each division is counted once however many reuses it has; a "reuse" by the owner itself adds
    nothing.

    Returns:
        Division codes, the owner first, then the others in alphabetical order.
    """
    reusers = {
        reuse.division
        for reuse in reuses
        if reuse.division != owner_division and reuse.active_during(period_start, period_end)
    }
    return (owner_division, *sorted(reusers))


def cost_per_reuse_cents(cost_cents: int, uses: int) -> int:
    """Cost in a period ÷ uses in the period, rounded half away from zero.

    Args:
        cost_cents: the cost in the period, in cents (see `cost_in_period_cents`).
        uses: the number of uses in the period (`len(uses_in_period(...))`, so at least 1).

    Raises:
        ValueError: when uses is below 1.
    """
    if uses < 1:
        raise ValueError(f"Uses in a period include the owner, so at least 1, not {uses}.")
    return _divide_rounded(cost_cents, uses)


@dataclass(frozen=True)
class PeriodCost:
    """One point of a "cost per reuse over time" series.

    Attributes:
        period: the period.
        cost_cents: the licence's cost prorated into the period, in cents.
        uses: the divisions using it in the period, owner first.
    """

    period: Period
    cost_cents: int
    uses: tuple[str, ...]

    @property
    def cost_per_reuse_cents(self) -> int:
        """Cost in the period ÷ uses in the period, in cents."""
        return cost_per_reuse_cents(self.cost_cents, len(self.uses))


def cost_per_reuse_series(
    obligated_cents: int,
    pop_start: date,
    pop_end: date,
    owner_division: str,
    reuses: Iterable[ReuseSpan],
    periods: Sequence[Period],
) -> tuple[PeriodCost, ...]:
    """Cost, uses and cost per reuse for each period, e.g. each month from `periods_between`.

    Args:
        obligated_cents: the award's obligated amount in cents.
        pop_start: first day of the period of performance.
        pop_end: last day of the period of performance (inclusive).
        owner_division: the code of the division that bought the licence.
        reuses: every reuse of the licence; each period counts those active in it.
        periods: periods in date order without overlap.
    """
    reuses = tuple(reuses)
    costs = cost_by_period_cents(obligated_cents, pop_start, pop_end, periods)
    return tuple(
        PeriodCost(period, cost, uses_in_period(owner_division, reuses, period.start, period.end))
        for period, cost in zip(periods, costs, strict=True)
    )


# --- Cost shares and avoided spend --------------------------------------------------------------


class ShareMethod(StrEnum):
    """How the cost of a licence is shared with the divisions that reuse it."""

    NONE = "none"  # the owner carries the whole cost
    EQUAL = "equal"  # equal split among the uses (owner included)
    PER_SEAT = "per_seat"  # in proportion to seats held, out of the licence's seats
    FIXED = "fixed"  # a fixed amount per reusing division


def allocate_cents(total_cents: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split a non-negative amount in proportion to weights so the parts add up exactly.

    Largest-remainder method: each key gets the floor of its exact share, then the cents left over
    go one each to the keys with the largest remainders, ties broken by key in alphabetical order
    (division codes), so the result never depends on input order.

    Args:
        total_cents: the amount to split, in cents (0 or more).
        weights: weight per key (0 or more); a key with weight 0 gets 0.

    Returns:
        Cents per key, keys in alphabetical order; the values sum to total_cents.

    Raises:
        ValueError: on a negative amount or weight, or a positive amount with no positive weight.
    """
    keys = sorted(weights)
    parts = _largest_remainder(total_cents, [weights[key] for key in keys])
    return dict(zip(keys, parts, strict=True))


def cost_shares(
    cost_cents: int,
    owner_division: str,
    reuses: Iterable[ReuseSpan],
    method: ShareMethod | str,
    *,
    seats_total: int | None = None,
    fixed_cents: int | None = None,
) -> dict[str, int]:
    """The share of a cost each reusing division owes the owner.

    The owner carries its own part and is never in the result: the owner's part is
    `cost_cents - sum(shares.values())`. Shares add up to at most the cost, never below zero.

    - none: every reusing division owes 0.
    - equal: the cost is split equally among the uses (owner plus each reusing division, once
      each), a cent left over by rounding going to the first division codes alphabetically.
    - per_seat: each division owes cost × its seats ÷ seats_total; the owner keeps the seats not
      reused. If reuses hold more seats than seats_total, their seats count as the total so the
      shares still add up to the cost at most.
    - fixed: each division owes fixed_cents; when that would exceed the cost, the cost is split
      equally among the reusing divisions instead (the cap), and the owner's part is 0.

    Args:
        cost_cents: the cost being shared, in cents, usually `cost_in_period_cents` for the period
            billed (0 or more).
        owner_division: the code of the division that bought the licence.
        reuses: the reuses to charge, normally those active in the period billed; a division
            with several reuses is charged once, with its seats added up; reuses by the owner
            are ignored.
        method: a ShareMethod or its value.
        seats_total: the licence's seats; required for per_seat.
        fixed_cents: the amount per reusing division, in cents; required for fixed.

    Returns:
        Cents owed per reusing division code, codes in alphabetical order.

    Raises:
        ValueError: on a negative cost or fixed amount, or a missing seats_total / fixed_cents.
    """
    if cost_cents < 0:
        raise ValueError(f"A shared cost cannot be negative ({cost_cents} cents).")
    method = ShareMethod(method)
    seats: dict[str, int] = {}
    for reuse in reuses:
        if reuse.division != owner_division:
            seats[reuse.division] = seats.get(reuse.division, 0) + reuse.seats
    if method is ShareMethod.NONE or not seats:
        return dict.fromkeys(sorted(seats), 0)
    if method is ShareMethod.EQUAL:
        weights = dict.fromkeys([owner_division, *seats], 1)
    elif method is ShareMethod.PER_SEAT:
        if seats_total is None or seats_total < 1:
            raise ValueError("Sharing per seat needs the licence's seats_total (1 or more).")
        weights = {**seats, owner_division: max(seats_total - sum(seats.values()), 0)}
    else:
        if fixed_cents is None or fixed_cents < 0:
            raise ValueError("A fixed share needs fixed_cents (0 or more).")
        if fixed_cents * len(seats) <= cost_cents:
            return dict.fromkeys(sorted(seats), fixed_cents)
        weights = dict.fromkeys(seats, 1)
    shares = allocate_cents(cost_cents, weights)
    return {division: shares[division] for division in sorted(seats)}


def avoided_spend_cents(
    price_per_seat_cents: int,
    seats: int,
    reuse_start: date,
    reuse_end: date,
    *,
    licence_term_days: int = 365,
    override_cents: int | None = None,
) -> int:
    """What a requester would otherwise have paid for an approved reuse.

    By default the licence's price per seat × seats requested, prorated to the reuse's term:
    price × seats × days of the reuse ÷ licence_term_days, rounded half away from zero. Pass the
    licence's own term length (`days_inclusive(term_start, term_end)`) so a reuse covering a whole
    366-day term avoids exactly one term's price.

    Args:
        price_per_seat_cents: the price of one seat for one licence term, in cents.
        seats: seats requested.
        reuse_start: first day of the reuse.
        reuse_end: last day of the reuse (inclusive).
        licence_term_days: the number of days the price per seat buys (365 by default).
        override_cents: an officer's figure, in cents, which replaces the computed one (the
            service records the reason alongside it).

    Raises:
        ValueError: on negative amounts or seats, a term under one day or a reuse ending before
            it starts.
    """
    if override_cents is not None:
        if override_cents < 0:
            raise ValueError(f"Avoided spend cannot be negative ({override_cents} cents).")
        return override_cents
    if price_per_seat_cents < 0 or seats < 0:
        raise ValueError("Price per seat and seats must be 0 or more.")
    if licence_term_days < 1:
        raise ValueError(f"A licence term lasts at least one day, not {licence_term_days}.")
    if reuse_end < reuse_start:
        raise ValueError(f"Reuse ends ({reuse_end}) before it starts ({reuse_start}).")
    days = days_inclusive(reuse_start, reuse_end)
    return _divide_rounded(price_per_seat_cents * seats * days, licence_term_days)


def _largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split total in proportion to weights; leftover cents go to the largest remainders, ties to
    the earlier position."""
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError("Only a non-negative amount can be split, by non-negative weights.")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError(f"Nothing to split {total} cents between: every weight is 0.")
        return [0] * len(weights)
    parts: list[int] = []
    remainders: list[tuple[int, int]] = []
    for position, weight in enumerate(weights):
        part, remainder = divmod(total * weight, weight_sum)
        parts.append(part)
        remainders.append((-remainder, position))
    for _, position in sorted(remainders)[: total - sum(parts)]:
        parts[position] += 1
    return parts
