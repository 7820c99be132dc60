"""Publishing the catalog as DCAT-US 1.1 (/data.json) or 3.0, streamed, with a validation report."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Text, cast, func
from sqlmodel import Session, col, select

from marketplace.catalog.models import AccessLevel, Listing, ListingStatus
from marketplace.catalog.records import record_from_json
from marketplace.catalog.services import without_links
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


_decode_record = msgspec.json.Decoder(DatasetRecord).decode


def stored_record(text: str) -> DatasetRecord:
    """The record a listing stores (`record_to_json`), read from its JSON text.

    Decoding straight into the dataclass takes half the time of `json.loads` and
    `record_from_json`. A stored value of a type the record does not declare fails that strict
    decoding and is read by `record_from_json`, which accepts it, so both give the same record.
    """
    try:
        return _decode_record(text)
    except msgspec.MsgspecError:
        return record_from_json(json.loads(text))


def public_records(db: Session, batch: int = 1000) -> Iterator[DatasetRecord]:
    """The exported listings' records in id order, as the public sees them, `batch` rows a query.

    Published public and restricted-public listings, read as JSON text (PostgreSQL's driver would
    otherwise parse it into dicts first). Pages follow the id, so memory stays flat.
    """
    last_id = 0
    while True:
        rows = db.exec(
            select(Listing.id, Listing.access_level, cast(Listing.record, Text))
            .where(
                Listing.status == ListingStatus.PUBLISHED,
                col(Listing.access_level).in_([AccessLevel.PUBLIC, AccessLevel.RESTRICTED]),
                col(Listing.id) > last_id,
            )
            .order_by(col(Listing.id))
            .limit(batch)
        ).all()
        if not rows:
            return
        for _, access_level, text in rows:
            record = stored_record(text)
            # Exports are public documents: restricted-public distribution URLs are removed.
            yield record if access_level == AccessLevel.PUBLIC else without_links(record)
        last_id = rows[-1][0]


def stream_export(
    db: Session, version: str, report: ExportReport, *, catalog_id: str | None = None
) -> Iterator[str]:
    """The catalog as JSON text chunks; `report` fills in as the stream is consumed."""

    def on_skip(record: DatasetRecord, result: ExportResult) -> None:
        report.skipped.append(
            {"identifier": record.identifier, "title": record.title, "errors": result.errors}
        )

    def counted() -> Iterator[DatasetRecord]:
        for record in public_records(db):
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
    for record in public_records(db):
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
