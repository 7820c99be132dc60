"""`marketplace duplicates scan|check`: duplicate procurements and check-before-you-buy."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from marketplace.cli import EXTENSIONS, CommandError, emit_json
from marketplace.settings import Settings
from marketplace.templating import money


def add_commands(sub: Any) -> None:
    duplicates = sub.add_parser(
        "duplicates", help="duplicate procurements across divisions"
    ).add_subparsers(dest="duplicates_command", required=True)
    scan = duplicates.add_parser("scan", help="find cross-division duplicates in the register")
    scan.add_argument(
        "--threshold", type=float, default=None, help="score from 0 to 1 (default: the matcher's)"
    )
    scan.add_argument("--json", action="store_true")
    scan.set_defaults(handler=run_scan)

    check = duplicates.add_parser("check", help="what already covers a planned purchase")
    check.add_argument("--vendor", required=True)
    check.add_argument("--text", required=True, help="product or description of the need")
    check.add_argument("--division", help="the buying division (code)")
    check.add_argument("--amount", type=float, help="planned amount in dollars")
    check.add_argument("--start", type=date.fromisoformat, help="planned start, YYYY-MM-DD")
    check.add_argument("--end", type=date.fromisoformat, help="planned end, YYYY-MM-DD")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=run_check)


def run_scan(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.db import Database
    from procurement.duplicate_scans import full_scan
    from procurement.duplicates import scan, scan_document
    from procurement.matching import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    if not 0 <= threshold <= 1:
        raise CommandError("--threshold must be between 0 and 1")
    database = Database(settings)
    try:
        with database.session() as db:
            if threshold == DEFAULT_THRESHOLD:
                # A fresh scan that also replaces the kept results the pages show.
                outcome = full_scan(db, trigger="cli: marketplace duplicates scan")
                assert outcome.result is not None and outcome.loaded is not None
                result, loaded = outcome.result, outcome.loaded
            else:
                result, loaded = scan(db, threshold=threshold)  # another threshold: not kept
    finally:
        database.dispose()
    document = scan_document(result, loaded)
    if args.json:
        emit_json(document)
        return 0
    print(
        f"{len(document['pairs'])} duplicate pairs in {len(document['clusters'])} clusters "
        f"among {len(loaded.records)} purchases",
        file=sys.stderr,
    )
    for cluster in document["clusters"]:
        print(
            f"- {', '.join(cluster['divisions'])}: {', '.join(cluster['piids'])}; total "
            f"{money(cluster['total_cents'])}, avoidable {money(cluster['estimated_avoidable_cents'])}",
            file=sys.stderr,
        )
    return 0


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    from marketplace.accounts import find_division
    from marketplace.db import Database
    from procurement.duplicates import check_need
    from procurement.matching import NeedQuery

    database = Database(settings)
    with database.session() as db:
        division = None
        if args.division:
            found = find_division(db, args.division)
            if found is None:
                raise CommandError(f"unknown division {args.division!r}")
            division = found.code
        need = NeedQuery(
            vendor_name=args.vendor[:300],
            text=args.text[:2000],
            division=division,
            amount_cents=round(args.amount * 100) if args.amount is not None else None,
            start=args.start,
            end=args.end,
        )
        matches = check_need(db, need)
    if args.json:
        emit_json({"matches": matches})
        return 0
    for item in matches:
        print(
            f"{item['score']:.2f} {item['kind']:8} {item.get('piid') or item.get('title', '')}: "
            f"{'; '.join(item['reasons'][:3])}",
            file=sys.stderr,
        )
    return 0


EXTENSIONS.append(add_commands)
