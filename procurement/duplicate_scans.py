"""Kept duplicate scans: full and incremental scans stored for the pages, and check outcomes.

A full scan compares every purchase and replaces the kept results. An incremental scan (after an
import, an edit, a vendor merge: whatever changed a purchase as the matcher sees it, found by
comparing each record's fingerprint with the one kept) rescans only the pairs that touch the
changed purchases, against the whole register, and rebuilds the clusters and consolidation groups
those pairs belong to. Pairs between unchanged purchases keep the scores of the scan that last
looked at them; "Scan again" recomputes everything. Each scan writes its results in one transaction with its run, so a
scan that fails leaves the previous results as they were. Decisions always apply: a dismissed pair
is never kept, a confirmed one always is.

The worker keeps the matcher's context of the last scan it ran warm in memory (`_Warm`), so the
next incremental scan updates it (`matching.update_context`) instead of rebuilding it over the
whole register, and reads only the purchases whose stamp (updated_at, vendor, division) moved or
whose vendor or division reads otherwise than their warm record; the first scan after the worker
starts, or after another process scanned, reads and builds it in full.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, or_, text
from sqlmodel import Session, col, select

from marketplace.accounts import ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, Principal, Role, require
from marketplace.catalog.models import Listing
from marketplace.db import exclusive_session
from marketplace.jobs import enqueue
from marketplace.models import Division, Job, JobStatus
from marketplace.types import utcnow
from procurement.duplicate_groups import (
    CONSOLIDATION,
    DUPLICATE,
    Group,
    Outcome,
    Stamp,
    VendorFields,
    avoided_spend_cents,
    candidate_group,
    duplicate_groups,
    fingerprint,
    merged_consolidation,
    possibly_changed,
)
from procurement.duplicates import (
    Decision,
    LoadedPurchases,
    decided_pairs,
    load_purchases,
    purchase_stamps,
    require_reviewer,
)
from procurement.matching import (
    DEFAULT_THRESHOLD,
    DuplicatePair,
    MatchContext,
    PurchaseRecord,
    ScanResult,
    build_context,
    find_duplicates,
    update_context,
)
from procurement.models import (
    CheckOutcome,
    DuplicateScanGroup,
    DuplicateScanPair,
    DuplicateScanPurchase,
    DuplicateScanRun,
    Licence,
    Purchase,
    Vendor,
)

log = logging.getLogger(__name__)

SCAN_JOB = "duplicates.scan"
REFRESH_JOB = "duplicates.refresh"
# Above this share of changed purchases an incremental scan costs about as much as a full one
# (on registers of FULL_SCAN_MIN purchases or more; below that both take well under a second).
FULL_SCAN_SHARE = 0.25
FULL_SCAN_MIN = 1000
CHUNK = 500
PER_PAGE = 20
JUSTIFICATION_MAX = 2000
CONFIRMED_REASON = "confirmed by an officer"

Progress = Callable[[int, int | None, str], None]


class ScanKind(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class ScanStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class ScanOutcome:
    """A finished scan: its run, and for a full scan the matcher's result (for `scan --json`)."""

    run: DuplicateScanRun
    result: ScanResult | None = None
    loaded: LoadedPurchases | None = None


def _no_progress(done: int, total: int | None = None, message: str = "") -> None:
    return None


@dataclass(frozen=True)
class _Warm:
    """The matcher's context of the last scan this process kept, to start the next one from.

    Attributes:
        database: the database it was read from (URL without password).
        run_id: the succeeded run that kept these purchases' fingerprints.
        context: the context over exactly the purchases that run read.
        prints: award key -> fingerprint of those purchases, as the run kept them.
        stamps: award key -> stamp of every purchase, as read with the context's records.
        consolidation: group key -> member award keys of every consolidation group that run
            kept (read otherwise: 14,000 JSON lists cost seconds at 100,000 purchases).
    """

    database: str
    run_id: int
    context: MatchContext
    prints: dict[str, str]
    stamps: dict[str, Stamp]
    consolidation: dict[str, list[str]]


# One per process: a worker runs one scan at a time. Used only when it matches the kept run and
# every kept fingerprint (anything else, e.g. a scan by another process: rebuilt).
_warm: _Warm | None = None


def _database(db: Session) -> str:
    return db.get_bind().url.render_as_string(hide_password=True)


def _keep_warm(
    db: Session,
    run_id: int,
    context: MatchContext | None,
    prints: dict[str, str],
    stamps: dict[str, Stamp],
    consolidation: dict[str, list[str]],
) -> None:
    global _warm
    _warm = (
        None
        if context is None
        else _Warm(_database(db), run_id, context, prints, stamps, consolidation)
    )


def _drop_warm() -> None:
    global _warm
    _warm = None


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a scan runs.

    A scan allocates millions of small objects while the register's context, millions more,
    stays alive: every full collection the allocations trigger walks all of them (two took 3 of
    12 seconds of an incremental scan of 100,000 purchases). The matcher makes no reference
    cycles, so reference counting still frees what it drops; the few cycles other code makes
    meanwhile wait for the first collection after the scan (peak memory of a full scan of
    100,000 purchases: the same with or without).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _warm_for(db: Session, run_id: int, kept_prints: dict[str, str]) -> _Warm | None:
    """The warm context when it is the kept results' own, else None (and it is dropped)."""
    warm = _warm
    if (
        warm is None
        or warm.run_id != run_id
        or warm.database != _database(db)
        or warm.prints != kept_prints
    ):
        _drop_warm()
        return None
    return warm


