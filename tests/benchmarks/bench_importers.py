"""Benchmark: parse and fold 100,000 synthetic award rows (USAspending bulk and FPDS ezSearch).

Run from the project root: `python tests/benchmarks/bench_importers.py [--rows N]`. The files are
generated in a temporary folder with the real headers from ../shared/data; each measurement runs in
a fresh interpreter so its peak resident memory is the import's own.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "data" / "procurement" / "reference"
SUBTIERS = ("7523", "7524", "7526", "7527", "7528", "7529", "7530", "7522", "7570", "7590")
PREFIXES = (
    "75D301",
    "75F401",
    "75R602",
    "75H701",
    "75Q801",
    "75N950",
    "75FCMC",
    "75S203",
    "75P001",
)
PSCS = ("7A21", "DA01", "R408", "7610", "R499", "DH01", "AN11")
NAICS = ("541511", "541512", "519290", "513210", "541611", "541990")
AWARD_TYPES = ("DELIVERY ORDER", "PURCHASE ORDER", "DEFINITIVE CONTRACT", "BPA CALL")


def _vendor(rng: random.Random) -> tuple[str, str]:
    number = rng.randrange(5000)
    return f"VENDOR {number} ANALYTICS LLC", f"UEI{number:09d}"


def write_usaspending(path: Path, rows: int, seed: int = 1) -> None:
    """A bulk award download: one award per row, ~1 in 50 listed twice (overlapping downloads)."""
    header = (REFERENCE / "Contracts_PrimeAwardSummaries.columns.txt").read_text().split()
    index = {name: i for i, name in enumerate(header)}
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            number = n if rng.random() > 0.02 else max(n - 7, 0)
            piid = f"{PREFIXES[number % len(PREFIXES)]}{24 + number % 3}P{number:05d}"
            subtier = SUBTIERS[number % len(SUBTIERS)]
            start = date(2022, 1, 1) + timedelta(days=number % 900)
            vendor, uei = _vendor(random.Random(number))
            cells = ["NOT APPLICABLE"] * len(header)
            values = {
                "contract_award_unique_key": f"CONT_AWD_{piid}_{subtier}_-NONE-_-NONE-",
                "award_id_piid": piid,
                "total_obligated_amount": f"{rng.randrange(100_000, 500_000_000) / 100:.2f}",
                "current_total_value_of_award": "1500000.00",
                "potential_total_value_of_award": "4500000.00",
                "period_of_performance_start_date": start.isoformat(),
                "period_of_performance_current_end_date": (start + timedelta(364)).isoformat(),
                "period_of_performance_potential_end_date": (start + timedelta(1459)).isoformat(),
                "awarding_agency_code": "075",
                "awarding_sub_agency_code": subtier,
                "funding_agency_code": "075",
                "funding_sub_agency_code": subtier,
                "recipient_uei": uei,
                "recipient_name": vendor,
                "recipient_parent_uei": uei,
                "recipient_parent_name": vendor,
                "prime_award_base_transaction_description": f"DATA SUBSCRIPTION {number} FOR HHS",
                "product_or_service_code": PSCS[number % len(PSCS)],
                "naics_code": NAICS[number % len(NAICS)],
                "award_type": AWARD_TYPES[number % len(AWARD_TYPES)],
                "last_modified_date": "2025-03-01 12:00:00",
            }
            for name, value in values.items():
                cells[index[name]] = value
            writer.writerow(cells)


def _mdyy(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year % 100:02d}"


def write_ezsearch(path: Path, rows: int, seed: int = 2) -> None:
    """An ezSearch export: base award plus three modifications per award (25,000 awards)."""
    with (REFERENCE / "fpds-ezsearch.header.csv").open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    index = {name: i for i, name in enumerate(header)}
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            number, mod = divmod(n, 4)
            piid = f"{PREFIXES[number % len(PREFIXES)]}25F{number:05d}"
            parent = f"75N98{number % 40:03d}D00001"
            subtier = SUBTIERS[number % len(SUBTIERS)]
            start = date(2023, 1, 1) + timedelta(days=number % 700)
            vendor, uei = _vendor(random.Random(number))
            cells = [""] * len(header)
            values = {
                "LINK": "https://www.fpds.gov/ezsearch/jsp/viewLinkController.jsp?agencyID="
                f"{subtier}&PIID={piid}&modNumber={mod}&idvAgencyID={subtier}&idvPIID={parent}"
                "&contractType=AWARD",
                "AWARD_TYPE": "DELIVERY ORDER",
                "AGENCY_ID": subtier,
                "PROCUREMENT_ID": piid,
                "MODIFICATION_NO": str(mod) if mod else "0",
                "DATE_SIGNED": _mdyy(start + timedelta(days=90 * mod)),
                "PERIOD_OF_PERF_START": _mdyy(start),
                "COMPLETION_DATE": _mdyy(start + timedelta(days=364)),
                "EST_ULTIMATE_COMPLETION_DATE": _mdyy(start + timedelta(days=1459)),
                "CONTRACTNG_OFFICE_AGENCY_NAME": "NATIONAL INSTITUTES OF HEALTH",
                "FUNDING_AGENCY_NAME": "NATIONAL INSTITUTES OF HEALTH",
                "CURENT_ACTION_OBLIGATION": f"${rng.randrange(0, 90_000_000) / 100:,.2f} ",
                "UNIQUE_ENTITY_ID": uei,
                "LEGAL_BUSINESS_NAME": vendor,
                "PRODUCT_SERVICE_CODE": PSCS[number % len(PSCS)],
                "PRINCIPAL_NAICS_CODE": NAICS[number % len(NAICS)],
                "DESCRIPTION_OF_REQUIREMENT": f"IGF::OT::IGF DATA LICENSE {number}",
            }
            for name, value in values.items():
                cells[index[name]] = value
            writer.writerow(cells)


def measure(path: Path) -> dict[str, float | int | str]:
    """Run read_awards on path in this process and report its figures."""
    sys.path.insert(0, str(ROOT))
    from procurement.importers import read_awards

    started = time.perf_counter()
    batch = read_awards(path)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "layout": str(batch.layout),
        "rows": batch.rows_read,
        "awards": len(batch.awards),
        "rejected": len(batch.rejected),
        "seconds": seconds,
        "peak_mb": peak_kib / 1024,
    }


def main() -> None:
    """Generate the files, measure each in a fresh interpreter, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        sys.stdout.write(json.dumps(measure(args.measure)) + "\n")
        return
    if not REFERENCE.is_dir():
        sys.exit(f"Needs the real headers in {REFERENCE} (the shared data folder).")
    machine = f"{platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        f"{'layout':<16}{'rows':>9}{'awards':>9}{'rejected':>9}{'file MB':>9}{'seconds':>9}"
        f"{'peak MB':>9}  machine"
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, write in (
            ("usaspending.csv", write_usaspending),
            ("ezsearch.csv", write_ezsearch),
        ):
            path = Path(folder) / name
            write(path, args.rows)
            result = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            figures = json.loads(result.stdout)
            lines.append(
                f"{figures['layout']:<16}{figures['rows']:>9,}{figures['awards']:>9,}"
                f"{figures['rejected']:>9}{path.stat().st_size / 2**20:>9.0f}"
                f"{figures['seconds']:>9.2f}{figures['peak_mb']:>9.0f}  {machine}"
            )
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
