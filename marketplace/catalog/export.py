"""Publishing the catalog as DCAT-US 1.1 (/data.json) or 3.0, streamed, with a validation report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from marketplace.catalog.models import AccessLevel, Listing, ListingStatus
from marketplace.catalog.services import public_records
from marketplace.dcat import (
    DatasetRecord,
    ExportResult,
    dataset_to_v11,
    dataset_to_v30,
    stream_catalog,
)

VERSIONS = {"dcat-us-1.1": "1.1", "1.1": "1.1", "dcat-us-3.0": "3.0", "3.0": "3.0"}


@dataclass
class ExportReport:
    """Records left out of an export (they cannot be made valid) and why."""

    exported: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _public_records(db: Session) -> Iterator[DatasetRecord]:
    # Exports are public documents: restricted-public distribution URLs are removed.
    yield from public_records(db)


def stream_export(
    db: Session, version: str, report: ExportReport, *, catalog_id: str | None = None
) -> Iterator[str]:
    """The catalog as JSON text chunks; `report` fills in as the stream is consumed."""

    def on_skip(record: DatasetRecord, result: ExportResult) -> None:
        report.skipped.append(
            {"identifier": record.identifier, "title": record.title, "errors": result.errors}
        )

    def counted() -> Iterator[DatasetRecord]:
        for record in _public_records(db):
            report.exported += 1
            yield record

    yield from stream_catalog(
        counted(),
        version=version,
        catalog_id=catalog_id,
        title="HHS Data Marketplace",
        on_skip=on_skip,
    )
    report.exported -= len(report.skipped)


def validation_report(db: Session, version: str = "1.1") -> ExportReport:
    """Check every exportable listing; the report lists those left out, with the reasons."""
    convert = dataset_to_v11 if version == "1.1" else dataset_to_v30
    report = ExportReport()
    for record in _public_records(db):
        result = convert(record, check=True)
        if result.data is None or result.errors:
            report.skipped.append(
                {"identifier": record.identifier, "title": record.title, "errors": result.errors}
            )
        else:
            report.exported += 1
    return report


def catalog_validators(db: Session) -> tuple[str, datetime | None]:
    """An ETag and Last-Modified for the export: they change whenever an exported listing does."""
    count, latest, top = db.exec(
        select(func.count(), func.max(Listing.updated_at), func.max(Listing.id)).where(
            Listing.status == ListingStatus.PUBLISHED,
            col(Listing.access_level).in_([AccessLevel.PUBLIC, AccessLevel.RESTRICTED]),
        )
    ).one()
    # Retiring a listing changes the exported set without touching a published row: count it.
    changed = db.exec(select(func.max(Listing.updated_at))).one()
    fingerprint = f"{count}:{latest}:{top}:{changed}"
    etag = '"' + hashlib.sha256(fingerprint.encode()).hexdigest()[:32] + '"'
    return etag, changed
