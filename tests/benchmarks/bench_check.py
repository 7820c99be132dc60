"""Benchmark: check before you buy (`procurement.duplicates.check_need`) over 100,000 purchases.

Run from the project root: `python tests/benchmarks/bench_check.py [--rows N] [--requests N]
[--postgres URL]`. The register is the synthetic one of bench_matching.py (vendor families with
subsidiaries, former names and typos, products bought by several divisions, filler services),
written as our CSV template and imported. Each check runs in its own session, as a request of
/procurement/check or `marketplace duplicates check` does, with the vendor and description of a
purchase sampled from the register (after one untimed pass). PostgreSQL when `--postgres` names a
database the benchmark may empty (its public schema is dropped and rebuilt). Target: p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

TEMPLATE_HEADER = [
    "piid",
    "parent_piid",
    "division",
    "vendor",
    "vendor_uei",
    "product",
    "description",
    "award_type",
    "psc",
    "naics",
    "start",
    "current_end",
    "potential_end",
    "obligated",
    "current_value",
    "potential_value",
]


def write_template(path: Path, records: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TEMPLATE_HEADER)
        for r in records:
            writer.writerow(
                [
                    r.key, r.parent_piid or "", r.division, r.vendor_name, r.vendor_uei or "",
                    "", r.description, "PURCHASE ORDER", r.psc or "", r.naics or "",
                    r.start.isoformat(), r.end.isoformat() if r.end else "", "",
                    f"{r.obligated_cents / 100:.2f}", "", "",
                ]
            )  # fmt: skip


def check_timings(url: str, workdir: Path, needs: list) -> tuple[list[float], int]:
    """Milliseconds per check_need call, one session each; and how many found a purchase."""
    from marketplace.db import Database
    from procurement.duplicates import check_need
    from tests.support import settings_for

    database = Database(settings_for(url, workdir / "var"))
    for need in needs:  # warm-up: parsers' caches, connection, page cache
        with database.session() as db:
            check_need(db, need)
    timings: list[float] = []
    found = 0
    for need in needs:
        started = time.perf_counter()
        with database.session() as db:
            matches = check_need(db, need)
        timings.append((time.perf_counter() - started) * 1000)
        found += any(m["kind"] == "purchase" for m in matches)
    database.dispose()
    return timings, found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument(
        "--workdir", type=Path, help="keep the SQLite database here (default: temp)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases of an earlier --workdir run"
    )
    args = parser.parse_args()
    from bench_matching import generate
    from bench_purchases import database_url, fresh_database, import_in_child, purchases_held

    from procurement.matching import NeedQuery

    engines = {"sqlite": "sqlite://"}
    if args.postgres:
        engines["postgresql"] = args.postgres
    records, _ = generate(args.rows)
    rng = random.Random(17)
    needs = [
        NeedQuery(r.vendor_name, r.description, division=rng.choice(("CDC", "NIH", "FDA")))
        for r in rng.sample(records, args.requests)
    ]
    machine = f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"machine: {machine}")
    print(f"{'engine':<11} {'measure':<30} {'data':>18} {'p50':>9} {'p95':>9} {'found':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "purchases.csv"
        if not args.reuse:
            write_template(path, records)
        for engine, url in engines.items():
            url = database_url(url, workdir)
            if not args.reuse:
                fresh_database(url)
                import_in_child(url, path)
            timings, found = check_timings(url, workdir, needs)
            print(
                f"{engine:<11} {'check before you buy':<30} "
                f"{purchases_held(url):>8,} purchases {statistics.median(timings):>7.1f}ms "
                f"{percentile(timings, 0.95):>7.1f}ms {found:>3}/{len(needs)}"
            )


if __name__ == "__main__":
    main()
