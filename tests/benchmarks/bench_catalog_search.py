"""Benchmark catalog search (page and API) against Datasette on the same 100,000 listings.

Run from the project root: `python tests/benchmarks/bench_catalog_search.py [--rows 100000]
[--requests 300] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench]`.

The rows, titles and topics come from ../shared/checks/bench_datasette.py (its functions are
imported, its `build` command makes Datasette's table), so both sides search the same data. The
query mix follows the issue: 40 % exact titles sampled from the data, 20 % one broad term, 20 %
two-word topics, 10 % prefixes, 10 % an empty query (facets only). Each server runs alone with one
worker on 127.0.0.1 and answers the requests one at a time; the script stops both servers itself.
Targets on SQLite: p95 ≤ 50 ms for the page, ≤ 30 ms for the API, and ≤ 0.5 × Datasette's p95
with `_nosuggest=1`.

The timed requests repeat the mix's queries, so they find the counts and rankings our server keeps
per query until the catalog changes; the "first request" column times the first request for each
distinct query (in a fresh server per mode), which counts and ranks every hit. A second table
breaks p50 / p95 down by query class. `--reuse` measures the databases of an earlier `--workdir`
run again instead of rebuilding them (about five minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))

from bench_purchases import ensure_postgres_database  # noqa: E402

from marketplace.catalog.models import Listing, ListingKind, ListingStatus  # noqa: E402
from marketplace.catalog.services import apply_record, reindex  # noqa: E402
from marketplace.dcat import DatasetRecord  # noqa: E402
from marketplace.migrate import upgrade  # noqa: E402
from marketplace.models import Division  # noqa: E402
from marketplace.types import utcnow  # noqa: E402

SHARED = ROOT.parent / "shared"
HARNESS = SHARED / "checks" / "bench_datasette.py"
SOURCES = SHARED / "data" / "datajson"
SEED = 20240601
TITLES = 40  # distinct exact titles in the mix; each comes back a few times
MIX = (("title", 4), ("broad", 2), ("topic", 2), ("prefix", 1), ("empty", 1))
KINDS = {"purchased": ListingKind.PURCHASED_DATASET.value}
BATCH = 2000


def load_harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_datasette", HARNESS)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{HARNESS} not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Query:
    category: str
    q: str
    raw: bool = False  # Datasette's raw FTS5 mode (prefixes); ours has no modes


def query_mix(harness: ModuleType, recs: list[dict], count: int) -> list[Query]:
    """`count` queries in the issue's proportions, in a fixed shuffled order."""
    pools = {
        "title": [Query("title", f'"{t}"') for t in harness.pick_titles(recs, TITLES, SEED)],
        "broad": [Query("broad", t) for t in harness.TOPICAL if " " not in t],
        "topic": [Query("topic", t) for t in harness.TOPICAL if " " in t],
        "prefix": [Query("prefix", p, raw=True) for p in harness.PREFIX],
        "empty": [Query("empty", "")],
    }
    slots = [category for category, weight in MIX for _ in range(weight)]
    queries = [
        pools[slots[i % len(slots)]][(i // len(slots)) % len(pools[slots[i % len(slots)]])]
        for i in range(count)
    ]
    random.Random(SEED).shuffle(queries)
    return queries


# ------------------------------------------------------------------ our database


def build_ours(url: str, rows: Sequence[dict]) -> float:
    """Migrate a fresh database and load the rows through apply_record + reindex; seconds taken."""
    start = time.perf_counter()
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as db:
        division_ids = {d.code: d.id for d in db.exec(select(Division)).all()}
        now = utcnow()
        for first in range(0, len(rows), BATCH):
            listings = [_listing(row, division_ids, now) for row in rows[first : first + BATCH]]
            db.add_all(listings)
            db.flush()
            reindex(db, listings)
            db.commit()
            db.expunge_all()
    # Statistics (and on PostgreSQL the visibility map) as a long-running database would have.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    engine.dispose()
    return time.perf_counter() - start


def _listing(row: dict, division_ids: dict[str, int], now: object) -> Listing:
    record = DatasetRecord(
        identifier=row["identifier"],
        title=row["title"],
        description=row["description"],
        keywords=tuple(k for k in row["keywords"].split(", ") if k),
        modified=row["modified"],
        publisher_name=row["publisher_name"],
        access_level=row["access_level"],
        themes=(row["theme"],) if row["theme"] else (),
    )
    listing = Listing(
        identifier=row["identifier"],
        title=row["title"],
        kind=KINDS.get(row["kind"], row["kind"]),
        status=ListingStatus.PUBLISHED,
        division_id=division_ids.get(row["publisher"]),
        published_at=now,
    )
    apply_record(listing, record)
    listing.modified_on = date.fromisoformat(row["modified"])
    return listing


def drop_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# ------------------------------------------------------------------ servers and timing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(command: list[str], base: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """Run one server process until the block ends; wait until it answers on `base`."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(base, timeout=5).status_code < 500:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{command[0]} did not start; see {log}")
                time.sleep(0.2)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def timed(urls: Sequence[str]) -> tuple[list[float], int, list[float]]:
    """Latencies in ms of sequential GETs, after one pass over the distinct URLs.

    That first pass is timed too and returned third: the first request for each query, before
    anything the server keeps per query (our counts and rankings) can help.
    """
    with httpx.Client(timeout=60) as client:
        first = []
        for url in dict.fromkeys(urls):
            start = time.perf_counter()
            client.get(url).read()
            first.append((time.perf_counter() - start) * 1000)
        latencies, errors = [], 0
        for url in urls:
            start = time.perf_counter()
            response = client.get(url)
            response.read()
            latencies.append((time.perf_counter() - start) * 1000)
            errors += response.status_code != 200
    return latencies, errors, first


def our_urls(base: str, path: str, queries: Sequence[Query]) -> list[str]:
    return [f"{base}{path}?{urlencode({'q': q.q})}" if q.q else f"{base}{path}" for q in queries]


def measure_ours(url: str, queries: Sequence[Query], work: Path, label: str) -> dict[str, dict]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "benchmark-secret-key-that-is-long-enough-for-hmac",
        "MARKETPLACE_VAR_DIR": str(work / "var"),
    }
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
    results = {}
    # A fresh server per mode: the API's first requests must not find the page's kept counts.
    for mode, path in (("page", "/catalog"), ("api", "/api/v1/listings")):
        with server(command, f"{base}/catalog", env, work / f"ours-{label}-{mode}.log"):
            httpx.get(f"{base}/healthz", timeout=30)
            results[mode] = summary(*timed(our_urls(base, path, queries)), queries)
            if mode == "api":
                lone_quote = httpx.get(f"{base}/api/v1/listings", params={"q": '"'}, timeout=30)
                results["api"]["lone_quote"] = lone_quote.status_code
    return results


def measure_datasette(
    harness: ModuleType, db: Path, queries: Sequence[Query], work: Path
) -> dict[str, dict]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    datasette = Path(sys.executable).with_name("datasette")
    command = [
        str(datasette),
        "serve",
        str(db),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--setting",
        "sql_time_limit_ms",
        "5000",
        "--setting",
        "facet_time_limit_ms",
        "2000",
    ]
    nosuggest = [("_nosuggest", "1")]
    results = {}
    with server(command, f"{base}/-/versions.json", dict(os.environ), work / "datasette.log"):
        for mode, as_json, extra in (
            ("page", False, ()),
            ("page _nosuggest=1", False, nosuggest),
            ("api", True, ()),
            ("api _nosuggest=1", True, nosuggest),
        ):
            urls = [datasette_url(harness, base, q, as_json, extra) for q in queries]
            results[mode] = summary(*timed(urls), queries)
        lone_quote = httpx.get(datasette_url(harness, base, Query("odd", '"'), True), timeout=30)
        results["api"]["lone_quote"] = lone_quote.status_code
    return results


def datasette_url(
    harness: ModuleType, base: str, query: Query, as_json: bool, extra: Sequence = ()
) -> str:
    """The harness's table URL; without `_search` for the empty query (`_search=` is a 400)."""
    if query.q:
        return harness.table_url(base, query.q, as_json, query.raw, extra)
    path = "/db/listings.json" if as_json else "/db/listings"
    return f"{base}{path}?{urlencode([*harness.FACETS, ('_size', '20'), *extra])}"


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(
    latencies: list[float], errors: int, first: Sequence[float], queries: Sequence[Query]
) -> dict:
    """Percentiles of a run, also per query class (`queries[i]` was timed as `latencies[i]`)."""
    result: dict = {"n": len(latencies), "errors": errors}
    result.update(p50=pct(latencies, 50), p95=pct(latencies, 95))
    result.update(first_n=len(first), first_p50=pct(first, 50), first_p95=pct(first, 95))
    by_class: dict[str, list[float]] = {}
    for query, latency in zip(queries, latencies, strict=True):
        by_class.setdefault(query.category, []).append(latency)
    result["classes"] = {c: (pct(v, 50), pct(v, 95)) for c, v in by_class.items()}
    return result


# ------------------------------------------------------------------ main


def table(machine: str, rows: int, results: dict[str, dict[str, dict]]) -> str:
    """Side by side; "first request" is the first time each distinct query was asked."""
    datasette = results.get("Datasette (SQLite FTS5)", {})
    lines = [
        "| machine | rows | engine | mode | p50 ms | p95 ms | ÷ Datasette p95 "
        "| ÷ Datasette p95 (_nosuggest=1) | first request p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for engine, modes in results.items():
        for mode, r in modes.items():
            ratios = ["", ""]
            if not engine.startswith("Datasette") and mode in datasette:
                ratios = [
                    f"{r['p95'] / datasette[mode]['p95']:.2f}",
                    f"{r['p95'] / datasette[f'{mode} _nosuggest=1']['p95']:.2f}",
                ]
            errors = f" ({r['errors']} errors)" if r["errors"] else ""
            first = f"{r['first_p50']:.1f} / {r['first_p95']:.1f}"
            lines.append(
                f"| {machine} | {rows:,} | {engine} | {mode}{errors} | {r['p50']:.1f} | "
                f"{r['p95']:.1f} | {ratios[0]} | {ratios[1]} | {first} |"
            )
    return "\n".join(lines)


def class_table(results: dict[str, dict[str, dict]]) -> str:
    """p50 / p95 ms per query class, to see which part of the mix sets the p95."""
    classes = [category for category, _ in MIX]
    lines = [
        "| engine | mode | " + " | ".join(f"{c} p50 / p95" for c in classes) + " |",
        "|---|---|" + "---|" * len(classes),
    ]
    for engine, modes in results.items():
        for mode, r in modes.items():
            cells = [f"{r['classes'][c][0]:.1f} / {r['classes'][c][1]:.1f}" for c in classes]
            lines.append(f"| {engine} | {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300, help="timed requests per mode")
    parser.add_argument("--postgres", help="also measure on this PostgreSQL database (dropped!)")
    parser.add_argument("--skip-datasette", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the databases here (default: temp)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the databases already in --workdir"
    )
    args = parser.parse_args()

    harness = load_harness()
    sources = sorted(str(p) for p in SOURCES.glob("*.json"))
    with contextlib.ExitStack() as stack:
        work = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        work.mkdir(parents=True, exist_ok=True)
        recs = harness.load_sources(sources)
        rows = list(harness.generate_rows(recs, args.rows, SEED))
        queries = query_mix(harness, recs, args.requests)
        machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        print(f"machine  {machine}")
        print(
            f"rows     {len(rows):,} from {len(recs):,} source records; {len(queries)} requests/mode"
        )

        results: dict[str, dict[str, dict]] = {}
        if not args.skip_datasette:
            datasette_db = work / "db.sqlite"
            build = [sys.executable, str(HARNESS), "build", "--sources", *sources]
            options = ["--db", str(datasette_db), "--queries", str(work / "queries.json")]
            if not (args.reuse and datasette_db.exists()):
                subprocess.run(
                    [*build, *options, "--rows", str(args.rows), "--seed", str(SEED)],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
            results["Datasette (SQLite FTS5)"] = measure_datasette(
                harness, datasette_db, queries, work
            )
        targets = [("ours (SQLite)", f"sqlite:///{work / 'marketplace.db'}")]
        if args.postgres:
            ensure_postgres_database(args.postgres)
            if not args.reuse:
                drop_postgres_schema(args.postgres)
            targets.append(("ours (PostgreSQL)", args.postgres))
        for engine, url in targets:
            if args.reuse:
                upgrade(url)  # migrations added since the build
            else:
                if url.startswith("sqlite"):
                    Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                seconds = build_ours(url, rows)
                print(f"built    {engine} in {seconds:.0f} s")
            results[engine] = measure_ours(url, queries, work, engine.split()[-1].strip("()"))
        print()
        print(table(machine, len(rows), results))
        print()
        print(class_table(results))
        quotes = {e: m["api"].get("lone_quote") for e, m in results.items()}
        print()
        print("HTTP status for a lone '\"': " + ", ".join(f"{e} {s}" for e, s in quotes.items()))


if __name__ == "__main__":
    main()
