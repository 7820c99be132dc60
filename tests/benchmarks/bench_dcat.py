"""Benchmark marketplace.dcat: harvest of healthdata.gov and a streamed 100,000-listing export.

Run from the project root: `python tests/benchmarks/bench_dcat.py [--listings N]`.
Targets: harvest (parse + validate + normalise) of 1625 datasets well under 2 s; a 1.1 export
of 100,000 listings within 15 s and 300 MB peak.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from marketplace.dcat import (
    DatasetRecord,
    Distribution,
    harvest_dataset,
    parse_catalog,
    stream_catalog,
)

HEALTHDATA = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "datajson"
    / "healthdata.gov.data.2021-06-01.json"
)
TEMPLATE = DatasetRecord(
    identifier="",
    title="Synthetic listing",
    description="A synthetic listing used to measure the streamed DCAT-US export. " * 3,
    keywords=("benchmark", "synthetic", "health"),
    modified="2024-05-01 13:05",
    publisher_name="Centers for Disease Control and Prevention",
    contact_name="Data steward",
    contact_email="mailto:data@cdc.gov",
    access_level="public",
    bureau_codes=("009:20",),
    accrual_periodicity="Annual",
    temporal="2018",
    license="https://www.usa.gov/government-works",
    landing_page="https://data.cdc.gov/",
    distributions=(
        Distribution(download_url="https://data.cdc.gov/a.csv", media_type="text/csv"),
        Distribution(access_url="https://data.cdc.gov/api"),
    ),
)


def synthetic(count: int) -> Iterator[DatasetRecord]:
    """Listings built one at a time, as rows would come from a database cursor."""
    for number in range(count):
        yield replace(TEMPLATE, identifier=f"cdc-{number:06d}", title=f"Synthetic {number}")


def bench_harvest(repeats: int = 3) -> tuple[int, float]:
    data = HEALTHDATA.read_bytes()
    best = float("inf")
    count = 0
    for _ in range(repeats):
        start = time.perf_counter()
        parsed = parse_catalog(data)
        results = [harvest_dataset(raw, parsed.version) for raw in parsed.datasets]
        best = min(best, time.perf_counter() - start)
        count = len(results)
    return count, best


def bench_stream(count: int, version: str) -> tuple[float, int, float, int]:
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in stream_catalog(synthetic(count), version=version))
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    for _ in stream_catalog(synthetic(count), version=version):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # ru_maxrss is in KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1 << 20) if sys.platform == "darwin" else rss / 1024
    return elapsed, peak, rss_mb, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    args = parser.parse_args()
    print(f"machine   {platform.machine()} {platform.processor() or ''} x{os.cpu_count()}")
    print(f"python    {platform.python_version()} on {platform.system()} {platform.release()}")
    print()
    print(f"{'benchmark':<42}{'size':>10}{'time s':>9}{'peak MB':>9}{'rss MB':>9}")
    if HEALTHDATA.is_file():
        count, seconds = bench_harvest()
        print(f"{'harvest healthdata.gov (best of 3)':<42}{count:>10}{seconds:>9.2f}")
    else:
        print(f"harvest skipped: {HEALTHDATA} not found")
    for version in ("1.1", "3.0"):
        elapsed, peak, rss_mb, size = bench_stream(args.listings, version)
        label = f"stream {version} export ({size / 1e6:.0f} MB JSON)"
        print(f"{label:<42}{args.listings:>10}{elapsed:>9.2f}{peak / 1e6:>9.1f}{rss_mb:>9.0f}")


if __name__ == "__main__":
    main()
