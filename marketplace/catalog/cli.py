"""`marketplace catalog import|export|validate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import marketplace.catalog.jobs  # noqa: F401  (registers the harvest job for `marketplace worker`)
from marketplace.cli import EXTENSIONS, CommandError, emit_json
from marketplace.settings import Settings

CLI_ACTOR = "cli: marketplace catalog import"


def add_commands(sub: Any) -> None:
    catalog = sub.add_parser("catalog", help="catalog harvest and export").add_subparsers(
        dest="catalog_command", required=True
    )
    importer = catalog.add_parser("import", help="harvest a data.json file or URL")
    importer.add_argument("source", help="a file path or an http(s) URL")
    importer.add_argument(
        "--source", dest="key", help="the harvest source's key (default: URL or file name)"
    )
    importer.add_argument("--division", help="division that owns the source (code)")
    importer.add_argument("--json", action="store_true")
    importer.set_defaults(handler=import_catalog)

    exporter = catalog.add_parser("export", help="write the catalog as DCAT-US")
    exporter.add_argument("-o", "--output", help="file to write (default: stdout)")
    exporter.add_argument("--format", default="dcat-us-1.1", choices=["dcat-us-1.1", "dcat-us-3.0"])
    exporter.set_defaults(handler=export_catalog)

    validate = catalog.add_parser(
        "validate", help="report listings that cannot be exported validly"
    )
    validate.add_argument("--format", default="dcat-us-1.1", choices=["dcat-us-1.1", "dcat-us-3.0"])
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=validate_catalog)


def import_catalog(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.accounts import find_division
    from marketplace.catalog.harvest import (
        HarvestError,
        fetch_catalog,
        get_or_create_source,
        harvest_catalog,
    )
    from marketplace.db import Database

    location: str = args.source
    is_url = location.startswith(("http://", "https://"))
    try:
        if is_url:
            data = fetch_catalog(location, allow_private=not settings.is_production)
        else:
            path = Path(location)
            if not path.is_file():
                raise CommandError(f"{location}: no such file")
            data = path.read_bytes()
    except HarvestError as exc:
        raise CommandError(str(exc)) from exc
    key = args.key or (location if is_url else Path(location).name)
    database = Database(settings)
    with database.session() as db:
        division_id = None
        if args.division:
            division = find_division(db, args.division)
            if division is None:
                raise CommandError(f"unknown division {args.division!r}")
            division_id = division.id

        def progress(done: int, total: int, message: str) -> None:
            print(f"\r{message}", end="", file=sys.stderr, flush=True)

        try:
            source = get_or_create_source(
                db, key, url=location if is_url else None, division_id=division_id
            )
            report = harvest_catalog(db, source, data, CLI_ACTOR, progress=progress)
            db.commit()
        except HarvestError as exc:
            db.rollback()
            raise CommandError(f"{location}: {exc}") from exc
        print("", file=sys.stderr)
    summary = report.summary()
    if args.json:
        emit_json(summary)
    else:
        print(
            f"created {summary['created']}, updated {summary['updated']}, unchanged {summary['unchanged']}, "
            f"withdrawn {summary['withdrawn']}, rejected {len(summary['rejected'])}, "
            f"with warnings {summary['warnings']}",
            file=sys.stderr,
        )
    return 0


def export_catalog(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.catalog.export import VERSIONS, ExportReport, stream_export
    from marketplace.db import Database

    database = Database(settings)
    report = ExportReport()
    with database.session() as db:
        chunks = stream_export(
            db, VERSIONS[args.format], report, catalog_id=f"{settings.public_base_url}/data.json"
        )
        if args.output:
            with open(args.output, "w", encoding="utf-8") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        else:
            for chunk in chunks:
                sys.stdout.write(chunk)
    print(f"exported {report.exported} listings; left out {len(report.skipped)}", file=sys.stderr)
    return 0


def validate_catalog(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.catalog.export import VERSIONS, validation_report
    from marketplace.db import Database

    database = Database(settings)
    with database.session() as db:
        report = validation_report(db, VERSIONS[args.format])
    if args.json:
        emit_json({"valid": report.exported, "left_out": report.skipped})
    else:
        print(f"{report.exported} valid, {len(report.skipped)} left out", file=sys.stderr)
        for item in report.skipped:
            print(f"- {item['identifier']}: {'; '.join(item['errors'])}", file=sys.stderr)
    return 0


EXTENSIONS.append(add_commands)
