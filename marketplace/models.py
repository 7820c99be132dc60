"""Tables of the app shell: divisions, users and roles, sign-in throttling, sessions, audit, jobs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from marketplace.types import UTCDateTime, utcnow


class Role(StrEnum):
    """What a user may do; a user may hold several."""

    VIEWER = "viewer"
    STEWARD = "steward"
    OFFICER = "officer"
    LEADERSHIP = "leadership"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            Role.VIEWER: "Viewer",
            Role.STEWARD: "Data steward",
            Role.OFFICER: "Procurement officer",
            Role.LEADERSHIP: "Leadership",
            Role.ADMIN: "Administrator",
        }[self]


class Division(SQLModel, table=True):
    """An HHS operating or staff division; reference data seeded by a migration, edited by admins."""

    __tablename__ = "division"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=200)
    bureau_code: str = Field(max_length=6)
    subtier_codes: str = Field(default="", max_length=200)  # comma-separated sub-tier codes
    piid_prefixes: str = Field(default="", max_length=200)  # comma-separated PIID prefixes
    aliases: str = Field(default="", max_length=300)  # comma-separated other acronyms
    kind: str = Field(default="operating", max_length=20)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())

    def codes(self, attribute: str) -> tuple[str, ...]:
        """One of the comma-separated code lists as a tuple."""
        raw: str = getattr(self, attribute)
        return tuple(part for part in (p.strip() for p in raw.split(",")) if part)


class User(SQLModel, table=True):
    """A person who signs in. Passwords are argon2id hashes; SSO can later fill `external_id`."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    division_id: int = Field(foreign_key="division.id", index=True)
    password_hash: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    active: bool = Field(default=True)
    must_change_password: bool = Field(default=False)
    # Sessions started before this instant are no longer valid ("force sign-out").
    sessions_valid_after: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_sign_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class UserRole(SQLModel, table=True):
    """One role held by one user."""

    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    role: str = Field(max_length=20, primary_key=True)


class SignInThrottle(SQLModel, table=True):
    """Failed sign-ins in a row per e-mail address (existing or not, so it leaks nothing)."""

    __tablename__ = "sign_in_throttle"

    email: str = Field(max_length=254, primary_key=True)
    failures: int = Field(default=0)
    last_failure_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime())


class StoredSession(SQLModel, table=True):
    """Server-side session data when no Redis is configured; the key is a hash of the cookie."""

    __tablename__ = "web_session"

    key: str = Field(max_length=128, primary_key=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)


class AuditEvent(SQLModel, table=True):
    """An append-only record of a change, a sign-in, a denied access or a sensitive read."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    actor: str = Field(max_length=300)  # e-mail, or "cli: marketplace users create", or "anonymous"
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(default="", max_length=60)
    object_id: str = Field(default="", max_length=300)
    division_code: str | None = Field(default=None, max_length=20)
    summary: str = Field(default="", max_length=1000)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    request_id: str | None = Field(default=None, max_length=64)
    ip_address: str | None = Field(default=None, max_length=64)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Job(SQLModel, table=True):
    """A unit of background work (import, harvest, scan, report), claimed by exactly one worker."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_claim", "status", "run_after"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=JobStatus.QUEUED, max_length=20)
    progress_done: int = Field(default=0)
    progress_total: int | None = Field(default=None)
    message: str = Field(default="", max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None)
    attempts: int = Field(default=0)
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    division_id: int | None = Field(default=None, foreign_key="division.id")
    locked_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    run_after: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


__all__ = [
    "AuditEvent",
    "Division",
    "Job",
    "JobStatus",
    "Role",
    "SignInThrottle",
    "StoredSession",
    "User",
    "UserRole",
]


class Notification(SQLModel, table=True):
    """A message in one user's in-app inbox (also e-mailed when SMTP is configured)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=50)  # "reuse.requested", "reuse.approved", …
    subject: str = Field(max_length=300)
    body: str = Field(default="", max_length=2000)
    link: str = Field(default="", max_length=500)  # a path inside the app
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
