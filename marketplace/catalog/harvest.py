"""Harvesting data.json catalogs into listings: one transaction per run, idempotent, reported.

Rules: every dataset is validated against DCAT-US 1.1 (errors apart from warnings); a record is
rejected only when it cannot be a listing; the publisher is mapped to a division by bureau code or
name, else kept as an external publisher; datasets that vanish from a source are retired on that
source's next run (never another source's); fields a steward edited are never overwritten.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlmodel import Session, col, select

from marketplace.audit import record_event
from marketplace.auth import Principal
from marketplace.catalog.models import (
    HarvestRun,
    HarvestSource,
    Listing,
    ListingKind,
    ListingStatus,
)
from marketplace.catalog.records import record_from_json
from marketplace.catalog.services import apply_record, flag_duplicates, reindex, save_version
from marketplace.dcat import (
    CatalogError,
    DatasetRecord,
    find_duplicate_identifiers,
    harvest_dataset,
    parse_catalog,
)
from marketplace.models import Division
from marketplace.types import utcnow

MAX_CATALOG_BYTES = 200 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 60
MAX_REDIRECTS = 3
MAX_REPORTED_WARNINGS = 200

Progress = Callable[[int, int, str], None]


class HarvestError(Exception):
    """The source as a whole is unusable (fetch failed, not a catalog); nothing was written."""


@dataclass
class HarvestReport:
    """What one run did, in the shape `marketplace catalog import --json` prints."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)
    warning_details: list[dict[str, Any]] = field(default_factory=list)
    catalog_warnings: list[str] = field(default_factory=list)
    # Datasets another source (or a steward) already publishes under the same identifier, such as
    # CDC datasets republished by healthdata.gov: kept once, reported here, never taken over.
    published_elsewhere: list[dict[str, str]] = field(default_factory=list)
    # New or changed listings with the same title and publisher as an older one (flagged only).
    possible_duplicates: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "withdrawn": self.withdrawn,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "published_elsewhere": len(self.published_elsewhere),
            "possible_duplicates": self.possible_duplicates,
        }


def fetch_catalog(url: str, *, allow_private: bool = False) -> bytes:
    """Download a catalog over http(s), refusing private and loopback targets (SSRF).

    Size and time are capped and at most MAX_REDIRECTS redirects are followed, each checked.
    """
    target = url
    with httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check_target(target, allow_private)
            try:
                with client.stream(
                    "GET", target, headers={"Accept": "application/json"}
                ) as response:
                    if response.is_redirect:
                        target = str(response.url.join(response.headers.get("location", "")))
                        continue
                    if response.status_code >= 400:
                        raise HarvestError(
                            f"The source answered HTTP {response.status_code} for {target}."
                        )
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > MAX_CATALOG_BYTES:
                            raise HarvestError(
                                f"The catalog is larger than {MAX_CATALOG_BYTES // 2**20} MB."
                            )
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.HTTPError as exc:
                raise HarvestError(f"Could not fetch {target}: {type(exc).__name__}.") from exc
    raise HarvestError(f"Too many redirects fetching {url}.")


def _check_target(url: str, allow_private: bool) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise HarvestError("Only http:// and https:// catalog addresses can be harvested.")
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parsed.hostname, None)}
    except socket.gaierror as exc:
        raise HarvestError(f"Cannot resolve {parsed.hostname}.") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            raise HarvestError(
                f"{parsed.hostname} is a private or local address; refusing to fetch it."
            )


def get_or_create_source(
    db: Session,
    key: str,
    *,
    name: str | None = None,
    url: str | None = None,
    division_id: int | None = None,
) -> HarvestSource:
    source = db.exec(select(HarvestSource).where(HarvestSource.key == key)).first()
    if source is None:
        source = HarvestSource(
            key=key[:500], name=(name or key)[:300], url=url, division_id=division_id
        )
        db.add(source)
        db.flush()
    return source


