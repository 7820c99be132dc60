"""The ROI report's records: who may see which division, the filters, and a few grouped queries.

Sums over purchases, reuses and invoices are grouped in the database (GROUP BY division, vendor,
code, month), so the dashboard reads a few hundred rows whatever the register's size; licences
and their reuses are read as plain rows. procurement.roi computes every figure from them.
"""

from __future__ import annotations

import contextlib
import csv
import io
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    distinct,
    func,
    literal,
    or_,
    type_coerce,
    union_all,
)
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from marketplace.accounts import find_division
from marketplace.auth import Permission, Principal, require
from marketplace.catalog.models import Listing, ListingKind, ListingUsage
from marketplace.memo import KeptResults, database_key, read_stamp
from marketplace.models import Division, Role
from marketplace.spreadsheets import spreadsheet_safe
from marketplace.templating import DISPLAY_ZONE
from procurement import roi
from procurement.charts import ChartData, data_table, format_value, summarise
from procurement.costs import (
    Period,
    ReuseSpan,
    annualised_cents,
    fiscal_quarter_bounds,
    fiscal_year,
    fiscal_year_bounds,
    overlap_days,
)
from procurement.duplicate_groups import Outcome
from procurement.duplicates import Decision
from procurement.licensing import LicenceScope, LicenceTerms, ReusePolicy
from procurement.matching import pair_avoidable_cents
from procurement.models import (
    CheckOutcome,
    DuplicateDecision,
    DuplicateScanGroup,
    DuplicateScanPair,
    DuplicateScanRun,
    Invoice,
    Licence,
    Purchase,
    ReuseRequest,
    Vendor,
)
from procurement.pdf import ReportChart, ReportDocument, ReportSection, ReportTable
from procurement.services.common import DivisionTable, query_words
from procurement.services.reuse_spans import GRANTED_STATUSES, reuse_spans_by_licence

# Enum members by stored value (a dict look-up is much cheaper than calling the enum 5,000 times).
_SCOPES = {member.value: member for member in LicenceScope}
_POLICIES = {member.value: member for member in ReusePolicy}
FIRST_FISCAL_YEAR = 1990
LAST_FISCAL_YEAR = 2100
VENDOR_MAX = 100
MANY_VENDORS = 50
# Up to this many vendors in a vendor filter, spend is summed per period from their purchases'
# rows (140 vendors of 2,000: 130 ms against 310 ms grouped in SQL; 1,270: 680 against 560).
FEW_VENDORS = 400


@dataclass(frozen=True)
class RoiFilters:
    """The report's filters as chosen (before the caller's division scope is applied).

    Attributes:
        fiscal_year: e.g. 2026; None for all time.
        quarter: 1–4 within fiscal_year, or None for the whole year.
        division: a division code or alias ("" for every division the caller may see).
        vendor: words a vendor's name contains ("" for any vendor).
        kind: a listing kind (ListingKind value) or "" for every kind.
    """

    fiscal_year: int | None = None
    quarter: int | None = None
    division: str = ""
    vendor: str = ""
    kind: str = ""

    @property
    def period(self) -> Period | None:
        if self.fiscal_year is None:
            return None
        if self.quarter is None:
            return fiscal_year_bounds(self.fiscal_year)
        return fiscal_quarter_bounds(self.fiscal_year, self.quarter)

    def query_string(self) -> str:
        """The filters as URL query parameters (for export links), empty ones left out."""
        from urllib.parse import urlencode

        values = {
            "fiscal_year": self.fiscal_year or "",
            "quarter": self.quarter or "",
            "division": self.division,
            "vendor": self.vendor,
            "kind": self.kind,
        }
        return urlencode({k: v for k, v in values.items() if v != ""})


def parse_filters(
    fiscal_year: str = "",
    quarter: str = "",
    division: str = "",
    vendor: str = "",
    kind: str = "",
) -> tuple[RoiFilters, dict[str, str]]:
    """Filters typed in a form, URL or command line, and a message per field that is wrong.

    Wrong values are dropped (the report falls back to all time, every kind…) and explained.
    "FY2026", "FY26" and "2026" all mean fiscal year 2026.
    """
    errors: dict[str, str] = {}
    year_text = fiscal_year.strip().upper().removeprefix("FY")[:6]
    year: int | None = None
    if year_text:
        if year_text.isdigit():
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        if year is None or not FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
            errors["fiscal_year"] = (
                f"Enter a fiscal year between {FIRST_FISCAL_YEAR} and {LAST_FISCAL_YEAR}, "
                "such as 2026."
            )
            year = None
    number: int | None = None
    quarter_text = quarter.strip().upper().removeprefix("Q")[:3]
    if quarter_text:
        if quarter_text in ("1", "2", "3", "4"):
            number = int(quarter_text)
        else:
            errors["quarter"] = "Choose quarter 1, 2, 3 or 4."
        if number is not None and year is None and "fiscal_year" not in errors:
            errors["quarter"] = "Choose a fiscal year for the quarter."
            number = None
    kind_text = kind.strip().lower()[:30]
    if kind_text and kind_text not in {k.value for k in ListingKind}:
        errors["kind"] = "Choose a listing kind from the list."
        kind_text = ""
    vendor_text = " ".join(vendor.split())[:VENDOR_MAX]
    filters = RoiFilters(
        fiscal_year=year,
        quarter=number if year is not None else None,
        division=division.strip()[:20],
        vendor=vendor_text if query_words(vendor_text) else "",  # "%%" names no vendor word
        kind=kind_text,
    )
    return filters, errors


