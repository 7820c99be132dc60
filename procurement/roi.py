"""Return-on-investment figures: spend, licences and seats, reuse, avoided and duplicate spend.

Pure: plain records in (sums grouped by the database, licences with their reuses, duplicate pairs),
figures, charts and tables out. Every amount is computed by procurement.costs or
procurement.licensing; this module only adds up, groups and ranks. The one-line definition of
each figure (`DEFINITIONS`) is the text the dashboard, the definitions page, the CSV, the JSON and
the PDF all show.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from procurement.charts import ChartData, ChartKind, Series
from procurement.costs import (
    Period,
    PeriodStep,
    ReuseSpan,
    cost_by_period_cents,
    cost_in_period_cents,
    cost_per_reuse_cents,
    periods_between,
    spend_in_fiscal_year_cents,
    uses_in_period,
)
from procurement.licensing import LicenceTerms, renewal_bucket, seats_free

NO_START = "No start date"
OTHERS = "All others"
NO_PSC = "No code"
RENEWAL_BUCKETS = (30, 60, 120)
TOP_DIVISIONS = 7
TOP_OTHERS = 5
TOP_ROWS = 10

# Each figure's one-line definition, in the order pages and exports list them.
DEFINITIONS: dict[str, str] = {
    "total_spend_cents": (
        "Sum of the obligated amounts of the purchases in scope: those whose start date falls in "
        "the selected fiscal year or quarter (every purchase when no period is chosen). "
        "De-obligations (negative amounts) reduce it."
    ),
    "purchase_count": "Number of purchases in scope (the purchases total spend adds up).",
    "avoided_spend_cents": "Avoided by reuse plus avoided by check before you buy.",
    "avoided_by_reuse_cents": (
        "Sum of the avoided amounts recorded on the granted reuses in scope: the licence's price "
        "per seat × seats requested, prorated to the reuse's days ÷ the licence term's days, or "
        "the figure an officer entered instead, with a reason."
    ),
    "avoided_by_checks_cents": (
        "Sum of the planned amounts of purchases that a check before you buy ended with "
        "\u201creuse existing\u201d instead of buying, for checks recorded in the period."
    ),
    "reuse_count": (
        "Number of granted reuses (approved, active, expired or revoked; never requested or "
        "denied) of the licences and listings of the divisions in scope that start in the period."
    ),
    "reuses_without_avoided_figure": (
        "Granted reuses counted in reuse count that have no avoided amount recorded (a listing "
        "without a price, for example); they add nothing to avoided spend."
    ),
    "licence_cost_cents": (
        "Cost of the licences in scope in the period: each licence's obligated amount × days of "
        "its period of performance inside the period ÷ days of performance."
    ),
    "uses_count": (
        "Uses of those licences in the period: for each licence in use during the period, its "
        "owner plus each division with a granted reuse active on at least one day of it, each "
        "division counted once per licence."
    ),
    "cost_per_reuse_cents": (
        "Licence cost in the period ÷ uses in the period, rounded to the nearest cent (empty "
        "when no licence was in use)."
    ),
    "active_licences": (
        "Licences in scope whose term includes the as-of day: today, or the last day of the "
        "selected period when that is earlier."
    ),
    "seats_available": "Seats bought on the active licences that count seats (unlimited ones excluded).",
    "seats_used": (
        "Seats held on the as-of day on those licences: the owner's own seats plus the seats of "
        "granted reuses active that day, never more than the licence's seats."
    ),
    "seat_utilisation_bp": (
        "Seats used ÷ seats available, in basis points (10,000 = 100 %); empty without seats."
    ),
    "unlimited_licences": "Active licences with unlimited seats (not in the seat figures).",
    "duplicate_spend_cents": (
        "Estimated avoidable spend of the cross-division duplicate pairs found and not dismissed: "
        "the overlapping share of the smaller annualised cost of each pair."
    ),
    "duplicate_confirmed_cents": (
        "The part of duplicate spend in pairs an officer or leadership confirmed as duplicates."
    ),
    "duplicate_resolved_cents": (
        "The part of confirmed duplicate spend that is resolved: one of the two purchases has "
        "ended, so the duplication stopped."
    ),
    "duplicate_pairs": "Number of duplicate pairs found and not dismissed.",
    "consolidation_savings_cents": (
        "Sum of the estimated savings of the consolidation opportunities (offerings two or more "
        "divisions buy separately): a duplicate cluster's avoidable spend; nothing is estimated "
        "for purchases made one after another."
    ),
    "expiring_30": "Licences in scope whose renewal date (else term end) is 0–30 days from today.",
    "expiring_60": "Licences in scope whose renewal date (else term end) is 31–60 days from today.",
    "expiring_120": "Licences in scope whose renewal date (else term end) is 61–120 days from today.",
    "expiring_renewal_cost_cents": (
        "Sum of the known renewal costs of the licences expiring within 120 days."
    ),
    "invoiced_cents": (
        "Sum of the totals of the chargeback invoices issued or paid by the divisions in scope "
        "for billed periods starting in the period (drafts and voided invoices excluded)."
    ),
    "paid_cents": "The part of invoiced chargebacks marked paid.",
    "listings_reused": "Catalog listings in scope with at least one granted reuse in the period.",
}

# The figures the dashboard and the PDF put first.
HEADLINE = (
    "total_spend_cents",
    "avoided_spend_cents",
    "reuse_count",
    "cost_per_reuse_cents",
    "seat_utilisation_bp",
    "duplicate_spend_cents",
)
# Figures that are money (cents), to format them on pages and in the PDF.
MONEY_FIGURES = frozenset(name for name in DEFINITIONS if name.endswith("_cents"))
LABELS: dict[str, str] = {
    "total_spend_cents": "Total spend",
    "purchase_count": "Purchases",
    "avoided_spend_cents": "Avoided spend",
    "avoided_by_reuse_cents": "Avoided by reuse",
    "avoided_by_checks_cents": "Avoided by check before you buy",
    "reuse_count": "Reuses",
    "reuses_without_avoided_figure": "Reuses without an avoided amount",
    "licence_cost_cents": "Licence cost in the period",
    "uses_count": "Uses of licences",
    "cost_per_reuse_cents": "Cost per reuse",
    "active_licences": "Active licences",
    "seats_available": "Seats available",
    "seats_used": "Seats used",
    "seat_utilisation_bp": "Seat utilisation",
    "unlimited_licences": "Licences with unlimited seats",
    "duplicate_spend_cents": "Duplicate spend found",
    "duplicate_confirmed_cents": "Duplicate spend confirmed",
    "duplicate_resolved_cents": "Duplicate spend resolved",
    "duplicate_pairs": "Duplicate pairs",
    "consolidation_savings_cents": "Consolidation savings",
    "expiring_30": "Expiring within 30 days",
    "expiring_60": "Expiring within 31–60 days",
    "expiring_120": "Expiring within 61–120 days",
    "expiring_renewal_cost_cents": "Renewal cost due within 120 days",
    "invoiced_cents": "Chargebacks invoiced",
    "paid_cents": "Chargebacks paid",
    "listings_reused": "Listings reused",
}


def format_figure(name: str, value: int | None) -> str:
    """A figure as shown: "$1,234.56", "12.5%", "1,234", or "—" when empty."""
    from procurement.charts import format_value

    if value is None:
        return "—"
    if name in MONEY_FIGURES:
        return format_value(value, "money")
    if name.endswith("_bp"):
        return format_value(value, "percent")
    return format_value(value, "count")


# --- Records in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendCell:
    """The obligated amounts of purchases grouped by one key and the month they start.

    Attributes:
        key: a division code, vendor name or product/service code.
        month: the first day of the month the purchases start; None for purchases without one.
        cents: the sum of their obligated amounts.
        purchases: how many purchases.
    """

    key: str
    month: date | None
    cents: int
    purchases: int = 1


@dataclass(frozen=True)
class LicenceFact:
    """One licence in scope with its purchase's cost and its granted reuses.

    Attributes:
        licence_id: the licence's id.
        name: product (or vendor) for tables.
        owner: the code of the division that bought it.
        terms: the licence as licensing reads it; None when its recorded terms are invalid (the
            licence form would refuse them), so it counts for cost but not for seats or renewals.
        obligated_cents: the obligated amount of the licence's purchase.
        pop_start: first day of the purchase's period of performance (else the term's).
        pop_end: last day of it, inclusive.
        owner_seats: seats the owner's own staff hold.
        reuses: every granted reuse of the licence.
        cost_key: the values its cost and uses depend on, as the key of the results kept.
    """

    licence_id: int
    name: str
    owner: str
    terms: LicenceTerms | None
    obligated_cents: int
    pop_start: date
    pop_end: date
    owner_seats: int = 0
    reuses: tuple[ReuseSpan, ...] = ()
    cost_key: CostKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every value the licence's cost and uses in a period depend on.
        values = (self.obligated_cents, self.pop_start, self.pop_end, self.owner, self.reuses)
        object.__setattr__(self, "cost_key", CostKey(values))


class CostKey:
    """Values as a dictionary key whose hash is computed once.

    A licence's results are looked up for every report; hashing its reuses (dataclasses) each
    time cost more than the look-up. A fact kept across reports keeps its key, so the look-up
    finds the very same key object and compares nothing.
    """

    __slots__ = ("_hash", "values")

    def __init__(self, values: tuple[object, ...]) -> None:
        self.values = values
        self._hash = hash(values)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CostKey) and self.values == other.values


@dataclass(frozen=True)
class MonthCell:
    """Granted reuses (or check outcomes) starting in one month, with their avoided amounts.

    Attributes:
        month: the first day of the month.
        count: how many.
        cents: the sum of the avoided amounts recorded.
        without_amount: how many have no avoided amount.
    """

    month: date
    count: int
    cents: int
    without_amount: int = 0


class DuplicateState(StrEnum):
    FOUND = "found"  # reported by a scan, not decided
    CONFIRMED = "confirmed"
    RESOLVED = "resolved"  # confirmed, and one of the two purchases has ended


@dataclass(frozen=True)
class DuplicateFact:
    """A duplicate pair (not dismissed) with its estimated avoidable spend."""

    state: DuplicateState
    avoidable_cents: int


@dataclass(frozen=True)
class Opportunity:
    """An offering two or more divisions buy separately, with what consolidating would save."""

    vendor: str
    product: str
    divisions: tuple[str, ...]
    total_cents: int
    savings_cents: int


@dataclass(frozen=True)
class ListingFact:
    """A listing with its granted reuses in the period and its views and downloads."""

    listing_id: int
    title: str
    division: str
    reuses: int
    views: int = 0
    downloads: int = 0


@dataclass(frozen=True)
class InvoiceCell:
    """Chargeback invoices of one status: how many and their total."""

    status: str
    count: int
    cents: int


@dataclass(frozen=True)
class RoiInputs:
    """Everything the figures are computed from, already limited to the filters' scope.

    Attributes:
        period: the fiscal year or quarter chosen, or None for all time.
        today: the day at HHS headquarters (renewals count from it).
        division_spend: purchases in scope by division code and start month (every one of them).
        vendor_spend: the same purchases by vendor, for the top vendors only.
        psc_spend: the same purchases by product/service code, for the top codes only.
        licences: the licences in scope.
        reuses: granted reuses in scope by start month.
        checks: check-before-you-buy "reuse existing" outcomes by month.
        duplicates: duplicate pairs in scope (dismissed ones left out).
        opportunities: consolidation opportunities in scope.
        listings: the most reused listings in scope (any number; ranked here).
        listings_reused: how many listings in scope have a granted reuse in the period.
        invoices: chargeback invoices in scope by status.
    """

    period: Period | None
    today: date
    division_spend: tuple[SpendCell, ...] = ()
    vendor_spend: tuple[SpendCell, ...] = ()
    psc_spend: tuple[SpendCell, ...] = ()
    licences: tuple[LicenceFact, ...] = ()
    reuses: tuple[MonthCell, ...] = ()
    checks: tuple[MonthCell, ...] = ()
    duplicates: tuple[DuplicateFact, ...] = ()
    opportunities: tuple[Opportunity, ...] = ()
    listings: tuple[ListingFact, ...] = ()
    listings_reused: int = 0
    invoices: tuple[InvoiceCell, ...] = ()


# --- Results out ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoiChart:
    """A chart of the dashboard and the PDF: an id for the page, how to draw it, the data."""

    chart_id: str
    kind: ChartKind
    data: ChartData


@dataclass(frozen=True)
class Table:
    """A table of preformatted cells (pdf.ReportTable takes the same fields)."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class UtilisationRow:
    licence_id: int
    name: str
    owner: str
    seats: int
    used: int

    @property
    def utilisation_bp(self) -> int:
        return _ratio_bp(self.used, self.seats) or 0


