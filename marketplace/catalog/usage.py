"""Listing views and downloads, counted per listing and calendar month; nobody is tracked.

The count is one upsert per event (INSERT … ON CONFLICT DO UPDATE on both engines), so it costs a
page a single indexed write and keeps no record of who looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from marketplace.catalog.models import ListingUsage


def count_usage(
    db: Session, listing_id: int, *, today: date, views: int = 0, downloads: int = 0
) -> None:
    """Add views and downloads to a listing's count for the month of `today`, and commit."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ListingUsage).values(
        listing_id=listing_id, month=today.replace(day=1), views=views, downloads=downloads
    )
    statement = statement.on_conflict_do_update(
        index_elements=["listing_id", "month"],
        set_={
            "views": ListingUsage.views + statement.excluded.views,
            "downloads": ListingUsage.downloads + statement.excluded.downloads,
        },
    )
    db.execute(statement)
    db.commit()


@dataclass(frozen=True)
class UsageSummary:
    views: int
    downloads: int
    by_month: list[ListingUsage]  # newest first, at most 12


def usage_of(db: Session, listing_id: int) -> UsageSummary:
    totals = db.exec(
        select(
            func.coalesce(func.sum(ListingUsage.views), 0),
            func.coalesce(func.sum(ListingUsage.downloads), 0),
        ).where(ListingUsage.listing_id == listing_id)
    ).one()
    months = db.exec(
        select(ListingUsage)
        .where(ListingUsage.listing_id == listing_id)
        .order_by(col(ListingUsage.month).desc())
        .limit(12)
    ).all()
    return UsageSummary(views=int(totals[0]), downloads=int(totals[1]), by_month=list(months))