@dataclass(frozen=True)
class RoiView:
    """One computed report and everything needed to show or export it.

    Attributes:
        filters: the filters as applied (division replaced by the caller's own when limited).
        division: the code of the division in scope, or None for every division.
        report: figures, charts and tables.
        errors: a message per filter field that was wrong (and ignored).
        notes: sentences about the scope the caller should read (a division they may not see).
        today: the day at HHS headquarters the report was computed on.
        vendor_names: vendor names the vendor filter matched (empty when not filtering).
    """

    filters: RoiFilters
    division: str | None
    report: roi.RoiReport
    errors: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    today: date = date.min
    vendor_names: tuple[str, ...] = ()

    @property
    def period_label(self) -> str:
        period = self.filters.period
        return period.label if period else "All time"

    def filter_document(self) -> dict[str, Any]:
        """The filters as the JSON export writes them."""
        period = self.filters.period
        return {
            "fiscal_year": self.filters.fiscal_year,
            "quarter": self.filters.quarter,
            "period": self.period_label,
            "period_start": period.start.isoformat() if period else None,
            "period_end": period.end.isoformat() if period else None,
            "division": self.division,
            "vendor": self.filters.vendor or None,
            "listing_kind": self.filters.kind or None,
            "as_of": self.report.as_of.isoformat(),
            "generated_on": self.today.isoformat(),
        }

    def filter_pairs(self) -> tuple[tuple[str, str], ...]:
        """The filters as (name, value) for the PDF and CSV, every one shown."""
        kind = ListingKind(self.filters.kind).label if self.filters.kind else "Every kind"
        return (
            ("Period", self.period_label),
            ("Division", self.division or "All divisions"),
            ("Vendor", f"name contains “{self.filters.vendor}”" if self.filters.vendor else "Any"),
            ("Listing kind", kind),
            ("Seats and active licences as of", self.report.as_of.isoformat()),
        )


def require_reports(actor: Principal | None) -> Principal:
    """The ROI report is for leadership, procurement officers and administrators."""
    return require(actor, Permission.READ_REPORTS)


def division_scope(
    db: Session, actor: Principal, requested: str
) -> tuple[Division | None, dict[str, str], tuple[str, ...]]:
    """The division the caller's report covers: any (or all) for leadership, else their own.

    Returns:
        (the division or None for all, errors, notes).
    """
    errors: dict[str, str] = {}
    notes: list[str] = []
    wanted = find_division(db, requested) if requested else None
    if requested and wanted is None:
        errors["division"] = f"No division has the code “{requested}”."
    if Role.LEADERSHIP in actor.roles:
        return wanted, errors, ()
    own = db.get(Division, actor.division_id)
    if wanted is not None and own is not None and wanted.id != own.id:
        notes.append(
            f"You see your own division’s figures ({own.code}); leadership sees every division."
        )
    return own, errors, tuple(notes)


def roi_report(
    db: Session, actor: Principal | None, filters: RoiFilters, *, today: date
) -> RoiView:
    """The ROI report for the caller and filters.

    Args:
        db: the session (read only).
        actor: the caller; leadership sees every division, officers and administrators their own.
        filters: as parsed by `parse_filters`.
        today: the day at HHS headquarters (renewal windows count from it).

    Raises:
        PermissionDenied / SignInRequired: the caller may not read reports.
    """
    actor = require_reports(actor)
    division, errors, notes = division_scope(db, actor, filters.division)
    divisions = DivisionTable.load(db)
    vendor_ids, vendor_names = _vendor_ids(db, filters.vendor)
    if filters.vendor and not vendor_ids:
        notes += (f"No vendor’s name contains “{filters.vendor}”: nothing to show.",)
    scope = _Scope(
        filters.period,
        division.id if division else None,
        division.code if division else None,
        vendor_ids,
        tuple(query_words(filters.vendor)),
        filters.kind,
    )
    stamps = data_stamp(db)
    key = (database_key(db), stamps, scope, today)
    report = _reports.get(key)
    if report is None:
        report = roi.compute(_inputs(db, scope, divisions, today, stamps))
        _reports.put(key, report)
    applied = RoiFilters(
        filters.fiscal_year,
        filters.quarter,
        division.code if division else "",
        filters.vendor,
        filters.kind,
    )
    return RoiView(
        applied,
        division.code if division else None,
        report,
        errors,
        notes,
        today,
        vendor_names,
    )


def _inputs(
    db: Session, scope: _Scope, divisions: DivisionTable, today: date, stamps: DataStamp
) -> roi.RoiInputs:
    """Every record the figures need, in about fifteen grouped queries.

    Each part is kept under the stamps of the tables it reads (see `_kept_part`), so that after
    a change to a purchase the reuses, checks, invoices and listings are not read again.
    """

    def kept(name: Any, tables: tuple[Any, ...], compute: Callable[[], Part]) -> Part:
        return _kept_part((database_key(db), name, scope, tables), compute)

    # With a vendor filter, reuses and invoices are limited through licences and purchases.
    vendor = (stamps.licences, stamps.purchases) if scope.vendor_ids is not None else ()
    reuse_tables = (stamps.reuses, stamps.listings, *vendor)
    reuses = kept("reuses", reuse_tables, lambda: _reuse_months(db, scope))
    checks = kept("checks", (stamps.checks, stamps.listings), lambda: _check_months(db, scope))
    # The charts' periods are known before purchases are read (the months of the first and last
    # purchase stand for all of them), so spend is grouped by chart period, not by month.
    ends = kept("ends", (stamps.purchases,), lambda: _first_and_last_months(db, scope))
    periods = roi.series_periods(scope.period, [*ends, *(c.month for c in (*reuses, *checks))])
    division_spend, psc_spend = kept(
        ("spend", periods),
        (stamps.purchases, stamps.divisions),
        lambda: _spend(db, scope, divisions, periods),
    )
    return roi.RoiInputs(
        period=scope.period,
        today=today,
        division_spend=division_spend,
        vendor_spend=kept(
            "vendor spend", (stamps.purchases, stamps.vendors), lambda: _vendor_spend(db, scope)
        ),
        psc_spend=psc_spend,
        licences=_licences(db, scope, divisions, today, stamps),
        reuses=reuses,
        checks=checks,
        duplicates=kept(
            ("duplicates", today),
            (stamps.purchases, stamps.decisions, stamps.scans),
            lambda: _duplicates(db, scope, today),
        ),
        opportunities=kept("opportunities", (stamps.scans,), lambda: _opportunities(db, scope)),
        listings=kept(
            "listings",
            (*reuse_tables, stamps.usage, stamps.divisions),
            lambda: _listings(db, scope, divisions),
        ),
        listings_reused=kept("listings reused", reuse_tables, lambda: _listings_reused(db, scope)),
        invoices=kept("invoices", (stamps.invoices, *vendor), lambda: _invoices(db, scope)),
    )


