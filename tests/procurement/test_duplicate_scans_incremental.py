"""The incremental duplicate scan against the algorithm it must reproduce.

Random registers go through chained changes (imports, edits, vendor merges and renames, a division
renamed, decisions, deletions); after each incremental scan the kept results must equal what the
reference algorithm writes: every record read again and compared by fingerprint, the focus grown
to whole consolidation groups, and every cluster and consolidation group rebuilt from all kept
pairs and groups. The warm worker (reading only the purchases that may have changed, rebuilding
only the groups those touch) and the cold one are both checked.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from marketplace import accounts
from marketplace.models import Division
from marketplace.types import utcnow
from procurement import duplicate_scans, duplicates
from procurement.duplicate_groups import (
    CONSOLIDATION,
    DUPLICATE,
    Group,
    candidate_group,
    duplicate_groups,
    fingerprint,
    merged_consolidation,
    possibly_changed,
)
from procurement.matching import PurchaseRecord
from procurement.models import (
    DuplicateScanGroup,
    DuplicateScanPair,
    DuplicateScanPurchase,
    Purchase,
    Vendor,
)
from procurement.services import purchases, vendors
from procurement.services.imports import ImportOptions, import_awards
from procurement.services.purchases import PurchaseInput
from tests.support import make_user, see_latest

# ------------------------------------------------------------------------ possibly_changed


def _rec(key: str, vendor: str = "ACME", division: str = "CDC", uei: str | None = None):
    return PurchaseRecord(
        key=key,
        division=division,
        vendor_name=vendor,
        description="x",
        start=date(2026, 1, 1),
        vendor_uei=uei,
        vendor_id=1,
    )


T0, T1 = "2026-01-01T00:00:00", "2026-01-02T00:00:00"
ACME = ("ACME", None, None, None)


@pytest.mark.parametrize(
    ("stamps", "kept", "records", "vendor_rows", "division_rows", "expected"),
    [
        # nothing moved: nothing to read again
        ({"a": (T0, 1, 1)}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {1: ACME}, {1: "CDC"}, set()),
        # a new purchase, and one edited (its stamp moved)
        (
            {"a": (T0, 1, 1), "b": (T1, 1, 1), "c": (T0, 1, 1)},
            {"a": (T0, 1, 1), "b": (T0, 1, 1)},
            {"a": _rec("a"), "b": _rec("b")},
            {1: ACME},
            {1: "CDC"},
            {"b", "c"},
        ),
        # moved to another vendor or division with the same updated_at
        ({"a": (T0, 2, 1)}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {1: ACME}, {1: "CDC"}, {"a"}),
        ({"a": (T0, 1, 2)}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {1: ACME}, {1: "CDC"}, {"a"}),
        # the vendor renamed or given a UEI, without any stamp moving
        (
            {"a": (T0, 1, 1), "b": (T0, 1, 1)},
            {"a": (T0, 1, 1), "b": (T0, 1, 1)},
            {"a": _rec("a"), "b": _rec("b")},
            {1: ("ACME CORP", None, None, None)},
            {1: "CDC"},
            {"a", "b"},
        ),
        (
            {"a": (T0, 1, 1)},
            {"a": (T0, 1, 1)},
            {"a": _rec("a")},
            {1: ("ACME", "U1", None, None)},
            {1: "CDC"},
            {"a"},
        ),
        # the vendor gone (merged away) while the purchase's stamp was read before it moved
        ({"a": (T0, 1, 1)}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {}, {1: "CDC"}, {"a"}),
        # a division renamed
        ({"a": (T0, 1, 1)}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {1: ACME}, {1: "CDCX"}, {"a"}),
        # one record of a vendor read before its rename, another after: only the stale one
        (
            {"a": (T0, 1, 1), "b": (T1, 1, 1)},
            {"a": (T0, 1, 1), "b": (T1, 1, 1)},
            {"a": _rec("a", "ACME"), "b": _rec("b", "ACME CORP")},
            {1: ("ACME CORP", None, None, None)},
            {1: "CDC"},
            {"a"},
        ),
        # no start date when read (no record) and unchanged since: nothing to read
        ({"a": (T0, 1, 1)}, {"a": (T0, 1, 1)}, {}, {}, {}, set()),
        # a purchase deleted is not read again (the scan finds it gone from the stamps)
        ({}, {"a": (T0, 1, 1)}, {"a": _rec("a")}, {1: ACME}, {1: "CDC"}, set()),
    ],
)
def test_possibly_changed(stamps, kept, records, vendor_rows, division_rows, expected):
    assert possibly_changed(stamps, kept, records, vendor_rows, division_rows) == expected


# ------------------------------------------------------------------------ the reference

DIVISIONS = ("CDC", "FDA", "NIH", "CMS")
VENDOR_NAMES = (
    "Clarivate Analytics LLC", "Clarivate Analytics", "Elsevier Inc", "Esri",
    "Environmental Systems Research", "IQVIA Inc", "Optum Inc", "Gartner Inc",
)  # fmt: skip
PRODUCTS = (
    "Web of Science", "Scopus", "ScienceDirect", "ArcGIS Online", "ArcGIS Enterprise",
    "Clinformatics Data Mart", "Journal Citation Reports", "Hospital data warehouse", "",
)  # fmt: skip
FIELDS = [
    "piid",
    "division",
    "vendor",
    "product",
    "description",
    "start",
    "current_end",
    "obligated",
]


def _rows(rng: random.Random, start: int, count: int) -> list[dict[str, Any]]:
    rows = []
    for number in range(start, start + count):
        begin = date(2025, 1, 1) + timedelta(days=rng.randrange(900))
        product = rng.choice(PRODUCTS)
        rows.append(
            {
                "piid": f"75R{number:05d}",
                "division": rng.choice(DIVISIONS),
                "vendor": rng.choice(VENDOR_NAMES),
                "product": product,
                "description": f"{product or rng.choice(PRODUCTS[:4])} annual subscription",
                "start": begin.isoformat(),
                "current_end": (
                    (begin + timedelta(days=rng.choice((180, 364, 729)))).isoformat()
                    if rng.random() < 0.9
                    else ""
                ),
                "obligated": str(rng.randrange(5_000, 200_000)),
            }
        )
    return rows


def _import(db, folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    path = folder / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    import_awards(db, "cli: test", path, ImportOptions(filename=name))


@dataclass(frozen=True)
class _Kept:
    pairs: set[tuple[str, str]]
    groups: set[Group]
    prints: dict[str, str]


def _kept(db) -> _Kept:
    see_latest(db)
    return _Kept(
        {(p.key_a, p.key_b) for p in db.exec(select(DuplicateScanPair)).all()},
        {
            Group(
                kind=g.kind,
                key=g.group_key,
                keys=tuple(g.keys),
                divisions=tuple(g.divisions),
                vendor=g.vendor,
                product=g.product,
                total_cents=g.total_cents,
                estimated_avoidable_cents=g.estimated_avoidable_cents,
                first_start=g.first_start_on,
                last_end=g.last_end_on,
            )
            for g in db.exec(select(DuplicateScanGroup)).all()
        },
        dict(
            db.exec(
                select(DuplicateScanPurchase.award_key, DuplicateScanPurchase.fingerprint)
            ).all()
        ),
    )


def _reference(db, before: _Kept, call: dict[str, Any]) -> tuple[_Kept, dict[str, int]]:
    """What the incremental scan must keep, by the reference algorithm, given the matcher's
    answer for the focus (the matcher itself is proven equal to a full scan elsewhere)."""
    records = {r.key: r for r in duplicates.load_purchases(db).records}
    dismissed, _ = duplicates.decided_pairs(db)
    changed = {k for k, r in records.items() if before.prints.get(k) != fingerprint(r)}
    removed = set(before.prints) - set(records)
    kept_consolidation = [g for g in before.groups if g.kind == CONSOLIDATION]
    focus = set(changed)
    for group in kept_consolidation:
        if (changed | removed) & set(group.keys):
            focus.update(k for k in group.keys if k in records)
    assert set(call["only_keys"]) == focus
    context = call["context"]
    assert {k: p.record for k, p in context.parsed.items()} == records
    touched = focus | removed
    new = [(p.key_a, p.key_b) for p in call["result"].pairs]
    kept_pairs = [(a, b) for a, b in before.pairs if a not in touched and b not in touched]
    grouped = [pair for pair in kept_pairs if frozenset(pair) not in dismissed]

    def describe(keys):
        parsed = [context.parsed[k] for k in keys]
        names = Counter(p.names[0] if p.names else "" for p in parsed)
        texts = Counter(p.product.text for p in parsed if p.product.text)
        return (
            min(names, key=lambda v: (-names[v], v)),
            min(texts, key=lambda v: (-texts[v], v)) if texts else "",
        )

    groups = duplicate_groups([*grouped, *new], records)
    clusters = len(groups)
    groups += merged_consolidation(
        [g for g in kept_consolidation if touched.isdisjoint(g.keys)],
        [candidate_group(c) for c in call["result"].consolidation],
        records,
        describe,
    )
    prints = {k: v for k, v in before.prints.items() if k not in removed}
    prints.update({k: fingerprint(records[k]) for k in changed})
    figures = {
        "changed": len(changed) + len(removed),
        "pairs": len(grouped) + len(new),
        "clusters": clusters,
        "purchases": len(records),
    }
    return _Kept(set(kept_pairs) | set(new), set(groups), prints), figures


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_scans_keep_what_the_reference_keeps(db, tmp_path, monkeypatch, seed, warm):
    rng = random.Random(seed)
    officers = {
        code: make_user(db, f"officer.{code.lower()}@hhs.gov", division=code, roles=("officer",))
        for code in DIVISIONS
    }
    leader = make_user(db, "leader@hhs.gov", division="OS", roles=("leadership",))
    first = _rows(rng, 0, 45)
    _import(db, tmp_path, "first.csv", first)
    duplicate_scans.full_scan(db, trigger="test")
    kinds = Counter(g.kind for g in _kept(db).groups)
    assert kinds[DUPLICATE] > 1 and kinds[CONSOLIDATION] > 1, "the register must hold groups"

    calls: list[dict[str, Any]] = []
    full_loads: list[bool] = []
    find, load = duplicate_scans.find_duplicates, duplicate_scans.load_purchases

    def recorded_find(records, **kwargs):
        result = find(records, **kwargs)
        calls.append({**kwargs, "result": result})
        return result

    def recorded_load(db, keys=None):
        full_loads.append(keys is None)
        return load(db, keys)

    monkeypatch.setattr(duplicate_scans, "find_duplicates", recorded_find)
    monkeypatch.setattr(duplicate_scans, "load_purchases", recorded_load)

    def refresh_and_check(step: str) -> None:
        before = _kept(db)
        calls.clear()
        full_loads.clear()
        if not warm:
            monkeypatch.setattr(duplicate_scans, "_warm", None)
        outcome = duplicate_scans.refresh_changed(db, trigger=step)
        assert outcome is not None and outcome.run.kind == "incremental", step
        # The warm worker reads only the purchases that may have changed.
        assert full_loads == [not warm], step
        expected, figures = _reference(db, before, calls[0])
        after = _kept(db)
        assert after.pairs == expected.pairs, step
        assert after.groups == expected.groups, step
        assert after.prints == expected.prints, step
        run = outcome.run
        assert {
            "changed": run.changed,
            "pairs": run.pairs,
            "clusters": run.clusters,
            "purchases": run.purchases,
        } == figures, step

    def purchase_keys() -> list[str]:
        see_latest(db)
        return sorted(db.exec(select(Purchase.award_key)).all())

    # An import: new purchases, and new periods and amounts for a few already there.
    again = [
        {**row, "start": other["start"], "current_end": other["current_end"], "obligated": "99000"}
        for row, other in zip(rng.sample(first, 4), _rows(rng, 0, 4), strict=True)
    ]
    _import(db, tmp_path, "second.csv", again + _rows(rng, 45, 8))
    refresh_and_check("import")

    # A hand edit by the purchase's own division.
    key = rng.choice(purchase_keys())
    old = db.exec(select(Purchase).where(Purchase.award_key == key)).one()
    division = db.get(Division, old.division_id)
    edit = replace(
        PurchaseInput.of(old, division.code, db.get(Vendor, old.vendor_id)),
        product=rng.choice(PRODUCTS[:6]),
        start_on=(old.start_on + timedelta(days=rng.randrange(-200, 200))).isoformat(),
        current_end_on="",
    )
    purchases.update_purchase(db, accounts.principal_for(db, officers[division.code]), old.id, edit)
    refresh_and_check("edit")

    # Two vendors merged: every purchase of the one merged away is seen under the other.
    see_latest(db)
    used = sorted(set(db.exec(select(Purchase.vendor_id)).all()))
    keep_id, merge_id = rng.sample(used, 2)
    vendors.merge_vendors(db, "cli: test", keep_id, merge_id)
    refresh_and_check("merge")

    # A vendor renamed and given a parent by hand, without any updated_at moving.
    see_latest(db)
    vendor_id = rng.choice(sorted(set(db.exec(select(Purchase.vendor_id)).all())))
    db.execute(
        update(Vendor)
        .where(Vendor.id == vendor_id)
        .values(name="Clarivate Analytics (US) LLC", parent_name="Clarivate PLC")
    )
    db.commit()
    refresh_and_check("vendor renamed")

    # Decisions on two kept pairs, one written back as a scan running meanwhile would (it read
    # the decisions before): kept, but in no cluster. Then more purchases.
    see_latest(db)
    rows = db.exec(select(DuplicateScanPair).order_by(DuplicateScanPair.key_a)).all()
    late = rows[-1].model_dump(exclude={"id"})
    for row in (rows[0], rows[-1]):
        duplicates.decide_pair(
            db, accounts.principal_for(db, leader), row.key_a, row.key_b, "not_duplicate", "no"
        )
    db.add(DuplicateScanPair(**late))
    db.commit()
    _import(db, tmp_path, "third.csv", _rows(rng, 60, 4))
    refresh_and_check("decision and import")

    # Purchases deleted: one in a cluster, and another.
    kept_keys = sorted({k for pair in _kept(db).pairs for k in pair})
    for key in {rng.choice(kept_keys), rng.choice(purchase_keys())}:
        db.delete(db.exec(select(Purchase).where(Purchase.award_key == key)).one())
    db.commit()
    refresh_and_check("delete")

    # A division renamed (its purchases' rows do not change).
    db.execute(update(Division).where(Division.code == "CMS").values(code="CMSX"))
    db.commit()
    refresh_and_check("division renamed")

    # Stamps that move without a change (a listing linked) find nothing to rescan.
    see_latest(db)
    db.execute(update(Purchase).values(updated_at=utcnow()))
    db.commit()
    assert duplicate_scans.refresh_changed(db, trigger="touch") is None
