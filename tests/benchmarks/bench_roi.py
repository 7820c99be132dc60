"""Benchmark the ROI dashboard and its PDF over 100,000 purchases, 10,000 listings, 10,000 reuses.

Run from the project root:
`python tests/benchmarks/bench_roi.py [--purchases 100000] [--rounds 5] [--postgres URL]
[--keep DIR]`. Not a pytest test. The register is written with bulk inserts into a freshly
migrated database (SQLite always; PostgreSQL with --postgres, whose public schema is dropped and
rebuilt), then a leadership user requests the dashboard through the app (full page, every chart
rendered) with a mix of filters, and the PDF. Targets: dashboard p95 <= 300 ms; the PDF <= 10 s.
With --keep, the SQLite database is built in DIR once and reused by later runs, and so is the
PostgreSQL one (a marker file in DIR names it): building takes minutes, measuring less.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MIX = [
    "",
    "fiscal_year=2026",
    "fiscal_year=2026&quarter=1",
    "fiscal_year=2025&division=CDC",
    "division=NIH",
    "vendor=vendor+17+data",  # names containing "17": about 130 of the 2,000 vendors
    "kind=api",
    "fiscal_year=2024&quarter=3&kind=dataset",
]
DIVISIONS = ("CDC", "NIH", "FDA", "CMS", "HRSA", "IHS", "SAMHSA", "AHRQ", "ACF", "ASPR")
PSCS = ("7A21", "R408", "7A20", "R499", "DA01", "D317", "B505", "R425")
KINDS = ("dataset", "code", "api", "purchased_dataset")
STATUSES = ("approved", "active", "active", "expired", "revoked", "requested", "denied")


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from marketplace.migrate import upgrade

    if not url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


def _insert(connection, table, rows: list[dict], batch: int = 5_000) -> None:
    from sqlalchemy import insert

    for start in range(0, len(rows), batch):
        connection.execute(insert(table), rows[start : start + batch])


def populate(url: str, args: argparse.Namespace) -> dict[str, int]:
    """Bulk-insert the register; returns the row counts."""
    from sqlalchemy import create_engine, select, text

    from marketplace.catalog.models import Listing
    from marketplace.db import Database
    from marketplace.models import Division
    from procurement.models import (
        DuplicateDecision,
        Invoice,
        Licence,
        Purchase,
        ReuseRequest,
        Vendor,
    )
    from tests.support import make_user, settings_for

    database = Database(settings_for(url, Path(tempfile.mkdtemp())))
    with database.session() as db:
        user_id = make_user(db, "bench.owner@hhs.gov", division="CDC").id
    database.dispose()
    rng = random.Random(20261126)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as connection:
        ids = dict(connection.execute(select(Division.code, Division.id)).all())
        division_ids = [ids[code] for code in DIVISIONS]
        stamps = {"created_at": now, "updated_at": now}
        vendors = [
            {"name": f"Vendor {n} Data Inc", "name_key": f"vendor {n} data", **stamps}
            for n in range(args.vendors)
        ]
        _insert(connection, Vendor.__table__, vendors)
        vendor_ids = [row[0] for row in connection.execute(select(Vendor.id)).all()]
        base = Purchase(award_key="", piid="", division_id=0, vendor_id=0).model_dump()
        base.pop("id")
        purchases = []
        first = date(2019, 10, 1)
        for n in range(args.purchases):
            start = first + timedelta(days=rng.randrange(0, 8 * 365))
            purchases.append(
                {
                    **base,
                    **stamps,
                    "award_key": f"bench-{n}",
                    "piid": f"75B{n:08d}",
                    "division_id": rng.choice(division_ids),
                    "vendor_id": rng.choice(vendor_ids),
                    "product": f"Product {n % 3000}",
                    "psc": rng.choice(PSCS) if n % 11 else None,
                    "start_on": start if n % 97 else None,
                    "current_end_on": start + timedelta(days=rng.choice((90, 180, 364, 729))),
                    "obligated_cents": rng.randrange(-50_000, 50_000_000),
                }
            )
        _insert(connection, Purchase.__table__, purchases)
        purchase_rows = connection.execute(
            select(Purchase.id, Purchase.start_on, Purchase.current_end_on, Purchase.division_id)
            .where(Purchase.start_on.is_not(None))
            .order_by(Purchase.id)
            .limit(args.licences)
        ).all()
        lic_base = Licence(
            purchase_id=0, scope="department", term_start_on=first, term_end_on=first
        ).model_dump()
        licences = []
        for pid, start, end, _ in purchase_rows:
            licences.append(
                {
                    **{k: v for k, v in lic_base.items() if k != "id"},
                    **stamps,
                    "purchase_id": pid,
                    "seats": rng.choice((None, 10, 25, 50, 100)),
                    "owner_seats": rng.randrange(0, 5),
                    "term_start_on": start,
                    "term_end_on": end,
                    "renewal_on": end - timedelta(days=30),
                    "price_per_seat_cents": rng.randrange(10_000, 500_000),
                }
            )
        _insert(connection, Licence.__table__, licences)
        licence_rows = connection.execute(
            select(
                Licence.id, Licence.term_start_on, Licence.term_end_on, Purchase.division_id
            ).join(Purchase, Purchase.id == Licence.purchase_id)
        ).all()
        listing_base = Listing(identifier="", title="").model_dump()
        listings = [
            {
                **{k: v for k, v in listing_base.items() if k != "id"},
                **stamps,
                "identifier": f"bench-listing-{n}",
                "title": f"Bench listing {n}",
                "kind": KINDS[n % len(KINDS)],
                "status": "published",
                "division_id": rng.choice(division_ids),
            }
            for n in range(args.listings)
        ]
        _insert(connection, Listing.__table__, listings)
        listing_ids = [row[0] for row in connection.execute(select(Listing.id)).all()]
        reuse_base = ReuseRequest(
            owner_division_id=0,
            requesting_division_id=0,
            requested_by_id=0,
            contact_name="Bench",
            contact_email="bench@hhs.gov",
            purpose="Benchmark",
            start_on=first,
            end_on=first,
            due_on=first,
        ).model_dump()
        reuses = []
        for n in range(args.reuses):
            licence_id, term_start, term_end, owner = rng.choice(licence_rows)
            start = term_start + timedelta(
                days=rng.randrange(0, max((term_end - term_start).days, 1))
            )
            requester = rng.choice([d for d in division_ids if d != owner])
            reuses.append(
                {
                    **{k: v for k, v in reuse_base.items() if k != "id"},
                    **stamps,
                    "licence_id": licence_id if n % 5 else None,
                    "listing_id": rng.choice(listing_ids),
                    "owner_division_id": owner,
                    "requesting_division_id": requester,
                    "requested_by_id": user_id,
                    "seats": rng.randrange(1, 6),
                    "start_on": start,
                    "end_on": min(start + timedelta(days=rng.randrange(30, 365)), term_end),
                    "due_on": start,
                    "status": STATUSES[n % len(STATUSES)],
                    "avoided_cents": rng.randrange(0, 2_000_000) if n % 4 else None,
                }
            )
        _insert(connection, ReuseRequest.__table__, reuses)
        invoice_base = Invoice(
            number="", fiscal_year=0, sequence=0, from_division_id=0, to_division_id=0,
            created_by="bench",
        ).model_dump()  # fmt: skip
        invoices = []
        for n in range(args.invoices):
            licence_id, term_start, _, owner = rng.choice(licence_rows)
            invoices.append(
                {
                    **{k: v for k, v in invoice_base.items() if k != "id"},
                    **stamps,
                    "number": f"HHS-BENCH-{n:06d}",
                    "fiscal_year": 2000 + n // 100_000,
                    "sequence": n,
                    "from_division_id": owner,
                    "to_division_id": rng.choice([d for d in division_ids if d != owner]),
                    "licence_id": licence_id,
                    "period_start": term_start,
                    "period_end": term_start + timedelta(days=89),
                    "status": ("draft", "issued", "paid", "void")[n % 4],
                    "total_cents": rng.randrange(1_000, 5_000_000),
                }
            )
        _insert(connection, Invoice.__table__, invoices)
        decisions = [
            {
                "key_a": f"bench-{2 * n}",
                "key_b": f"bench-{2 * n + 1}",
                "decision": "confirmed" if n % 3 else "not_duplicate",
                "note": "",
                "decided_by": "bench",
                "decided_at": now,
            }
            for n in range(args.decisions)
        ]
        _insert(connection, DuplicateDecision.__table__, decisions)
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return {
        "purchases": len(purchases),
        "licences": len(licences),
        "listings": len(listings),
        "reuses": len(reuses),
        "invoices": len(invoices),
    }


def change_a_purchase(engine, purchase_id: int, changed_at: datetime) -> None:
    """A real change, as an officer correcting an amount makes: one licensed purchase's amount
    and `updated_at` move, so every kept report is stale and that licence's cost is recomputed."""
    from sqlalchemy import update

    from procurement.models import Purchase

    with engine.begin() as connection:
        connection.execute(
            update(Purchase)
            .where(Purchase.id == purchase_id)
            .values(obligated_cents=Purchase.obligated_cents + 1, updated_at=changed_at)
        )


