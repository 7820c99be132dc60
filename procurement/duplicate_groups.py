"""Kept duplicate-scan groups and the avoided spend of a check-before-you-buy outcome.

Pure: the groups the duplicate and consolidation pages show are rebuilt from kept pairs and
purchase records (an incremental scan rebuilds the clusters its changed pairs belong to); a
record's fingerprint tells an incremental scan whether the matcher would see it differently, and
purchase stamps and vendor rows which records may have changed since they were read. Money is
integer cents; periods are inclusive dates, as in `procurement.costs`.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from procurement.costs import annualised_cents
from procurement.matching import ConsolidationCandidate, PurchaseRecord, cluster_avoidable_cents

DUPLICATE = "duplicate"
CONSOLIDATION = "consolidation"

# What a purchase row was when read: (updated_at, vendor id, division id). Every write path that
# changes a purchase sets updated_at; the ids tell a purchase moved to another vendor or division.
Stamp = tuple[Any, int, int]
# What a record takes from its vendor's row: (name, UEI, parent UEI, parent name).
VendorFields = tuple[str, str | None, str | None, str | None]


class Outcome(StrEnum):
    """What an officer decided after checking a planned purchase."""

    REUSE = "reuse"
    PROCEED = "proceed"

    @property
    def label(self) -> str:
        return {
            Outcome.REUSE: "Reuse the existing one",
            Outcome.PROCEED: "Proceed with the purchase",
        }[self]


def avoided_spend_cents(outcome: str, planned_cents: int | None) -> int:
    """Spend a check outcome avoided.

    Args:
        outcome: "reuse" (an existing purchase, licence or listing covers the need) or "proceed".
        planned_cents: the amount the officer planned to spend on the need, in cents; None when
            they gave none.

    Returns:
        For "reuse", the planned amount (0 when none was given or it is negative); for "proceed",
        0. Cents.
    """
    if outcome != Outcome.REUSE or planned_cents is None:
        return 0
    return max(planned_cents, 0)


@dataclass(frozen=True)
class Group:
    """A duplicate cluster or a consolidation candidate, as the pages show it.

    Attributes:
        kind: "duplicate" (bought at the same time) or "consolidation" (one after another).
        key: "dup-" or "con-" + the smallest member key (as `procurement.matching` names them).
        keys: member award keys, sorted.
        divisions: member divisions, sorted, unique.
        vendor: the most frequent vendor name among members (ties: alphabetical).
        product: the most frequent product text among members.
        total_cents: sum of the members' obligated amounts.
        estimated_avoidable_cents: for a duplicate cluster, `matching.cluster_avoidable_cents`;
            0 for a consolidation candidate (nothing overlaps).
        first_start: earliest start.
        last_end: latest end (a missing end is assumed one year after the start, as the matcher
            assumes).
    """

    kind: str
    key: str
    keys: tuple[str, ...]
    divisions: tuple[str, ...]
    vendor: str
    product: str
    total_cents: int
    estimated_avoidable_cents: int
    first_start: date
    last_end: date


def record_end(record: PurchaseRecord) -> date:
    """The record's last day, or the matcher's assumption (start + 364 days) when unknown."""
    return record.end if record.end is not None else record.start + timedelta(days=364)


def fingerprint(record: PurchaseRecord) -> str:
    """A short digest of everything the matcher reads from a record (32 hex characters)."""
    # The dataclass repr names every field with its value (astuple deep-copies: 20x slower).
    return hashlib.blake2b(repr(record).encode(), digest_size=16).hexdigest()


def possibly_changed(
    stamps: Mapping[str, Stamp],
    kept_stamps: Mapping[str, Stamp],
    records: Mapping[str, PurchaseRecord],
    vendors: Mapping[int, VendorFields],
    divisions: Mapping[int, str],
) -> set[str]:
    """Purchases whose record may differ from the one kept: read those again, keep the others.

    Args:
        stamps: award key -> stamp of every purchase now.
        kept_stamps: award key -> stamp of every purchase when its kept record was read.
        records: the kept records by key (purchases without a start date have none).
        vendors: vendor id -> its fields now.
        divisions: division id -> its code now.

    Returns:
        New purchases, purchases whose stamp moved (edited, moved to another vendor or division),
        and purchases whose kept record shows their vendor or division otherwise than it is now
        (a vendor renamed, given a UEI or a parent; a division renamed). Vendors and divisions
        are compared record by record, so no stamp of theirs needs to move.
    """
    out: set[str] = set()
    kept, held = kept_stamps.get, records.get  # bound once: this runs for every purchase
    for key, stamp in stamps.items():
        if kept(key) != stamp:
            out.add(key)
            continue
        record = held(key)
        if record is None:
            continue  # no start date when read, and the row has not changed since
        vendor = vendors.get(stamp[1])
        if (
            vendor is None
            or vendor[0] != record.vendor_name
            or vendor[1] != record.vendor_uei
            or vendor[2] != record.parent_uei
            or vendor[3] != record.parent_name
            or divisions.get(stamp[2]) != record.division
        ):
            out.add(key)
    return out


def components(groups: Iterable[Sequence[str]]) -> list[tuple[str, ...]]:
    """Connected components of keys linked by groups (a pair is a group of two), sorted."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in groups:
        first = find(group[0]) if group else None
        for key in group[1:]:
            root = find(key)
            if first is not None and root != first:
                low, high = sorted((first, root))
                parent[high] = low
                first = low
    members: dict[str, list[str]] = defaultdict(list)
    for key in parent:
        members[find(key)].append(key)
    return sorted(tuple(sorted(keys)) for keys in members.values())


