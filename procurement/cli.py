"""`marketplace purchases import FILE` and `marketplace purchases export`, registered as extensions.

The import runs in the foreground (progress on stderr) as "cli: marketplace purchases import", which
may import every division's rows; `--json` prints exactly the outcome document.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from marketplace.cli import EXTENSIONS, CommandError, emit_json
from marketplace.settings import Settings

IMPORT_ACTOR = "cli: marketplace purchases import"
EXPORT_ACTOR = "cli: marketplace purchases export"


def add_commands(sub: Any) -> None:
    from procurement.services.imports import FORMATS

    purchases = sub.add_parser("purchases", help="procurement register").add_subparsers(
        dest="purchases_command", required=True
    )
    load = purchases.add_parser("import", help="import an award file (USAspending, FPDS, template)")
    load.add_argument("file", type=Path)
    load.add_argument("--format", default="auto", choices=list(FORMATS))
    load.add_argument("--division", default=None, help="division code for rows that name none")
    load.add_argument(
        "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    load.add_argument("--json", action="store_true")
    load.add_argument(
        "--no-scan",
        action="store_true",
        help="do not rescan the new and changed purchases for duplicates afterwards",
    )
    load.set_defaults(handler=purchases_import)

    export = purchases.add_parser("export", help="every purchase as CSV")
    export.add_argument("-o", "--output", type=Path, default=None, help="file (default: stdout)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(handler=purchases_export)


EXTENSIONS.append(add_commands)


class _StderrProgress:
    """Progress lines on stderr, one per tenth of the file."""

    def __init__(self) -> None:
        self.last = -1

    def __call__(self, done: int, total: int | None, message: str) -> None:
        tenth = (10 * done // total) if total else 0
        if tenth != self.last:
            self.last = tenth
            print(f"{message}: {tenth * 10}%", file=sys.stderr, flush=True)


def purchases_import(args: argparse.Namespace, settings: Settings) -> int:
    import procurement.jobs  # noqa: F401  (so a worker started from this CLI knows the job)
    from marketplace.db import Database
    from procurement.services.imports import ImportOptions, ImportRefused, import_awards

    path: Path = args.file
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    database = Database(settings)
    options = ImportOptions(
        filename=path.name,
        fmt=args.format,
        division=args.division,
        dry_run=args.dry_run,
        max_bytes=settings.max_upload_bytes,
    )
    try:
        with database.session() as db:
            outcome = import_awards(db, IMPORT_ACTOR, path, options, on_progress=_StderrProgress())
        if not (args.dry_run or args.no_scan) and (outcome.created or outcome.updated):
            _rescan(database)
    except ImportRefused as exc:
        raise CommandError(f"{path.name}: {exc.message}") from exc
    finally:
        database.dispose()
    if args.json:
        emit_json(outcome.summary())
    else:
        print(
            f"{path.name} ({outcome.format}{', dry run' if outcome.dry_run else ''}): "
            f"{outcome.created} created, {outcome.updated} updated, {outcome.unchanged} unchanged, "
            f"{outcome.skipped} skipped, {len(outcome.rejected)} rejected.",
            file=sys.stderr,
        )
        for row in outcome.rejected[:50]:
            print(f"  {row}", file=sys.stderr)
        if len(outcome.rejected) > 50:
            print(f"  … and {len(outcome.rejected) - 50} more rejected rows", file=sys.stderr)
    return 0


def _rescan(database: Any) -> None:
    """The incremental duplicate scan, inline, after the import's transaction has committed.

    Inline rather than queued: the command line is used without a worker (scripts, the demo, the
    evaluation), and the kept duplicate results should be current when the command returns. A
    failed scan keeps the previous results and does not fail the import, which is done.
    """
    from procurement.duplicate_scans import refresh_changed

    started = time.perf_counter()
    try:
        with database.session() as db:
            scanned = refresh_changed(db, trigger=f"{IMPORT_ACTOR} (after the import)")
    except Exception as exc:  # the import stands; the next scan catches up
        print(f"duplicate scan failed, previous results kept: {exc}", file=sys.stderr)
        return
    if scanned is not None:
        run = scanned.run
        print(
            f"duplicate scan ({run.kind}, {run.changed:,} purchases rescanned): {run.pairs:,} "
            f"pairs kept, {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )


def purchases_export(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.db import Database
    from marketplace.types import utcnow
    from procurement.services.common import today_at_hhs
    from procurement.services.purchases import PurchaseQuery, export_csv

    if args.json and not args.output:
        raise CommandError("--json writes the summary to stdout: give the CSV file with -o")
    database = Database(settings)
    rows = 0
    try:
        with database.session() as db:
            chunks = export_csv(db, EXPORT_ACTOR, PurchaseQuery(), today=today_at_hhs(utcnow()))
            if args.output:
                with args.output.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                        rows += 1
            else:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                    rows += 1
    finally:
        database.dispose()
    purchases = max(rows - 1, 0)
    if args.json:
        emit_json({"output": str(args.output), "purchases": purchases})
    else:
        print(f"Exported {purchases} purchase(s).", file=sys.stderr)
    return 0
