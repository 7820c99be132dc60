"""Catalog services: who sees which listing, publishing with versions, search, and the index.

The only code that writes listings, their facet rows and the search index, so the three never
disagree. Visibility rules live here (never only in templates), so pages, fragments, the API and
exports give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, Principal, can, require
from marketplace.catalog.models import (
    AccessLevel,
    Listing,
    ListingFacet,
    ListingKind,
    ListingStatus,
    ListingVersion,
)
from marketplace.catalog.records import content_hash, record_from_json, record_to_json
from marketplace.catalog.search import (
    SearchQuery,
    SearchResult,
    index_documents,
    search_listings,
)
from marketplace.dcat import DatasetRecord, completeness, normalize_date
from marketplace.models import Division
from marketplace.types import utcnow

EXTERNAL = "External"


# ------------------------------------------------------------------ visibility


def can_view(listing: Listing, viewer: Principal | None) -> bool:
    """May this caller see the listing at all (its metadata)?"""
    if listing.status == ListingStatus.DRAFT:
        return viewer is not None and (
            can(viewer, Permission.PUBLISH_LISTING, listing.division_id)
            or can(viewer, Permission.ADMIN)
        )
    if listing.access_level == AccessLevel.NON_PUBLIC:
        return viewer is not None
    return True


def can_see_distributions(listing: Listing, viewer: Principal | None) -> bool:
    """Restricted-public listings show their download and access URLs to signed-in staff only."""
    if listing.access_level == AccessLevel.PUBLIC:
        return True
    return viewer is not None


def can_edit(listing: Listing, viewer: Principal | None) -> bool:
    if viewer is None:
        return False
    if can(viewer, Permission.ADMIN):
        return True
    return listing.division_id is not None and can(
        viewer, Permission.PUBLISH_LISTING, listing.division_id
    )


def visible_record(listing: Listing, viewer: Principal | None) -> DatasetRecord:
    """The listing's record with what this caller may not see removed (restricted URLs)."""
    record = record_from_json(listing.record)
    return record if can_see_distributions(listing, viewer) else without_links(record)


def without_links(record: DatasetRecord) -> DatasetRecord:
    redacted = tuple(replace(d, download_url=None, access_url=None) for d in record.distributions)
    return replace(record, distributions=redacted)


def get_listing(db: Session, identifier: str, viewer: Principal | None) -> Listing:
    """The listing with this identifier if the caller may see it; NotFound otherwise.

    A listing the caller may not see is reported as missing, so its existence leaks nothing.
    """
    listing = db.exec(select(Listing).where(Listing.identifier == identifier)).first()
    if listing is None and identifier.isdigit():
        listing = db.get(Listing, int(identifier))
    if listing is None or not can_view(listing, viewer):
        raise NotFound
    return listing


def division_maps(db: Session) -> tuple[dict[str, int], dict[int, Division]]:
    """(code → id, id → Division) for every division, retired ones included."""
    divisions = db.exec(select(Division)).all()
    return {d.code: d.id for d in divisions if d.id}, {d.id: d for d in divisions if d.id}


# ------------------------------------------------------------------ search


@dataclass(frozen=True, slots=True)
class ListingSummary:
    """What a result list shows of a listing (the page and the API), read without the wide row."""

    id: int
    identifier: str
    title: str
    description: str
    kind: str
    division_id: int | None
    publisher_name: str
    access_level: str
    status: str
    modified_on: date | None
    completeness: int


_SUMMARY_COLUMNS = tuple(getattr(Listing, name) for name in ListingSummary.__slots__)


@dataclass(frozen=True)
class SearchPage:
    listings: list[ListingSummary]
    total: int
    facets: dict[str, Any]
    query: SearchQuery
    divisions: dict[int, Division]
    facets_sampled: bool = False  # theme/keyword/format/licence counts cover the best results only

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // max(self.query.per_page, 1)))


