"""`marketplace invoices generate|list|render`: chargeback invoices from the command line.

The CLI acts as "cli: marketplace invoices …", a trusted caller that sees and generates for every
division; `--json` prints exactly one document on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from marketplace.cli import EXTENSIONS, CommandError, emit_json
from marketplace.settings import Settings

GENERATE_ACTOR = "cli: marketplace invoices generate"
READ_ACTOR = "cli: marketplace invoices"


def add_commands(sub: Any) -> None:
    invoices = sub.add_parser("invoices", help="chargeback invoices").add_subparsers(
        dest="invoices_command", required=True
    )
    generate = invoices.add_parser(
        "generate", help="draft the cost-share invoices of a period (idempotent)"
    )
    generate.add_argument("--period", required=True, help="fiscal period, e.g. FY26Q1 or FY2026")
    generate.add_argument("--json", action="store_true")
    generate.set_defaults(handler=invoices_generate)

    listing = invoices.add_parser("list", help="every invoice: number, status, total, divisions")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=invoices_list)

    render = invoices.add_parser("render", help="write an invoice as PDF")
    render.add_argument("number", help="e.g. HHS-FY26-000123")
    render.add_argument("-o", "--output", type=Path, required=True, help="the PDF file to write")
    render.set_defaults(handler=invoices_render)


def invoices_generate(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.accounts import ValidationFailed
    from marketplace.db import Database
    from marketplace.templating import money
    from procurement.services.invoices import generate_invoices

    database = Database(settings)
    try:
        with database.session() as db:
            report = generate_invoices(db, GENERATE_ACTOR, args.period)
    except ValidationFailed as exc:
        raise CommandError(exc.errors.get("period", str(exc))) from exc
    finally:
        database.dispose()
    if args.json:
        emit_json(report.as_json())
    stream = sys.stderr if args.json else sys.stdout
    print(
        f"{report.period.label}: created {len(report.created)} invoice"
        f"{'' if len(report.created) == 1 else 's'}, {report.existing} already invoiced",
        file=stream,
    )
    for item in report.created:
        print(
            f"{item.number}  {item.from_division} -> {item.to_division}  "
            f"{money(item.total_cents)}  {item.licence_name}",
            file=stream,
        )
    for problem in report.problems:
        print(f"not billed: {problem}", file=sys.stderr)
    return 0


def invoices_list(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.db import Database
    from marketplace.templating import money
    from procurement.services.invoices import summary_rows

    database = Database(settings)
    try:
        with database.session() as db:
            rows = summary_rows(db)
    finally:
        database.dispose()
    if args.json:
        emit_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['number']}  {row['status']:<6}  {row['from_division']} -> "
            f"{row['to_division']}  {money(row['total_cents'])}"
        )
    return 0


def invoices_render(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.accounts import NotFound
    from marketplace.db import Database
    from procurement.services.invoices import invoice_pdf

    database = Database(settings)
    try:
        with database.session() as db:
            number, pdf = invoice_pdf(db, READ_ACTOR, args.number)
    except NotFound as exc:
        raise CommandError(f"no invoice numbered {args.number!r}") from exc
    finally:
        database.dispose()
    try:
        args.output.write_bytes(pdf)
    except OSError as exc:
        raise CommandError(f"{args.output}: {exc.strerror}") from exc
    print(f"wrote {number} to {args.output} ({len(pdf):,} bytes)", file=sys.stderr)
    return 0


EXTENSIONS.append(add_commands)
