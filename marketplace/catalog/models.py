"""Catalog tables: listings, their facet values, versions, harvest sources and harvest runs."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.types import UTCDateTime, utcnow


class ListingKind(StrEnum):
    DATASET = "dataset"
    CODE = "code"
    API = "api"
    PURCHASED_DATASET = "purchased_dataset"

    @property
    def label(self) -> str:
        return {
            ListingKind.DATASET: "Dataset",
            ListingKind.CODE: "Code",
            ListingKind.API: "API or service",
            ListingKind.PURCHASED_DATASET: "Purchased dataset",
        }[self]


class ListingStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"  # kept and resolvable, left out of default search


class AccessLevel(StrEnum):
    PUBLIC = "public"
    RESTRICTED = "restricted public"  # metadata public; distribution URLs for staff only
    NON_PUBLIC = "non-public"  # staff only


class Listing(SQLModel, table=True):
    """One catalog entry. The DCAT-US metadata lives in `record` (a DatasetRecord as JSON); the
    columns beside it are what search, filters, sorting and permissions need."""

    __tablename__ = "listing"
    __table_args__ = (
        Index("ix_listing_status_access", "status", "access_level"),
        Index("ix_listing_division_status", "division_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    identifier: str = Field(max_length=500, unique=True, index=True)
    kind: str = Field(default=ListingKind.DATASET, max_length=30, index=True)
    status: str = Field(default=ListingStatus.DRAFT, max_length=20)
    division_id: int | None = Field(default=None, foreign_key="division.id")
    # Shown when no HHS division owns the listing (another agency's catalog): "External".
    publisher_name: str = Field(default="", max_length=300)
    title: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    access_level: str = Field(default=AccessLevel.PUBLIC, max_length=30)
    record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Kind-specific fields: repository URL, languages and SPDX licence for code; endpoint and
    # documentation for APIs.
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    completeness: int = Field(default=0)
    modified_on: date | None = Field(default=None, index=True)
    source_id: int | None = Field(default=None, foreign_key="harvest_source.id", index=True)
    source_hash: str | None = Field(default=None, max_length=64)
    # Fields a steward changed by hand; a harvest never overwrites them.
    locally_edited: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    duplicate_of_id: int | None = Field(default=None, foreign_key="listing.id")
    version: int = Field(default=1)
    retired_reason: str | None = Field(default=None, max_length=500)
    # Approved reuses ever granted (kept by the reuse service): the "most reused" sort.
    reuse_count: int = Field(default=0, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ListingFacet(SQLModel, table=True):
    """One value of a multi-valued facet (theme, keyword, format, licence) of a listing."""

    __tablename__ = "listing_facet"
    __table_args__ = (Index("ix_listing_facet_value", "facet", "value", "listing_id"),)

    listing_id: int = Field(foreign_key="listing.id", primary_key=True, ondelete="CASCADE")
    facet: str = Field(max_length=20, primary_key=True)
    value: str = Field(max_length=200, primary_key=True)


class ListingVersion(SQLModel, table=True):
    """A snapshot of a listing after each change, for its history and diffs."""

    __tablename__ = "listing_version"
    __table_args__ = (UniqueConstraint("listing_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True, ondelete="CASCADE")
    version: int
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=300)
    summary: str = Field(default="", max_length=500)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class HarvestSource(SQLModel, table=True):
    """A data.json catalog harvested on demand or from an upload; `key` is its URL or file name."""

    __tablename__ = "harvest_source"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=500, unique=True)
    name: str = Field(max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    division_id: int | None = Field(default=None, foreign_key="division.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class HarvestRun(SQLModel, table=True):
    """The kept report of one harvest: counts, rejections, warnings, or the error that stopped it."""

    __tablename__ = "harvest_run"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="harvest_source.id", index=True)
    job_id: int | None = Field(default=None, foreign_key="job.id")
    status: str = Field(default="running", max_length=20)  # running, succeeded, failed
    created: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    withdrawn: int = Field(default=0)
    warnings: int = Field(default=0)
    rejected: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    report: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class ListingUsage(SQLModel, table=True):
    """Views and downloads of one listing in one calendar month (UTC), counted, never per person."""

    __tablename__ = "listing_usage"

    listing_id: int = Field(foreign_key="listing.id", primary_key=True, ondelete="CASCADE")
    month: date = Field(primary_key=True)  # the first day of the month
    views: int = Field(default=0)
    downloads: int = Field(default=0)