# ------------------------------------------------------------------------------------- scans


def register_stamp(db: Session) -> str:
    """Purchase and vendor counts and their latest changes: moves whenever the register does
    (a vendor merge removes a vendor, so it moves the vendor count)."""
    count, latest = db.exec(
        select(func.count(col(Purchase.id)), func.max(Purchase.updated_at))
    ).one()
    vendors, vendor = db.exec(select(func.count(col(Vendor.id)), func.max(Vendor.updated_at))).one()
    return "|".join(
        (
            str(count),
            latest.isoformat() if latest else "",
            str(vendors),
            vendor.isoformat() if vendor else "",
        )
    )[:100]


def _start_run(
    db: Session, kind: ScanKind, trigger: str, job_id: int | None, threshold: float
) -> int:
    run = DuplicateScanRun(
        kind=kind, trigger=trigger[:300], job_id=job_id, threshold=threshold, status="running"
    )
    db.add(run)
    db.commit()
    assert run.id is not None
    return run.id


def _fail_run(db: Session, run_id: int, exc: BaseException) -> None:
    db.rollback()
    run = db.get(DuplicateScanRun, run_id)
    if run is not None:
        run.status = ScanStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:5000]
        run.finished_at = utcnow()
        db.add(run)
        db.commit()


def _lock_results(writer: Session) -> None:
    """Serialise scan writes: SQLite's BEGIN IMMEDIATE already does; PostgreSQL takes a lock."""
    if writer.get_bind().dialect.name == "postgresql":
        writer.execute(text("SELECT pg_advisory_xact_lock(5005)"))


def _pair_row(pair: DuplicatePair, run_id: int) -> dict[str, Any]:
    return {
        "key_a": pair.key_a,
        "key_b": pair.key_b,
        "division_a": pair.division_a,
        "division_b": pair.division_b,
        "score": round(pair.score, 6),
        "overlap_days": pair.overlap_days,
        "estimated_avoidable_cents": pair.estimated_avoidable_cents,
        "reasons": list(pair.reasons),
        "features": {k: round(float(v), 6) for k, v in pair.features.items()},
        "confirmed": pair.confirmed,
        "scan_run_id": run_id,
    }


def _group_row(group: Group, run_id: int | None) -> dict[str, Any]:
    return {
        "kind": group.kind,
        "group_key": group.key[:310],
        "keys": list(group.keys),
        "divisions": list(group.divisions),
        "vendor": group.vendor[:300],
        "product": group.product[:300],
        "purchase_count": len(group.keys),
        "total_cents": group.total_cents,
        "estimated_avoidable_cents": group.estimated_avoidable_cents,
        "first_start_on": group.first_start,
        "last_end_on": group.last_end,
        "scan_run_id": run_id,
    }


# Every column of a kept group but its run: what `_group_of` reads.
_GROUP_COLUMNS = [c for c in DuplicateScanGroup.__table__.columns if c.name != "scan_run_id"]  # type: ignore[attr-defined]


def _insert(writer: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 2000):
        writer.execute(insert(table), rows[start : start + 2000])


def _finish(writer: Session, run_id: int, **values: Any) -> DuplicateScanRun:
    run = writer.get(DuplicateScanRun, run_id)
    assert run is not None
    for name, value in values.items():
        setattr(run, name, value)
    run.status = ScanStatus.SUCCEEDED
    run.finished_at = utcnow()
    writer.add(run)
    return run


