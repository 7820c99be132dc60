"""The ROI pages under /procurement/reports: the dashboard, its PDF, CSV and JSON, the definitions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Template

from marketplace import accounts
from marketplace.catalog.models import ListingKind
from marketplace.guards import signed_in
from marketplace.memo import KeptResults
from marketplace.models import Role
from marketplace.types import utcnow
from marketplace.web import DbSession, is_htmx, page_or_partial, principal, render
from procurement import roi
from procurement.charts import data_table, render_svg, summarise
from procurement.pdf import render_report_pdf
from procurement.services import roi as roi_service
from procurement.services.common import today_at_hhs
from procurement.services.roi import csv_text, report_document

QUARTERS = [
    ("1", "Q1 (Oct–Dec)"),
    ("2", "Q2 (Jan–Mar)"),
    ("3", "Q3 (Apr–Jun)"),
    ("4", "Q4 (Jul–Sep)"),
]


def _today() -> date:
    return today_at_hhs(utcnow())


@dataclass(frozen=True)
class ChartView:
    """A chart as the page shows it: the inline SVG, its summary and its data table."""

    chart_id: str
    title: str
    svg: str
    summary: str
    table: dict[str, Any]


def chart_views(report: roi.RoiReport) -> tuple[ChartView, ...]:
    """Every chart of the report drawn as accessible SVG, with its table alternative.

    Drawn once per report: while the records are unchanged, the report is the one kept by the
    service, and so are its drawings (the page and its htmx fragment both show them).
    """
    kept = _drawn.get(id(report))
    if kept is not None and kept[0] is report:
        return kept[1]
    views = tuple(
        ChartView(
            chart.chart_id,
            chart.data.title,
            render_svg(chart.kind, chart.data, chart_id=chart.chart_id),
            summarise(chart.data),
            dict(data_table(chart.data)),
        )
        for chart in report.charts
    )
    # The report is kept with its drawings: its id cannot be reused by another report meanwhile.
    _drawn.put(id(report), (report, views))
    return views


_drawn: KeptResults[tuple[roi.RoiReport, tuple[ChartView, ...]]] = KeptResults(
    roi_service.CACHE_SIZE
)


def _filename(view: roi_service.RoiView, extension: str) -> str:
    parts = ["roi", view.period_label.replace(" ", "-"), view.division or "HHS"]
    return "-".join(parts).lower() + f".{extension}"


class RoiController(Controller):
    path = "/reports"
    guards = [signed_in]

    def _view(
        self, request: Request, db: DbSession, values: tuple[str, ...]
    ) -> roi_service.RoiView:
        filters, errors = roi_service.parse_filters(*values)
        view = roi_service.roi_report(db, principal(request), filters, today=_today())
        if errors:
            view = roi_service.RoiView(
                view.filters,
                view.division,
                view.report,
                {**errors, **view.errors},
                view.notes,
                view.today,
                view.vendor_names,
            )
        return view

    def _page(self, request: Request, db: DbSession, view: roi_service.RoiView) -> Template:
        user = principal(request)
        leadership = user is not None and Role.LEADERSHIP in user.roles
        divisions = [(d.code, f"{d.code}: {d.name}") for d in accounts.list_divisions(db)]
        years = roi_service.fiscal_years_with_data(db)
        if view.filters.fiscal_year and view.filters.fiscal_year not in years:
            years = sorted({*years, view.filters.fiscal_year}, reverse=True)
        context = {
            "view": view,
            "report": view.report,
            "figures": view.report.figures,
            "headline": roi.HEADLINE,
            "labels": roi.LABELS,
            "definitions": roi.DEFINITIONS,
            "format_figure": roi.format_figure,
            "charts": chart_views(view.report),
            "tables": roi.report_tables(view.report),
            "query": view.filters.query_string(),
            "years": [(str(y), f"FY{y}") for y in years],
            "quarters": QUARTERS,
            "divisions": divisions,
            "kinds": [(k.value, k.label) for k in ListingKind],
            "leadership": leadership,
            "errors": view.errors,
        }
        status = 422 if view.errors else 200
        return page_or_partial(
            request,
            "procurement/roi.html",
            "procurement/_roi_report.html",
            context,
            status_code=200 if is_htmx(request) else status,
        )

    @get("/roi", name="roi", sync_to_thread=True)
    def dashboard(
        self,
        request: Request,
        db: DbSession,
        fiscal_year: FromQuery[str] = "",
        quarter: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        kind: FromQuery[str] = "",
    ) -> Template:
        """The ROI dashboard; the report alone (an htmx fragment) when the filters change."""
        view = self._view(request, db, (fiscal_year, quarter, division, vendor, kind))
        return self._page(request, db, view)

    @get("/roi.pdf", name="roi_pdf", sync_to_thread=True)
    def pdf(
        self,
        request: Request,
        db: DbSession,
        fiscal_year: FromQuery[str] = "",
        quarter: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        kind: FromQuery[str] = "",
    ) -> Response[bytes] | Template:
        """The dashboard as a PDF with the same filters."""
        view = self._view(request, db, (fiscal_year, quarter, division, vendor, kind))
        if view.errors:
            return self._page(request, db, view)
        return Response(
            render_report_pdf(report_document(view)),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{_filename(view, "pdf")}"'},
        )

    @get("/roi.csv", name="roi_csv", sync_to_thread=True)
    def csv_export(
        self,
        request: Request,
        db: DbSession,
        fiscal_year: FromQuery[str] = "",
        quarter: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        kind: FromQuery[str] = "",
    ) -> Response[str] | Template:
        """The figures and every chart's data as CSV with the same filters."""
        view = self._view(request, db, (fiscal_year, quarter, division, vendor, kind))
        if view.errors:
            return self._page(request, db, view)
        return Response(
            csv_text(view),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_filename(view, "csv")}"'},
        )

    @get("/roi.json", name="roi_json", sync_to_thread=True)
    def json_export(
        self,
        request: Request,
        db: DbSession,
        fiscal_year: FromQuery[str] = "",
        quarter: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        kind: FromQuery[str] = "",
    ) -> Response[str] | Template:
        """The filters, figures and definitions as JSON (the CLI's document)."""
        view = self._view(request, db, (fiscal_year, quarter, division, vendor, kind))
        if view.errors:
            return self._page(request, db, view)
        return Response(
            json.dumps(roi_service.document(view), indent=2),
            media_type="application/json",
        )

    @get("/definitions", name="roi_definitions", sync_to_thread=True)
    def definitions(self, request: Request) -> Template:
        """How every ROI figure is computed, for auditors."""
        return render(
            request,
            "procurement/roi_definitions.html",
            {"definitions": roi.DEFINITIONS, "labels": roi.LABELS},
        )
