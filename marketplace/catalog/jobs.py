"""Background harvest: the admin page enqueues, a worker harvests with progress, the run is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from marketplace.accounts import principal_for
from marketplace.catalog.harvest import HarvestError, fetch_catalog, finish_run, harvest_catalog
from marketplace.catalog.models import HarvestRun, HarvestSource
from marketplace.jobs import JobContext, job_handler
from marketplace.models import User

HARVEST_JOB = "catalog.harvest"


@job_handler(HARVEST_JOB)
def run_harvest(context: JobContext) -> dict[str, Any]:
    """Harvest an uploaded file or a URL for a source; the HarvestRun keeps the report either way.

    Payload: run_id, and either `path` (an upload under the upload directory, removed afterwards)
    or `url`; `user_id` of who asked; `allow_private` for local development.
    """
    payload = context.payload
    path = Path(payload["path"]) if payload.get("path") else None
    with context.database.session() as db:
        run = db.get(HarvestRun, payload["run_id"])
        if run is None:
            raise LookupError(f"harvest run {payload['run_id']} is gone")
        source = db.get(HarvestSource, run.source_id)
        user = db.get(User, payload["user_id"]) if payload.get("user_id") else None
        actor = principal_for(db, user) if user else f"job {context.job_id}"
        # End this read transaction: progress is written from other connections while the file is
        # checked, and on SQLite a transaction that read before those writes could not write after.
        db.commit()
        try:
            data = (
                path.read_bytes()
                if path
                else fetch_catalog(
                    payload["url"], allow_private=payload.get("allow_private", False)
                )
            )
            report = harvest_catalog(
                db, source, data, actor, progress=context.progress, now=context.clock()
            )
        except HarvestError as exc:
            db.rollback()
            run = db.get(HarvestRun, payload["run_id"])
            finish_run(run, None, str(exc))
            db.add(run)
            db.commit()
            raise
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        finish_run(run, report)
        db.add(run)
        db.commit()
        return report.summary() | {"rejected": len(report.rejected), "run_id": run.id}