def search(db: Session, query: SearchQuery, viewer: Principal | None) -> SearchPage:
    """One page of results with facet counts, in a fixed number of queries."""
    codes, by_id = division_maps(db)
    result: SearchResult = search_listings(
        db, query, signed_in=viewer is not None, division_ids=codes
    )
    # Plain columns, not entities: a result list never needs the record JSON, the details or
    # change tracking, and building twenty entities cost more than the ranked query it follows.
    rows = (
        db.exec(select(*_SUMMARY_COLUMNS).where(col(Listing.id).in_(result.ids))).all()
        if result.ids
        else []
    )
    by_listing = {row[0]: ListingSummary(*row) for row in rows}
    listings = [by_listing[listing_id] for listing_id in result.ids if listing_id in by_listing]
    return SearchPage(listings, result.total, result.facets, query, by_id, result.facets_sampled)


# ------------------------------------------------------------------ writing listings


def division_label(listing: Listing | ListingSummary, divisions: dict[int, Division]) -> str:
    if listing.division_id and listing.division_id in divisions:
        return divisions[listing.division_id].code
    return EXTERNAL


def facet_values(record: DatasetRecord) -> set[tuple[str, str]]:
    """The multi-valued facet rows of a record: themes, keywords, formats and licence."""
    values: set[tuple[str, str]] = set()
    for theme in record.themes:
        values.add(("theme", theme.strip()[:200]))
    for keyword in record.keywords:
        values.add(("keyword", keyword.strip().lower()[:200]))
    for distribution in record.distributions:
        label = (
            distribution.format or _format_from_media_type(distribution.media_type) or ""
        ).strip()
        if label:
            values.add(("format", label.upper()[:200]))
    if record.license:
        values.add(("license", _licence_label(record.license)[:200]))
    return {(facet, value) for facet, value in values if value}


def _format_from_media_type(media_type: str | None) -> str | None:
    if not media_type:
        return None
    subtype = media_type.split("/")[-1].split(";")[0]
    return {
        "vnd.ms-excel": "XLS",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    }.get(subtype, subtype)


_KNOWN_LICENCES = {
    "creativecommons.org/publicdomain/zero/1.0": "CC0 1.0",
    "creativecommons.org/licenses/by/4.0": "CC BY 4.0",
    "opendatacommons.org/licenses/odbl": "ODbL",
    "project-open-data.cio.gov/unknown-license": "Unknown",
    "www.usa.gov/government-works": "U.S. Government work",
    "www.usa.gov/publicdomain": "U.S. public domain",
}


def _licence_label(url: str) -> str:
    trimmed = url.strip().rstrip("/").split("://")[-1]
    for key, label in _KNOWN_LICENCES.items():
        if trimmed.startswith(key):
            return label
    return url.strip()


def apply_record(
    listing: Listing, record: DatasetRecord, details: dict[str, Any] | None = None
) -> None:
    """Copy a record into the listing's row and its derived columns."""
    listing.record = record_to_json(record)
    if details is not None:
        listing.details = details
    listing.title = record.title.strip()[:500]
    listing.description = record.description
    listing.access_level = record.access_level or AccessLevel.PUBLIC
    listing.publisher_name = (record.publisher_name or "")[:300]
    listing.completeness = completeness(record).score
    listing.modified_on = _date_of(record.modified)
    listing.source_hash = content_hash(listing.record, listing.details)


def _date_of(value: str | None) -> date | None:
    normalised = normalize_date(value) if value else None
    if not normalised:
        return None
    try:
        return date.fromisoformat(normalised[:10])
    except ValueError:
        return None


def reindex(db: Session, listings: Sequence[Listing]) -> None:
    """Rewrite facet rows and search documents of these listings (same transaction)."""
    ids = [listing.id for listing in listings if listing.id]
    if not ids:
        return
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.exec(delete(ListingFacet).where(col(ListingFacet.listing_id).in_(chunk)))  # type: ignore[call-overload]
    rows = []
    documents = []
    for listing in listings:
        record = record_from_json(listing.record)
        rows.extend(
            {"listing_id": listing.id, "facet": facet, "value": value}
            for facet, value in facet_values(record)
        )
        documents.append(
            (
                listing.id or 0,
                listing.title,
                " ".join((*record.keywords, *record.themes)),
                " ".join(filter(None, (record.publisher_name, record.publisher_parent_name))),
                listing.description,
            )
        )
    if rows:
        db.connection().execute(ListingFacet.__table__.insert(), rows)  # type: ignore[attr-defined]
    index_documents(db, documents)


