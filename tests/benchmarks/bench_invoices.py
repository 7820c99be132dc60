"""Benchmark invoices from the database: one invoice's PDF, and 1,000 invoices generated and rendered.

Run from the project root (not a pytest test):

    python tests/benchmarks/bench_invoices.py [--renders 200] [--batch 1000]
    python tests/benchmarks/bench_invoices.py --postgres postgresql+psycopg://…/scratch_db

Targets (issue 6): one invoice PDF ≤ 50 ms; a batch of 1,000 invoices ≤ 30 s. "One invoice PDF"
is what `GET /procurement/invoices/{number}.pdf` does below the HTTP layer: a fresh session,
the permission check, the invoice, its lines, parties and licence read, the PDF rendered. The
batch is `generate_invoices` for a quarter (250 licences × 4 reusing divisions, one transaction)
followed by rendering every invoice it created, each from the database.

The PostgreSQL database given is wiped (its public schema is dropped and migrated again).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from marketplace import accounts
from marketplace.migrate import upgrade
from marketplace.models import Division
from procurement.models import Licence, Purchase, ReuseRequest, Vendor
from procurement.pdf import load_fonts
from procurement.services import invoices
from tests.support import make_user

OWNER = "CDC"
REUSERS = ("NIH", "FDA", "CMS", "HRSA", "AHRQ", "ACF", "IHS", "SAMHSA")
NOW = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
CLI = "cli: bench"


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def fresh_database(postgres_url: str | None, workdir: Path) -> str:
    if postgres_url:
        engine = create_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        url = postgres_url
    else:
        url = f"sqlite:///{workdir / 'bench_invoices.db'}"
    upgrade(url)
    return url


def seed(db: Session, licences: int, reusers_each: int) -> accounts.Principal:
    """`licences` CDC licences sharing cost equally, each reused by `reusers_each` divisions."""
    divisions = {d.code: d for d in db.exec(select(Division)).all()}
    user = make_user(db, "officer.cdc@hhs.gov", division=OWNER, roles=("officer",))
    vendor = Vendor(name="Acme Health Data LLC", name_key="acme health data")
    db.add(vendor)
    db.flush()
    for n in range(licences):
        purchase = Purchase(
            award_key=f"BENCH_{n}",
            piid=f"75D30126P{n:05d}",
            division_id=divisions[OWNER].id,
            vendor_id=vendor.id,
            product=f"Claims database {n + 1}",
            start_on=date(2025, 10, 1),
            current_end_on=date(2026, 9, 30),
            obligated_cents=1_200_000 + 1_337 * n,
        )
        db.add(purchase)
        db.flush()
        licence = Licence(
            purchase_id=purchase.id,
            scope="department",
            seats=40,
            term_start_on=date(2025, 10, 1),
            term_end_on=date(2026, 9, 30),
            share_method="per_seat" if n % 2 else "equal",
        )
        db.add(licence)
        db.flush()
        for k in range(reusers_each):
            code = REUSERS[(n + k) % len(REUSERS)]
            db.add(
                ReuseRequest(
                    licence_id=licence.id,
                    owner_division_id=divisions[OWNER].id,
                    requesting_division_id=divisions[code].id,
                    requested_by_id=user.id,
                    contact_name="Requester",
                    contact_email="requester@hhs.gov",
                    purpose="Benchmark",
                    seats=1 + (n + k) % 6,
                    start_on=date(2025, 10, 1),
                    end_on=date(2026, 9, 30),
                    status="active",
                    due_on=date(2025, 10, 1),
                )
            )
    db.commit()
    return accounts.principal_for(db, user)


def run(url: str, label: str, renders: int, batch: int) -> dict[str, float]:
    engine = create_engine(url)
    reusers_each = 4
    with Session(engine, expire_on_commit=False) as db:
        officer = seed(db, batch // reusers_each, reusers_each)

    # The batch: generate 1,000 invoices in one run, then render each from the database.
    start = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        report = invoices.generate_invoices(db, CLI, "FY26Q1", now=NOW)
    generated = time.perf_counter()
    size = 0
    for item in report.created:
        with Session(engine, expire_on_commit=False) as db:
            size += len(invoices.invoice_pdf(db, officer, item.number)[1])
    batch_seconds = time.perf_counter() - start
    generate_seconds = generated - start
    assert len(report.created) == batch, (len(report.created), report.problems)

    # One invoice's PDF from the database, as the PDF route does it.
    number = report.created[len(report.created) // 2].number
    with Session(engine, expire_on_commit=False) as db:
        invoices.invoice_pdf(db, officer, number)  # warm-up
    single: list[float] = []
    for _ in range(renders):
        begin = time.perf_counter()
        with Session(engine, expire_on_commit=False) as db:
            invoices.invoice_pdf(db, officer, number)
        single.append(time.perf_counter() - begin)
    engine.dispose()

    p50_ms, p95_ms = statistics.median(single) * 1000, p95(single) * 1000
    print(f"\n{label}")
    print(f"{'benchmark':<52}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'total s':>9}{'target':>16}")
    verdict = "ok" if p95_ms <= 50 else "MISSED"
    print(
        f"{'one invoice PDF from the database':<52}{renders:>6}{p50_ms:>9.1f}{p95_ms:>9.1f}"
        f"{sum(single):>9.2f}{'≤50 ms ' + verdict:>16}"
    )
    verdict = "ok" if batch_seconds <= 30 else "MISSED"
    print(
        f"{'generate ' + str(batch) + ' invoices (one transaction)':<52}{batch:>6}{'':>9}{'':>9}"
        f"{generate_seconds:>9.2f}{'':>16}"
    )
    print(
        f"{'generate + render each from the database':<52}{batch:>6}"
        f"{batch_seconds / batch * 1000:>9.1f}{'':>9}{batch_seconds:>9.2f}{'≤30 s ' + verdict:>16}"
    )
    print(f"({size / 1e6:.1f} MB of PDF; batch row: mean ms per invoice in the p50 column)")
    return {"p50": p50_ms, "p95": p95_ms, "generate": generate_seconds, "batch": batch_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000, help="a multiple of 4")
    parser.add_argument("--postgres", default=None, help="a scratch PostgreSQL URL (wiped)")
    args = parser.parse_args()
    fonts = load_fonts()
    print(f"machine    {cpu_model()}, {os.cpu_count()} CPUs ({platform.machine()})")
    print(f"platform   {platform.platform()}")
    print(f"python     {platform.python_version()}; fonts {fonts.regular} / {fonts.bold}")
    with tempfile.TemporaryDirectory() as workdir:
        url = fresh_database(args.postgres, Path(workdir))
        engine = "PostgreSQL" if args.postgres else "SQLite"
        run(url, engine, args.renders, args.batch)


if __name__ == "__main__":
    main()
