"""Award files into purchases: one transaction for the valid rows, a kept report per run.

Reading is the pure importer's job (procurement.importers.read_awards). This module resolves vendors
through aliases and UEIs, compares every award with the stored purchase of the same award key, and
writes the differences in batches: inserts and updates go to the database a thousand at a time, never
one query per row. Re-importing a file changes nothing and counts every award as unchanged.

The write phase runs in its own `BEGIN IMMEDIATE` session on SQLite, so a web request committing
while a long import runs cannot invalidate the import's snapshot; nothing is written while the file
is being read, so a file-level error leaves the database as it was.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from marketplace.accounts import ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, Principal, can, require
from marketplace.db import exclusive_session
from marketplace.logs import request_id_var
from marketplace.models import AuditEvent
from marketplace.types import utcnow
from procurement.importers import (
    TEMPLATE_COLUMNS,
    AwardRecord,
    ColumnMapping,
    ImportFileError,
    Layout,
    RowError,
    UnknownLayout,
    read_awards,
)
from procurement.importers.layouts import LAYOUT_TITLES
from procurement.models import (
    ColumnMappingPreset,
    ImportRun,
    ImportStatus,
    Purchase,
    PurchaseSource,
)
from procurement.services.common import DivisionTable, describe_rows
from procurement.services.purchase_index import bulk_indexing
from procurement.services.vendors import VendorResolver, search_text_of

Actor = Principal | str
Progress = Callable[[int, int | None, str], None]

# The --format choices: "fpds" is the ATOM feed or its flattened CSV, told apart by the first byte.
FORMATS: dict[str, Layout | None] = {
    "auto": None,
    "usaspending": Layout.USASPENDING,
    "usaspending-search": Layout.USASPENDING_SEARCH,
    "fpds": None,
    "fpds-atom": Layout.FPDS_ATOM,
    "fpds-csv": Layout.FPDS_CSV,
    "fpds-ezsearch": Layout.FPDS_EZSEARCH,
    "template": Layout.TEMPLATE,
}
FORMAT_LABELS = {"auto": "Detect from the header", **{k: k for k in FORMATS if k != "auto"}}
# Imports this large refresh the planner's statistics on `purchase` when they finish.
ANALYZE_AFTER_ROWS = 1000
CHUNK = 1000
REPORT_LIMIT = 500  # rejected rows and warnings kept in a run's report (counts are always whole)

# Compared to decide updated vs unchanged; what an import may overwrite. Product is the officer's
# (the template file is the only layout that carries one, and only then is it compared).
_COMPARED = (
    "piid", "parent_piid", "division_id", "awarding_division_id", "funding_division_id",
    "vendor_id", "description", "award_type", "psc", "psc_description", "naics",
    "naics_description", "start_on", "current_end_on", "potential_end_on", "last_action_on",
    "obligated_cents", "current_value_cents", "potential_value_cents",
)  # fmt: skip
# Column limits an award must fit; identity codes longer than these reject the award.
_LIMITS = {"piid": 100, "parent_piid": 100, "award_key": 300}
_TRUNCATED = {
    "award_type": 100, "psc_description": 300, "naics_description": 300, "product": 300,
}  # fmt: skip


def format_name(layout: Layout | str | None) -> str:
    """A layout as the CLI and reports name it ("usaspending-search")."""
    return str(layout).replace("_", "-") if layout else ""


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file.

    Attributes:
        filename: the name to show in reports (the upload's or the CLI argument's).
        fmt: a key of FORMATS.
        division: division code for rows that name none (outranks the PIID prefix only).
        mapping: template column -> the file's column, for a file of another shape.
        dry_run: report what would happen, write nothing but the run's report.
        max_bytes: larger files are refused as a whole.
    """

    filename: str
    fmt: str = "auto"
    division: str | None = None
    mapping: dict[str, str] | None = None
    dry_run: bool = False
    max_bytes: int = 200 * 1024 * 1024


@dataclass
class ImportOutcome:
    """What an import did (or, dry run, would do)."""

    run_id: int | None
    format: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rows_read: int = 0
    rejected: list[RowError] = field(default_factory=list)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    dry_run: bool = False
    mapping_used: bool = False
    mapping_id: int | None = None  # the saved mapping that read the file, if one did

    def summary(self) -> dict[str, Any]:
        """The CLI's --json document."""
        return {
            "format": self.format,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": [{"row": r.row, "errors": list(r.errors)} for r in self.rejected],
        }


