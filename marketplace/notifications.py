"""In-app notifications, and their e-mail copies through SMTP when it is configured.

A notification is written in the caller's transaction, so it exists exactly when the change it
announces does. E-mail goes out later from the worker (job "notifications.email"), so a slow or
failing mail server never slows or breaks a request; without SMTP_URL the mail backend is the log.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from marketplace.jobs import JobContext, enqueue, job_handler
from marketplace.models import Notification, User
from marketplace.settings import Settings
from marketplace.types import utcnow

log = logging.getLogger(__name__)

EMAIL_JOB = "notifications.email"
PAGE_SIZE = 50


def notify(
    db: Session,
    user_ids: Iterable[int],
    kind: str,
    subject: str,
    *,
    body: str = "",
    link: str = "",
) -> list[Notification]:
    """Add one notification per distinct active user to the caller's transaction, and queue
    their e-mail copies."""
    ids = sorted(set(user_ids))
    if not ids:
        return []
    users = db.exec(select(User).where(col(User.id).in_(ids), col(User.active).is_(True))).all()
    notes = [
        Notification(
            user_id=user.id or 0,
            kind=kind[:50],
            subject=subject[:300],
            body=body[:2000],
            link=link[:500],
        )
        for user in users
    ]
    db.add_all(notes)
    db.flush()
    if notes:
        enqueue(db, EMAIL_JOB, {"notification_ids": [note.id for note in notes]})
    return notes


def unread_count(db: Session, user_id: int) -> int:
    return int(
        db.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        ).one()
    )


def list_for(db: Session, user_id: int, *, limit: int = PAGE_SIZE) -> list[Notification]:
    """A user's newest notifications first."""
    return list(
        db.exec(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
            .limit(limit)
        ).all()
    )


def mark_all_read(db: Session, user_id: int) -> int:
    """Mark every unread notification of a user read; returns how many changed."""
    result = db.execute(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    db.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- E-mail ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def compose(note: Notification, user: User, base_url: str) -> Mail:
    link = f"\n\n{base_url.rstrip('/')}{note.link}" if note.link else ""
    return Mail(to=user.email, subject=note.subject, body=f"{note.body}{link}".strip())


def send_smtp(smtp_url: str, sender: str, mails: list[Mail]) -> None:
    """Send through smtp://[user:password@]host[:port] (STARTTLS offered) or smtps://."""
    parts = urlsplit(smtp_url)
    client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    default_port = 465 if parts.scheme == "smtps" else 25
    with client_class(
        parts.hostname or "localhost", parts.port or default_port, timeout=30
    ) as smtp:
        if parts.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        for mail in mails:
            message = EmailMessage()
            message["From"] = sender
            message["To"] = mail.to
            message["Subject"] = mail.subject
            message.set_content(mail.body or mail.subject)
            smtp.send_message(message)


@job_handler(EMAIL_JOB)
def _email(context: JobContext) -> dict[str, Any]:
    """E-mail the notifications of one batch: SMTP when configured, the log otherwise."""
    settings = Settings.from_env()
    ids = [int(i) for i in context.payload.get("notification_ids", [])]
    with context.database.session() as db:
        rows = db.exec(
            select(Notification, User)
            .join(User, col(User.id) == Notification.user_id)
            .where(col(Notification.id).in_(ids))
        ).all()
        mails = [compose(note, user, settings.public_base_url) for note, user in rows]
    if settings.smtp_url:
        send_smtp(settings.smtp_url, settings.mail_from, mails)
        return {"sent": len(mails), "backend": "smtp"}
    for mail in mails:
        log.info("mail (log backend)", extra={"event": {"to": mail.to, "subject": mail.subject}})
    return {"sent": len(mails), "backend": "log"}