@_cycle_collection_paused()
def full_scan(
    db: Session,
    *,
    trigger: str,
    job_id: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
) -> ScanOutcome:
    """Scan every purchase and replace the kept results with what it found.

    Args:
        trigger: what started it, for the run's record ("scan again by …", "cli").
        job_id: the background job running it, if any.
        threshold: lowest score kept as a duplicate.
        progress: called with (done, total, message) between the phases.

    Returns:
        The succeeded run with the matcher's result and the loaded purchases.

    Raises:
        Whatever the scan raised; the run is then marked failed and the kept results are intact.
    """
    progress = progress or _no_progress
    db.commit()
    run_id = _start_run(db, ScanKind.FULL, trigger, job_id, threshold)
    started = time.perf_counter()
    try:
        progress(0, 3, "Loading purchases")
        stamp = register_stamp(db)
        loaded = load_purchases(db)
        dismissed, confirmed = decided_pairs(db)
        db.commit()  # no read transaction held while comparing
        progress(1, 3, f"Comparing {len(loaded.records):,} purchases")
        _drop_warm()  # the kept results are about to change
        context = build_context(loaded.records)
        result = find_duplicates(
            loaded.records,
            threshold=threshold,
            dismissed=dismissed,
            confirmed=confirmed,
            context=context,
        )
        progress(2, 3, f"Saving {len(result.pairs):,} pairs")
        records = {r.key: r for r in loaded.records}
        groups = duplicate_groups(((p.key_a, p.key_b) for p in result.pairs), records)
        groups += [candidate_group(c) for c in result.consolidation]
        with exclusive_session(db.get_bind()) as writer:
            _lock_results(writer)
            writer.execute(delete(DuplicateScanPair))
            writer.execute(delete(DuplicateScanGroup))
            writer.execute(delete(DuplicateScanPurchase))
            _insert(writer, DuplicateScanPair, [_pair_row(p, run_id) for p in result.pairs])
            _insert(writer, DuplicateScanGroup, [_group_row(g, run_id) for g in groups])
            prints = {k: fingerprint(r) for k, r in records.items()}
            _insert(
                writer,
                DuplicateScanPurchase,
                [{"award_key": k, "fingerprint": v} for k, v in prints.items()],
            )
            run = _finish(
                writer,
                run_id,
                purchases=len(records),
                changed=len(records),
                pairs=len(result.pairs),
                clusters=sum(1 for g in groups if g.kind == DUPLICATE),
                seconds=round(time.perf_counter() - started, 3),
                register_stamp=stamp,
            )
            writer.commit()
    except Exception as exc:
        _fail_run(db, run_id, exc)
        raise
    consolidation = {g.key: list(g.keys) for g in groups if g.kind == CONSOLIDATION}
    _keep_warm(db, run_id, context, prints, loaded.stamps, consolidation)
    log.info("duplicate scan", extra={"event": {"run": run_id, "kind": "full", "pairs": run.pairs}})
    return ScanOutcome(run, result, loaded)