# --- Reports kept while the data is unchanged ---------------------------------------------------
#
# Computing the all-time report over 100,000 purchases and thousands of licences takes a few
# hundred milliseconds (on SQLite a GROUP BY sorts every row). The figures only change when the
# records do, so computed reports are kept, per process, under a stamp of every table they read:
# row counts (purchases are never deleted: their highest id) and latest changes, which every
# write path moves (it sets `updated_at`, adds a row, or deletes one). A stale figure would need
# a change that moves none of them. The parts of a report are kept too, each under the stamps of
# the tables it reads, and licence facts under each licence's own stamp: after a change to one
# purchase, only the spend, the duplicates and that purchase's licence are read again.

CACHE_SIZE = 64
_reports: KeptResults[roi.RoiReport] = KeptResults(CACHE_SIZE)
PARTS_KEPT = 256  # about eleven parts per report
_parts: KeptResults[Any] = KeptResults(PARTS_KEPT)
Part = TypeVar("Part")


class DataStamp(NamedTuple):
    """Per table read by the report: what moves when its rows change (counts, latest changes)."""

    purchases: tuple[Any, ...]
    vendors: tuple[Any, ...]
    divisions: tuple[Any, ...]
    licences: tuple[Any, ...]
    reuses: tuple[Any, ...]
    invoices: tuple[Any, ...]
    listings: tuple[Any, ...]
    usage: tuple[Any, ...]
    decisions: tuple[Any, ...]
    scans: tuple[Any, ...]
    checks: tuple[Any, ...]


def data_stamp(db: Session) -> DataStamp:
    """Counts and latest changes of every table the report reads, in one query."""
    values = read_stamp(
        db,
        func.max(col(Purchase.id)),
        func.max(Purchase.updated_at),
        func.max(Vendor.updated_at),
        func.max(Division.updated_at),
        func.count(col(Licence.id)),
        func.max(Licence.updated_at),
        func.count(col(ReuseRequest.id)),
        func.max(ReuseRequest.updated_at),
        func.count(col(Invoice.id)),
        func.max(Invoice.updated_at),
        func.count(col(Listing.id)),
        func.max(Listing.updated_at),
        func.count(ListingUsage.listing_id),
        func.coalesce(_sum(ListingUsage.views + ListingUsage.downloads), 0),
        func.count(col(DuplicateDecision.id)),
        func.max(DuplicateDecision.decided_at),
        func.max(DuplicateScanRun.id),
        func.count(col(DuplicateScanGroup.id)),
        func.count(col(CheckOutcome.id)),
        func.max(CheckOutcome.id),
    )
    return DataStamp(
        purchases=tuple(values[0:2]),
        vendors=tuple(values[2:3]),
        divisions=tuple(values[3:4]),
        licences=tuple(values[4:6]),
        reuses=tuple(values[6:8]),
        invoices=tuple(values[8:10]),
        listings=tuple(values[10:12]),
        usage=tuple(values[12:14]),
        decisions=tuple(values[14:16]),
        scans=tuple(values[16:18]),
        checks=tuple(values[18:20]),
    )


def _kept_part(key: tuple[Any, ...], compute: Callable[[], Part]) -> Part:
    """A part of a report kept under its key (database, name, scope, stamps of what it reads)."""
    found = _parts.get(key)
    if found is None:
        found = compute()
        _parts.put(key, found)
    return found


def clear_cache(*, licences: bool = False) -> None:
    """Forget every kept report, as after a change (tests and benchmarks measure the first
    computation); with `licences`, also the parts, licence facts and results kept across
    changes, as in a new process."""
    _reports.clear()
    if licences:
        _parts.clear()
        _licence_facts.clear()
        _reuse_spans.clear()
        roi.forget_kept_results()


def fiscal_years_with_data(db: Session) -> list[int]:
    """Fiscal years from the first to the last purchase start (newest first), for the form."""
    # Two queries: SQLite reads a lone MIN or MAX from one end of the index, but scans the
    # whole index for both in one query.
    first = db.exec(select(func.min(Purchase.start_on))).one()
    last = db.exec(select(func.max(Purchase.start_on))).one()
    if first is None or last is None:
        return []
    return list(range(fiscal_year(last), fiscal_year(first) - 1, -1))


def document(view: RoiView) -> dict[str, Any]:
    """The JSON export: {"filters", "figures", "definitions"}."""
    return {
        "filters": view.filter_document(),
        "figures": dict(view.report.figures),
        "definitions": dict(roi.DEFINITIONS),
    }


# --- Exports ----------------------------------------------------------------------------------


def csv_rows(view: RoiView) -> Iterator[list[Any]]:
    """The report as one tidy table: section, item, period, value, unit, definition.

    Money values are whole cents, as in the JSON; every breakdown adds up to its figure.
    """
    yield ["section", "item", "period", "value", "unit", "definition"]
    for name, value in view.filter_pairs():
        yield ["filter", name, "", value, "", ""]
    for name, value in view.report.figures.items():
        unit = (
            "cents"
            if name in roi.MONEY_FIGURES
            else ("basis points" if name.endswith("_bp") else "count")
        )
        yield [
            "figure",
            name,
            view.period_label,
            "" if value is None else value,
            unit,
            roi.DEFINITIONS[name],
        ]
    for code, cents in view.report.spend_by_division.items():
        yield ["spend_by_division", code, view.period_label, cents, "cents", ""]
    for chart in view.report.charts:
        unit = {"money": "cents", "count": "count", "percent": "basis points"}[
            chart.data.value_format
        ]
        for series in chart.data.series:
            for category, value in series.points:
                yield [
                    chart.chart_id.removeprefix("chart-"),
                    series.name,
                    category,
                    value,
                    unit,
                    "",
                ]
    for row in view.report.renewals:
        yield [
            "renewal",
            row.name,
            row.deadline.isoformat(),
            row.renewal_cost_cents or "",
            "cents",
            f"{row.owner}; within {row.bucket} days",
        ]
    for opportunity in view.report.opportunities:
        yield [
            "consolidation",
            f"{opportunity.vendor}: {opportunity.product}",
            "",
            opportunity.savings_cents,
            "cents",
            ", ".join(opportunity.divisions),
        ]


def csv_text(view: RoiView) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in csv_rows(view):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue()


