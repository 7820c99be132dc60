"""Background jobs: a table of work claimed by workers, `FOR UPDATE SKIP LOCKED` on PostgreSQL.

Long work (imports, harvests, scans, reports, reminders) is enqueued by a request and run by
`marketplace worker`. A job is claimed by one worker only; failures keep their error; progress is
written as the job goes so the page that started it can show it. The clock is injected so tests
drive time.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from marketplace.db import Database
from marketplace.logs import request_id_var
from marketplace.models import Job, JobStatus
from marketplace.sessions import purge_expired_sessions
from marketplace.types import utcnow

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)  # a running job without heartbeat this long is re-queued
MAX_ATTEMPTS = 3


class Clock(Protocol):
    def __call__(self) -> datetime: ...


@dataclass
class JobContext:
    """What a job handler gets: its job, a way to report progress, the database and the clock."""

    job_id: int
    payload: dict[str, Any]
    database: Database
    clock: Clock

    def progress(self, done: int, total: int | None = None, message: str = "") -> None:
        """Record progress in its own short transaction, visible at once to the page polling it."""
        with self.database.session() as db:
            job = db.get(Job, self.job_id)
            if job is None:
                return
            job.progress_done = done
            if total is not None:
                job.progress_total = total
            if message:
                job.message = message[:500]
            job.heartbeat_at = self.clock()
            db.add(job)
            db.commit()


Handler = Callable[[JobContext], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


def enqueue(
    db: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    user_id: int | None = None,
    division_id: int | None = None,
    run_after: datetime | None = None,
) -> Job:
    """Add a job to the caller's transaction; it runs once the transaction commits."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler registered for job kind {kind!r}")
    job = Job(
        kind=kind,
        payload=payload or {},
        created_by_user_id=user_id,
        division_id=division_id,
        run_after=run_after or utcnow(),
    )
    db.add(job)
    db.flush()
    return job


def claim_next(database: Database, worker_id: str, now: datetime) -> Job | None:
    """Atomically mark the oldest due job as running for this worker and return it.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` lets many workers claim different jobs at once.
    SQLite: one UPDATE that chooses the row itself, so it takes the write lock before it reads:
    a SELECT first would hold a read snapshot that another worker's claim makes stale, and
    SQLite refuses to turn a stale snapshot into a write ("database is locked", without waiting).
    The `status = 'queued'` guard makes a lost race claim nothing.
    """
    due = (
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED, Job.run_after <= now)
        .order_by(col(Job.run_after), col(Job.id))
        .limit(1)
    )
    claim = update(Job).values(
        status=JobStatus.RUNNING,
        locked_by=worker_id,
        started_at=now,
        heartbeat_at=now,
        attempts=Job.attempts + 1,
    )
    with database.session() as db:
        if db.get_bind().dialect.name == "postgresql":
            job_id = db.exec(due.with_for_update(skip_locked=True)).first()
            if job_id is None:
                return None
            claimed = db.exec(
                claim.where(col(Job.id) == job_id, col(Job.status) == JobStatus.QUEUED)
            )
            db.commit()
            if claimed.rowcount != 1:
                return None
        else:
            job_id = db.exec(
                claim.where(
                    col(Job.id) == due.scalar_subquery(), col(Job.status) == JobStatus.QUEUED
                ).returning(Job.id)
            ).scalar_one_or_none()
            db.commit()
            if job_id is None:
                return None
        return db.get(Job, job_id)


def run_job(database: Database, job: Job, clock: Clock) -> Job:
    """Run a claimed job to completion, keeping its result or its error."""
    handler = HANDLERS.get(job.kind)
    token = request_id_var.set(f"job-{job.id}")
    try:
        if handler is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        context = JobContext(job.id or 0, dict(job.payload), database, clock)
        result = handler(context)
        status, error = JobStatus.SUCCEEDED, None
    except Exception as exc:  # a failed job must not stop the worker
        log.exception("job failed", extra={"event": {"job_id": job.id, "kind": job.kind}})
        result = None
        status = JobStatus.FAILED
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    finally:
        request_id_var.reset(token)
    with database.session() as db:
        stored = db.get(Job, job.id)
        assert stored is not None
        stored.status = status
        stored.result = result
        stored.error = error
        stored.finished_at = clock()
        if status == JobStatus.SUCCEEDED and stored.progress_total:
            stored.progress_done = stored.progress_total
        db.add(stored)
        db.commit()
        return stored


def requeue_stale(database: Database, now: datetime) -> int:
    """Put back jobs whose worker died mid-way (no heartbeat for STALE_AFTER), up to MAX_ATTEMPTS."""
    with database.session() as db:
        stale = db.exec(
            select(Job).where(
                Job.status == JobStatus.RUNNING, col(Job.heartbeat_at) < now - STALE_AFTER
            )
        ).all()
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                job.status = JobStatus.FAILED
                job.error = f"worker {job.locked_by} stopped responding {job.attempts} times"
                job.finished_at = now
            else:
                job.status = JobStatus.QUEUED
                job.locked_by = None
            db.add(job)
        db.commit()
        return len(stale)


def run_pending(
    database: Database, clock: Clock, *, worker_id: str = "inline", limit: int = 100
) -> int:
    """Run due jobs until none is left (or `limit`); tests and `--once` use it. Returns the count."""
    count = 0
    while count < limit:
        job = claim_next(database, worker_id, clock())
        if job is None:
            break
        run_job(database, job, clock)
        count += 1
    return count


def worker_loop(
    database: Database,
    *,
    poll_seconds: float = 1.0,
    clock: Clock = utcnow,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Run jobs forever (until `stop()`), sleeping `poll_seconds` when idle."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    log.info("worker started", extra={"event": {"worker": worker_id}})
    last_housekeeping = datetime.min.replace(tzinfo=clock().tzinfo)
    while not stop():
        now = clock()
        if now - last_housekeeping > timedelta(minutes=5):
            requeue_stale(database, now)
            schedule_housekeeping(database, now)
            last_housekeeping = now
        job = claim_next(database, worker_id, now)
        if job is None:
            time.sleep(poll_seconds)
            continue
        run_job(database, job, clock)


def schedule_housekeeping(database: Database, now: datetime) -> None:
    """Enqueue the periodic jobs (once each: skipped while one is already waiting)."""
    with database.session() as db:
        for kind in PERIODIC_KINDS:
            waiting = db.exec(
                select(Job.id).where(
                    Job.kind == kind, col(Job.status).in_([JobStatus.QUEUED, JobStatus.RUNNING])
                )
            ).first()
            if waiting is None:
                enqueue(db, kind, {"scheduled_at": now.isoformat()})
        db.commit()


PERIODIC_KINDS: list[str] = []


def periodic(kind: str) -> Callable[[Handler], Handler]:
    """Register a handler that the worker also schedules every few minutes."""

    def register(func: Handler) -> Handler:
        PERIODIC_KINDS.append(kind)
        return job_handler(kind)(func)

    return register


@periodic("sessions.purge_expired")
def _purge_sessions(context: JobContext) -> dict[str, Any]:
    removed = purge_expired_sessions(context.database, context.clock())
    return {"removed": removed}