def _most_common(values: Iterable[str]) -> str:
    counts = Counter(v for v in values if v)
    return min(counts, key=lambda v: (-counts[v], v)) if counts else ""


def duplicate_groups(
    pairs: Iterable[tuple[str, str]], records: Mapping[str, PurchaseRecord]
) -> list[Group]:
    """Clusters of duplicate pairs, largest avoidable spend first (as `matching` orders them).

    Args:
        pairs: (key_a, key_b) of every kept duplicate pair; keys missing from `records` are
            dropped (a purchase removed since).
        records: the register's records by key.
    """
    linked = [(a, b) for a, b in pairs if a in records and b in records]
    out = []
    for keys in components(linked):
        members = [records[k] for k in keys]
        out.append(
            Group(
                kind=DUPLICATE,
                key=f"dup-{keys[0]}",
                keys=keys,
                divisions=tuple(sorted({m.division for m in members})),
                vendor=_most_common(m.vendor_name for m in members),
                product=_most_common((m.product or m.description)[:120] for m in members),
                total_cents=sum(m.obligated_cents for m in members),
                estimated_avoidable_cents=cluster_avoidable_cents(
                    [
                        (
                            m.division,
                            m.start,
                            record_end(m),
                            max(annualised_cents(m.obligated_cents, m.start, record_end(m)), 0),
                        )
                        for m in members
                    ]
                ),
                first_start=min(m.start for m in members),
                last_end=max(record_end(m) for m in members),
            )
        )
    out.sort(key=lambda g: (-g.estimated_avoidable_cents, g.key))
    return out


def candidate_group(candidate: ConsolidationCandidate) -> Group:
    """A matcher's consolidation candidate as a kept group."""
    return Group(
        kind=CONSOLIDATION,
        key=candidate.id,
        keys=candidate.keys,
        divisions=candidate.divisions,
        vendor=candidate.vendor,
        product=candidate.product,
        total_cents=candidate.total_cents,
        estimated_avoidable_cents=0,
        first_start=candidate.first_start,
        last_end=candidate.last_end,
    )


def merged_consolidation(
    kept: Sequence[Group],
    found: Sequence[Group],
    records: Mapping[str, PurchaseRecord],
    describe: Callable[[tuple[str, ...]], tuple[str, str]],
) -> list[Group]:
    """Consolidation groups after an incremental scan, largest total first.

    Args:
        kept: stored groups no rescanned purchase belongs to (their links still hold).
        found: groups the incremental scan found (each holds a rescanned purchase).
        records: the register's records by key; members no longer in it are dropped.
        describe: (vendor, product) for a group made by joining kept and found ones.
    """
    known = {g.keys: g for g in (*kept, *found)}
    out = []
    for keys in components(g.keys for g in (*kept, *found)):
        present = tuple(k for k in keys if k in records)
        if len({records[k].division for k in present}) < 2:
            continue
        same = known.get(present)
        members = [records[k] for k in present]
        vendor, product = (same.vendor, same.product) if same else describe(present)
        out.append(
            Group(
                kind=CONSOLIDATION,
                key=f"con-{present[0]}",
                keys=present,
                divisions=tuple(sorted({m.division for m in members})),
                vendor=vendor,
                product=product,
                total_cents=sum(m.obligated_cents for m in members),
                estimated_avoidable_cents=0,
                first_start=min(m.start for m in members),
                last_end=max(record_end(m) for m in members),
            )
        )
    out.sort(key=lambda g: (-g.total_cents, g.key))
    return out