@dataclass(frozen=True)
class RenewalRow:
    licence_id: int
    name: str
    owner: str
    deadline: date
    bucket: int
    renewal_cost_cents: int | None
    auto_renew: bool


@dataclass(frozen=True)
class RoiReport:
    """The figures, the charts and the tables of one scope.

    Attributes:
        figures: every figure named in DEFINITIONS (an int, or None when undefined).
        spend_by_division: cents per division code, adding up to total spend.
        periods: the periods the charts run over.
        charts: the charts, in page order.
        utilisation: the 20 active licences that count seats with the most unused seats, most first.
        renewals: licences due within 120 days, soonest first.
        opportunities: consolidation opportunities, largest savings first.
        listings: the most reused listings, most reuses first.
    """

    figures: dict[str, int | None]
    spend_by_division: dict[str, int]
    periods: tuple[Period, ...]
    charts: tuple[RoiChart, ...]
    utilisation: tuple[UtilisationRow, ...] = ()
    renewals: tuple[RenewalRow, ...] = ()
    opportunities: tuple[Opportunity, ...] = ()
    listings: tuple[ListingFact, ...] = ()
    as_of: date = field(default=date.min)


# --- Computation ----------------------------------------------------------------------------------


def series_periods(period: Period | None, months: Iterable[date]) -> tuple[Period, ...]:
    """The periods charts run over: months of a quarter, quarters of a fiscal year, else fiscal
    years from the first to the last month with data (none without data)."""
    if period is not None:
        step = PeriodStep.MONTH if period.days <= 92 else PeriodStep.QUARTER
        return periods_between(period.start, period.end, step)
    known = sorted(set(months))
    if not known:
        return ()
    return periods_between(known[0], known[-1], PeriodStep.FISCAL_YEAR)