@_cycle_collection_paused()
def refresh_changed(
    db: Session,
    *,
    trigger: str,
    job_id: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    if_register_moved: bool = False,
) -> ScanOutcome | None:
    """Rescan the purchases that changed since the kept results were written (incremental scan).

    Changed means new, edited, or seen differently by the matcher (a vendor renamed or merged);
    a removed purchase drops out of every pair and group. Without kept results, or when more
    than FULL_SCAN_SHARE of a register of FULL_SCAN_MIN purchases or more changed, this runs a
    full scan instead. Only the clusters and consolidation groups a rescanned purchase or a new
    pair belongs to are rebuilt and written: the others hold no changed purchase, so rebuilding
    them would give them back as they are.

    Args:
        trigger: what started it ("import run 12", "periodic refresh").
        if_register_moved: skip without loading the register when neither the purchases nor the
            vendors changed since the last scan (the periodic refresh).

    Returns:
        The succeeded run, or None when nothing had changed.
    """
    progress = progress or _no_progress
    last = db.exec(
        select(DuplicateScanRun)
        .where(DuplicateScanRun.status == ScanStatus.SUCCEEDED)
        .order_by(col(DuplicateScanRun.id).desc())
        .limit(1)
    ).first()
    if last is None:
        return full_scan(db, trigger=trigger, job_id=job_id, threshold=threshold, progress=progress)
    stamp = register_stamp(db)
    if if_register_moved and stamp == last.register_stamp:
        db.commit()
        return None
    started = time.perf_counter()
    progress(0, 4, "Loading purchases")
    # Bulk reads go through the connection: plain rows without the ORM's per-row work.
    kept_prints: dict[str, str] = dict(
        db.connection()
        .execute(select(DuplicateScanPurchase.award_key, DuplicateScanPurchase.fingerprint))
        .all()
    )
    assert last.id is not None
    warm = _warm_for(db, last.id, kept_prints)
    changes = _changes_since(db, warm) if warm is not None else _changes_by_print(db, kept_prints)
    changed, removed = changes.changed, changes.removed
    if not changed and not removed:
        if warm is not None:  # stamps that moved without a change need no second look
            _keep_warm(
                db, warm.run_id, warm.context, warm.prints, changes.stamps, warm.consolidation
            )
        db.commit()
        return None
    if changes.count >= FULL_SCAN_MIN and len(changed) > FULL_SCAN_SHARE * changes.count:
        db.commit()
        return full_scan(db, trigger=trigger, job_id=job_id, threshold=threshold, progress=progress)
    db.commit()  # end the read snapshot: SQLite cannot turn a stale one into a write
    run_id = _start_run(db, ScanKind.INCREMENTAL, trigger, job_id, threshold)
    try:
        dismissed, confirmed = decided_pairs(db)
        kept_members = warm.consolidation if warm is not None else _members_of(db, CONSOLIDATION)
        db.commit()
        progress(1, 4, f"Comparing {len(changed):,} changed purchases with {changes.count:,}")
        _drop_warm()  # the kept results are about to change
        if warm is not None:
            context = update_context(warm.context, list(changed.values()), removed)
        else:
            context = build_context(list(changes.records.values()))
        records = {key: parsed.record for key, parsed in context.parsed.items()}
        dirty = changed.keys() | removed
        # A consolidation group is kept as its members, not its links: rescan every member of a
        # group a changed purchase was in, so the group is rebuilt from links that still hold.
        focus = set(changed)
        for members in kept_members.values():
            if not dirty.isdisjoint(members):
                focus.update(k for k in members if k in records)
        progress(2, 4, f"Comparing {len(focus):,} changed purchases with {len(records):,}")
        result = find_duplicates(
            list(records.values()),
            threshold=threshold,
            only_keys=focus,
            dismissed=dismissed,
            confirmed=confirmed,
            context=context,
        )
        progress(3, 4, "Saving")
        touched = focus | removed
        new_pairs = result.pairs

        def describe(keys: tuple[str, ...]) -> tuple[str, str]:
            parsed = [context.parsed[k] for k in keys]
            vendors = Counter(p.names[0] if p.names else "" for p in parsed)
            products = Counter(p.product.text for p in parsed if p.product.text)
            return (
                min(vendors, key=lambda v: (-vendors[v], v)),
                min(products, key=lambda v: (-products[v], v)) if products else "",
            )

        found = [candidate_group(c) for c in result.consolidation]
        found_keys = {k for group in found for k in group.keys}
        # A kept group no rescanned purchase is in stays as it is, unless a group found now
        # shares a purchase with it: they are then joined.
        stale = {name for name, members in kept_members.items() if not touched.isdisjoint(members)}
        rejoined = _groups_named(
            db,
            CONSOLIDATION,
            [
                name
                for name, members in kept_members.items()
                if name not in stale and not found_keys.isdisjoint(members)
            ],
        )
        db.commit()
        consolidation = merged_consolidation(rejoined, found, records, describe)
        with exclusive_session(db.get_bind()) as writer:
            _lock_results(writer)
            # Every kept pair in the clusters of the rescanned purchases, the purchases new pairs
            # join, and decided pairs (read before any pair is replaced): the clusters to rebuild.
            seeds = touched | {k for p in new_pairs for k in (p.key_a, p.key_b)}
            seeds.update(k for pair in dismissed for k in pair)
            linked = _linked_pairs(writer, seeds)
            kept_pairs = [
                (a, b)
                for a, b in linked
                if a not in touched and b not in touched and frozenset((a, b)) not in dismissed
            ]
            # Dismissed pairs left in the kept pairs count for no cluster and no total.
            left_dismissed = sum(
                1
                for a, b in linked
                if a not in touched and b not in touched and frozenset((a, b)) in dismissed
            )
            clusters = duplicate_groups(
                [*kept_pairs, *((p.key_a, p.key_b) for p in new_pairs)], records
            )
            gone = sorted(touched)
            for start in range(0, len(gone), CHUNK):
                chunk = gone[start : start + CHUNK]
                writer.execute(
                    delete(DuplicateScanPair).where(
                        or_(
                            col(DuplicateScanPair.key_a).in_(chunk),
                            col(DuplicateScanPair.key_b).in_(chunk),
                        )
                    )
                )
            _insert(writer, DuplicateScanPair, [_pair_row(p, run_id) for p in new_pairs])
            linked_keys = seeds | {k for pair in linked for k in pair}
            _replace_groups(writer, DUPLICATE, {f"dup-{k}" for k in linked_keys}, clusters, run_id)
            _replace_groups(
                writer,
                CONSOLIDATION,
                stale | {g.key for g in rejoined},
                consolidation,
                run_id,
            )
            rewritten = sorted(dirty)
            for start in range(0, len(rewritten), CHUNK):
                writer.execute(
                    delete(DuplicateScanPurchase).where(
                        col(DuplicateScanPurchase.award_key).in_(rewritten[start : start + CHUNK])
                    )
                )
            prints = {key: fingerprint(record) for key, record in changed.items()}
            _insert(
                writer,
                DuplicateScanPurchase,
                [{"award_key": k, "fingerprint": prints[k]} for k in sorted(prints)],
            )
            pair_count = writer.exec(select(func.count(col(DuplicateScanPair.id)))).one()
            cluster_count = writer.exec(
                select(func.count(col(DuplicateScanGroup.id))).where(
                    DuplicateScanGroup.kind == DUPLICATE
                )
            ).one()
            run = _finish(
                writer,
                run_id,
                purchases=len(records),
                changed=len(changed) + len(removed),
                pairs=pair_count - left_dismissed,
                clusters=cluster_count,
                seconds=round(time.perf_counter() - started, 3),
                register_stamp=stamp,
            )
            writer.commit()
    except Exception as exc:
        _fail_run(db, run_id, exc)
        raise
    kept = {k: v for k, v in kept_prints.items() if k not in removed}
    kept.update(prints)
    replaced = stale | {g.key for g in rejoined}
    members = {name: keys for name, keys in kept_members.items() if name not in replaced}
    members.update((g.key, list(g.keys)) for g in consolidation)
    _keep_warm(db, run_id, context, kept, changes.stamps, members)
    log.info(
        "duplicate scan",
        extra={"event": {"run": run_id, "kind": "incremental", "changed": run.changed}},
    )
    return ScanOutcome(run)


