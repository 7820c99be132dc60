"""Background jobs of the register: "purchases.import" (an uploaded award file, with progress on
/jobs/{id}), "duplicates.scan" (a full duplicate scan, "Scan again") and "duplicates.refresh" (the
incremental scan after an import, also run every few minutes by the worker for hand edits)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketplace import accounts
from marketplace.jobs import JobContext, job_handler, periodic
from marketplace.models import User
from procurement import duplicate_scans
from procurement.models import ImportRun
from procurement.services.imports import ImportOptions, ImportRefused, import_awards

IMPORT_JOB = "purchases.import"


@job_handler(IMPORT_JOB)
def run_import(context: JobContext) -> dict[str, Any]:
    """Import the run's stored upload as the officer who started it; the run keeps the report.

    A file that is unusable as a whole ends the job normally with the refusal in its result: the
    run's report says why, and retrying the same file would fail the same way.
    """
    settings = context.database.settings
    with context.database.session() as db:
        run = db.get(ImportRun, context.payload["run_id"])
        if run is None or run.stored_name is None:
            return {"error": "The import run or its upload no longer exists."}
        user = db.get(User, run.user_id) if run.user_id else None
        actor: Any = accounts.principal_for(db, user) if user else run.actor
        options = ImportOptions(
            filename=run.filename,
            fmt=run.requested_format,
            division=run.division_code,
            dry_run=run.dry_run,
            max_bytes=settings.max_upload_bytes,
        )
        path = Path(settings.upload_dir) / run.stored_name
        try:
            outcome = import_awards(
                db, actor, path, options, run_id=run.id, on_progress=context.progress
            )
        except ImportRefused as exc:
            # The upload stays so the officer can map its columns and import it again.
            return {"run_id": run.id, "error": exc.message}
    if not options.dry_run:
        path.unlink(missing_ok=True)  # imported: the run keeps the report, not the file
        if outcome.created or outcome.updated:
            # Rescan the new and changed purchases' pairs in a job of its own: the import's run
            # is finished and its time is not the scan's.
            with context.database.session() as db:
                duplicate_scans.enqueue_refresh(
                    db, trigger=f"import run {run.id}", user_id=run.user_id, now=context.clock()
                )
                db.commit()
    result = outcome.summary()
    result["rejected"] = len(outcome.rejected)
    return {"run_id": run.id, **result}


@job_handler(duplicate_scans.SCAN_JOB)
def run_duplicate_scan(context: JobContext) -> dict[str, Any]:
    """A full duplicate scan whose results replace the kept ones ("Scan again")."""
    with context.database.session() as db:
        outcome = duplicate_scans.full_scan(
            db,
            trigger=str(context.payload.get("trigger", "scan again"))[:300],
            job_id=context.job_id,
            progress=context.progress,
        )
    return _run_summary(outcome)


@periodic(duplicate_scans.REFRESH_JOB)
def run_duplicate_refresh(context: JobContext) -> dict[str, Any]:
    """The incremental scan of purchases changed since the kept results (after an import; every
    few minutes otherwise, when the register moved, so hand edits and vendor merges count too)."""
    scheduled = "scheduled_at" in context.payload
    with context.database.session() as db:
        outcome = duplicate_scans.refresh_changed(
            db,
            trigger=str(context.payload.get("trigger", "periodic refresh"))[:300],
            job_id=context.job_id,
            progress=context.progress,
            if_register_moved=scheduled,
        )
    return {"changed": 0} if outcome is None else _run_summary(outcome)


def _run_summary(outcome: duplicate_scans.ScanOutcome) -> dict[str, Any]:
    run = outcome.run
    return {
        "run_id": run.id,
        "kind": run.kind,
        "purchases": run.purchases,
        "changed": run.changed,
        "pairs": run.pairs,
        "clusters": run.clusters,
        "seconds": run.seconds,
    }