def as_of_day(period: Period | None, today: date) -> date:
    """The day snapshot figures (active licences, seats) are taken on."""
    return today if period is None else min(today, period.end)


def spend_totals(cells: Iterable[SpendCell]) -> dict[str, int]:
    """Cents per key, keys with the most spend first (then by name)."""
    totals: dict[str, int] = defaultdict(int)
    for cell in cells:
        totals[cell.key] += cell.cents
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def spend_by_period(
    cells: Iterable[SpendCell], periods: Sequence[Period]
) -> dict[str, dict[str, int]]:
    """Cents per key per period label; purchases without a start date under NO_START.

    Each period's spend is `spend_in_fiscal_year_cents`'s rule applied to the period: the
    obligated amounts of purchases starting in it.
    """
    label_of: dict[date | None, str | None] = {None: NO_START}
    table: dict[str, dict[str, int]] = {}
    for cell in cells:
        if cell.month not in label_of:
            label_of[cell.month] = next((p.label for p in periods if p.contains(cell.month)), None)
        label = label_of[cell.month]
        if label is None:
            continue  # outside the periods shown
        row = table.setdefault(cell.key, {})
        row[label] = row.get(label, 0) + cell.cents
    return table


def fiscal_year_spend(cells: Iterable[SpendCell], fy: int) -> int:
    """Spend in one fiscal year from grouped cells (procurement.costs' definition)."""
    return spend_in_fiscal_year_cents(
        ((cell.cents, cell.month) for cell in cells if cell.month is not None), fy
    )


