"""Benchmark of procurement.matching on synthetic purchases: full scan, incremental scan, rank_need.

Run from the project root: `python tests/benchmarks/bench_matching.py [--sizes 1000,10000,100000]`.
Not a pytest test. Each size runs in a fresh child process so the peak resident memory it reports
(ru_maxrss) belongs to that size alone. The generator also knows which pairs are true duplicates,
so the table shows precision and recall on synthetic data next to the times.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from procurement.costs import overlap_days
from procurement.matching import (
    MIN_OVERLAP_DAYS,
    NeedQuery,
    PurchaseRecord,
    build_context,
    find_duplicates,
    rank_need,
)

DIVISIONS = ("CDC", "NIH", "FDA", "CMS", "HRSA", "IHS", "SAMHSA", "AHRQ", "ACF", "ACL", "ASA")
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "tex",
    "vin",
    "quo",
    "zen",
    "dar",
    "bel",
    "cor",
    "fin",
    "gal",
    "hex",
    "ion",
    "jur",
    "kel",
    "lum",
    "nor",
    "pix",
]
CATEGORIES = (
    ("CLAIMS DATA MART", "deidentified claims and lab results"),
    ("ANALYTICS PLATFORM", "cloud analytics platform"),
    ("JOURNAL COLLECTION", "full-text journal access"),
    ("GIS SERVER", "geospatial server software"),
    ("STATISTICAL SOFTWARE", "statistical analysis software"),
    ("SALES AUDIT", "pharmaceutical sales data"),
    ("CITATION DATABASE", "abstract and citation database"),
    ("PROVIDER DIRECTORY", "provider intelligence data"),
    ("SURVEY TOOL", "online survey platform"),
    ("DRUG PIPELINE", "drug pipeline intelligence"),
)
SUFFIXES = ("INC", "LLC", "CORP", "INCORPORATED", "L.L.C.", "CO", "LTD")
SERVICES = (
    "JANITORIAL SERVICES", "TRANSLATION SERVICES", "IT HELP DESK SUPPORT", "CONFERENCE LOGISTICS",
    "PROGRAM EVALUATION SUPPORT", "FACILITY MAINTENANCE", "LABORATORY SUPPLIES",
)  # fmt: skip


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).upper()


def _uei(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(12))


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, max(len(text) - 1, 2))
    return text[:i] + text[i] + text[i:] if rng.random() < 0.5 else text[:i] + text[i + 1 :]


def _describe(rng: random.Random, product: str, detail: str, vendor: str) -> str:
    templates = (
        f"{product} SUBSCRIPTION FOR {rng.choice(('NATIONAL', 'CENTERS', 'PROGRAM'))}",
        f"OPTION YEAR {rng.randint(1, 4)}: {product}",
        f"ANNUAL LICENSE RENEWAL - {product}",
        f"Purchase of {product.title()} ({detail}) for FY{rng.randint(21, 25)}",
        f"{detail} ({product.title()}) enterprise license",
        f"{vendor.split()[0]} {product} DATA ACCESS, {detail}"[:48],
        f"{product} {detail.upper()} - BASE YEAR",
        f"Subscription to {product.title()}",
    )
    text = rng.choice(templates)
    roll = rng.random()
    if roll < 0.08:
        text = _typo(rng, text)
    elif roll < 0.12:
        text = rng.choice(("EXERCISE OPTION YEAR 3", "IGF::OT::IGF", "ANNUAL LICENSE RENE"))
    return text


def generate(size: int, seed: int = 7) -> tuple[list[PurchaseRecord], set[tuple[str, str]]]:
    """Synthetic purchases and their true duplicate pairs (same product, other division, no shared
    vehicle, overlap >= MIN_OVERLAP_DAYS)."""
    rng = random.Random(seed)
    used: set[str] = set()

    def unique_word(parts: int) -> str:
        # Distinct vendors and brands need distinct names, or the truth would be wrong; one
        # more syllable after a few collisions keeps this finite at any size.
        for attempt in range(100):
            word = _word(rng, parts + attempt // 5)
            if word not in used:
                used.add(word)
                return word
        raise RuntimeError("no unused name")

    records: list[PurchaseRecord] = []
    offering_of: dict[str, str] = {}
    counter = 0

    def key(division: str) -> str:
        nonlocal counter
        counter += 1
        return f"75{division[:2]}{counter:09d}"

    while len(records) < size:
        if rng.random() < 0.55:
            # A filler vendor buying one generic service, one division, yearly renewals.
            name = f"{unique_word(3)} {rng.choice(('GROUP', 'INC', 'LLC', 'CORP'))}"
            uei, division = _uei(rng), rng.choice(DIVISIONS)
            service = rng.choice(SERVICES)
            start = date(2021, 1, 1) + timedelta(days=rng.randrange(1400))
            for year in range(rng.randint(1, 3)):
                k = key(division)
                s = start + timedelta(days=365 * year)
                records.append(
                    PurchaseRecord(
                        key=k, division=division, vendor_name=name, vendor_uei=uei,
                        parent_uei=uei, parent_name=name, description=f"{service} FOR {division}",
                        start=s, end=s + timedelta(days=363), psc="R499", naics="541990",
                        obligated_cents=rng.randrange(1_000_000, 90_000_000),
                    )
                )  # fmt: skip
                offering_of[k] = f"filler-{uei}"
            continue
        # A data vendor family: parent, one or two subsidiaries, a former name, 1-3 products.
        base = unique_word(3)
        parent_name, parent_uei = f"{base} HOLDINGS {rng.choice(SUFFIXES)}", _uei(rng)
        subsidiaries = [
            (
                f"{base} {rng.choice(('GOVERNMENT SOLUTIONS', 'ANALYTICS', 'US'))} {suffix}",
                _uei(rng),
            )
            for suffix in rng.sample(SUFFIXES, rng.randint(1, 2))
        ]
        former = f"{unique_word(3)} {rng.choice(SUFFIXES)}"
        for _ in range(rng.randint(1, 3)):
            brand = unique_word(rng.randint(3, 4))
            category, detail = rng.choice(CATEGORIES)
            product = f"{brand} {category}"
            offering = f"{parent_uei}-{product}"
            vehicle = f"75P00{rng.randint(10, 99)}A{rng.randint(10000, 99999)}"
            buyers = rng.sample(DIVISIONS, rng.randint(1, 4))
            for division in buyers:
                on_vehicle = rng.random() < 0.25
                start = date(2021, 1, 1) + timedelta(days=rng.randrange(900))
                for year in range(rng.randint(1, 3)):
                    name, uei = rng.choice(subsidiaries)
                    if rng.random() < 0.1:
                        name, uei = former, None
                    if rng.random() < 0.15:
                        uei = None
                    if rng.random() < 0.1:
                        name = _typo(rng, name)
                    s = start + timedelta(days=365 * year + rng.randint(-10, 10))
                    k = key(division)
                    records.append(
                        PurchaseRecord(
                            key=k, division=division, vendor_name=name, vendor_uei=uei,
                            parent_uei=parent_uei if rng.random() < 0.85 else None,
                            parent_name=parent_name, description=_describe(rng, product, detail, name),
                            start=s, end=s + timedelta(days=rng.choice((181, 364, 729))),
                            psc="7A21", naics="519290",
                            obligated_cents=rng.randrange(3_000_000, 70_000_000),
                            parent_piid=vehicle if on_vehicle else None,
                        )
                    )  # fmt: skip
                    offering_of[k] = offering
    records = records[:size]
    return records, _truth(records, offering_of)


def _truth(records: list[PurchaseRecord], offering_of: dict[str, str]) -> set[tuple[str, str]]:
    by_offering: dict[str, list[PurchaseRecord]] = {}
    for r in records:
        if not offering_of[r.key].startswith("filler-"):
            by_offering.setdefault(offering_of[r.key], []).append(r)
    gold = set()
    for members in by_offering.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a.division == b.division or (a.parent_piid and a.parent_piid == b.parent_piid):
                    continue
                assert a.end and b.end
                if overlap_days(a.start, a.end, b.start, b.end) >= MIN_OVERLAP_DAYS:
                    gold.add((min(a.key, b.key), max(a.key, b.key)))
    return gold


def _peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def _full(size: int, queue: multiprocessing.Queue) -> None:
    records, gold = generate(size)
    before = _peak_mb()
    started = time.perf_counter()
    result = find_duplicates(records)
    seconds = time.perf_counter() - started
    found = {(p.key_a, p.key_b) for p in result.pairs}
    hits = len(found & gold)
    queue.put(
        {
            "size": size,
            "seconds": seconds,
            "peak_mb": _peak_mb(),
            "data_mb": before,
            "compared": result.compared,
            "pairs": len(found),
            "precision": hits / len(found) if found else 1.0,
            "recall": hits / len(gold) if gold else 1.0,
        }
    )


def _incremental(size: int, queue: multiprocessing.Queue) -> None:
    records, _ = generate(size + 1000, seed=11)
    new_keys = {r.key for r in random.Random(3).sample(records, 1000)}
    previous = [r for r in records if r.key not in new_keys]
    # Fresh process: nothing parsed before.
    started = time.perf_counter()
    find_duplicates(records, only_keys=new_keys)
    cold = time.perf_counter() - started
    # A service process after an import: it scanned the previous records before.
    find_duplicates(previous, only_keys=())
    started = time.perf_counter()
    find_duplicates(records, only_keys=new_keys)
    after_import = time.perf_counter() - started
    context = build_context(records)
    started = time.perf_counter()
    find_duplicates(records, only_keys=new_keys, context=context)
    reused = time.perf_counter() - started
    rng = random.Random(5)
    timings = []
    for record in rng.sample(records, 30):
        need = NeedQuery(record.vendor_name, record.description, division="CDC")
        started = time.perf_counter()
        rank_need(need, records, context=context)
        timings.append(time.perf_counter() - started)
    timings.sort()
    queue.put(
        {
            "size": size,
            "cold_s": cold,
            "after_import_s": after_import,
            "reused_s": reused,
            "rank_p50_s": statistics.median(timings),
            "rank_p95_s": timings[int(len(timings) * 0.95) - 1],
        }
    )


def _run(target, size: int) -> dict:  # type: ignore[no-untyped-def]
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(size, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"machine: {platform.platform()}, Python {platform.python_version()}, CPUs {os.cpu_count()}"
    )
    print(f"{'records':>8} {'scan s':>8} {'peak MB':>8} {'data MB':>8} {'compared':>10} "
          f"{'pairs':>7} {'P':>6} {'R':>6}")  # fmt: skip
    for size in sizes:
        r = _run(_full, size)
        print(
            f"{r['size']:>8} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['data_mb']:>8.0f} "
            f"{r['compared']:>10} {r['pairs']:>7} {r['precision']:>6.3f} {r['recall']:>6.3f}"
        )
    largest = max(sizes)
    r = _run(_incremental, largest)
    print(
        f"incremental scan of 1,000 new rows against {largest:,}: fresh process "
        f"{r['cold_s']:.2f} s; after a previous scan in the same process {r['after_import_s']:.2f} s;"
        f" context reused {r['reused_s']:.2f} s"
    )
    print(
        f"rank_need over {largest:,} records, context reused: p50 {r['rank_p50_s'] * 1000:.0f} ms, "
        f"p95 {r['rank_p95_s'] * 1000:.0f} ms"
    )
    print("targets: 100k scan <= 60 s and <= 1 GB peak; incremental after 1,000 rows <= 5 s")


if __name__ == "__main__":
    main()