@dataclass(frozen=True)
class _Changes:
    """What changed in the register since the kept results were written.

    Attributes:
        count: purchases with a record (a start date) now.
        changed: award key -> record now, of new purchases and of those the matcher sees
            differently, in purchase id order (the order `update_context` appends new ones in).
        removed: kept purchases gone, or without a start date now.
        stamps: award key -> stamp of every purchase, as read with the records the scan holds.
        records: every record now, in purchase id order, when the register was read in full
            (empty when only the changes were read).
    """

    count: int
    changed: dict[str, PurchaseRecord]
    removed: set[str]
    stamps: dict[str, Stamp]
    records: dict[str, PurchaseRecord]


def _changes_by_print(db: Session, kept_prints: dict[str, str]) -> _Changes:
    """Read every purchase and compare its fingerprint with the one kept (no warm context)."""
    loaded = load_purchases(db)
    records = {r.key: r for r in loaded.records}
    changed = {k: r for k, r in records.items() if kept_prints.get(k) != fingerprint(r)}
    removed = set(kept_prints) - set(records)
    return _Changes(len(records), changed, removed, loaded.stamps, records)


def _changes_since(db: Session, warm: _Warm) -> _Changes:
    """Read the purchases that may have changed since the warm context's records were read.

    Stamps of every purchase, and every vendor and division, say which those are
    (`possibly_changed`); only their records are read, then compared with the warm ones.
    """
    stamps = purchase_stamps(db)
    vendors: dict[int, VendorFields] = {
        vendor_id: (name, uei, parent_uei, parent_name)
        for vendor_id, name, uei, parent_uei, parent_name in db.connection().execute(
            select(Vendor.id, Vendor.name, Vendor.uei, Vendor.parent_uei, Vendor.parent_name)
        )
    }
    divisions: dict[int, str] = dict(
        db.connection().execute(select(Division.id, Division.code)).all()
    )
    parsed = warm.context.parsed
    held = {key: p.record for key, p in parsed.items()}
    suspects = possibly_changed(stamps, warm.stamps, held, vendors, divisions)
    loaded = load_purchases(db, suspects)
    for key in suspects - loaded.stamps.keys():
        del stamps[key]  # deleted since its stamp was read
    stamps.update(loaded.stamps)  # as read with the record
    ids = loaded.ids
    fresh = {r.key: r for r in sorted(loaded.records, key=lambda r: ids[r.key])}
    changed = {k: r for k, r in fresh.items() if k not in held or held[k] != r}
    removed = {k for k in held if k not in stamps or (k in suspects and k not in fresh)}
    count = len(held) - len(removed) + sum(1 for k in changed if k not in held)
    return _Changes(count, changed, removed, stamps, {})


def _members_of(db: Session, kind: str) -> dict[str, list[str]]:
    """Group key -> member award keys of every kept group of a kind."""
    return dict(
        db.connection()
        .execute(
            select(DuplicateScanGroup.group_key, DuplicateScanGroup.keys).where(
                col(DuplicateScanGroup.kind) == kind
            )
        )
        .all()
    )


def _groups_named(db: Session, kind: str, names: Collection[str]) -> list[Group]:
    """The kept groups of a kind with these group keys."""
    wanted = sorted(names)
    groups: list[Group] = []
    for start in range(0, len(wanted), CHUNK):
        groups.extend(
            _group_of(row)
            for row in db.connection()
            .execute(
                select(*_GROUP_COLUMNS).where(
                    col(DuplicateScanGroup.kind) == kind,
                    col(DuplicateScanGroup.group_key).in_(wanted[start : start + CHUNK]),
                )
            )
            .mappings()
        )
    return groups


def _group_of(row: Mapping[str, Any]) -> Group:
    return Group(
        kind=row["kind"],
        key=row["group_key"],
        keys=tuple(row["keys"]),
        divisions=tuple(row["divisions"]),
        vendor=row["vendor"],
        product=row["product"],
        total_cents=row["total_cents"],
        estimated_avoidable_cents=row["estimated_avoidable_cents"],
        first_start=row["first_start_on"],
        last_end=row["last_end_on"],
    )


def _linked_pairs(db: Session, keys: Collection[str]) -> set[tuple[str, str]]:
    """Every kept pair linked to these purchases through kept pairs: their clusters' pairs."""
    pairs: set[tuple[str, str]] = set()
    seen: set[str] = set()
    frontier = set(keys)
    while frontier:
        seen |= frontier
        wanted = sorted(frontier)
        found: list[tuple[str, str]] = []
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            for column in (DuplicateScanPair.key_a, DuplicateScanPair.key_b):
                found.extend(
                    (a, b)
                    for a, b in db.exec(
                        select(DuplicateScanPair.key_a, DuplicateScanPair.key_b).where(
                            col(column).in_(chunk)
                        )
                    ).all()
                )
        pairs.update(found)
        frontier = {k for pair in found for k in pair} - seen
    return pairs