def pdf_table(chart: ChartData) -> ReportTable:
    """A chart's data table for the PDF: as on the page for one series; for several, one row
    per (category, series) so that the table fits the page whatever the number of series."""
    if len(chart.series) <= 1:
        return ReportTable(**data_table(chart))
    rows = tuple(
        (category, series.name, format_value(value, chart.value_format))
        for category in chart.categories
        for series in chart.series
        for label, value in series.points
        if label == category and value
    )
    return ReportTable((chart.x_label, "Series", chart.y_label), rows, (2,), caption=chart.title)


def report_document(view: RoiView) -> ReportDocument:
    """The report as procurement.pdf prints it: figures, charts with their tables, lists."""
    report = view.report
    figures = ReportTable(
        ("Figure", "Value"),
        tuple(
            (roi.LABELS[name], roi.format_figure(name, value))
            for name, value in report.figures.items()
        ),
        (1,),
    )
    definitions = ReportTable(
        ("Figure", "Definition"),
        tuple((roi.LABELS[name], text) for name, text in roi.DEFINITIONS.items()),
    )
    # The headline figures as lines of text: procurement.pdf moves a section whose first table
    # is short to the next page together with its heading, which would leave page 1 empty.
    sections = [
        ReportSection(
            "Headline figures",
            (
                *(
                    f"{roi.LABELS[name]}: {roi.format_figure(name, report.figures[name])}"
                    for name in roi.HEADLINE
                ),
                "Money is in dollars and cents. Every figure follows, and each is defined at the "
                "end of this report and on the definitions page (/procurement/reports/definitions).",
            ),
        ),
        ReportSection("All figures", tables=(figures,)),
    ]
    for chart in report.charts:
        table = pdf_table(chart.data)
        sections.append(
            ReportSection(
                chart.data.title,
                (summarise(chart.data),),
                charts=(ReportChart(chart.kind, chart.data),) if not chart.data.is_empty else (),
                tables=(table,) if table.rows else (),
            )
        )
    for table in roi.report_tables(report):
        if table.rows:
            sections.append(
                ReportSection(
                    table.caption,
                    tables=(ReportTable(table.header, table.rows, table.numeric_columns),),
                )
            )
    sections.append(ReportSection("How each figure is computed", tables=(definitions,)))
    return ReportDocument(
        title=f"Return on investment, {view.period_label}",
        subtitle=f"Data spend and reuse across HHS: {view.division or 'all divisions'}",
        generated_on=view.today,
        filters=view.filter_pairs(),
        sections=tuple(sections),
    )


# --- Queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    period: Period | None
    division_id: int | None
    division_code: str | None
    vendor_ids: tuple[int, ...] | None  # None: any vendor
    vendor_words: tuple[str, ...]  # the vendor filter's words, LIKE-escaped
    kind: str


def _vendor_ids(db: Session, text: str) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
    """Vendors whose name contains every word typed (case ignored); None when not filtering."""
    words = query_words(text)
    if not words:
        return None, ()
    query = select(Vendor.id, Vendor.name)
    for word in words:
        query = query.where(func.lower(Vendor.name).like(f"%{word}%", escape="\\"))
    rows = db.exec(query.order_by(Vendor.name)).all()
    return tuple(row[0] for row in rows), tuple(row[1] for row in rows)


def _purchase_conditions(
    scope: _Scope, *, dated: bool = True, covered: bool = False
) -> list[ColumnElement[bool]]:
    """Purchases in scope; `covered` when the index (vendor, start, amount) holds every column
    the query reads."""
    conditions: list[ColumnElement[bool]] = []
    if scope.division_id is not None:
        conditions.append(col(Purchase.division_id) == scope.division_id)
    if scope.vendor_ids is not None:
        vendor = col(Purchase.vendor_id)
        if len(scope.vendor_ids) > MANY_VENDORS and not covered:
            # Probing the vendor index for hundreds of vendors then reading each row costs more
            # than scanning the table once: "+ 0" keeps the index out.
            vendor = vendor + 0
        conditions.append(vendor.in_(scope.vendor_ids or (-1,)))
    if dated and scope.period is not None:
        conditions.append(col(Purchase.start_on) >= scope.period.start)
        conditions.append(col(Purchase.start_on) <= scope.period.end)
    return conditions


def _is_sqlite(db: Session) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def _month_index(column: Any) -> Any:
    """SQLite: year × 12 + month − 1 of a date column (dates are stored as ISO text)."""
    year = cast(func.substr(column, 1, 4), Integer)
    return year * 12 + cast(func.substr(column, 6, 2), Integer) - 1


