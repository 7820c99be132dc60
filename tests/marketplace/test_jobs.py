"""Background jobs: claimed once, progress kept, failures kept, stale ones re-queued, clock injected."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from marketplace import jobs
from marketplace.models import Job, JobStatus

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def test_handlers():
    calls: list[int] = []

    @jobs.job_handler("test.count")
    def count(context: jobs.JobContext) -> dict:
        total = context.payload["n"]
        for i in range(total):
            context.progress(i + 1, total, f"item {i + 1}")
        calls.append(context.job_id)
        return {"counted": total}

    @jobs.job_handler("test.boom")
    def boom(context: jobs.JobContext) -> dict:
        raise RuntimeError("the source file vanished")

    yield calls
    jobs.HANDLERS.pop("test.count")
    jobs.HANDLERS.pop("test.boom")


def test_a_job_runs_with_progress_and_result(database, test_handlers):
    clock = FakeClock(T0)
    with database.session() as db:
        job = jobs.enqueue(db, "test.count", {"n": 3}, run_after=T0)
        db.commit()
    assert jobs.run_pending(database, clock) == 1
    with database.session() as db:
        done = db.get(Job, job.id)
    assert done.status == JobStatus.SUCCEEDED
    assert done.result == {"counted": 3}
    assert (done.progress_done, done.progress_total, done.message) == (3, 3, "item 3")
    assert done.finished_at == T0
    assert test_handlers == [job.id]


def test_a_failed_job_keeps_its_error_and_the_worker_goes_on(database, test_handlers):
    clock = FakeClock(T0)
    with database.session() as db:
        failing = jobs.enqueue(db, "test.boom", run_after=T0)
        later = jobs.enqueue(db, "test.count", {"n": 1}, run_after=T0)
        db.commit()
    assert jobs.run_pending(database, clock) == 2
    with database.session() as db:
        assert db.get(Job, failing.id).status == JobStatus.FAILED
        assert "RuntimeError: the source file vanished" in db.get(Job, failing.id).error
        assert db.get(Job, later.id).status == JobStatus.SUCCEEDED


def test_jobs_wait_for_their_time(database, test_handlers):
    clock = FakeClock(T0)
    with database.session() as db:
        jobs.enqueue(db, "test.count", {"n": 1}, run_after=T0 + timedelta(hours=1))
        db.commit()
    assert jobs.run_pending(database, clock) == 0
    clock.now = T0 + timedelta(hours=1)
    assert jobs.run_pending(database, clock) == 1


def test_unknown_kinds_are_refused_at_enqueue(db):
    with pytest.raises(ValueError, match="no handler"):
        jobs.enqueue(db, "nobody.handles.this")


def test_a_stale_running_job_is_requeued_then_failed(database, test_handlers):
    with database.session() as db:
        job = jobs.enqueue(db, "test.count", {"n": 1}, run_after=T0)
        db.commit()
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        claimed = jobs.claim_next(database, f"dead-worker-{attempt}", T0)
        assert claimed is not None and claimed.attempts == attempt
        requeued = jobs.requeue_stale(database, T0 + jobs.STALE_AFTER + timedelta(seconds=1))
        assert requeued == 1
    with database.session() as db:
        final = db.get(Job, job.id)
    assert final.status == JobStatus.FAILED
    assert "stopped responding 3 times" in final.error


def test_concurrent_workers_never_claim_one_job_twice(database, test_handlers):
    with database.session() as db:
        for _ in range(20):
            jobs.enqueue(db, "test.count", {"n": 1}, run_after=T0)
        db.commit()
    claimed: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while True:
            try:
                job = jobs.claim_next(database, name, T0)
            except Exception as exc:  # a claim must wait for the lock, never fail
                errors.append(exc)
                return
            if job is None:
                return
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 20


def test_housekeeping_schedules_each_periodic_job_once(database):
    jobs.schedule_housekeeping(database, T0)
    jobs.schedule_housekeeping(database, T0)
    with database.session() as db:
        from sqlmodel import select

        kinds = db.exec(select(Job.kind)).all()
    assert sorted(kinds) == sorted(jobs.PERIODIC_KINDS)


def test_job_page_polls_until_done_and_is_private(client, db, database, test_handlers):
    from tests.support import login, make_user

    owner = make_user(db, "owner@hhs.gov")
    make_user(db, "other@hhs.gov")
    job = jobs.enqueue(db, "test.count", {"n": 2}, user_id=owner.id)
    db.commit()
    login(client, "owner@hhs.gov")
    waiting = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert 'hx-trigger="load delay:1s"' in waiting.text
    jobs.run_pending(database, lambda: datetime.now(UTC))
    finished = client.get(f"/jobs/{job.id}", headers={"HX-Request": "true"})
    assert "succeeded" in finished.text and "hx-trigger" not in finished.text
    from tests.support import post_form

    post_form(client, "/logout")
    login(client, "other@hhs.gov")
    assert client.get(f"/jobs/{job.id}").status_code == 403
    assert client.get("/jobs/999999").status_code == 404
