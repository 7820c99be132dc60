"""`marketplace reports roi`: the ROI report as PDF, CSV or JSON, for all time or a fiscal period."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from marketplace.cli import EXTENSIONS, CommandError
from marketplace.settings import Settings

CLI_EMAIL = "cli: marketplace reports roi"
FORMATS = ("pdf", "csv", "json")


def add_commands(sub: Any) -> None:
    reports = sub.add_parser("reports", help="leadership reports").add_subparsers(
        dest="reports_command", required=True
    )
    roi = reports.add_parser("roi", help="return on investment: spend, reuse, avoided spend")
    roi.add_argument("--format", choices=FORMATS, required=True)
    roi.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    roi.add_argument("--fiscal-year", default="", help="e.g. 2026 (default: all time)")
    roi.add_argument("--quarter", default="", help="1-4 within --fiscal-year")
    roi.add_argument("--division", default="", help="division code (default: every division)")
    roi.add_argument("--vendor", default="", help="words the vendor's name contains")
    roi.add_argument("--kind", default="", help="listing kind: dataset, code, api, …")
    roi.set_defaults(handler=run_roi)


def run_roi(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import select

    from marketplace.auth import Principal
    from marketplace.db import Database
    from marketplace.models import Division, Role
    from marketplace.types import utcnow
    from procurement.services import roi as roi_service
    from procurement.services.common import today_at_hhs
    from procurement.services.roi import csv_text, report_document

    filters, errors = roi_service.parse_filters(
        str(args.fiscal_year), str(args.quarter), args.division, args.vendor, args.kind
    )
    if errors:
        raise CommandError(" ".join(errors.values()))
    database = Database(settings)
    try:
        with database.session() as db:
            hhs = db.exec(select(Division).where(Division.code == "HHS")).first()
            # The operator of the server reads the whole database anyway: report department-wide.
            actor = Principal(
                id=0,
                email=CLI_EMAIL,
                name="marketplace reports",
                division_id=hhs.id if hhs and hhs.id else 0,
                division_code="HHS",
                roles=frozenset({Role.LEADERSHIP}),
            )
            view = roi_service.roi_report(db, actor, filters, today=today_at_hhs(utcnow()))
    finally:
        database.dispose()
    if view.errors:
        raise CommandError(" ".join(view.errors.values()))
    if args.format == "pdf":
        from procurement.pdf import render_report_pdf

        args.output.write_bytes(render_report_pdf(report_document(view)))
    elif args.format == "csv":
        args.output.write_text(csv_text(view), encoding="utf-8", newline="")
    else:
        import json

        document = roi_service.document(view)
        args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    figures = view.report.figures
    print(
        f"ROI {view.period_label}, {view.division or 'all divisions'}: spend "
        f"{figures['total_spend_cents']} cents, avoided {figures['avoided_spend_cents']} cents, "
        f"{figures['reuse_count']} reuses -> {args.output}",
        file=sys.stderr,
    )
    return 0


EXTENSIONS.append(add_commands)