def _replace_groups(
    writer: Session, kind: str, names: Collection[str], groups: Iterable[Group], run_id: int
) -> None:
    """Make the kept groups of a kind called `names` (or like one of `groups`) be `groups`:
    delete the stale ones, insert the new ones; a group kept as it is stays untouched."""
    wanted = {g.key: g for g in groups}
    stale: list[int] = []
    looked = sorted(set(names) | wanted.keys())
    for start in range(0, len(looked), CHUNK):
        for row in writer.execute(
            select(*_GROUP_COLUMNS).where(
                col(DuplicateScanGroup.kind) == kind,
                col(DuplicateScanGroup.group_key).in_(looked[start : start + CHUNK]),
            )
        ).mappings():
            group = wanted.get(row["group_key"])
            if group is not None and _group_of(row) == group:
                del wanted[row["group_key"]]
            else:
                stale.append(row["id"])
    for start in range(0, len(stale), CHUNK):
        writer.execute(
            delete(DuplicateScanGroup).where(
                col(DuplicateScanGroup.id).in_(stale[start : start + CHUNK])
            )
        )
    _insert(writer, DuplicateScanGroup, [_group_row(g, run_id) for g in wanted.values()])


def apply_decision(db: Session, key_a: str, key_b: str, decision: str) -> None:
    """Bring the kept results in line with a decision, in the caller's transaction.

    A confirmed pair is marked so; a dismissed pair is removed and its cluster rebuilt from the
    pairs left (it may split or vanish).
    """
    first, second = sorted((key_a, key_b))
    row = db.exec(
        select(DuplicateScanPair).where(
            DuplicateScanPair.key_a == first, DuplicateScanPair.key_b == second
        )
    ).first()
    if row is None:
        return
    if decision == Decision.CONFIRMED:
        row.confirmed = True
        if CONFIRMED_REASON not in row.reasons:
            row.reasons = [CONFIRMED_REASON, *row.reasons]
        db.add(row)
        return
    db.delete(row)
    db.flush()
    cluster = db.exec(
        select(DuplicateScanGroup).where(
            DuplicateScanGroup.kind == DUPLICATE, DuplicateScanGroup.group_key == f"dup-{first}"
        )
    ).first()
    if cluster is None:
        cluster = next(
            (
                g
                for g in db.exec(
                    select(DuplicateScanGroup).where(DuplicateScanGroup.kind == DUPLICATE)
                ).all()
                if first in g.keys
            ),
            None,
        )
    if cluster is None:
        return
    members = list(cluster.keys)
    edges = _pairs_among(db, members)
    loaded = load_purchases(db, members)
    records = {r.key: r for r in loaded.records}
    db.delete(cluster)
    db.flush()
    for group in duplicate_groups(edges, records):
        db.add(DuplicateScanGroup(**_group_row(group, cluster.scan_run_id)))


def _pairs_among(db: Session, keys: Collection[str]) -> list[tuple[str, str]]:
    wanted = sorted(set(keys))
    edges: list[tuple[str, str]] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        edges.extend(
            (a, b)
            for a, b in db.exec(
                select(DuplicateScanPair.key_a, DuplicateScanPair.key_b).where(
                    col(DuplicateScanPair.key_a).in_(chunk)
                )
            ).all()
        )
    return edges


# ------------------------------------------------------------------------------------- jobs


