"""Jinja filters and globals: money in cents, dates, time zones, labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

DISPLAY_ZONE = ZoneInfo("America/New_York")  # HHS headquarters; shown with its abbreviation


def money(cents: int | None) -> str:
    """Integer cents as "$1,234.56" ("-$5.00" for de-obligations; "—" when unknown)."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    dollars, remainder = divmod(abs(int(cents)), 100)
    return f"{sign}${dollars:,}.{remainder:02d}"


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(DISPLAY_ZONE).date()
    return value.strftime("%b %-d, %Y")


def format_datetime(value: datetime | None) -> str:
    """A timestamp in Eastern time with the zone shown, e.g. "Nov 26, 2026 10:05 EST"."""
    if value is None:
        return "—"
    local = value.astimezone(DISPLAY_ZONE)
    return local.strftime("%b %-d, %Y %-I:%M %p %Z")


def configure_environment(engine: Any) -> None:
    environment: Environment = engine.engine
    environment.filters["money"] = money
    environment.filters["date"] = format_date
    environment.filters["datetime"] = format_datetime
    environment.globals["site_name"] = "HHS Data Marketplace"
    environment.trim_blocks = True
    environment.lstrip_blocks = True
