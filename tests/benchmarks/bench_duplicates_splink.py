"""Side by side on the labelled dev set: procurement.matching against a Splink (DuckDB) model.

Run from the project root: `python tests/benchmarks/bench_duplicates_splink.py`. Not a pytest
test. Splink links records that buy the same offering (vendor and description compared with the
Fellegi-Sunter model it trains without labels); the same deterministic rules as ours then keep
cross-division pairs, not under one shared vehicle, overlapping 30 days or more. Prints precision,
recall, F1 and time for both. Exits with a message when splink or the dev set is missing.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from marketplace.hhs import division_for_subtier  # noqa: E402
from procurement.costs import overlap_days  # noqa: E402
from procurement.matching import MIN_OVERLAP_DAYS, PurchaseRecord, find_duplicates  # noqa: E402
from procurement.vendor_names import normalise_vendor_name  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "data" / "eval" / "duplicates-dev"


def load() -> tuple[list[PurchaseRecord], set[tuple[str, str]], set[str]]:
    with (DEV_SET / "purchases.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    records = [
        PurchaseRecord(
            key=r["award_id_piid"],
            division=division_for_subtier(r["awarding_sub_agency_code"])
            or r["awarding_sub_agency_code"],
            vendor_name=r["recipient_name"],
            vendor_uei=r["recipient_uei"] or None,
            parent_uei=r["recipient_parent_uei"] or None,
            parent_name=r["recipient_parent_name"] or None,
            dba_name=r["recipient_doing_business_as_name"] or None,
            description=r["prime_award_base_transaction_description"],
            psc=r["product_or_service_code"] or None,
            naics=r["naics_code"] or None,
            parent_piid=r["parent_award_id_piid"] or None,
            start=date.fromisoformat(r["period_of_performance_start_date"]),
            end=date.fromisoformat(r["period_of_performance_current_end_date"]),
            obligated_cents=int(Decimal(r["total_obligated_amount"] or "0") * 100),
        )
        for r in rows
    ]
    truth = json.loads((DEV_SET / "truth.json").read_text(encoding="utf-8"))
    gold = {(min(a, b), max(a, b)) for a, b in truth["pairs"]}
    return records, gold, set(truth.get("ignore", []))


def splink_pairs(records: list[PurchaseRecord]) -> set[tuple[str, str]]:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on

    try:
        from splink import DuckDBAPI  # splink 4
    except ImportError:
        from splink.internals.duckdb.database_api import DuckDBAPI  # splink 5

    frame = pd.DataFrame(
        {
            "unique_id": r.key,
            "vendor": normalise_vendor_name(r.vendor_name),
            "parent": normalise_vendor_name(r.parent_name) or None,
            "uei": r.vendor_uei,
            "parent_uei": r.parent_uei,
            "description": r.description.upper(),
            "psc": r.psc,
        }
        for r in records
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ExactMatch("uei"),
            cl.ExactMatch("parent_uei"),
            cl.JaroWinklerAtThresholds("vendor", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("parent", [0.92, 0.8]),
            cl.JaccardAtThresholds("description", [0.5, 0.3]),
            cl.ExactMatch("psc"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("uei"),
            block_on("parent_uei"),
            block_on("vendor"),
            block_on("parent"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("parent_uei"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("psc"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    return {
        (min(a, b), max(a, b))
        for a, b in zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True)
    }


def business_rules(
    pairs: set[tuple[str, str]], records: list[PurchaseRecord]
) -> set[tuple[str, str]]:
    by_key = {r.key: r for r in records}
    kept = set()
    for a, b in pairs:
        ra, rb = by_key[a], by_key[b]
        if ra.division == rb.division or (ra.parent_piid and ra.parent_piid == rb.parent_piid):
            continue
        assert ra.end and rb.end
        if overlap_days(ra.start, ra.end, rb.start, rb.end) >= MIN_OVERLAP_DAYS:
            kept.add((a, b))
    return kept


def scores(found: set[tuple[str, str]], gold: set[tuple[str, str]]) -> tuple[float, float, float]:
    hits = len(found & gold)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    try:
        import splink  # noqa: F401
    except ImportError:
        sys.exit("splink is not installed (pip install 'splink>=4' duckdb pandas): skipped")
    if not (DEV_SET / "purchases.csv").exists():
        sys.exit(f"dev set not found at {DEV_SET}: skipped")
    records, gold, ignore = load()
    rows = []
    started = time.perf_counter()
    ours = {(p.key_a, p.key_b) for p in find_duplicates(records).pairs}
    rows.append(("procurement.matching", ours, time.perf_counter() - started))
    started = time.perf_counter()
    theirs = business_rules(splink_pairs(records), records)
    rows.append(("Splink (DuckDB) + same rules", theirs, time.perf_counter() - started))
    print(f"dev set: {len(records)} purchases, {len(gold)} true pairs")
    print(f"{'method':<32} {'pairs':>6} {'P':>6} {'R':>6} {'F1':>6} {'seconds':>8}")
    for name, found, seconds in rows:
        found = {f for f in found if not set(f) & ignore}
        precision, recall, f1 = scores(found, gold)
        print(
            f"{name:<32} {len(found):>6} {precision:>6.3f} {recall:>6.3f} {f1:>6.3f} {seconds:>8.2f}"
        )


if __name__ == "__main__":
    main()
