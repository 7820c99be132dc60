"""Benchmark procurement.pdf: one invoice rendered repeatedly, a batch of invoices, a long invoice.

Run from the project root: `python tests/benchmarks/bench_pdf.py [--renders 200] [--batch 1000]`.
Not a pytest test. Targets: one invoice p50 and p95 ≤ 50 ms; a batch of 1,000 invoices ≤ 30 s.
Fonts are registered once before timing (as in a running server, where `load_fonts` is cached).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import reportlab

from procurement.charts import ChartData, ChartKind, Series, data_table
from procurement.costs import fiscal_quarter_bounds
from procurement.invoicing import (
    InvoiceStatus,
    due_date,
    format_invoice_number,
    invoice_lines_for_share,
    invoice_totals,
)
from procurement.pdf import (
    InvoiceDocument,
    Party,
    ReportChart,
    ReportDocument,
    ReportSection,
    ReportTable,
    load_fonts,
    render_invoice_pdf,
    render_report_pdf,
)

DIVISIONS = (
    ("CDC", "Centers for Disease Control and Prevention", "Zoë Łukasiewicz"),
    ("NIH", "National Institutes of Health", "Ngô Bảo Châu"),
    ("FDA", "Food and Drug Administration", "Maria Hernández"),
    ("CMS", "Centers for Medicare & Medicaid Services", "James O'Neill"),
    ("HRSA", "Health Resources and Services Administration", "Aiko Tanaka"),
)
LICENCES = ("Claims database", "Survey platform", "Hospital price file", "Genomics cohort")
STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.ISSUED, InvoiceStatus.DRAFT, InvoiceStatus.VOID)


def party(index: int) -> Party:
    code, name, contact = DIVISIONS[index % len(DIVISIONS)]
    return Party(
        code,
        name,
        ("200 Independence Avenue SW", "Washington, DC 20201"),
        contact,
        f"{code.lower()}.billing@hhs.gov",
        f"IAA-{code}-2026-{index:04d}",
    )


def make_invoice(seq: int, line_count: int) -> InvoiceDocument:
    """An invoice like the service issues: one cost-share line per licence and quarter."""
    lines = tuple(
        line
        for n in range(line_count)
        for line in invoice_lines_for_share(
            LICENCES[n % len(LICENCES)],
            fiscal_quarter_bounds(2026, 1 + n % 4),
            "per_seat",
            125_000 + 7_919 * n + seq,
            seats=3 + n % 5,
            seats_total=40,
        )
    )
    issued = date(2026, 1, 5) + timedelta(days=seq % 60)
    return InvoiceDocument(
        number=format_invoice_number(2026, seq),
        status=STATUSES[seq % len(STATUSES)],
        created_on=issued - timedelta(days=1),
        issued_on=issued,
        due_on=due_date(issued),
        period_label="FY2026",
        from_party=party(seq),
        to_party=party(seq + 1),
        lines=lines,
        totals=invoice_totals(lines),
        terms="Payment within 30 days of issue through IPAC, quoting the invoice number.",
        agreement_reference=f"IAA-2026-{seq:04d}",
    )


def make_report() -> ReportDocument:
    quarters = ("FY2026 Q1", "FY2026 Q2", "FY2026 Q3", "FY2026 Q4")
    spend = ChartData(
        "Spend by division",
        "",
        "Fiscal quarter",
        "Spend",
        tuple(
            Series(
                code,
                tuple((q, 100_000_00 * (i + 1) + 7_000_00 * n) for n, q in enumerate(quarters)),
            )
            for i, (code, _, _) in enumerate(DIVISIONS)
        ),
    )
    section = ReportSection(
        "Spend by division",
        ("Spend by division per fiscal quarter.",),
        (ReportChart(ChartKind.GROUPED, spend), ReportChart(ChartKind.LINE, spend)),
        (ReportTable(**data_table(spend)),),
    )
    return ReportDocument(
        "Return on investment, FY2026",
        "Benchmark report",
        date(2026, 5, 10),
        (("Fiscal year", "FY2026"),),
        (section, section),
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def timings(render: Callable[[], bytes], repeats: int) -> list[float]:
    """Seconds per call."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        render()
        seconds.append(time.perf_counter() - start)
    return seconds


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    fonts = load_fonts()
    print(f"machine    {cpu_model()}, {os.cpu_count()} CPUs ({platform.machine()})")
    print(f"platform   {platform.platform()}")
    print(f"python     {platform.python_version()}, reportlab {reportlab.Version}")
    print(f"fonts      {fonts.regular} / {fonts.bold}")
    print()

    one = make_invoice(123, 3)
    render_invoice_pdf(one)  # warm-up: first use of the fonts' metrics
    single = timings(lambda: render_invoice_pdf(one), args.renders)
    long_invoice = make_invoice(124, 200)
    long_times = timings(lambda: render_invoice_pdf(long_invoice), 10)
    report = make_report()
    report_times = timings(lambda: render_report_pdf(report), 10)
    batch = [make_invoice(seq, 1 + seq % 10) for seq in range(1, args.batch + 1)]
    start = time.perf_counter()
    size = sum(len(render_invoice_pdf(doc)) for doc in batch)
    batch_seconds = time.perf_counter() - start

    print(f"{'benchmark':<44}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'total s':>9}{'target':>16}")
    rows = [
        ("invoice, 3 lines", single, 50.0),
        ("invoice, 200 lines", long_times, None),
        ("report, 2 sections, 4 charts, 2 tables", report_times, None),
    ]
    for label, values, target in rows:
        p50_ms, p95_ms = statistics.median(values) * 1000, p95(values) * 1000
        verdict = "" if target is None else ("ok" if p95_ms <= target else "MISSED")
        goal = "" if target is None else f"≤{target:.0f} ms {verdict}"
        total = sum(values)
        print(f"{label:<44}{len(values):>6}{p50_ms:>9.1f}{p95_ms:>9.1f}{total:>9.2f}{goal:>16}")
    verdict = "ok" if batch_seconds <= 30 else "MISSED"
    label = f"batch, 1–10 lines each ({size / 1e6:.1f} MB)"
    mean_ms = batch_seconds / len(batch) * 1000
    print(
        f"{label:<44}{len(batch):>6}{mean_ms:>9.1f}{'':>9}{batch_seconds:>9.2f}"
        f"{'≤30 s ' + verdict:>16}"
    )
    print("(batch row: mean ms per invoice in the p50 column)")


if __name__ == "__main__":
    main()