class ImportRefused(Exception):
    """The file as a whole cannot be imported; nothing was written but the failed run's report.

    Attributes:
        message: one sentence for the person who chose the file.
        needed, found: for an unknown layout, the columns needed and those the file has.
        run_id: the kept run.
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: int | None,
        needed: Sequence[str] = (),
        found: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.run_id = run_id
        self.needed = tuple(needed)
        self.found = tuple(found)

    @property
    def unknown_layout(self) -> bool:
        return bool(self.found)


class _ProgressReader:
    """Reports bytes read from a file, at most every 256 KiB, to the progress callback."""

    def __init__(self, raw: BinaryIO, total: int, report: Progress) -> None:
        self._raw = raw
        self._total = total
        self._report = report
        self._done = 0
        self._last = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._done += len(chunk)
        if self._done - self._last >= 256 * 1024 or (not chunk and self._done != self._last):
            self._last = self._done
            self._report(self._done, self._total, "Reading the file")
        return chunk


def header_signature(header: Iterable[str]) -> str:
    """The identity of a CSV header for saved mappings: names trimmed, case-folded, in order."""
    joined = "\x1f".join(name.strip().lstrip("\ufeff").casefold() for name in header)
    return hashlib.sha256(joined.encode()).hexdigest()


def start_run(
    db: Session,
    actor: Actor,
    options: ImportOptions,
    *,
    stored_name: str | None = None,
) -> ImportRun:
    """Keep a queued run for an import about to happen (commits, so the report survives a failure)."""
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES)
    if options.fmt not in FORMATS:
        raise ValidationFailed({"format": f"Choose one of: {', '.join(FORMATS)}."})
    run = ImportRun(
        user_id=actor.id if isinstance(actor, Principal) else None,
        actor=actor.email if isinstance(actor, Principal) else actor,
        filename=options.filename[:300],
        stored_name=stored_name,
        requested_format=options.fmt,
        division_code=options.division,
        dry_run=options.dry_run,
    )
    db.add(run)
    db.commit()
    return run


def import_awards(
    db: Session,
    actor: Actor,
    path: Path,
    options: ImportOptions,
    *,
    run_id: int | None = None,
    on_progress: Progress | None = None,
) -> ImportOutcome:
    """Import an award file: create new purchases, update changed ones, report every row.

    Args:
        actor: an officer (who imports their own division's rows; others are counted as skipped)
            or a label such as "cli: marketplace purchases import" (every HHS row).
        path: the file on disk.
        options: format, division, mapping, dry run, size limit.
        run_id: the run kept by `start_run`; a new one is started when None.
        on_progress: called with (done, total, message) while the file is read.

    Returns:
        The outcome; rows with errors are in `rejected` and every valid row is written.

    Raises:
        ImportRefused: the file as a whole is unusable (empty, binary, too large, unknown layout,
            unknown division); nothing was written.
    """
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES)
    run = db.get(ImportRun, run_id) if run_id else start_run(db, actor, options)
    if run is None:
        raise ImportRefused("The import run no longer exists.", run_id=run_id)
    run.status = ImportStatus.RUNNING
    db.add(run)
    db.commit()
    divisions = DivisionTable.load(db)
    db.commit()  # end the read transaction: the file is read with no transaction open
    try:
        batch, mapping_used, mapping_id = _read(path, options, divisions, on_progress, db)
    except ImportRefused as exc:
        _fail(db, run, exc)
        exc.run_id = run.id
        raise
    if on_progress:
        on_progress(1, 1, f"Saving {len(batch.awards):,} purchase(s)")
    outcome = ImportOutcome(
        run_id=run.id,
        format=format_name(batch.layout),
        rows_read=batch.rows_read,
        rejected=list(batch.rejected),
        skipped=batch.skipped,
        skipped_reasons=dict(batch.skipped_reasons),
        notices=list(batch.notices),
        dry_run=options.dry_run,
        mapping_used=mapping_used,
        mapping_id=mapping_id,
    )
    with exclusive_session(db.get_bind()) as writer:
        _apply(writer, actor, batch.awards, divisions, outcome, options, run.id or 0)
        stored = writer.get(ImportRun, run.id)
        assert stored is not None
        _finish(stored, outcome)
        writer.add(stored)
        if not options.dry_run:
            record_event(
                writer,
                actor,
                "purchases.import",
                object_type="import_run",
                object_id=run.id or "",
                summary=(
                    f"Imported {options.filename[:200]}: {outcome.created} created, "
                    f"{outcome.updated} updated, {outcome.unchanged} unchanged, "
                    f"{outcome.skipped} skipped, {len(outcome.rejected)} rejected"
                ),
                after={**outcome.summary(), "rejected": len(outcome.rejected)},
            )
        writer.commit()
    if not options.dry_run and outcome.created + outcome.updated >= ANALYZE_AFTER_ROWS:
        _refresh_statistics(db)
    return outcome


def _refresh_statistics(db: Session) -> None:
    """Give the planner the register's new shape, and the word index its new words, at once
    after a large import.

    Until autovacuum (PostgreSQL) or an ANALYZE (SQLite, which never does it by itself) runs,
    plans assume the old row counts: searches over a freshly imported register picked sequential
    scans and ran several times slower. On PostgreSQL the GIN word index also keeps new rows in a
    pending list that every word search reads from end to end until a vacuum merges it: after
    100,000 rows, 500 pages that made a look-up of one prefix take 8–12 ms instead of 0.2 ms.
    Vendors and their aliases grow with the register: PostgreSQL still took the vendor table for
    empty and hashed all 27,000 rows to join 100 purchases to their vendors (20 ms, not 0.5 ms).
    PostgreSQL also vacuums the purchases: until their pages are marked all-visible, the facet
    counts cannot be answered from their covering indexes alone and read every row (the first
    request of an empty search: 77 ms before, 47 ms after; the vacuum takes about 0.6 s per
    100,000 rows, and merges the GIN pending list too).
    """
    connection = db.connection()
    postgresql = connection.dialect.name == "postgresql"
    for table in (
        ("vendor", "vendor_alias") if postgresql else ("purchase", "vendor", "vendor_alias")
    ):
        connection.exec_driver_sql(f"ANALYZE {table}")
    db.commit()
    if postgresql:
        # VACUUM runs outside a transaction, on a connection of its own.
        with db.get_bind().connect() as own:
            own = own.execution_options(isolation_level="AUTOCOMMIT")
            own.exec_driver_sql("VACUUM (ANALYZE) purchase")


def _read(
    path: Path,
    options: ImportOptions,
    divisions: DivisionTable,
    on_progress: Progress | None,
    db: Session,
) -> tuple[Any, bool, int | None]:
    """The file's batch, whether a column mapping was used, and the saved mapping's id."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRefused("The uploaded file is no longer available.", run_id=None) from exc
    if size > options.max_bytes:
        raise ImportRefused(
            f"The file is {size / 1_048_576:.0f} MB, over the "
            f"{options.max_bytes / 1_048_576:.0f} MB limit: split it into smaller files.",
            run_id=None,
        )
    layout = FORMATS.get(options.fmt)
    if options.fmt == "fpds":
        with path.open("rb") as handle:
            first = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        layout = Layout.FPDS_ATOM if first == b"<" else Layout.FPDS_CSV
    mapping = None
    if options.mapping:
        try:
            mapping = ColumnMapping(options.mapping)
        except ValueError as exc:
            raise ImportRefused(str(exc), run_id=None) from exc
    try:
        batch = _read_with(path, size, layout, mapping, options, divisions, on_progress)
        return batch, mapping is not None, None
    except UnknownLayout as exc:
        if mapping is None and layout is None:
            preset = db.exec(
                select(ColumnMappingPreset).where(
                    ColumnMappingPreset.signature == header_signature(exc.found)
                )
            ).first()
            db.commit()
            batch = _read_with_preset(path, size, preset, options, divisions, on_progress)
            if batch is not None and preset is not None:
                return batch, True, preset.id
        raise ImportRefused(str(exc), run_id=None, needed=exc.needed, found=exc.found) from exc


def _read_with_preset(
    path: Path,
    size: int,
    preset: ColumnMappingPreset | None,
    options: ImportOptions,
    divisions: DivisionTable,
    on_progress: Progress | None,
) -> Any:
    """The file read with a mapping saved for its header, or None when there is none or it no
    longer fits (the officer is then asked to map the columns again)."""
    if preset is None:
        return None
    try:
        return _read_with(
            path, size, None, ColumnMapping(preset.columns), options, divisions, on_progress
        )
    except (UnknownLayout, ValueError):
        return None


def _read_with(
    path: Path,
    size: int,
    layout: Layout | None,
    mapping: ColumnMapping | None,
    options: ImportOptions,
    divisions: DivisionTable,
    on_progress: Progress | None,
) -> Any:
    try:
        with path.open("rb") as raw:
            source: Any = _ProgressReader(raw, size, on_progress) if on_progress else raw
            return read_awards(
                source,
                layout=layout,
                division=options.division or None,
                mapping=mapping,
                max_bytes=options.max_bytes,
                subtier_divisions=divisions.subtier_map(),
                known_divisions=set(divisions.by_code),
            )
    except ImportFileError as exc:
        raise ImportRefused(exc.message, run_id=None) from exc
    except ValueError as exc:  # an unknown --division, a mapping with another layout
        raise ImportRefused(str(exc), run_id=None) from exc


def _fail(db: Session, run: ImportRun, exc: ImportRefused) -> None:
    db.rollback()
    stored = db.get(ImportRun, run.id)
    if stored is None:
        return
    stored.status = ImportStatus.FAILED
    stored.error = exc.message[:5000]
    stored.report = {"needed": list(exc.needed), "found": list(exc.found)[:300]}
    stored.finished_at = utcnow()
    db.add(stored)
    db.commit()


def _finish(run: ImportRun, outcome: ImportOutcome) -> None:
    run.status = ImportStatus.SUCCEEDED
    run.layout = outcome.format
    run.rows_read = outcome.rows_read
    run.created, run.updated, run.unchanged = outcome.created, outcome.updated, outcome.unchanged
    run.skipped = outcome.skipped
    run.rejected = len(outcome.rejected)
    run.report = {
        "rejected": [{"row": r.row, "errors": list(r.errors)} for r in outcome.rejected][
            :REPORT_LIMIT
        ],
        "skipped_reasons": outcome.skipped_reasons,
        "warnings": outcome.warnings[:REPORT_LIMIT],
        "warning_count": len(outcome.warnings),
        "notices": outcome.notices,
        "mapping_used": outcome.mapping_used,
    }
    run.mapping_id = outcome.mapping_id
    run.finished_at = utcnow()


def _fits(award: AwardRecord) -> list[str]:
    """Why an award cannot be stored (identity codes longer than their columns), or nothing."""
    problems = []
    for name, limit in _LIMITS.items():
        value = getattr(award, name)
        if value is not None and len(value) > limit:
            problems.append(f"{name}: {len(value)} characters, more than {limit}")
    return problems


def _values(
    award: AwardRecord, division_ids: dict[str, int], division_id: int, vendor_id: int | str
) -> dict[str, Any]:
    def code(value: str | None, limit: int) -> str | None:
        return value if value is not None and len(value) <= limit else None

    values = {
        "piid": award.piid,
        "parent_piid": award.parent_piid,
        "division_id": division_id,
        "awarding_division_id": division_ids.get(award.awarding_division or ""),
        "funding_division_id": division_ids.get(award.funding_division or ""),
        "vendor_id": vendor_id,
        "description": award.description or "",
        "award_type": award.award_type,
        "psc": code(award.psc, 10),
        "psc_description": award.psc_description,
        "naics": code(award.naics, 10),
        "naics_description": award.naics_description,
        "start_on": award.start,
        "current_end_on": award.current_end,
        "potential_end_on": award.potential_end,
        "last_action_on": award.last_action,
        "obligated_cents": award.obligated_cents,
        "current_value_cents": award.current_value_cents,
        "potential_value_cents": award.potential_value_cents,
    }
    if award.product:
        values["product"] = award.product
    for name, limit in _TRUNCATED.items():
        if values.get(name):
            values[name] = values[name][:limit]
    return values


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _apply(
    db: Session,
    actor: Actor,
    awards: list[AwardRecord],
    divisions: DivisionTable,
    outcome: ImportOutcome,
    options: ImportOptions,
    run_id: int,
) -> None:
    """Resolve vendors, compare with stored purchases, write the differences (unless dry run)."""
    division_ids = {code: d.id or 0 for code, d in divisions.by_code.items()}
    resolver = VendorResolver(db)
    vendor_names = resolver.names
    plans: list[tuple[AwardRecord, int, int | str]] = []
    not_ours: Counter[str] = Counter()
    for award in awards:
        division_id = division_ids[award.division]
        if isinstance(actor, Principal) and not can(
            actor, Permission.MANAGE_PURCHASES, division_id
        ):
            not_ours[award.division] += len(award.source_rows)
            continue
        if problems := _fits(award):
            outcome.rejected.append(RowError(award.source_rows[0], tuple(problems)))
            continue
        ref = resolver.resolve(
            award.vendor_name,
            uei=award.vendor_uei if award.vendor_uei and len(award.vendor_uei) <= 20 else None,
            parent_uei=award.vendor_parent_uei
            if award.vendor_parent_uei and len(award.vendor_parent_uei) <= 20
            else None,
            parent_name=award.vendor_parent_name,
            dba_name=award.vendor_dba_name,
        )
        if ref is None:  # a name of punctuation only: the importer saw text, we see no name
            outcome.rejected.append(
                RowError(award.source_rows[0], (f"vendor: {award.vendor_name!r} is not a name",))
            )
            continue
        plans.append((award, division_id, ref))
        outcome.warnings.extend(f"{award.piid}: {w}" for w in award.warnings)
    for code, rows in sorted(not_ours.items()):
        reason = f"{code} purchases (only {code} procurement officers can import them)"
        outcome.skipped_reasons[reason] = rows
        outcome.skipped += rows
    outcome.rejected.sort(key=lambda r: r.row)
    created_vendors = {} if options.dry_run else resolver.write()
    for name_key, new_id in created_vendors.items():
        vendor_names[new_id] = resolver.new_vendors[name_key]["name"]
    connection = db.connection()
    table = Purchase.__table__  # type: ignore[attr-defined]
    filename = options.filename[:300]
    now = utcnow()
    # Every look-up before the first insert: a table that grows inside the transaction has no
    # statistics, and PostgreSQL then scans it whole for each batch (quadratic time).
    existing: dict[str, Any] = {}
    compared = [table.c[name] for name in ("id", "award_key", "product", *_COMPARED)]
    for start in range(0, len(plans), CHUNK):
        keys = [award.award_key for award, _, _ in plans[start : start + CHUNK]]
        for row in connection.execute(select(*compared).where(table.c.award_key.in_(keys))):
            existing[row.award_key] = row._mapping
    with nullcontext() if options.dry_run else bulk_indexing(db):
        for start in range(0, len(plans), CHUNK):
            chunk = plans[start : start + CHUNK]
            inserts: list[dict[str, Any]] = []
            updates: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for award, division_id, ref in chunk:
                vendor_id = created_vendors.get(ref, ref) if isinstance(ref, str) else ref
                values = _values(award, division_ids, division_id, vendor_id)
                vendor_name = (
                    vendor_names.get(vendor_id)
                    if isinstance(vendor_id, int)
                    else resolver.new_vendors[vendor_id]["name"]
                ) or ""
                source = {
                    "source": PurchaseSource.IMPORT,
                    "source_file": filename,
                    "source_rows": describe_rows(award.source_rows),
                    "import_run_id": run_id,
                    "updated_at": now,
                }
                current = existing.pop(award.award_key, None)
                if current is None:
                    outcome.created += 1
                    row = {
                        "award_key": award.award_key,
                        "product": "",
                        "sensitive_notes": "",
                        **values,
                        **source,
                        "created_at": now,
                    }
                    row["search_text"] = _search_text(row, vendor_name)
                    inserts.append(row)
                    continue
                names = [n for n in values if values[n] != current[n]]
                if not names:
                    outcome.unchanged += 1
                    continue
                outcome.updated += 1
                merged = {**current, **values}
                updates.append(
                    {
                        "id": current["id"],
                        **values,
                        **source,
                        "search_text": _search_text(merged, vendor_name),
                    }
                )
                events.append(
                    _audit_row(
                        actor,
                        now,
                        current["id"],
                        f"Import {filename[:200]} updated purchase {award.piid}",
                        {n: _json(current[n]) for n in names},
                        {n: _json(values[n]) for n in names},
                        award.division,
                    )
                )
            if options.dry_run:
                continue
            if inserts:
                db.execute(insert(Purchase), inserts)
            if updates:
                db.execute(update(Purchase), updates)
            if events:
                db.execute(insert(AuditEvent), events)


def _search_text(row: dict[str, Any], vendor_name: str) -> str:
    return search_text_of(
        row["piid"],
        row["parent_piid"],
        vendor_name,
        row.get("product"),
        row.get("description"),
        row["psc"],
        row["naics"],
    )


def _audit_row(
    actor: Actor,
    now: Any,
    purchase_id: int,
    summary: str,
    before: dict[str, Any],
    after: dict[str, Any],
    division_code: str,
) -> dict[str, Any]:
    """An audit event for one updated purchase, for a batched insert (same fields as record_event)."""
    return {
        "occurred_at": now,
        "actor_user_id": actor.id if isinstance(actor, Principal) else None,
        "actor": actor.email if isinstance(actor, Principal) else actor,
        "action": "purchase.update",
        "object_type": "purchase",
        "object_id": str(purchase_id),
        "summary": summary[:1000],
        "before": before,
        "after": after,
        "division_code": division_code,
        "request_id": request_id_var.get(),
        "ip_address": None,
    }


# ------------------------------------------------------------------ runs and mappings


def list_runs(db: Session, actor: Principal | None, limit: int = 20) -> list[ImportRun]:
    """The latest runs: an officer sees their own, an administrator or leadership everyone's."""
    principal = require(actor, Permission.MANAGE_PURCHASES)
    statement = select(ImportRun).order_by(col(ImportRun.id).desc()).limit(limit)
    if not can(principal, Permission.ADMIN):
        statement = statement.where(ImportRun.user_id == principal.id)
    return list(db.exec(statement).all())


def get_run(db: Session, actor: Principal | None, run_id: int) -> ImportRun:
    """A run's kept report, for the person who started it (or an administrator)."""
    from marketplace.accounts import NotFound
    from marketplace.auth import PermissionDenied

    principal = require(actor, Permission.VIEW_STAFF_CONTENT)
    run = db.get(ImportRun, run_id)
    if run is None:
        raise NotFound
    if run.user_id != principal.id and not can(principal, Permission.ADMIN):
        raise PermissionDenied("Only the person who started this import can see its report.")
    return run


def save_mapping(
    db: Session, actor: Principal, header: Sequence[str], columns: dict[str, str]
) -> ColumnMappingPreset:
    """Save (or replace) the mapping of a header onto the template, for this file and the next.

    Raises:
        ValidationFailed: a required template column is unmapped, or a column is not in the file.
    """
    require(actor, Permission.MANAGE_PURCHASES)
    chosen = {ours: theirs for ours, theirs in columns.items() if theirs}
    errors: dict[str, str] = {}
    found = set(header)
    for ours, theirs in chosen.items():
        if ours not in TEMPLATE_COLUMNS:
            errors[ours] = f"{ours} is not a template column."
        elif theirs not in found:
            errors[ours] = f"{theirs!r} is not a column of the file."
    if not errors:
        try:
            ColumnMapping(chosen)
        except ValueError as exc:
            for name in ("piid", "vendor", "obligated"):
                if not chosen.get(name):
                    errors[name] = str(exc)
            errors.setdefault("mapping", str(exc))
    if errors:
        raise ValidationFailed(errors)
    signature = header_signature(header)
    preset = db.exec(
        select(ColumnMappingPreset).where(ColumnMappingPreset.signature == signature)
    ).first()
    before = dict(preset.columns) if preset else None
    if preset is None:
        preset = ColumnMappingPreset(
            signature=signature, header=list(header)[:300], columns=chosen, created_by=actor.email
        )
    else:
        preset.columns = chosen
        preset.updated_at = utcnow()
    db.add(preset)
    db.flush()
    record_event(
        db,
        actor,
        "import_mapping.save",
        object_type="column_mapping_preset",
        object_id=preset.id or "",
        summary=f"Saved a column mapping for a {len(header)}-column file",
        before=before,
        after=chosen,
    )
    db.commit()
    return preset


def layout_titles() -> dict[str, str]:
    """Layout name (as reports show it) -> its title, for the import page."""
    return {format_name(layout): title for layout, title in LAYOUT_TITLES.items()}
