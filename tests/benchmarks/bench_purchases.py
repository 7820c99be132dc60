"""Benchmark: import 100,000 USAspending rows, then search + facets over the purchases by HTTP.

Run from the project root: `python tests/benchmarks/bench_purchases.py [--rows N] [--postgres URL]
[--workdir DIR [--reuse]]`.
SQLite always; PostgreSQL when `--postgres` (or BENCH_DATABASE_URL) names a database the benchmark
may empty (its public schema is dropped and rebuilt). Each import runs in a fresh interpreter so its
peak resident memory is its own. `--workdir` keeps the file and the SQLite database in DIR instead
of a temporary folder; with `--reuse`, databases that already hold purchases are migrated to head
and timed without importing again (a build takes minutes; the import figures are then not shown).
Targets: import <= 60 s and <= 500 MB; list p95 <= 100 ms. The list is timed twice: searches
repeated (their summaries kept while the register is unchanged, as in use) and each request the
first of its search (every summary forgotten before it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

SEARCHES = [
    "",
    "q=subscription",
    "q=vendor+12",
    "division=NIH",
    "status=active",
    "status=expired&division=CDC",
    "psc=7A21",
    "licence=no",
    "q=data&sort=amount",
    "vendor=17",
    "q=75N950&page=3",
    "division=FDA&psc=DA01&sort=ending",
]


def import_once(database_url: str, path: Path) -> dict[str, float | int]:
    """In this process: import the file and report seconds, peak memory and counts."""
    from marketplace.db import Database
    from procurement.services.imports import ImportOptions, import_awards
    from tests.support import settings_for

    database = Database(settings_for(database_url, Path(tempfile.mkdtemp())))
    started = time.perf_counter()
    with database.session() as db:
        outcome = import_awards(
            db,
            "cli: bench",
            path,
            ImportOptions(filename=path.name, max_bytes=1 << 31),
        )
    seconds = time.perf_counter() - started
    database.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": round(seconds, 1),
        "peak_mb": round(peak_mb),
        "created": outcome.created,
        "unchanged": outcome.unchanged,
        "rejected": len(outcome.rejected),
    }


def database_url(url: str, workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.db'}" if url.startswith("sqlite") else url


def ensure_postgres_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it is missing (never the tests' one)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    if parsed.database in (None, "", "test", "postgres"):
        raise SystemExit("--postgres must name a database of its own, such as /bench")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def purchases_held(url: str) -> int:
    """How many purchases a migrated database holds; 0 when it has no register yet."""
    from sqlalchemy import create_engine, inspect, text

    ensure_postgres_database(url)
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("purchase"):
            return 0
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM purchase")).scalar_one()
    finally:
        engine.dispose()


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from marketplace.migrate import upgrade

    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        ensure_postgres_database(url)
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def import_in_child(url: str, path: Path) -> dict[str, float | int]:
    result = subprocess.run(
        [sys.executable, __file__, "--child-import", url, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def list_timings(url: str, workdir: Path, rounds: int, *, first: bool) -> list[float]:
    """Milliseconds per purchases-page request (search + facets + rendering) through the app.

    Args:
        first: forget the kept search summaries before every request, so that each one counts
            its matches afresh (the first request of a search after the register changed);
            otherwise the rounds repeat the searches, as people page and come back.
    """
    from litestar.testing import TestClient
    from sqlmodel import select

    from marketplace.app import create_app
    from marketplace.db import Database
    from marketplace.models import User
    from procurement.services.purchases import clear_summary_cache
    from tests.support import login, make_user, settings_for

    settings = dataclasses.replace(settings_for(url, workdir / "var"), log_level="WARNING")
    database = Database(settings)
    with database.session() as db:
        if db.exec(select(User).where(User.email == "bench@hhs.gov")).first() is None:
            make_user(db, "bench@hhs.gov", division="NIH")
    database.dispose()
    timings: list[float] = []
    with TestClient(app=create_app(settings)) as client:
        login(client, "bench@hhs.gov")
        for search in SEARCHES:  # warm-up
            client.get(f"/procurement/purchases?{search}", headers={"HX-Request": "true"})
        for _ in range(rounds):
            for search in SEARCHES:
                if first:
                    clear_summary_cache()
                started = time.perf_counter()
                response = client.get(
                    f"/procurement/purchases?{search}", headers={"HX-Request": "true"}
                )
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text[:500]
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--workdir", type=Path, help="keep the file and databases here")
    parser.add_argument("--reuse", action="store_true", help="time databases already built")
    parser.add_argument("--child-import", nargs=2, metavar=("URL", "FILE"))
    args = parser.parse_args()
    if args.child_import:
        url, path = args.child_import
        print(json.dumps(import_once(url, Path(path))))
        return
    from bench_importers import write_usaspending

    engines = {"sqlite": "sqlite://"}
    if args.postgres:
        engines["postgresql"] = args.postgres
    machine = f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"machine: {machine}")
    print(f"{'engine':<11} {'measure':<34} {'data':>14} {'p50':>9} {'p95':>9} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / "Contracts_PrimeAwardSummaries_bench.csv"
        for engine, url in engines.items():
            url = database_url(url, workdir)
            held = purchases_held(url) if args.reuse else 0
            if held:
                from marketplace.migrate import upgrade

                upgrade(url)
            else:
                write_usaspending(path, args.rows)
                fresh_database(url)
                first = import_in_child(url, path)
                again = import_in_child(url, path)
                held = first["created"]
                print(
                    f"{engine:<11} {'import (new purchases)':<34} {args.rows:>9,} rows "
                    f"{first['seconds']:>8}s {'':>9} {first['peak_mb']:>8}"
                )
                print(
                    f"{engine:<11} {'re-import (all unchanged)':<34} {args.rows:>9,} rows "
                    f"{again['seconds']:>8}s {'':>9} {again['peak_mb']:>8}"
                )
            for label, uncached in (("repeated", False), ("first request", True)):
                timings = list_timings(url, workdir, args.rounds, first=uncached)
                print(
                    f"{engine:<11} {'list, search + facets, ' + label:<34} "
                    f"{held:>6,} purchases {statistics.median(timings):>7.1f}ms "
                    f"{percentile(timings, 0.95):>7.1f}ms {'':>8}"
                )


if __name__ == "__main__":
    main()