def pending_scan_job(db: Session) -> Job | None:
    """The "Scan again" job waiting or running, if any."""
    return db.exec(
        select(Job)
        .where(Job.kind == SCAN_JOB, col(Job.status).in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(col(Job.id).desc())
        .limit(1)
    ).first()


def request_scan(db: Session, actor: Principal | None) -> Job:
    """Queue a full scan ("Scan again"); one already waiting or running is returned instead."""
    actor = require_reviewer(actor)
    job = pending_scan_job(db)
    if job is not None:
        return job
    job = enqueue(db, SCAN_JOB, {"trigger": f"scan again by {actor.email}"}, user_id=actor.id)
    record_event(
        db,
        actor,
        "duplicates.scan_request",
        object_type="job",
        object_id=job.id or "",
        summary="Asked for a full duplicate scan",
    )
    db.commit()
    return job


def enqueue_refresh(
    db: Session, *, trigger: str, user_id: int | None = None, now: datetime | None = None
) -> Job | None:
    """Queue an incremental scan in the caller's transaction, unless one is already waiting
    (it will see these changes too). A running one may have loaded the register before them.

    Args:
        now: when it is due; a job queuing it passes its own clock's time.
    """
    waiting = db.exec(
        select(Job.id).where(Job.kind == REFRESH_JOB, Job.status == JobStatus.QUEUED)
    ).first()
    if waiting is not None:
        return None
    return enqueue(db, REFRESH_JOB, {"trigger": trigger}, user_id=user_id, run_after=now)


# ------------------------------------------------------------------------------------- pages


def scan_status(db: Session) -> dict[str, Any]:
    """The last scan that succeeded, the last full one, and a "Scan again" job under way."""

    def latest(*conditions: Any) -> DuplicateScanRun | None:
        return db.exec(
            select(DuplicateScanRun)
            .where(*conditions)
            .order_by(col(DuplicateScanRun.id).desc())
            .limit(1)
        ).first()

    return {
        "last": latest(DuplicateScanRun.status == ScanStatus.SUCCEEDED),
        "last_full": latest(
            DuplicateScanRun.status == ScanStatus.SUCCEEDED,
            DuplicateScanRun.kind == ScanKind.FULL,
        ),
        "last_failed": latest(DuplicateScanRun.status == ScanStatus.FAILED),
        "job": pending_scan_job(db),
    }


def _purchase_views(db: Session, keys: Collection[str]) -> dict[str, dict[str, Any]]:
    """How the pages show each purchase, by award key.

    Purchases by their unique key first, then their vendors by id: joined in one query, SQLite
    plans it from the division side and reads every purchase (a second per page at 100,000).
    """
    wanted = sorted(set(keys))
    rows: list[Any] = []
    for start in range(0, len(wanted), CHUNK):
        rows.extend(
            db.exec(
                select(
                    Purchase.award_key,
                    Purchase.id,
                    Purchase.piid,
                    Purchase.division_id,
                    Purchase.vendor_id,
                    Purchase.product,
                    Purchase.description,
                    Purchase.obligated_cents,
                    Purchase.start_on,
                    Purchase.last_action_on,
                    Purchase.current_end_on,
                ).where(col(Purchase.award_key).in_(wanted[start : start + CHUNK]))
            ).all()
        )
    vendor_ids = sorted({row[4] for row in rows})
    vendors: dict[int, str] = {}
    for start in range(0, len(vendor_ids), CHUNK):
        vendors.update(
            db.exec(
                select(Vendor.id, Vendor.name).where(
                    col(Vendor.id).in_(vendor_ids[start : start + CHUNK])
                )
            ).all()
        )
    codes = dict(db.exec(select(Division.id, Division.code)).all())
    views: dict[str, dict[str, Any]] = {}
    for key, pid, piid, division_id, vendor_id, product, description, cents, s, last, end in rows:
        views[key] = {
            "key": key,
            "id": pid,
            "piid": piid,
            "division": codes.get(division_id, ""),
            "vendor": vendors.get(vendor_id, ""),
            "product": product or (description or "")[:120],
            "obligated_cents": cents,
            "start": s or last,
            "end": end,
        }
    return views


def _page_of(total: int, page: int, per_page: int) -> dict[str, int]:
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    return {
        "page": page,
        "pages": pages,
        "total": total,
        "per_page": per_page,
        "offset": (page - 1) * per_page,
    }


def review_page(
    db: Session, actor: Principal | None, *, page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """One page of kept duplicate clusters, largest avoidable spend first, each with its pairs."""
    require_reviewer(actor)
    total, avoidable = db.exec(
        select(
            func.count(col(DuplicateScanGroup.id)),
            func.coalesce(func.sum(DuplicateScanGroup.estimated_avoidable_cents), 0),
        ).where(DuplicateScanGroup.kind == DUPLICATE)
    ).one()
    paging = _page_of(total, page, per_page)
    groups = db.exec(
        select(DuplicateScanGroup)
        .where(DuplicateScanGroup.kind == DUPLICATE)
        .order_by(
            col(DuplicateScanGroup.estimated_avoidable_cents).desc(),
            col(DuplicateScanGroup.group_key),
        )
        .offset(paging["offset"])
        .limit(per_page)
    ).all()
    keys = [k for g in groups for k in g.keys]
    views = _purchase_views(db, keys)
    pairs: list[DuplicateScanPair] = []
    for start in range(0, len(keys), CHUNK):
        pairs.extend(
            db.exec(
                select(DuplicateScanPair).where(
                    col(DuplicateScanPair.key_a).in_(keys[start : start + CHUNK])
                )
            ).all()
        )
    pairs.sort(key=lambda p: (-p.score, p.key_a, p.key_b))
    clusters = []
    for group in groups:
        members = set(group.keys)
        clusters.append(
            {
                "cluster": group,
                "purchases": [views[k] for k in group.keys if k in views],
                "pairs": [
                    {"pair": p, "a": views[p.key_a], "b": views[p.key_b]}
                    for p in pairs
                    if p.key_a in members and p.key_a in views and p.key_b in views
                ],
            }
        )
    return {
        "clusters": clusters,
        "paging": paging,
        "total_avoidable_cents": int(avoidable),
        **scan_status(db),
    }


def consolidation_page(
    db: Session, actor: Principal | None, *, page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """One page of offerings two or more divisions buy, at once or one after another, by spend."""
    require_reviewer(actor)
    total = db.exec(select(func.count(col(DuplicateScanGroup.id)))).one()
    paging = _page_of(total, page, per_page)
    groups = db.exec(
        select(DuplicateScanGroup)
        .order_by(
            col(DuplicateScanGroup.total_cents).desc(),
            col(DuplicateScanGroup.vendor),
            col(DuplicateScanGroup.product),
            col(DuplicateScanGroup.id),
        )
        .offset(paging["offset"])
        .limit(per_page)
    ).all()
    views = _purchase_views(db, [k for g in groups for k in g.keys])
    offers = []
    for group in groups:
        offers.append(
            {
                "timing": "at the same time" if group.kind == DUPLICATE else "one after another",
                "vendor": group.vendor,
                "product": group.product,
                "divisions": list(group.divisions),
                "purchases": [views[k] for k in group.keys if k in views],
                "total_cents": group.total_cents,
                "first_start": group.first_start_on,
                "last_end": group.last_end_on,
                "suggestion": (
                    f"Consider a department-wide licence covering {', '.join(group.divisions)} "
                    f"instead of {len(group.keys)} separate purchases."
                ),
            }
        )
    return {"offers": offers, "paging": paging, **scan_status(db)}


# ------------------------------------------------------------------------------- check outcomes


@dataclass(frozen=True)
class OutcomeInput:
    """The outcome form as typed."""

    outcome: str = ""
    match: str = ""  # "purchase:12", "licence:3" or "listing:40"
    justification: str = ""
    vendor: str = ""
    need: str = ""
    planned_cents: int | None = None


def may_record_outcomes(actor: Principal | None) -> bool:
    """Procurement officers record outcomes for their own division."""
    return actor is not None and Role.OFFICER in actor.roles


def record_check_outcome(db: Session, actor: Principal | None, data: OutcomeInput) -> CheckOutcome:
    """Keep what an officer decided after a check; audited.

    Raises:
        PermissionDenied / SignInRequired: the caller is not a procurement officer.
        ValidationFailed: no outcome, reuse without a match (or one that does not exist),
            proceed without a justification, or a justification that is too long.
    """
    actor = require(actor, Permission.MANAGE_PURCHASES, actor.division_id if actor else None)
    errors: dict[str, str] = {}
    kind, match_id, label = None, None, ""
    if data.outcome not in set(Outcome):
        errors["outcome"] = "Choose reuse or proceed."
    justification = data.justification.strip()
    if len(justification) > JUSTIFICATION_MAX:
        errors["justification"] = f"Use at most {JUSTIFICATION_MAX:,} characters."
    if data.outcome == Outcome.PROCEED and not justification:
        errors["justification"] = "Say why an existing purchase, licence or listing does not do."
    if data.outcome == Outcome.REUSE:
        kind, match_id, label = _match(db, data.match)
        if kind is None:
            errors["match"] = "Choose the purchase, licence or listing you will reuse."
    if not (data.vendor.strip() or data.need.strip()):
        errors["need"] = "Describe the need you checked."
    if errors:
        raise ValidationFailed(errors)
    row = CheckOutcome(
        outcome=data.outcome,
        division_id=actor.division_id,
        user_id=actor.id,
        actor=actor.email,
        vendor=data.vendor.strip()[:200],
        need=data.need.strip()[:200],
        planned_cents=data.planned_cents,
        match_kind=kind,
        match_id=match_id,
        match_label=label[:300],
        justification=justification,
        avoided_cents=avoided_spend_cents(data.outcome, data.planned_cents),
    )
    db.add(row)
    db.flush()
    record_event(
        db,
        actor,
        "check.outcome",
        object_type="check_outcome",
        object_id=row.id or "",
        summary=(
            f"{Outcome(data.outcome).label}: {row.vendor} {row.need}".strip()
            + (f" (reuse {kind} {label})" if kind else "")
        ),
        after={
            "outcome": row.outcome,
            "match_kind": kind,
            "match_id": match_id,
            "planned_cents": row.planned_cents,
            "avoided_cents": row.avoided_cents,
            "justification": justification,
        },
        division_code=actor.division_code,
    )
    db.commit()
    db.refresh(row)
    return row


def _match(db: Session, value: str) -> tuple[str | None, int | None, str]:
    """(kind, id, label) of an existing purchase, licence or listing named "kind:id"."""
    kind, _, number = value.partition(":")
    if not number.isdigit() or len(number) > 12:
        return None, None, ""
    ident = int(number)
    if kind == "purchase":
        purchase = db.get(Purchase, ident)
        return ("purchase", ident, purchase.piid) if purchase else (None, None, "")
    if kind == "licence":
        licence = db.get(Licence, ident)
        if licence is None:
            return None, None, ""
        owner = db.get(Purchase, licence.purchase_id)
        return "licence", ident, f"licence on {owner.piid if owner else licence.purchase_id}"
    if kind == "listing":
        listing = db.get(Listing, ident)
        return ("listing", ident, listing.title) if listing else (None, None, "")
    return None, None, ""


def recent_outcomes(db: Session, actor: Principal | None, limit: int = 10) -> dict[str, Any]:
    """The latest outcomes of the caller's division and their avoided spend (officers and
    leadership; leadership sees every division). Empty for anyone else."""
    if actor is None or not actor.roles & {Role.OFFICER, Role.LEADERSHIP}:
        return {"outcomes": [], "avoided_cents": 0, "scope": None}
    query = select(CheckOutcome, Division.code).join(
        Division, col(Division.id) == CheckOutcome.division_id
    )
    total = select(func.coalesce(func.sum(CheckOutcome.avoided_cents), 0))
    scope = "all divisions"
    if Role.LEADERSHIP not in actor.roles:
        query = query.where(CheckOutcome.division_id == actor.division_id)
        total = total.where(CheckOutcome.division_id == actor.division_id)
        scope = actor.division_code
    rows = db.exec(
        query.order_by(col(CheckOutcome.created_at).desc(), col(CheckOutcome.id).desc()).limit(
            limit
        )
    ).all()
    return {
        "outcomes": [{"row": row, "division": code} for row, code in rows],
        "avoided_cents": int(db.exec(total).one()),
        "scope": scope,
    }
