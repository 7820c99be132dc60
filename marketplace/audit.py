"""The audit log: append-only events for every change, sign-in, denied access and sensitive read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from marketplace.auth import Principal
from marketplace.logs import request_id_var
from marketplace.models import AuditEvent
from marketplace.spreadsheets import spreadsheet_safe

Actor = Principal | str | None


def record_event(
    db: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    division_code: str | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Add an audit event to the caller's transaction (it commits with the change it describes).

    Args:
        actor: the signed-in principal, a label such as "cli: marketplace users create", or None
            for an anonymous caller.
        action: dotted verb, e.g. "user.create", "auth.sign_in_failed", "access.denied".
        before, after: JSON-serialisable snapshots of the changed fields.
    """
    event = AuditEvent(
        actor_user_id=actor.id if isinstance(actor, Principal) else None,
        actor=_actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary[:1000],
        before=_jsonable(before),
        after=_jsonable(after),
        division_code=division_code,
        request_id=request_id_var.get(),
        ip_address=ip_address,
    )
    db.add(event)
    return event


def _actor_label(actor: Actor) -> str:
    if isinstance(actor, Principal):
        return actor.email
    return actor or "anonymous"


def _jsonable(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {key: _json_value(value) for key, value in data.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (before, after) snapshots for an update event."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


@dataclass(frozen=True)
class AuditFilter:
    """Filters for browsing the log; all optional, combined with AND."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def apply(self, query: Any) -> Any:
        if self.actor:
            query = query.where(col(AuditEvent.actor).contains(self.actor))
        if self.action:
            query = query.where(col(AuditEvent.action).startswith(self.action))
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        if self.since:
            query = query.where(AuditEvent.occurred_at >= datetime.combine(self.since, time(), UTC))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            query = query.where(AuditEvent.occurred_at < end)
        return query


def list_events(
    db: Session, filters: AuditFilter, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of events, newest first, and the total matching count."""
    total = db.exec(filters.apply(select(func.count()).select_from(AuditEvent))).one()
    query = filters.apply(select(AuditEvent)).order_by(col(AuditEvent.id).desc())
    events = db.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
    return list(events), int(total)


AUDIT_CSV_COLUMNS = (
    "id",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "division",
    "summary",
    "before",
    "after",
    "request_id",
    "ip_address",
)


def export_csv(db: Session, filters: AuditFilter) -> Iterator[str]:
    """Stream the matching events as CSV text chunks, oldest first, spreadsheet-safe."""

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_CSV_COLUMNS)
    yield buffer.getvalue()
    query = filters.apply(select(AuditEvent)).order_by(col(AuditEvent.id))
    for event in db.exec(query.execution_options(yield_per=1000)):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(
            spreadsheet_safe(value)
            for value in (
                event.id,
                event.occurred_at.isoformat(),
                event.actor,
                event.action,
                event.object_type,
                event.object_id,
                event.division_code or "",
                event.summary,
                json.dumps(event.before) if event.before is not None else "",
                json.dumps(event.after) if event.after is not None else "",
                event.request_id or "",
                event.ip_address or "",
            )
        )
        yield buffer.getvalue()
