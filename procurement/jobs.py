"""Background job "purchases.import": import an uploaded award file with progress on /jobs/{id}."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketplace import accounts
from marketplace.jobs import JobContext, job_handler
from marketplace.models import User
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
    result = outcome.summary()
    result["rejected"] = len(outcome.rejected)
    return {"run_id": run.id, **result}
