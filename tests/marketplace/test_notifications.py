"""Notifications: written with the change, e-mailed by the worker through the log or SMTP."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from marketplace import jobs, notifications
from marketplace.models import Job, Notification
from tests.support import make_user


def clock():
    return datetime.now(UTC) + timedelta(minutes=1)  # the queued job is due


def test_notify_writes_one_per_active_user_and_queues_one_email_job(db):
    alice = make_user(db, "alice@cdc.hhs.gov")
    bob = make_user(db, "bob@cdc.hhs.gov")
    bob.active = False
    db.add(bob)
    db.commit()
    notes = notifications.notify(
        db, [alice.id, alice.id, bob.id], "reuse.requested", "CDC asks", link="/x"
    )
    db.commit()
    assert [note.user_id for note in notes] == [alice.id]
    queued = db.exec(select(Job).where(Job.kind == notifications.EMAIL_JOB)).all()
    assert len(queued) == 1 and queued[0].payload == {"notification_ids": [notes[0].id]}
    assert notifications.notify(db, [], "x", "nobody") == []


def test_unread_count_and_mark_all_read(db):
    alice = make_user(db, "alice@cdc.hhs.gov")
    for subject in ("one", "two"):
        notifications.notify(db, [alice.id], "test", subject)
    db.commit()
    assert notifications.unread_count(db, alice.id) == 2
    assert [n.subject for n in notifications.list_for(db, alice.id)] == ["two", "one"]
    assert notifications.mark_all_read(db, alice.id) == 2
    assert notifications.unread_count(db, alice.id) == 0


def test_without_smtp_the_worker_logs_the_mail(database, db, caplog, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    alice = make_user(db, "alice@cdc.hhs.gov")
    notifications.notify(db, [alice.id], "reuse.approved", "Approved", body="Go ahead")
    db.commit()
    with caplog.at_level(logging.INFO, logger="marketplace.notifications"):
        assert jobs.run_pending(database, clock) == 1
    job = db.exec(select(Job).where(Job.kind == notifications.EMAIL_JOB)).one()
    db.refresh(job)
    assert job.result == {"sent": 1, "backend": "log"}
    assert any(r.message == "mail (log backend)" for r in caplog.records)


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def has_extn(self, name):
        return False

    def login(self, user, password):
        FakeSMTP.sent.append(("login", user, password))

    def send_message(self, message):
        FakeSMTP.sent.append((message["To"], message["Subject"], message.get_content()))


def test_with_smtp_the_worker_sends_each_mail_with_the_link(database, db, monkeypatch):
    monkeypatch.setenv("SMTP_URL", "smtp://mailer:s%40cret@mail.hhs.example:2525")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://marketplace.hhs.example")
    monkeypatch.setattr(notifications.smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    alice = make_user(db, "alice@cdc.hhs.gov")
    notifications.notify(
        db, [alice.id], "reuse.denied", "Denied", body="No seats", link="/procurement/reuse/7"
    )
    db.commit()
    assert jobs.run_pending(database, clock) == 1
    assert FakeSMTP.sent[0] == ("login", "mailer", "s@cret")
    to, subject, body = FakeSMTP.sent[1]
    assert (to, subject) == ("alice@cdc.hhs.gov", "Denied")
    assert "No seats" in body and "https://marketplace.hhs.example/procurement/reuse/7" in body
    assert db.exec(select(Notification)).one().read_at is None
