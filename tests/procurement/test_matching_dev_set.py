"""Precision and recall floors of find_duplicates on the labelled dev set (shared/data/eval)."""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.hhs import division_for_subtier
from procurement.matching import PurchaseRecord, find_duplicates

DATA = Path(__file__).parents[2].parent / "shared" / "data"
DEV_SET = DATA / "eval" / "duplicates-dev"
# Floors actually reached (precision 1.000, recall 0.970 when written); a drop is a regression.
MIN_PRECISION = 0.95
MIN_RECALL = 0.95


@pytest.fixture(scope="module")
def dev_set() -> tuple[list[PurchaseRecord], set[tuple[str, str]], set[str]]:
    if not (DEV_SET / "purchases.csv").exists():
        message = (
            f"dev set not found at {DEV_SET} (it lives in ../shared, absent in a user's clone)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with (DEV_SET / "purchases.csv").open(newline="", encoding="utf-8") as f:
        records = [_record(row) for row in csv.DictReader(f)]
    truth = json.loads((DEV_SET / "truth.json").read_text(encoding="utf-8"))
    gold = {(min(a, b), max(a, b)) for a, b in truth["pairs"]}
    return records, gold, set(truth.get("ignore", []))


def _record(row: dict[str, str]) -> PurchaseRecord:
    end = row["period_of_performance_current_end_date"]
    subtier = row["awarding_sub_agency_code"]
    return PurchaseRecord(
        key=row["award_id_piid"],
        division=division_for_subtier(subtier) or subtier,
        vendor_name=row["recipient_name"],
        vendor_uei=row["recipient_uei"] or None,
        parent_uei=row["recipient_parent_uei"] or None,
        parent_name=row["recipient_parent_name"] or None,
        dba_name=row["recipient_doing_business_as_name"] or None,
        description=row["prime_award_base_transaction_description"],
        psc=row["product_or_service_code"] or None,
        naics=row["naics_code"] or None,
        parent_piid=row["parent_award_id_piid"] or None,
        start=date.fromisoformat(row["period_of_performance_start_date"]),
        end=date.fromisoformat(end) if end else None,
        obligated_cents=int(Decimal(row["total_obligated_amount"] or "0") * 100),
    )


def test_precision_and_recall_floors(dev_set) -> None:  # type: ignore[no-untyped-def]
    records, gold, ignore = dev_set
    result = find_duplicates(records)
    found = {(p.key_a, p.key_b) for p in result.pairs if not {p.key_a, p.key_b} & ignore}
    correct = found & gold
    precision = len(correct) / len(found) if found else 0.0
    recall = len(correct) / len(gold)
    detail = f"missed {sorted(gold - found)}, spurious {sorted(found - gold)}"
    assert precision >= MIN_PRECISION, detail
    assert recall >= MIN_RECALL, detail


def test_every_reported_pair_is_cross_division_and_explained(dev_set) -> None:  # type: ignore[no-untyped-def]
    records, _, _ = dev_set
    for pair in find_duplicates(records).pairs:
        assert pair.division_a != pair.division_b
        assert pair.key_a < pair.key_b
        assert pair.overlap_days >= 30
        assert pair.estimated_avoidable_cents >= 0
        assert pair.reasons


def test_incremental_scan_matches_the_full_scan_on_the_dev_set(dev_set) -> None:  # type: ignore[no-untyped-def]
    records, _, _ = dev_set
    full = find_duplicates(records)
    focus = {r.key for r in records[::7]}
    expected = {(p.key_a, p.key_b) for p in full.pairs if {p.key_a, p.key_b} & focus}
    incremental = find_duplicates(records, only_keys=focus)
    assert {(p.key_a, p.key_b) for p in incremental.pairs} == expected