def measure(url: str, workdir: Path, rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request through the app: the dashboard page right after a change to one
    licensed purchase ("cold"), the page again while the data is unchanged ("warm"), the htmx
    fragment (warm), the page in a new process with nothing kept ("first"), and the PDF (cold,
    in seconds)."""
    from litestar.testing import TestClient
    from sqlalchemy import create_engine, func, select

    from marketplace.app import create_app
    from marketplace.db import Database
    from marketplace.models import User
    from procurement.models import Licence, Purchase
    from procurement.services.roi import clear_cache
    from tests.support import login, make_user, settings_for

    settings = settings_for(url, workdir / "var", log_level="WARNING")
    database = Database(settings)
    with database.session() as db:
        if db.exec(select(User.id).where(User.email == "bench.leader@hhs.gov")).first() is None:
            make_user(db, "bench.leader@hhs.gov", division="OS", roles=("leadership",))
    database.dispose()
    timings: dict[str, list[float]] = {
        name: [] for name in ("cold", "warm", "htmx", "first", "pdf", "cold_cpu", "warm_cpu")
    }
    engine = create_engine(url)
    with engine.connect() as connection:
        changed = connection.execute(
            select(Licence.purchase_id).order_by(Licence.id).limit(rounds * len(MIX))
        ).scalars().all()  # fmt: skip
        # Changes are stamped after the latest one, so that on a kept database they still move
        # the stamp the reports are kept under.
        latest = connection.execute(select(func.max(Purchase.updated_at))).scalar_one()
    latest = latest.replace(tzinfo=UTC) if latest.tzinfo is None else latest

    # Full garbage collections (every object of the process walked) during timed requests: one
    # costs as much as a request, so they explain most of the slowest ones.
    collections: dict[str, list[float]] = {"cold": [], "first": []}
    collecting = {"name": "", "started": 0.0}

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2 or collecting["name"] not in collections:
            return
        if phase == "start":
            collecting["started"] = time.perf_counter()
        else:
            took = (time.perf_counter() - collecting["started"]) * 1000
            collections[collecting["name"]].append(took)

    def timed(name: str, path: str, **headers: str) -> bytes:
        # Wall time, and this process's CPU time: on a shared machine the second shows what the
        # request costs when it has a core to itself (SQLite runs in-process; PostgreSQL's own
        # work is not in it).
        collecting["name"] = name
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        timings[name].append((time.perf_counter() - started) * 1000)
        if f"{name}_cpu" in timings:
            timings[f"{name}_cpu"].append((time.process_time() - cpu) * 1000)
        collecting["name"] = ""
        assert response.status_code == 200, response.text[:300]
        return response.content

    gc.callbacks.append(on_collection)
    with TestClient(app=create_app(settings)) as client:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        login(client, "bench.leader@hhs.gov")
        for query in MIX:  # warm-up: templates compiled, fonts loaded
            client.get(f"/procurement/reports/roi?{query}")
        for query in MIX:
            clear_cache(licences=True)
            timed("first", f"/procurement/reports/roi?{query}")
        for round_ in range(rounds):
            for step, query in enumerate(MIX, start=round_ * len(MIX)):
                changed_at = latest + timedelta(seconds=step + 1)
                change_a_purchase(engine, changed[step % len(changed)], changed_at)
                timed("cold", f"/procurement/reports/roi?{query}")
                timed("warm", f"/procurement/reports/roi?{query}")
                timed("htmx", f"/procurement/reports/roi?{query}", **{"HX-Request": "true"})
        for _ in range(3):
            clear_cache()
            pdf = timed("pdf", "/procurement/reports/roi.pdf")
            assert pdf.startswith(b"%PDF")
    gc.callbacks.remove(on_collection)
    engine.dispose()
    timings["pdf_kb"] = [len(pdf) / 1024]
    for name, took in collections.items():
        timings[f"{name}_collections"] = took
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--purchases", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--reuses", type=int, default=10_000)
    parser.add_argument("--licences", type=int, default=5_000)
    parser.add_argument("--vendors", type=int, default=2_000)
    parser.add_argument("--invoices", type=int, default=2_000)
    parser.add_argument("--decisions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="also measure on this PostgreSQL database (dropped!)")
    parser.add_argument("--keep", type=Path, help="build the databases once and reuse them")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"machine: {machine}")
    print(
        f"{'engine':<11} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'warm p95':>9} "
        f"{'htmx p95':>9} {'PDF p50 s':>9} {'PDF kB':>7} {'load s':>7} "
        f"{'cold CPU p50/p95':>17} {'warm CPU p50/p95':>17}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        engines = {"sqlite": f"sqlite:///{workdir / 'bench.db'}"}
        if args.postgres:
            engines["postgresql"] = args.postgres
        for engine, url in engines.items():
            built = workdir / f"{engine}.built"
            counts: dict[str, int] | str
            if args.keep and built.exists() and built.read_text() == url:
                counts, load = "kept from an earlier run", 0.0
            else:
                fresh_database(url)
                started = time.perf_counter()
                counts = populate(url, args)
                load = time.perf_counter() - started
                built.write_text(url)
            t = measure(url, workdir, args.rounds)
            print(
                f"{engine:<11} {statistics.median(t['cold']):>7.1f}ms "
                f"{percentile(t['cold'], 0.95):>7.1f}ms {statistics.median(t['warm']):>7.1f}ms "
                f"{percentile(t['warm'], 0.95):>7.1f}ms {percentile(t['htmx'], 0.95):>7.1f}ms "
                f"{statistics.median(t['pdf']) / 1000:>9.2f} {t['pdf_kb'][0]:>7.0f} {load:>7.1f} "
                f"{statistics.median(t['cold_cpu']):>8.0f}/{percentile(t['cold_cpu'], 0.95):<8.0f} "
                f"{statistics.median(t['warm_cpu']):>8.0f}/{percentile(t['warm_cpu'], 0.95):<8.0f}",
                flush=True,
            )
            slowest = max(zip(t["cold"], [q for _ in range(args.rounds) for q in MIX], strict=True))
            print(f"{'':<11} data: {counts}; slowest cold request: {slowest[1] or 'all time'}")
            print(
                f"{'':<11} first view in a new process (nothing kept): "
                f"p50 {statistics.median(t['first']):.1f}ms, max {max(t['first']):.1f}ms"
            )
            print(
                f"{'':<11} full garbage collections: "
                + "; ".join(
                    f"{len(t[f'{name}_collections'])} in {name} requests, "
                    f"{sum(t[f'{name}_collections']):.0f}ms"
                    for name in ("cold", "first")
                )
            )
            print(f"{'':<11} load average during the run: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