def _title_key(title: str) -> str:
    return " ".join(title.lower().split())


def flag_duplicates(db: Session, listings: Sequence[Listing]) -> int:
    """Mark listings that repeat an older listing: same title and same publisher.

    This is how the same dataset republished elsewhere (healthdata.gov republishing CDC, a
    division's catalog harvested twice under two keys) shows up. The flag points the steward to the
    match; it never blocks publishing. Returns how many listings were flagged.

    One query for the whole batch: candidates share a lower-cased title with one of the listings.
    """
    by_title: dict[str, list[Listing]] = {}
    for listing in listings:
        if listing.id:
            by_title.setdefault(_title_key(listing.title), []).append(listing)
    if not by_title:
        return 0
    lowered = sorted({listing.title.lower() for group in by_title.values() for listing in group})
    candidates: list[Listing] = []
    for start in range(0, len(lowered), 500):
        candidates.extend(
            db.exec(
                select(Listing).where(func.lower(Listing.title).in_(lowered[start : start + 500]))
            ).all()
        )
    flagged = 0
    for listing in (item for group in by_title.values() for item in group):
        publisher = listing.publisher_name.strip().lower()
        older = [
            other
            for other in candidates
            if other.id != listing.id
            and (other.id or 0) < (listing.id or 0)
            and _title_key(other.title) == _title_key(listing.title)
            and other.publisher_name.strip().lower() == publisher
        ]
        match = min(older, key=lambda other: other.id or 0).id if older else None
        if listing.duplicate_of_id != match:
            listing.duplicate_of_id = match
            db.add(listing)
        flagged += match is not None
    return flagged


def snapshot(listing: Listing, divisions: dict[int, Division]) -> dict[str, Any]:
    return {
        "record": listing.record,
        "kind": listing.kind,
        "status": listing.status,
        "division": division_label(listing, divisions),
        "details": listing.details,
    }


def save_version(db: Session, listing: Listing, actor: Principal | str, summary: str) -> None:
    """Keep the listing as it is now as its next version."""
    _, divisions = division_maps(db)
    db.add(
        ListingVersion(
            listing_id=listing.id or 0,
            version=listing.version,
            snapshot=snapshot(listing, divisions),
            actor=actor.email if isinstance(actor, Principal) else actor,
            summary=summary[:500],
        )
    )


@dataclass(frozen=True)
class ListingInput:
    """A validated publishing form."""

    kind: str
    status: str
    record: DatasetRecord
    details: dict[str, Any]


def create_listing(db: Session, actor: Principal, data: ListingInput) -> Listing:
    """Publish (or save as draft) a new listing for the steward's own division."""
    require(actor, Permission.PUBLISH_LISTING, actor.division_id)
    identifier = data.record.identifier.strip()
    if db.exec(select(Listing.id).where(Listing.identifier == identifier)).first():
        raise ValidationFailed({"identifier": "Another listing already uses this identifier."})
    listing = Listing(
        identifier=identifier,
        kind=data.kind,
        status=data.status,
        division_id=actor.division_id,
        title=data.record.title,
    )
    apply_record(listing, data.record, data.details)
    if data.status == ListingStatus.PUBLISHED:
        listing.published_at = utcnow()
    db.add(listing)
    db.flush()
    reindex(db, [listing])
    flag_duplicates(db, [listing])
    save_version(db, listing, actor, "Created")
    record_event(
        db,
        actor,
        "listing.create",
        object_type="listing",
        object_id=listing.id,
        division_code=actor.division_code,
        summary=f"Created {listing.title[:200]}",
        after={"identifier": identifier, "status": data.status, "kind": data.kind},
    )
    db.commit()
    return listing


