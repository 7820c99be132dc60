"""Benchmark the DCAT-US export of 100,000 listings through the database: CLI and /data.json.

Run from the project root: `python tests/benchmarks/bench_catalog_export.py [--rows 100000]
[--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_export]`.

The listings are the rows of ../shared/checks/bench_datasette.py (as in bench_catalog_search.py),
filled out with what a DCAT-US 1.1 record needs to be exported (contact, bureau and program code,
licence, a distribution), loaded into a freshly migrated database of ours. Then, each in a process
of its own so its peak memory is its own: `marketplace catalog export -o FILE` (time and peak
resident memory, VmHWM, of that process) and `GET /data.json` from one uvicorn worker (time to the last
byte, and the server's peak resident memory, which includes the whole app). Each also reports
the CPU seconds of the exporting process, which other work on a shared machine inflates far less
than the elapsed time. `--reuse` exports
the databases of an earlier `--workdir` run again. Target (issue 3):
100,000 listings streamed in ≤ 15 s with peak memory ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_catalog_search import (  # noqa: E402
    BATCH,
    KINDS,
    SEED,
    SOURCES,
    drop_postgres_schema,
    ensure_postgres_database,
    free_port,
    load_harness,
    server,
)

from marketplace.catalog.models import Listing, ListingStatus  # noqa: E402
from marketplace.catalog.services import apply_record, reindex  # noqa: E402
from marketplace.dcat import DatasetRecord, Distribution  # noqa: E402
from marketplace.hhs import DIVISIONS  # noqa: E402
from marketplace.migrate import upgrade  # noqa: E402
from marketplace.models import Division  # noqa: E402
from marketplace.types import utcnow  # noqa: E402

BUREAUS = {seed.code: seed.bureau_code for seed in DIVISIONS}
TARGET_SECONDS = 15
TARGET_MB = 300


def _record(row: dict) -> DatasetRecord:
    bureau = BUREAUS.get(row["publisher"], "009:00")
    slug = row["identifier"].rsplit("/", 1)[-1]
    return DatasetRecord(
        identifier=row["identifier"],
        title=row["title"],
        description=row["description"] or row["title"],
        keywords=tuple(k for k in row["keywords"].split(", ") if k) or ("health",),
        modified=row["modified"],
        publisher_name=row["publisher_name"],
        contact_name="Data steward",
        contact_email="data@hhs.gov",
        access_level=row["access_level"],
        rights=None if row["access_level"] == "public" else "Contains small cells.",
        bureau_codes=(bureau,),
        program_codes=(bureau.split(":")[0] + ":000",),
        license="https://www.usa.gov/government-works",
        landing_page=f"https://data.hhs.gov/d/{slug}",
        themes=(row["theme"],) if row["theme"] else (),
        distributions=(
            Distribution(
                download_url=f"https://data.hhs.gov/d/{slug}.csv",
                media_type="text/csv",
                format="CSV",
            ),
        ),
    )


def build(url: str, rows: Sequence[dict]) -> float:
    """Migrate a fresh database and load the rows as published listings; seconds taken."""
    start = time.perf_counter()
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as db:
        division_ids = {d.code: d.id for d in db.exec(select(Division)).all()}
        now = utcnow()
        for first in range(0, len(rows), BATCH):
            listings = []
            for row in rows[first : first + BATCH]:
                listing = Listing(
                    identifier=row["identifier"],
                    title=row["title"],
                    kind=KINDS.get(row["kind"], row["kind"]),
                    status=ListingStatus.PUBLISHED,
                    division_id=division_ids.get(row["publisher"]),
                    published_at=now,
                )
                apply_record(listing, _record(row))
                listing.modified_on = date.fromisoformat(row["modified"])
                listings.append(listing)
            db.add_all(listings)
            db.flush()
            reindex(db, listings)
            db.commit()
            db.expunge_all()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    engine.dispose()
    return time.perf_counter() - start


def _environment(url: str, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark-secret-key-that-is-long-enough-for-hmac",
        "MARKETPLACE_VAR_DIR": str(work / "var"),
    }


def _exported(path: Path) -> int:
    """How many datasets the written catalog holds."""
    return path.read_bytes().count(b'"@type": "dcat:Dataset"')


# Prints the process's own high-water resident set (VmHWM) as it exits. ru_maxrss from wait4
# would not do: Linux carries the parent's resident set into the child's maxrss across fork and
# exec, so it reported this script's 1.3 GB rather than the export's.
_REPORT_PEAK = (
    "import atexit, sys\n"
    "def peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            print('peak-kb', line.split()[1], file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "from marketplace.cli import main\n"
    "sys.exit(main())\n"
)


def measure_cli(url: str, work: Path) -> dict:
    """`marketplace catalog export -o FILE` in its own process: seconds, CPU seconds, peak RSS (MB)."""
    output = work / "export.json"
    command = [sys.executable, "-c", _REPORT_PEAK, "catalog", "export", "-o", str(output)]
    cpu_before = _children_cpu_seconds()
    start = time.perf_counter()
    finished = subprocess.run(
        command, env=_environment(url, work), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    seconds = time.perf_counter() - start
    cpu_seconds = _children_cpu_seconds() - cpu_before
    if finished.returncode != 0:
        raise SystemExit(f"export failed: {finished.stderr.decode()[-2000:]}")
    peak_kb = [line for line in finished.stderr.decode().splitlines() if line.startswith("peak-kb")]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": int(peak_kb[-1].split()[1]) / 1024,
        "bytes": output.stat().st_size,
        "datasets": _exported(output),
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_http(url: str, work: Path) -> dict:
    """GET /data.json from one uvicorn worker: seconds to the last byte, the server's peak RSS."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "marketplace.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
    ]
    output = work / "data.json"
    with server(command, f"{base}/healthz", _environment(url, work), work / "export-server.log"):
        pid = _server_pid(port)
        before = _peak_rss_mb(pid)
        cpu_before = _cpu_seconds(pid)
        start = time.perf_counter()
        with (
            httpx.Client(timeout=120) as client,
            client.stream("GET", f"{base}/data.json") as response,
            output.open("wb") as handle,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes():
                handle.write(chunk)
        seconds = time.perf_counter() - start
        cpu_seconds = _cpu_seconds(pid) - cpu_before
        peak = _peak_rss_mb(pid)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": peak,
        "idle_mb": before,
        "bytes": output.stat().st_size,
        "datasets": _exported(output),
    }


