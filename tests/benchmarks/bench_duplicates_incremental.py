"""Benchmark of the kept duplicate scan: full scan of 100,000 purchases, then the incremental scan
after importing 1,000 more, and the duplicates and consolidation pages read from the kept results.

Run from the project root: `flock /tmp/bench.lock python tests/benchmarks/bench_duplicates_incremental.py
[--size 100000] [--new 1000] [--database-url URL]` (default: a fresh SQLite file). Not a pytest test.
The purchases are `bench_matching.generate`'s synthetic register, imported through our own template
format. Each step runs in a fresh interpreter so its peak resident memory is its own; the worker's
incremental scan is timed as `procurement.jobs` runs it (`duplicate_scans.refresh_changed`):
cold (the first job after the worker starts: the matcher's context is built in full) and warm
(a worker that ran the previous scan: `--new` more rows imported, then the refresh job timed),
with its phases (load and compare, context, rescan, save).
Targets: full scan <= 60 s and <= 1 GB; incremental after 1,000 rows <= 5 s.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

HEADER = ["piid", "parent_piid", "division", "vendor", "vendor_uei", "parent_uei", "description",
          "start", "current_end", "obligated", "psc", "naics"]  # fmt: skip


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def write_files(size: int, new: int, folder: Path) -> tuple[Path, Path, Path]:
    """The register without `2 * new` random purchases, without `new` of them, and whole."""
    from bench_matching import generate

    records, _ = generate(size + 2 * new, seed=11)
    held = random.Random(3).sample(records, 2 * new)
    first, second = {r.key for r in held[:new]}, {r.key for r in held[new:]}

    def write(path: Path, rows: list) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(HEADER)
            for r in rows:
                out.writerow([r.key, r.parent_piid or "", r.division, r.vendor_name,
                              r.vendor_uei or "", r.parent_uei or "", r.description,
                              r.start.isoformat(), r.end.isoformat() if r.end else "",
                              f"{r.obligated_cents / 100:.2f}", r.psc or "", r.naics or ""])  # fmt: skip

    paths = folder / "before.csv", folder / "after.csv", folder / "after2.csv"
    write(paths[0], [r for r in records if r.key not in first | second])
    write(paths[1], [r for r in records if r.key not in second])
    write(paths[2], records)
    return paths


def step(name: str, url: str, arg: str = "") -> dict:
    """Run one step in a fresh interpreter and return its JSON report."""
    output = subprocess.run(
        [sys.executable, __file__, "--step", name, "--database-url", url, "--arg", arg],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_step(name: str, url: str, arg: str) -> dict:
    from marketplace.db import Database
    from procurement import duplicate_scans
    from procurement.services.imports import ImportOptions, import_awards
    from tests.support import settings_for

    database = Database(settings_for(url, Path(tempfile.mkdtemp())))
    report: dict = {}
    with database.session() as db:
        started = time.perf_counter()
        if name == "import":
            path = Path(arg)
            outcome = import_awards(
                db, "cli: bench", path, ImportOptions(filename=path.name, max_bytes=1 << 31)
            )
            report = {"created": outcome.created, "updated": outcome.updated}
        elif name == "full":
            done = duplicate_scans.full_scan(db, trigger="bench")
            report = {"pairs": done.run.pairs, "clusters": done.run.clusters}
        elif name == "incremental":
            report = _refresh(db)
        elif name == "warm":
            # The worker: it ran the previous scan (warm context), then an import lands.
            first = duplicate_scans.refresh_changed(db, trigger="bench") or (
                duplicate_scans.full_scan(db, trigger="bench")
            )
            path = Path(arg)
            imported = time.perf_counter()
            import_awards(
                db, "cli: bench", path, ImportOptions(filename=path.name, max_bytes=1 << 31)
            )
            report = {
                "warm-up scan": first.run.kind,
                "import seconds (not counted)": round(time.perf_counter() - imported, 2),
            }
            started = time.perf_counter()
            report.update(_refresh(db))
        report["seconds"] = round(time.perf_counter() - started, 2)
    if name == "pages":
        report = page_timings(database, int(arg or 30))
    database.dispose()
    report["peak_mb"] = _peak_mb()
    return report


def _refresh(db) -> dict:  # type: ignore[no-untyped-def]
    """The refresh job, with the time of each of its phases."""
    from procurement import duplicate_scans

    marks: list[float] = [time.perf_counter()]
    done = duplicate_scans.refresh_changed(
        db, trigger="bench", progress=lambda *_: marks.append(time.perf_counter())
    )
    marks.append(time.perf_counter())
    assert done is not None
    names = ("load and compare", "context", "rescan", "save")
    bounds = [marks[0], *marks[2:]]  # marks[1]: "Loading purchases", at the start
    phases = {n: round(b - a, 2) for n, a, b in zip(names, bounds, bounds[1:], strict=False)}
    return {"kind": done.run.kind, "changed": done.run.changed, "pairs": done.run.pairs, **phases}


def page_timings(database, rounds: int) -> dict:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from marketplace.app import create_app
    from tests.support import login, make_user

    with database.session() as db:
        make_user(db, "bench.leader@hhs.gov", division="OS", roles=("leadership",))
    out: dict = {}
    with TestClient(app=create_app(database.settings)) as client:
        login(client, "bench.leader@hhs.gov")
        for path in ("/procurement/duplicates", "/procurement/consolidation"):
            timings = []
            for i in range(rounds + 1):
                page = "" if i % 3 == 0 else f"?page={1 + i % 7}"
                started = time.perf_counter()
                response = client.get(path + page)
                assert response.status_code == 200, response.status_code
                if i:  # the first request warms the app up
                    timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            out[path] = {
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(timings[max(int(len(timings) * 0.95) - 1, 0)], 1),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--step", default="")
    parser.add_argument("--arg", default="")
    args = parser.parse_args()
    if args.step:
        print(json.dumps(run_step(args.step, args.database_url, args.arg)))
        return
    from marketplace.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="bench-dup-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    if args.database_url:
        from tests.support import reset_postgres

        reset_postgres(url)
    upgrade(url)
    before, after, after2 = write_files(args.size, args.new, folder)
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, "
          f"CPUs {os.cpu_count()}, engine {url.split(':')[0]}")  # fmt: skip
    print(f"import {args.size:,} purchases: {step('import', url, str(before))}")
    print(f"full scan: {step('full', url)}")
    print(f"import {args.new:,} more (and re-read the rest): {step('import', url, str(after))}")
    print(f"incremental scan, cold worker (context built in full): {step('incremental', url)}")
    print(f"incremental scan, warm worker, after importing {args.new:,} more: "
          f"{step('warm', url, str(after2))}")  # fmt: skip
    print(f"pages from the kept results: {step('pages', url, '30')}")


if __name__ == "__main__":
    main()