def update_listing(db: Session, actor: Principal, listing: Listing, data: ListingInput) -> Listing:
    """Save an edit as a new version; fields changed on a harvested listing become protected."""
    if not can_edit(listing, actor):
        require(actor, Permission.PUBLISH_LISTING, listing.division_id or -1)
    before_record = listing.record
    before = {"status": listing.status, "kind": listing.kind, "title": listing.title}
    record = replace(data.record, identifier=listing.identifier)
    if listing.source_id is not None:
        new_json = record_to_json(record)
        edited = {k for k in new_json if new_json.get(k) != before_record.get(k) and k != "extras"}
        listing.locally_edited = sorted(set(listing.locally_edited) | edited)
    apply_record(listing, record, data.details)
    if data.status == ListingStatus.PUBLISHED and listing.published_at is None:
        listing.published_at = utcnow()
    listing.kind = data.kind
    listing.status = data.status
    if data.status != ListingStatus.RETIRED:
        listing.retired_reason = None
    listing.version += 1
    listing.updated_at = utcnow()
    db.add(listing)
    db.flush()
    reindex(db, [listing])
    flag_duplicates(db, [listing])
    save_version(db, listing, actor, "Edited")
    record_event(
        db,
        actor,
        "listing.update",
        object_type="listing",
        object_id=listing.id,
        division_code=actor.division_code,
        summary=f"Edited {listing.title[:200]}",
        before=before,
        after={"status": listing.status, "kind": listing.kind, "title": listing.title},
    )
    db.commit()
    return listing


def set_status(
    db: Session, actor: Principal, listing: Listing, status: ListingStatus, reason: str = ""
) -> Listing:
    """Publish, retire (kept and resolvable) or return a listing to draft."""
    if not can_edit(listing, actor):
        require(actor, Permission.PUBLISH_LISTING, listing.division_id or -1)
    if listing.status == status:
        return listing
    before = listing.status
    listing.status = status
    listing.retired_reason = (
        (reason or "Retired by its steward")[:500] if status == ListingStatus.RETIRED else None
    )
    if status == ListingStatus.PUBLISHED and listing.published_at is None:
        listing.published_at = utcnow()
    listing.version += 1
    listing.updated_at = utcnow()
    db.add(listing)
    save_version(db, listing, actor, f"Status {before} → {status}")
    record_event(
        db,
        actor,
        f"listing.{status.value}",
        object_type="listing",
        object_id=listing.id,
        summary=f"{listing.title[:200]}: {before} → {status}",
        before={"status": before},
        after={"status": status.value},
    )
    db.commit()
    return listing


def versions(db: Session, listing: Listing) -> list[ListingVersion]:
    return list(
        db.exec(
            select(ListingVersion)
            .where(ListingVersion.listing_id == listing.id)
            .order_by(col(ListingVersion.version).desc())
        ).all()
    )


def related_listings(
    db: Session, listing: Listing, viewer: Principal | None, limit: int = 5
) -> list[Listing]:
    """Listings sharing the most keywords and themes with this one (visible to the caller)."""
    record = record_from_json(listing.record)
    terms = [("keyword", k.strip().lower()) for k in record.keywords] + [
        ("theme", t) for t in record.themes
    ]
    if not terms:
        return []
    from sqlalchemy import and_, func, or_

    matches = or_(*(and_(ListingFacet.facet == f, ListingFacet.value == v) for f, v in terms[:30]))
    ranked = db.exec(
        select(ListingFacet.listing_id, func.count().label("shared"))
        .where(matches, ListingFacet.listing_id != listing.id)
        .group_by(ListingFacet.listing_id)
        .order_by(func.count().desc(), ListingFacet.listing_id)
        .limit(limit * 4)
    ).all()
    ids = [row[0] for row in ranked]
    if not ids:
        return []
    candidates = {c.id: c for c in db.exec(select(Listing).where(col(Listing.id).in_(ids))).all()}
    visible = [
        candidates[i]
        for i in ids
        if i in candidates
        and candidates[i].status == ListingStatus.PUBLISHED
        and can_view(candidates[i], viewer)
    ]
    return visible[:limit]


def kind_choices() -> list[tuple[str, str]]:
    return [(kind.value, kind.label) for kind in ListingKind]