def licence_cost_and_uses(licences: Iterable[LicenceFact], period: Period) -> tuple[int, int]:
    """Cost of the licences in a period and their uses in it (licences in use during it only)."""
    kept = _kept_results(("period", period))
    cost = uses = 0
    for licence in licences:
        if licence.pop_end < period.start or licence.pop_start > period.end:
            continue
        key = licence.cost_key
        found = kept.get(key)
        if found is None:
            found = kept[key] = (
                cost_in_period_cents(
                    licence.obligated_cents,
                    licence.pop_start,
                    licence.pop_end,
                    period.start,
                    period.end,
                ),
                len(uses_in_period(licence.owner, licence.reuses, period.start, period.end)),
            )
        cost += found[0]
        uses += found[1]
    return cost, uses


def cost_per_reuse_over_time(
    licences: Iterable[LicenceFact], periods: Sequence[Period]
) -> tuple[tuple[int, int], ...]:
    """(cost, uses) per period across the licences, as `costs.cost_per_reuse_series` gives them."""
    if not periods:
        return ()
    kept = _kept_results(("series", tuple(periods)))
    starts = [p.start for p in periods]
    ends = [p.end for p in periods]
    costs = [0] * len(periods)
    uses = [0] * len(periods)
    for licence in licences:
        key = licence.cost_key
        found = kept.get(key)
        if found is None:
            found = kept[key] = _licence_series(licence, periods, starts, ends)
        first, points = found
        for index, (cost, used) in enumerate(points, start=first):
            costs[index] += cost
            uses[index] += used
    return tuple(zip(costs, uses, strict=True))