def _server_pid(port: int) -> int:
    """The uvicorn process listening on `port` (the child of the `server` context)."""
    import psutil

    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            return connection.pid
    raise SystemExit(f"no process listens on {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL database (dropped!)")
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: temp)")
    parser.add_argument(
        "--reuse", action="store_true", help="export the databases already in --workdir"
    )
    args = parser.parse_args()

    harness = load_harness()
    sources = sorted(str(p) for p in SOURCES.glob("*.json"))
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        recs = harness.load_sources(sources)
        rows = [] if args.reuse else list(harness.generate_rows(recs, args.rows, SEED))
        machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        print(f"machine  {machine}")
        print(f"rows     {args.rows:,} listings from {len(recs):,} source records")
        targets = [("SQLite", f"sqlite:///{work / 'export.db'}")]
        if args.postgres:
            ensure_postgres_database(args.postgres)
            if not args.reuse:
                drop_postgres_schema(args.postgres)
            targets.append(("PostgreSQL", args.postgres))
        lines = [
            "| machine | listings | engine | path | time s | CPU s | peak RSS MB | output MB | datasets |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for engine, url in targets:
            if args.reuse:
                upgrade(url)
            else:
                if url.startswith("sqlite"):
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                print(f"built    {engine} in {build(url, rows):.0f} s")
            for path, measure in (
                ("marketplace catalog export", measure_cli),
                ("GET /data.json (server)", measure_http),
            ):
                r = measure(url, work)
                lines.append(
                    f"| {machine} | {args.rows:,} | {engine} | {path} | {r['seconds']:.1f} | "
                    f"{r['cpu_seconds']:.1f} | {r['peak_mb']:.0f} | {r['bytes'] / 1e6:.0f} | "
                    f"{r['datasets']:,} |"
                )
        print()
        print("\n".join(lines))
        print(f"\ntarget: ≤ {TARGET_SECONDS} s and ≤ {TARGET_MB} MB peak for 100,000 listings")


if __name__ == "__main__":
    main()