class _DivisionMatcher:
    """Maps a record's publisher to a division by bureau code, then by name or acronym."""

    def __init__(self, divisions: list[Division]) -> None:
        self.by_bureau: dict[str, list[Division]] = {}
        self.by_name: dict[str, Division] = {}
        for division in divisions:
            self.by_bureau.setdefault(division.bureau_code, []).append(division)
            for name in (division.name, division.code, *division.codes("aliases")):
                self.by_name[_name_key(name)] = division

    def match(self, record: DatasetRecord) -> Division | None:
        for name in (record.publisher_name, record.publisher_parent_name):
            if name and _name_key(name) in self.by_name:
                return self.by_name[_name_key(name)]
        for code in record.bureau_codes:
            candidates = self.by_bureau.get(code, [])
            # 009:00 is the department as a whole; several staff divisions share 009:90.
            operating = [d for d in candidates if d.kind in ("operating", "department")]
            if len(candidates) == 1:
                return candidates[0]
            if len(operating) == 1:
                return operating[0]
        return None


def _name_key(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("&", "and") if ch.isalnum())


def harvest_catalog(
    db: Session,
    source: HarvestSource,
    data: bytes,
    actor: Principal | str,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> HarvestReport:
    """Import a data.json document for `source` in one transaction.

    Raises:
        HarvestError: the document is not a usable catalog; nothing is written.
    """
    try:
        parsed = parse_catalog(data)
    except CatalogError as exc:
        raise HarvestError(exc.message) from exc
    now = now or utcnow()
    # Validate everything before the first write: on SQLite a write transaction would block the
    # progress updates other connections make, and the page following the job would freeze.
    total = len(parsed.datasets)
    checked = []
    for position, raw in enumerate(parsed.datasets, start=1):
        checked.append((raw, harvest_dataset(raw, parsed.version)))
        if progress and (position % 250 == 0 or position == total):
            progress(position, total, f"{position} of {total} datasets checked")
    report = HarvestReport(catalog_warnings=list(parsed.warnings))
    report.duplicates = find_duplicate_identifiers(parsed.datasets)
    matcher = _DivisionMatcher(list(db.exec(select(Division)).all()))
    existing = {
        listing.identifier: listing
        for listing in db.exec(select(Listing).where(Listing.source_id == source.id)).all()
    }
    seen: set[str] = set()
    changed: list[Listing] = []
    foreign_owner = _foreign_identifiers(db, source, parsed.datasets)
    for raw, result in checked:
        if result.record is None:
            report.rejected.append({"identifier": _raw_identifier(raw), "errors": result.errors})
            continue
        record = result.record
        identifier = record.identifier.strip()
        if identifier in seen:
            report.rejected.append(
                {
                    "identifier": identifier,
                    "errors": ["Duplicate identifier in this catalog: the first copy was kept."],
                }
            )
            continue
        if identifier in foreign_owner:
            report.published_elsewhere.append(
                {"identifier": identifier, "published_by": foreign_owner[identifier]}
            )
            continue
        seen.add(identifier)
        if result.warnings:
            report.warnings += 1
            if len(report.warning_details) < MAX_REPORTED_WARNINGS:
                report.warning_details.append(
                    {"identifier": identifier, "warnings": result.warnings[:10]}
                )
        division = matcher.match(record) or (
            db.get(Division, source.division_id)
            if _no_publisher(record) and source.division_id
            else None
        )
        listing = existing.get(identifier)
        if listing is None:
            listing = Listing(
                identifier=identifier,
                kind=ListingKind.DATASET,
                status=ListingStatus.PUBLISHED,
                division_id=division.id if division else None,
                title=record.title,
                source_id=source.id,
                published_at=now,
            )
            apply_record(listing, record, {})
            db.add(listing)
            report.created += 1
            changed.append(listing)
        else:
            merged = _keep_local_edits(listing, record)
            before_hash = listing.source_hash
            was_withdrawn = (
                listing.status == ListingStatus.RETIRED
                and listing.retired_reason
                and listing.retired_reason.startswith("Withdrawn")
            )
            apply_record(listing, merged, listing.details)
            if listing.source_hash == before_hash and not was_withdrawn:
                report.unchanged += 1
            else:
                listing.division_id = division.id if division else listing.division_id
                if was_withdrawn:
                    listing.status = ListingStatus.PUBLISHED
                    listing.retired_reason = None
                listing.version += 1
                listing.updated_at = now
                db.add(listing)
                report.updated += 1
                changed.append(listing)
    for identifier, listing in existing.items():
        if identifier not in seen and listing.status != ListingStatus.RETIRED:
            listing.status = ListingStatus.RETIRED
            listing.retired_reason = (
                f"Withdrawn: no longer in {source.name} as of {now.date().isoformat()}"
            )
            listing.version += 1
            listing.updated_at = now
            db.add(listing)
            report.withdrawn += 1
            changed.append(listing)
    db.flush()
    reindex(db, changed)
    report.possible_duplicates = flag_duplicates(db, changed)
    for listing in changed:
        save_version(db, listing, actor, f"Harvested from {source.name}")
    source.last_run_at = now
    db.add(source)
    record_event(
        db,
        actor,
        "catalog.harvest",
        object_type="harvest_source",
        object_id=source.id,
        summary=f"Harvested {source.key[:300]}",
        after=report.summary() | {"rejected": len(report.rejected)},
    )
    return report


def _keep_local_edits(listing: Listing, incoming: DatasetRecord) -> DatasetRecord:
    """The incoming record with the fields a steward edited locally kept as they are."""
    if not listing.locally_edited:
        return incoming
    current = record_from_json(listing.record)
    protected = {
        name: getattr(current, name) for name in listing.locally_edited if hasattr(current, name)
    }
    return replace(incoming, **protected)


def _no_publisher(record: DatasetRecord) -> bool:
    return not record.publisher_name and not record.bureau_codes


def _raw_identifier(raw: Any) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("identifier")
        if isinstance(value, dict):
            value = value.get("@id")
        return str(value) if value not in (None, "") else None
    return None


def _foreign_identifiers(db: Session, source: HarvestSource, raw_datasets: Any) -> dict[str, str]:
    """Identifiers in this catalog that already belong to another source or to a local listing."""
    identifiers = {i for i in (_raw_identifier(r) for r in raw_datasets) if i}
    owners: dict[str, str] = {}
    names = {s.id: s.name for s in db.exec(select(HarvestSource)).all()}
    batch = list(identifiers)
    for start in range(0, len(batch), 900):
        rows = db.exec(
            select(Listing.identifier, Listing.source_id).where(
                col(Listing.identifier).in_(batch[start : start + 900])
            )
        ).all()
        for identifier, source_id in rows:
            if source_id != source.id:
                owners[identifier] = (
                    names.get(source_id, "a steward of this marketplace")
                    if source_id
                    else "a steward of this marketplace"
                )
    return owners


def start_run(db: Session, source: HarvestSource, job_id: int | None = None) -> HarvestRun:
    run = HarvestRun(source_id=source.id or 0, job_id=job_id)
    db.add(run)
    db.flush()
    return run


def finish_run(run: HarvestRun, report: HarvestReport | None, error: str | None = None) -> None:
    run.finished_at = utcnow()
    if report is None:
        run.status = "failed"
        run.error = error
        return
    run.status = "succeeded"
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.withdrawn, run.warnings = report.withdrawn, report.warnings
    run.rejected = report.rejected
    run.report = {
        "duplicates": report.duplicates,
        "published_elsewhere": report.published_elsewhere[:MAX_REPORTED_WARNINGS],
        "warnings": report.warning_details,
        "catalog_warnings": report.catalog_warnings,
    }