def _licence_series(
    licence: LicenceFact, periods: Sequence[Period], starts: list[date], ends: list[date]
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The index of the first period a licence is in use during, and (cost, uses) from there."""
    # Only the periods the licence is in use during: the others get neither cost nor a use
    # (and cost_by_period_cents would give them 0 cents anyway).
    first = bisect_left(ends, licence.pop_start)
    last = bisect_right(starts, licence.pop_end)
    if first >= last:
        return first, ()
    # costs.cost_per_reuse_series's two parts, without its PeriodCost for each period.
    costs = cost_by_period_cents(
        licence.obligated_cents, licence.pop_start, licence.pop_end, periods[first:last]
    )
    return first, tuple(
        (cost, len(uses_in_period(licence.owner, licence.reuses, period.start, period.end)))
        for period, cost in zip(periods[first:last], costs, strict=True)
    )


# Each licence's cost and uses, by the periods they are computed for and every value they are
# computed from. After a change the dashboard recomputes every report, but most of its thousands
# of licences are unchanged: their results are found here instead of prorated again. A changed
# licence, reuse or period is a different key, so a result kept is never stale.
RESULT_SETS_KEPT = 32
RESULTS_KEPT_PER_SET = 50_000
_kept: dict[tuple[object, ...], dict[CostKey, Any]] = {}
_kept_lock = threading.Lock()


def _kept_results(periods_key: tuple[object, ...]) -> dict[CostKey, Any]:
    """The results kept for one period (or series of periods), emptied when it grows too large."""
    with _kept_lock:
        kept = _kept.get(periods_key)
        if kept is None or len(kept) > RESULTS_KEPT_PER_SET:
            if len(_kept) >= RESULT_SETS_KEPT:
                del _kept[next(iter(_kept))]  # the oldest set
            kept = _kept[periods_key] = {}
        return kept


def forget_kept_results() -> None:
    """Forget every kept licence result, as in a new process."""
    with _kept_lock:
        _kept.clear()


def seat_use(licences: Iterable[LicenceFact], day: date) -> tuple[list[UtilisationRow], int, int]:
    """Seat-counting licences active on `day` with their seats used; also (active, unlimited)."""
    rows: list[UtilisationRow] = []
    active = unlimited = 0
    for licence in licences:
        terms = licence.terms
        if terms is None or not terms.term_start <= day <= terms.term_end:
            continue
        active += 1
        held = licence.owner_seats + sum(
            span.seats
            for span in licence.reuses
            if span.division != terms.owner_division and span.active_during(day, day)
        )
        free = seats_free(terms, held)
        if free is None or terms.seats is None:
            unlimited += 1
            continue
        rows.append(
            UtilisationRow(
                licence.licence_id,
                licence.name,
                terms.owner_division,
                terms.seats,
                terms.seats - free,
            )
        )
    rows.sort(key=lambda r: (-(r.seats - r.used), r.utilisation_bp, r.name, r.licence_id))
    return rows, active, unlimited


def renewals_due(licences: Iterable[LicenceFact], today: date) -> list[RenewalRow]:
    """Licences due for renewal within 120 days (licensing.renewal_bucket), soonest first."""
    rows = []
    for licence in licences:
        terms = licence.terms
        bucket = None if terms is None else renewal_bucket(terms, today)
        if terms is None or bucket is None:
            continue
        rows.append(
            RenewalRow(
                licence.licence_id,
                licence.name,
                terms.owner_division,
                terms.renewal_date or terms.term_end,
                int(bucket),
                terms.renewal_cost_cents,
                terms.auto_renew,
            )
        )
    rows.sort(key=lambda r: (r.deadline, r.owner, r.name, r.licence_id))
    return rows


def rank_opportunities(opportunities: Iterable[Opportunity]) -> list[Opportunity]:
    """Largest savings first, then largest spend, then vendor and product."""
    return sorted(
        opportunities, key=lambda o: (-o.savings_cents, -o.total_cents, o.vendor, o.product)
    )


def rank_listings(listings: Iterable[ListingFact], limit: int = TOP_ROWS) -> list[ListingFact]:
    """Most reuses first, then downloads, then title; listings without a reuse left out."""
    ranked = sorted(
        (listing for listing in listings if listing.reuses > 0),
        key=lambda item: (-item.reuses, -item.downloads, item.title, item.listing_id),
    )
    return ranked[:limit]


def _ratio_bp(part: int, whole: int) -> int | None:
    """part ÷ whole in basis points, rounded half up; None when whole is 0."""
    if whole <= 0:
        return None
    return (part * 10_000 * 2 + whole) // (whole * 2)


def compute(inputs: RoiInputs) -> RoiReport:
    """Every figure, chart and table of the dashboard for one scope.

    Args:
        inputs: the scope's records (see RoiInputs); amounts in cents.

    Returns:
        The report; `figures` has a value (or None) for every name in DEFINITIONS.
    """
    period = inputs.period
    months = [c.month for c in inputs.division_spend if c.month is not None]
    months += [c.month for c in (*inputs.reuses, *inputs.checks)]
    periods = series_periods(period, months)
    as_of = as_of_day(period, inputs.today)

    by_division = spend_totals(inputs.division_spend)
    total_spend = sum(by_division.values())
    purchase_count = sum(c.purchases for c in inputs.division_spend)

    reuse_count = sum(c.count for c in inputs.reuses)
    avoided_by_reuse = sum(c.cents for c in inputs.reuses)
    avoided_by_checks = sum(c.cents for c in inputs.checks)

    if period is not None:
        cost_period: Period | None = period
    elif inputs.licences:
        cost_period = Period(
            min(lic.pop_start for lic in inputs.licences),
            max(lic.pop_end for lic in inputs.licences),
        )
    else:
        cost_period = None
    licence_cost, uses = (
        licence_cost_and_uses(inputs.licences, cost_period) if cost_period else (0, 0)
    )
    utilisation, active, unlimited = seat_use(inputs.licences, as_of)
    seats_available = sum(row.seats for row in utilisation)
    seats_used = sum(row.used for row in utilisation)
    renewals = renewals_due(inputs.licences, inputs.today)
    opportunities = rank_opportunities(inputs.opportunities)
    invoices = {cell.status: cell for cell in inputs.invoices}

    def duplicates_in(*states: DuplicateState) -> int:
        return sum(d.avoidable_cents for d in inputs.duplicates if d.state in states)

    figures: dict[str, int | None] = {
        "total_spend_cents": total_spend,
        "purchase_count": purchase_count,
        "avoided_spend_cents": avoided_by_reuse + avoided_by_checks,
        "avoided_by_reuse_cents": avoided_by_reuse,
        "avoided_by_checks_cents": avoided_by_checks,
        "reuse_count": reuse_count,
        "reuses_without_avoided_figure": sum(c.without_amount for c in inputs.reuses),
        "licence_cost_cents": licence_cost,
        "uses_count": uses,
        "cost_per_reuse_cents": cost_per_reuse_cents(licence_cost, uses) if uses else None,
        "active_licences": active,
        "seats_available": seats_available,
        "seats_used": seats_used,
        "seat_utilisation_bp": _ratio_bp(seats_used, seats_available),
        "unlimited_licences": unlimited,
        "duplicate_spend_cents": duplicates_in(*DuplicateState),
        "duplicate_confirmed_cents": duplicates_in(
            DuplicateState.CONFIRMED, DuplicateState.RESOLVED
        ),
        "duplicate_resolved_cents": duplicates_in(DuplicateState.RESOLVED),
        "duplicate_pairs": len(inputs.duplicates),
        "consolidation_savings_cents": sum(o.savings_cents for o in opportunities),
        "expiring_30": sum(1 for r in renewals if r.bucket == 30),
        "expiring_60": sum(1 for r in renewals if r.bucket == 60),
        "expiring_120": sum(1 for r in renewals if r.bucket == 120),
        "expiring_renewal_cost_cents": sum(r.renewal_cost_cents or 0 for r in renewals),
        "invoiced_cents": sum(invoices[s].cents for s in ("issued", "paid") if s in invoices),
        "paid_cents": invoices["paid"].cents if "paid" in invoices else 0,
        "listings_reused": inputs.listings_reused,
    }
    assert set(figures) == set(DEFINITIONS), "every figure needs a definition"
    charts = _charts(inputs, periods, renewals, utilisation, figures)
    return RoiReport(
        figures=figures,
        spend_by_division=by_division,
        periods=periods,
        charts=charts,
        utilisation=tuple(utilisation[: TOP_ROWS * 2]),
        renewals=tuple(renewals),
        opportunities=tuple(opportunities),
        listings=tuple(rank_listings(inputs.listings)),
        as_of=as_of,
    )


# --- Charts ---------------------------------------------------------------------------------------


def _labels(periods: Sequence[Period], tables: Iterable[Mapping[str, int]]) -> list[str]:
    """Period labels, plus NO_START when some purchases have no start date."""
    labels = [p.label for p in periods]
    if any(NO_START in values for values in tables):
        labels.append(NO_START)
    return labels


def _stacked(
    cells: Sequence[SpendCell],
    periods: Sequence[Period],
    totals_by_period: Mapping[str, int],
    keep: int,
) -> tuple[Series, ...]:
    """One series per key (the `keep` largest), plus OTHERS: per period, the total less them."""
    table = spend_by_period(cells, periods)
    keys = list(spend_totals(cells))[:keep]
    labels = _labels(periods, [totals_by_period])
    series = [
        Series(key, tuple((label, table[key].get(label, 0)) for label in labels)) for key in keys
    ]
    rest = [
        (label, totals_by_period.get(label, 0) - sum(table[k].get(label, 0) for k in keys))
        for label in labels
    ]
    if any(value for _, value in rest):
        series.append(Series(OTHERS, tuple(rest)))
    return tuple(series)


def _charts(
    inputs: RoiInputs,
    periods: tuple[Period, ...],
    renewals: Sequence[RenewalRow],
    utilisation: Sequence[UtilisationRow],
    figures: Mapping[str, int | None],
) -> tuple[RoiChart, ...]:
    per_period: dict[str, int] = defaultdict(int)
    for values in spend_by_period(inputs.division_spend, periods).values():
        for label, cents in values.items():
            per_period[label] += cents
    x_label = "Period" if not periods else _period_axis(periods)
    reuses_by_period = _month_cells_by_period(inputs.reuses, periods)
    checks_by_period = _month_cells_by_period(inputs.checks, periods)
    cost_series = cost_per_reuse_over_time(inputs.licences, periods)
    labels = [p.label for p in periods]
    charts = [
        RoiChart(
            "chart-spend-division",
            ChartKind.STACKED,
            ChartData(
                "Spend by division",
                "Obligated amounts of the purchases starting in each period, by division; the "
                "bars add up to total spend.",
                x_label,
                "Spend",
                _stacked(inputs.division_spend, periods, per_period, TOP_DIVISIONS),
            ),
        ),
        RoiChart(
            "chart-spend-vendor",
            ChartKind.STACKED,
            ChartData(
                "Spend by vendor",
                f"The {TOP_OTHERS} vendors with the most spend in scope, and all others.",
                x_label,
                "Spend",
                _stacked(inputs.vendor_spend, periods, per_period, TOP_OTHERS),
            ),
        ),
        RoiChart(
            "chart-spend-psc",
            ChartKind.STACKED,
            ChartData(
                "Spend by product or service code",
                f"The {TOP_OTHERS} product or service codes with the most spend, and all others.",
                x_label,
                "Spend",
                _stacked(inputs.psc_spend, periods, per_period, TOP_OTHERS),
            ),
        ),
        RoiChart(
            "chart-reuses",
            ChartKind.BAR,
            ChartData(
                "Reuses granted",
                "Granted reuses starting in each period.",
                x_label,
                "Reuses",
                (Series("Reuses", tuple((lb, reuses_by_period[lb][0]) for lb in labels)),)
                if periods and figures["reuse_count"]
                else (),
                value_format="count",
            ),
        ),
        RoiChart(
            "chart-cost-per-reuse",
            ChartKind.LINE,
            ChartData(
                "Cost per reuse over time",
                "Licence cost in each period divided by the uses of those licences in it "
                "(owner plus reusing divisions).",
                x_label,
                "Cost per reuse",
                (
                    Series(
                        "Cost per reuse",
                        tuple(
                            (label, cost_per_reuse_cents(cost, uses))
                            for label, (cost, uses) in zip(labels, cost_series, strict=True)
                            if uses
                        ),
                    ),
                )
                if any(uses for _, uses in cost_series)
                else (),
            ),
        ),
        RoiChart(
            "chart-avoided",
            ChartKind.GROUPED,
            ChartData(
                "Avoided spend",
                "What reuses and checks before buying avoided, by the period they started.",
                x_label,
                "Avoided spend",
                (
                    Series("By reuse", tuple((lb, reuses_by_period[lb][1]) for lb in labels)),
                    Series(
                        "By check before you buy",
                        tuple((lb, checks_by_period[lb][1]) for lb in labels),
                    ),
                )
                if periods and (figures["avoided_spend_cents"] or figures["reuse_count"])
                else (),
            ),
        ),
        RoiChart(
            "chart-duplicates",
            ChartKind.BAR,
            ChartData(
                "Duplicate spend",
                "Estimated avoidable spend of duplicate purchases: found (all pairs not "
                "dismissed), confirmed, and resolved.",
                "Stage",
                "Avoidable spend",
                (
                    Series(
                        "Duplicate spend",
                        (
                            ("Found", figures["duplicate_spend_cents"] or 0),
                            ("Confirmed", figures["duplicate_confirmed_cents"] or 0),
                            ("Resolved", figures["duplicate_resolved_cents"] or 0),
                        ),
                    ),
                )
                if inputs.duplicates
                else (),
            ),
        ),
        RoiChart(
            "chart-seats",
            ChartKind.RANKING,
            ChartData(
                "Seat utilisation of active licences",
                f"The {TOP_ROWS} active licences with the most unused seats, by the share of "
                "their seats in use.",
                "Licence",
                "Seats used",
                (
                    Series(
                        "Seats used",
                        tuple(
                            (f"{row.name} ({row.owner})", row.utilisation_bp)
                            for row in utilisation[:TOP_ROWS]
                        ),
                    ),
                )
                if utilisation
                else (),
                value_format="percent",
            ),
        ),
        RoiChart(
            "chart-renewals",
            ChartKind.BAR,
            ChartData(
                "Licences expiring",
                "Licences whose renewal date (else term end) falls within 30, 31–60 and 61–120 "
                "days from today.",
                "Due",
                "Licences",
                (
                    Series(
                        "Licences",
                        tuple(
                            (label, sum(1 for r in renewals if r.bucket == bucket))
                            for bucket, label in zip(
                                RENEWAL_BUCKETS,
                                ("Within 30 days", "31–60 days", "61–120 days"),
                                strict=True,
                            )
                        ),
                    ),
                )
                if renewals
                else (),
                value_format="count",
            ),
        ),
        RoiChart(
            "chart-listings",
            ChartKind.RANKING,
            ChartData(
                "Most reused listings",
                "Catalog listings with the most granted reuses starting in the period.",
                "Listing",
                "Reuses",
                (
                    Series(
                        "Reuses",
                        tuple(
                            (f"{li.title} ({li.division})", li.reuses)
                            for li in rank_listings(inputs.listings)
                        ),
                    ),
                )
                if rank_listings(inputs.listings)
                else (),
                value_format="count",
            ),
        ),
    ]
    return tuple(charts)


def _period_axis(periods: Sequence[Period]) -> str:
    first = periods[0]
    if first.days <= 31:
        return "Month"
    if first.days <= 92:
        return "Fiscal quarter"
    return "Fiscal year"


def _month_cells_by_period(
    cells: Iterable[MonthCell], periods: Sequence[Period]
) -> dict[str, tuple[int, int]]:
    """(count, cents) per period label; labels without cells give (0, 0)."""
    found: dict[str, list[int]] = {p.label: [0, 0] for p in periods}
    for cell in cells:
        for period in periods:
            if period.contains(cell.month):
                found[period.label][0] += cell.count
                found[period.label][1] += cell.cents
                break
    return {label: (values[0], values[1]) for label, values in found.items()}


def report_tables(report: RoiReport) -> tuple[Table, ...]:
    """The tables the page and the PDF show after the charts (as formatted cells)."""
    from procurement.charts import format_value

    def usd(cents: int | None) -> str:
        return "—" if cents is None else format_value(cents, "money")

    return (
        Table(
            "Spend by division",
            ("Division", "Spend"),
            tuple((code, usd(cents)) for code, cents in report.spend_by_division.items()),
            (1,),
        ),
        Table(
            "Licences expiring within 120 days",
            ("Licence", "Owner", "Due", "Window", "Auto-renews", "Renewal cost"),
            tuple(
                (
                    r.name,
                    r.owner,
                    r.deadline.isoformat(),
                    f"{r.bucket} days",
                    "Yes" if r.auto_renew else "No",
                    usd(r.renewal_cost_cents),
                )
                for r in report.renewals
            ),
            (5,),
        ),
        Table(
            "Consolidation opportunities, largest savings first",
            ("Vendor", "Product", "Divisions", "Spend", "Estimated savings"),
            tuple(
                (
                    o.vendor,
                    o.product,
                    ", ".join(o.divisions),
                    usd(o.total_cents),
                    usd(o.savings_cents),
                )
                for o in report.opportunities[: TOP_ROWS * 2]
            ),
            (3, 4),
        ),
        Table(
            "Most reused listings",
            ("Listing", "Division", "Reuses", "Views", "Downloads"),
            tuple(
                (li.title, li.division, f"{li.reuses:,}", f"{li.views:,}", f"{li.downloads:,}")
                for li in report.listings
            ),
            (2, 3, 4),
        ),
    )