def _month_of(index: int | None) -> date | None:
    return None if not index else date(int(index) // 12, int(index) % 12 + 1, 1)


def _first_of_month(value: date | datetime | None) -> date | None:
    return None if value is None else date(value.year, value.month, 1)


def _rows(db: Session, query: Any) -> Sequence[Any]:
    """A query's rows as plain Core rows: for thousands of rows, reading them through the ORM
    costs about as much again."""
    return db.connection().execute(query).all()


def _sum(column: Any) -> Any:
    """SUM as a 64-bit integer (PostgreSQL would return numeric, read as slow Decimals)."""
    return cast(func.sum(column), BigInteger)


def _first_and_last_months(db: Session, scope: _Scope) -> list[date]:
    """The first days of the months the first and last purchases in scope start in (none
    without a dated purchase); only the all-time report needs them."""
    if scope.period is not None:
        return []
    conditions = _purchase_conditions(scope, covered=True)
    # Two queries: SQLite reads a lone MIN or MAX from one end of an index.
    days = [
        db.exec(select(func.min(Purchase.start_on)).where(*conditions)).one(),
        db.exec(select(func.max(Purchase.start_on)).where(*conditions)).one(),
    ]
    return [date(day.year, day.month, 1) for day in days if day is not None]


PERIODS_PER_QUERY = 100


def _spend(
    db: Session, scope: _Scope, divisions: DivisionTable, periods: Sequence[Period]
) -> tuple[tuple[roi.SpendCell, ...], tuple[roi.SpendCell, ...]]:
    """Spend by (division, chart period) and by (product/service code, chart period).

    A cell's month is the first day of its period (None for purchases without a start date):
    procurement.roi places it in the same period as any month of it. Each period is its own
    range query grouped by (division, code), which SQLite reads in order from the covering index
    (division, code, start, amount) without sorting 100,000 rows; the queries go as one UNION ALL.
    """
    conditions = _purchase_conditions(scope)
    rows = (
        _spend_rows_of_few(db, conditions, periods)
        if scope.vendor_ids is not None and len(scope.vendor_ids) <= FEW_VENDORS
        else _spend_rows(db, conditions, periods)
    )
    cells = [
        (
            division_id,
            periods[index].start if index >= 0 else None,
            psc,
            int(cents or 0),
            int(count),
        )
        for index, division_id, psc, cents, count in rows
    ]
    by_division: dict[tuple[str, date | None], list[int]] = {}
    by_psc: dict[tuple[str, date | None], list[int]] = {}
    for division_id, day, psc, cents, count in cells:
        for table, name in (
            (by_division, divisions.code(division_id) or "?"),
            (by_psc, psc or roi.NO_PSC),
        ):
            cell = table.setdefault((name, day), [0, 0])
            cell[0] += cents
            cell[1] += count
    return tuple(
        tuple(roi.SpendCell(name, day, cents, n) for (name, day), (cents, n) in table.items())
        for table in (by_division, by_psc)
    )


def _spend_rows_of_few(
    db: Session, conditions: list[ColumnElement[bool]], periods: Sequence[Period]
) -> list[tuple[int, int, str | None, int, int]]:
    """(period index or -1 undated, division id, code, cents, count), summed in Python.

    For a vendor filter: its few thousand purchases are read once through the vendor index and
    placed in periods here, where grouping per period in SQL would walk the whole (division,
    code, start) index and look up each row's vendor. Purchases outside every period are left
    out, as the range queries of `_spend_rows` leave them out.
    """
    starts = [period.start for period in periods]
    sums: dict[tuple[int, int, str | None], list[int]] = {}
    query = select(
        Purchase.division_id, Purchase.psc, Purchase.start_on, Purchase.obligated_cents
    ).where(*conditions)
    for division_id, psc, start_on, cents in _rows(db, query):
        if start_on is None:
            index = -1
        else:
            index = bisect_right(starts, start_on) - 1
            if index < 0 or start_on > periods[index].end:
                continue
        cell = sums.setdefault((index, division_id, psc), [0, 0])
        cell[0] += cents or 0
        cell[1] += 1
    return [(index, d, psc, cents, n) for (index, d, psc), (cents, n) in sums.items()]


def _spend_rows(
    db: Session, conditions: list[ColumnElement[bool]], periods: Sequence[Period]
) -> list[Any]:
    """(period index or -1 undated, division id, code, cents, count), grouped in SQL."""
    columns = (Purchase.division_id, Purchase.psc, _sum(Purchase.obligated_cents), func.count())
    undated = (
        select(literal(-1), *columns)
        .where(*conditions, col(Purchase.start_on).is_(None))
        .group_by(Purchase.division_id, Purchase.psc)
    )
    rows: list[Any] = []
    for first in range(0, max(len(periods), 1), PERIODS_PER_QUERY):
        parts = [
            select(literal(index), *columns)
            .where(
                *conditions,
                col(Purchase.start_on) >= period.start,
                col(Purchase.start_on) <= period.end,
            )
            .group_by(Purchase.division_id, Purchase.psc)
            for index, period in enumerate(periods[first : first + PERIODS_PER_QUERY], start=first)
        ]
        rows += _rows(db, union_all(*parts, undated) if first == 0 else union_all(*parts))
    return rows


def _vendor_spend(db: Session, scope: _Scope) -> tuple[roi.SpendCell, ...]:
    """Spend by month of the few vendors with the most spend in scope."""
    # 140 vendors of 2,000: 1 ms through the index against 17 ms scanning it whole.
    conditions = _purchase_conditions(scope, covered=True)
    total = _sum(Purchase.obligated_cents)
    # Grouped by the bare column, SQLite reads the covering index (vendor, start, amount) in
    # vendor order and needs no sort to group.
    vendor = col(Purchase.vendor_id)
    top = [
        row[0]
        for row in db.exec(
            select(vendor, total)
            .where(*conditions)
            .group_by(vendor)
            .order_by(total.desc(), vendor)
            .limit(roi.TOP_OTHERS)
        ).all()
    ]
    if not top:
        return ()
    sqlite = _is_sqlite(db)
    month = (
        _month_index(Purchase.start_on) if sqlite else func.date_trunc("month", Purchase.start_on)
    ).label("month")
    rows = _rows(
        db,
        select(Purchase.vendor_id, month, total, func.count())
        .where(*conditions, col(Purchase.vendor_id).in_(top))
        .group_by(Purchase.vendor_id, month),
    )
    names = {
        vendor_id: name
        for vendor_id, name in db.exec(
            select(Vendor.id, Vendor.name).where(col(Vendor.id).in_(top))
        ).all()
    }
    return tuple(
        roi.SpendCell(
            names.get(vendor_id, "?"),
            _month_of(key) if sqlite else _first_of_month(key),
            int(cents or 0),
            int(n),
        )
        for vendor_id, key, cents, n in rows
    )


def _licences_in_scope(columns: Sequence[Any], scope: _Scope, today: date) -> Any:
    """The query of the licences of the purchases in the division and vendor scope.

    Licences are not limited to purchases starting in the period (their cost is prorated into
    it); with a period, only those that matter are read: in use during it, active on the as-of
    day, or due for renewal within 120 days.
    """
    pop_start = func.coalesce(Purchase.start_on, Licence.term_start_on)
    pop_end = func.coalesce(Purchase.current_end_on, Licence.term_end_on)
    query = (
        select(*columns)
        .join(Purchase, col(Purchase.id) == Licence.purchase_id)
        .where(*_purchase_conditions(scope, dated=False))
    )
    as_of = roi.as_of_day(scope.period, today)
    horizon = today + timedelta(days=max(roi.RENEWAL_BUCKETS))
    if scope.period is not None:
        deadline = func.coalesce(Licence.renewal_on, Licence.term_end_on)
        query = query.where(
            or_(
                and_(pop_start <= scope.period.end, pop_end >= scope.period.start),
                and_(col(Licence.term_start_on) <= as_of, col(Licence.term_end_on) >= as_of),
                and_(deadline >= today, deadline <= horizon),
            )
        )
    return query


# A licence's stamp: its updated_at and its purchase's as the driver gives them (SQLite: text),
# only ever compared with another stamp, so not parsed.
_LICENCE_STAMP = (
    type_coerce(Licence.updated_at, String),
    type_coerce(Purchase.updated_at, String),
)
_LICENCE_COLUMNS = (
    Licence.id,
    Licence.scope,
    Licence.listed_divisions,
    Licence.seats,
    Licence.owner_seats,
    Licence.term_start_on,
    Licence.term_end_on,
    Licence.renewal_on,
    Licence.auto_renew,
    Licence.renewal_cost_cents,
    Licence.reuse_policy,
    Licence.dua_required,
    Licence.price_per_seat_cents,
    Purchase.division_id,
    Purchase.obligated_cents,
    Purchase.start_on,
    Purchase.current_end_on,
    Purchase.product,
    Purchase.piid,
    *_LICENCE_STAMP,
)
# Up to this many licences whose facts are not kept are read by id; more, with the scope's query.
LICENCES_BY_ID = 500


def _licences(
    db: Session, scope: _Scope, divisions: DivisionTable, today: date, stamps: DataStamp
) -> tuple[roi.LicenceFact, ...]:
    """The licences in scope (see `_licences_in_scope`) with their granted reuses.

    Once facts are kept, the stamps of the licences in scope are read first, and only those
    whose fact is not kept for the same stamp, owner and reuses are read in full and built.
    """
    kept = _facts_of_database(db)
    every = _licences_in_scope(_LICENCE_COLUMNS, scope, today)
    rows: Sequence[Any] = ()
    if kept:
        # (id, stamp, division id) as plain tuples, read a thousand rows at a time: thousands of
        # row objects alive together would be promoted to the collector's oldest generation and
        # hasten its next walk of every object of the process.
        result = db.connection().execute(
            _licences_in_scope((Licence.id, *_LICENCE_STAMP, Purchase.division_id), scope, today)
        )
        current = []
        while batch := result.fetchmany(1_000):
            current += [(row[0], (row[1], row[2]), row[3]) for row in batch]
    else:
        rows = _rows(db, every)
        current = [(row[0], (row[19], row[20]), row[13]) for row in rows]
    if not current:
        return ()
    spans = _spans_by_licence(db, stamps, [licence_id for licence_id, _, _ in current])

    def is_kept(licence_id: int, stamp: tuple[Any, Any], division_id: int) -> bool:
        entry = kept.get(licence_id)
        return (
            entry is not None
            and entry[0] == stamp
            and entry[1].owner == (divisions.code(division_id) or "?")
            and entry[1].reuses == spans.get(licence_id, ())
        )

    moved = [
        licence_id
        for licence_id, stamp, division_id in current
        if not is_kept(licence_id, stamp, division_id)
    ]
    if moved and not rows:
        rows = _rows(
            db, every.where(col(Licence.id).in_(moved)) if len(moved) <= LICENCES_BY_ID else every
        )
    for row in rows:
        licence_id, stamp, division_id = row[0], (row[19], row[20]), row[13]
        if not is_kept(licence_id, stamp, division_id):
            owner = divisions.code(division_id) or "?"
            kept[licence_id] = (stamp, _licence_fact(row, owner, spans.get(licence_id, ())))
    # A licence deleted since its stamp was read has no fact: it is left out.
    return tuple(kept[licence_id][1] for licence_id, _, _ in current if licence_id in kept)


# Licence facts per database, by licence id, with the stamp they were built from; the cost and
# uses procurement.roi keeps per fact are found again as long as the fact is. The spans of every
# licence's granted reuses are kept per database under the stamps of the reuses and of the
# divisions (their codes).
DATABASES_KEPT = 8
_licence_facts: KeptResults[dict[int, tuple[tuple[Any, Any], roi.LicenceFact]]] = KeptResults(
    DATABASES_KEPT
)
_reuse_spans: KeptResults[dict[int, tuple[ReuseSpan, ...]]] = KeptResults(DATABASES_KEPT)


def _facts_of_database(db: Session) -> dict[int, tuple[tuple[Any, Any], roi.LicenceFact]]:
    database = database_key(db)
    kept = _licence_facts.get(database)
    if kept is None:
        kept = {}
        _licence_facts.put(database, kept)
    return kept


def _spans_by_licence(
    db: Session, stamps: DataStamp, licence_ids: Sequence[int]
) -> dict[int, tuple[ReuseSpan, ...]]:
    """The granted reuses of the licences: of every licence, kept, when they are many (one
    query reads them faster than through thousands of ids); else of those only."""
    key = (database_key(db), stamps.reuses, stamps.divisions)
    spans = _reuse_spans.get(key)
    if spans is None:
        few = len(licence_ids) <= LICENCES_BY_ID
        found = reuse_spans_by_licence(db, licence_ids if few else None)
        spans = {licence_id: tuple(reuses) for licence_id, reuses in found.items()}
        if not few:
            _reuse_spans.put(key, spans)
    return spans


def _licence_fact(row: Any, owner: str, reuses: tuple[ReuseSpan, ...]) -> roi.LicenceFact:
    """A licence row of `_LICENCE_COLUMNS` as procurement.roi reads it."""
    (licence_id, licence_scope, listed, seats, owner_seats, term_start, term_end) = row[:7]
    (renewal_on, auto_renew, renewal_cost, policy, dua, price) = row[7:13]
    _, obligated, start_on, end_on, product, piid = row[13:19]
    terms = None
    # Terms the licence form would refuse count for cost, not for seats or renewals.
    with contextlib.suppress(KeyError, ValueError):
        terms = LicenceTerms(
            owner_division=owner,
            scope=_SCOPES[licence_scope],
            listed_divisions=frozenset(c for c in (listed or "").split(",") if c),
            seats=seats,
            term_start=term_start,
            term_end=term_end,
            renewal_date=renewal_on,
            auto_renew=auto_renew,
            renewal_cost_cents=renewal_cost,
            reuse_policy=_POLICIES[policy],
            dua_required=dua,
            price_per_seat_cents=price,
        )
    first = start_on or term_start
    return roi.LicenceFact(
        licence_id=licence_id,
        name=product or piid,
        owner=owner,
        terms=terms,
        obligated_cents=obligated,
        pop_start=first,
        pop_end=max(end_on or term_end, first),
        owner_seats=owner_seats,
        reuses=reuses,
    )


def _reuse_conditions(scope: _Scope) -> list[ColumnElement[bool]]:
    """Granted reuses of the division's licences and listings starting in the period."""
    conditions: list[ColumnElement[bool]] = [
        col(ReuseRequest.status).in_([s.value for s in GRANTED_STATUSES])
    ]
    if scope.division_id is not None:
        conditions.append(col(ReuseRequest.owner_division_id) == scope.division_id)
    if scope.period is not None:
        conditions.append(col(ReuseRequest.start_on) >= scope.period.start)
        conditions.append(col(ReuseRequest.start_on) <= scope.period.end)
    if scope.kind:
        conditions.append(
            col(ReuseRequest.listing_id).in_(select(Listing.id).where(Listing.kind == scope.kind))
        )
    if scope.vendor_ids is not None:
        conditions.append(
            col(ReuseRequest.licence_id).in_(
                select(Licence.id)
                .join(Purchase, col(Purchase.id) == Licence.purchase_id)
                .where(col(Purchase.vendor_id).in_(scope.vendor_ids or (-1,)))
            )
        )
    return conditions


def _reuse_months(db: Session, scope: _Scope) -> tuple[roi.MonthCell, ...]:
    sqlite = _is_sqlite(db)
    month = (
        _month_index(ReuseRequest.start_on)
        if sqlite
        else func.date_trunc("month", ReuseRequest.start_on)
    ).label("month")
    missing = _sum(case((col(ReuseRequest.avoided_cents).is_(None), 1), else_=0))
    rows = db.exec(
        select(month, func.count(), _sum(ReuseRequest.avoided_cents), missing)
        .where(*_reuse_conditions(scope))
        .group_by(month)
    ).all()
    cells = []
    for key, n, cents, none in rows:
        first = _month_of(key) if sqlite else _first_of_month(key)
        if first is not None:
            cells.append(roi.MonthCell(first, int(n), int(cents or 0), int(none or 0)))
    return tuple(cells)


def _listings(db: Session, scope: _Scope, divisions: DivisionTable) -> tuple[roi.ListingFact, ...]:
    """The most reused listings in scope, with their views and downloads in the period."""
    count = func.count().label("reuses")
    top = db.exec(
        select(ReuseRequest.listing_id, count)
        .where(*_reuse_conditions(scope), col(ReuseRequest.listing_id).is_not(None))
        .group_by(ReuseRequest.listing_id)
        .order_by(count.desc(), ReuseRequest.listing_id)
        .limit(roi.TOP_ROWS)
    ).all()
    if not top:
        return ()
    ids = [listing_id for listing_id, _ in top]
    listings = {
        row[0]: row
        for row in db.exec(
            select(Listing.id, Listing.title, Listing.division_id, Listing.publisher_name).where(
                col(Listing.id).in_(ids)
            )
        ).all()
    }
    usage = select(
        ListingUsage.listing_id,
        _sum(ListingUsage.views),
        _sum(ListingUsage.downloads),
    ).where(col(ListingUsage.listing_id).in_(ids))
    if scope.period is not None:
        usage = usage.where(
            col(ListingUsage.month) >= date(scope.period.start.year, scope.period.start.month, 1),
            col(ListingUsage.month) <= scope.period.end,
        )
    used = {
        row[0]: (int(row[1] or 0), int(row[2] or 0))
        for row in db.exec(usage.group_by(ListingUsage.listing_id)).all()
    }
    facts = []
    for listing_id, reuses in top:
        _, title, division_id, publisher = listings[listing_id]
        views, downloads = used.get(listing_id, (0, 0))
        facts.append(
            roi.ListingFact(
                listing_id,
                title,
                divisions.code(division_id) or publisher or "External",
                int(reuses),
                views,
                downloads,
            )
        )
    return tuple(facts)


def _listings_reused(db: Session, scope: _Scope) -> int:
    return int(
        db.exec(
            select(func.count(distinct(ReuseRequest.listing_id))).where(
                *_reuse_conditions(scope), col(ReuseRequest.listing_id).is_not(None)
            )
        ).one()
    )


def _invoices(db: Session, scope: _Scope) -> tuple[roi.InvoiceCell, ...]:
    """Chargeback invoices from the division in scope, for billed periods starting in the period."""
    query = select(Invoice.status, func.count(), _sum(Invoice.total_cents))
    if scope.division_id is not None:
        query = query.where(col(Invoice.from_division_id) == scope.division_id)
    if scope.period is not None:
        query = query.where(
            col(Invoice.period_start) >= scope.period.start,
            col(Invoice.period_start) <= scope.period.end,
        )
    if scope.vendor_ids is not None:
        query = query.where(
            col(Invoice.licence_id).in_(
                select(Licence.id)
                .join(Purchase, col(Purchase.id) == Licence.purchase_id)
                .where(col(Purchase.vendor_id).in_(scope.vendor_ids or (-1,)))
            )
        )
    rows = db.exec(query.group_by(Invoice.status)).all()
    return tuple(roi.InvoiceCell(status, int(n), int(cents or 0)) for status, n, cents in rows)


def _check_months(db: Session, scope: _Scope) -> tuple[roi.MonthCell, ...]:
    """Check-before-you-buy outcomes "reuse existing" of the division in scope, by month.

    A check belongs to the month (in Washington time) it was recorded in; the vendor filter
    matches the vendor typed in the check, the kind filter the kind of the listing reused.
    """
    query = select(CheckOutcome.created_at, CheckOutcome.avoided_cents).where(
        CheckOutcome.outcome == Outcome.REUSE.value
    )
    if scope.division_id is not None:
        query = query.where(col(CheckOutcome.division_id) == scope.division_id)
    if scope.period is not None:
        first = datetime.combine(scope.period.start, time.min, DISPLAY_ZONE)
        after = datetime.combine(scope.period.end + timedelta(days=1), time.min, DISPLAY_ZONE)
        query = query.where(
            col(CheckOutcome.created_at) >= first.astimezone(UTC),
            col(CheckOutcome.created_at) < after.astimezone(UTC),
        )
    for word in scope.vendor_words:
        query = query.where(func.lower(CheckOutcome.vendor).like(f"%{word}%", escape="\\"))
    if scope.kind:
        query = query.where(
            CheckOutcome.match_kind == "listing",
            col(CheckOutcome.match_id).in_(select(Listing.id).where(Listing.kind == scope.kind)),
        )
    months: dict[date, list[int]] = {}
    for created_at, avoided in db.exec(query).all():
        local = created_at.astimezone(DISPLAY_ZONE)
        cell = months.setdefault(date(local.year, local.month, 1), [0, 0])
        cell[0] += 1
        cell[1] += int(avoided or 0)
    return tuple(roi.MonthCell(month, n, cents) for month, (n, cents) in sorted(months.items()))


def _duplicates(db: Session, scope: _Scope, today: date) -> tuple[roi.DuplicateFact, ...]:
    """Duplicate pairs in scope: those the last scans kept, and pairs confirmed since.

    A pair is in scope when either purchase is (division, vendor, start in the period).
    Confirmation is read from the decisions (a pair dismissed after the last scan is left out);
    a confirmed pair is resolved once either purchase has ended. Pairs the scans never kept are
    valued like the scan values them (matching.pair_avoidable_cents).
    """
    decisions = {
        (key_a, key_b): decision
        for key_a, key_b, decision in _rows(
            db,
            select(DuplicateDecision.key_a, DuplicateDecision.key_b, DuplicateDecision.decision),
        )
    }
    # The kept pairs first, then their purchases by key: joined in one query, SQLite's planner
    # may scan every purchase to probe the (often small) pair table.
    kept = {
        (key_a, key_b): int(cents)
        for key_a, key_b, cents in _rows(
            db,
            select(
                DuplicateScanPair.key_a,
                DuplicateScanPair.key_b,
                DuplicateScanPair.estimated_avoidable_cents,
            ),
        )
    }
    missing = [
        pair for pair, decision in decisions.items()
        if decision == Decision.CONFIRMED and pair not in kept
    ]  # fmt: skip
    keys = sorted({key for pair in (*kept, *missing) for key in pair})
    found: dict[str, _PairSide] = {}
    for start in range(0, len(keys), 500):
        for row in _rows(
            db,
            select(Purchase.award_key, *_PAIR_COLUMNS).where(
                col(Purchase.award_key).in_(keys[start : start + 500])
            ),
        ):
            found[row[0]] = _PairSide(*row[1:])
    pairs: dict[tuple[str, str], tuple[int, _PairSide, _PairSide]] = {}
    for (key_a, key_b), cents in kept.items():
        if key_a in found and key_b in found:
            pairs[(key_a, key_b)] = (cents, found[key_a], found[key_b])
    for key_a, key_b in missing:
        if key_a in found and key_b in found:
            pa, pb = found[key_a], found[key_b]
            pairs[(key_a, key_b)] = (_avoidable(pa, pb), pa, pb)
    facts = []
    for pair, (cents, pa, pb) in sorted(pairs.items()):
        decision = decisions.get(pair)
        if decision is not None and decision != Decision.CONFIRMED:
            continue  # dismissed since the scan kept it
        if not (_in_scope(pa, scope) or _in_scope(pb, scope)):
            continue
        if decision == Decision.CONFIRMED:
            ended = any(p.current_end_on is not None and p.current_end_on < today for p in (pa, pb))
            state = roi.DuplicateState.RESOLVED if ended else roi.DuplicateState.CONFIRMED
        else:
            state = roi.DuplicateState.FOUND
        facts.append(roi.DuplicateFact(state, cents))
    return tuple(facts)


def _opportunities(db: Session, scope: _Scope) -> tuple[roi.Opportunity, ...]:
    """Kept duplicate clusters and consolidation candidates that involve the scope.

    In scope: the division is among the group's divisions, every vendor word is in the group's
    vendor name, and the group's purchases run during the period.
    """
    rows = db.exec(
        select(
            DuplicateScanGroup.divisions,
            DuplicateScanGroup.vendor,
            DuplicateScanGroup.product,
            DuplicateScanGroup.total_cents,
            DuplicateScanGroup.estimated_avoidable_cents,
            DuplicateScanGroup.first_start_on,
            DuplicateScanGroup.last_end_on,
        )
    ).all()
    words = [w.replace("\\", "") for w in scope.vendor_words]
    found = []
    for divisions, vendor, product, total, avoidable, first, last in rows:
        if scope.division_code is not None and scope.division_code not in divisions:
            continue
        if any(word not in vendor.lower() for word in words):
            continue
        period = scope.period
        if period is not None and (
            (first is not None and first > period.end) or (last is not None and last < period.start)
        ):
            continue
        found.append(roi.Opportunity(vendor, product, tuple(divisions), int(total), int(avoidable)))
    return tuple(found)


_PAIR_COLUMNS = (
    Purchase.division_id,
    Purchase.vendor_id,
    Purchase.obligated_cents,
    Purchase.start_on,
    Purchase.last_action_on,
    Purchase.current_end_on,
)


@dataclass(frozen=True)
class _PairSide:
    """What a duplicate pair's figures need of one of its purchases."""

    division_id: int
    vendor_id: int
    obligated_cents: int
    start_on: date | None
    last_action_on: date | None
    current_end_on: date | None


def _in_scope(purchase: _PairSide, scope: _Scope) -> bool:
    if scope.division_id is not None and purchase.division_id != scope.division_id:
        return False
    if scope.vendor_ids is not None and purchase.vendor_id not in scope.vendor_ids:
        return False
    if scope.period is not None:
        return purchase.start_on is not None and scope.period.contains(purchase.start_on)
    return True


def _pop(purchase: _PairSide) -> tuple[date, date] | None:
    start = purchase.start_on or purchase.last_action_on
    if start is None:
        return None
    return start, max(purchase.current_end_on or start, start)


def _avoidable(a: _PairSide, b: _PairSide) -> int:
    pop_a, pop_b = _pop(a), _pop(b)
    if pop_a is None or pop_b is None:
        return 0
    return pair_avoidable_cents(
        annualised_cents(a.obligated_cents, *pop_a),
        annualised_cents(b.obligated_cents, *pop_b),
        overlap_days(*pop_a, *pop_b),
    )


__all__ = [
    "RoiFilters",
    "RoiView",
    "division_scope",
    "document",
    "fiscal_years_with_data",
    "parse_filters",
    "require_reports",
    "roi_report",
]
