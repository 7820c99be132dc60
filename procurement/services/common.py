"""What the procurement services share: division look-ups, form values, search text, today."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from marketplace.models import Division
from marketplace.templating import DISPLAY_ZONE
from procurement.importers import parse_date, parse_money_cents

LIKE_ESCAPE = "\\"
_WORD = re.compile(r"[\w.-]+", re.UNICODE)


def today_at_hhs(now: datetime) -> date:
    """The calendar day at HHS headquarters for an aware instant (what "expired" is judged by)."""
    return now.astimezone(DISPLAY_ZONE).date()


@dataclass(frozen=True)
class DivisionTable:
    """Every division by id and by code, loaded in one query."""

    by_id: dict[int, Division]
    by_code: dict[str, Division]

    @classmethod
    def load(cls, db: Session) -> DivisionTable:
        divisions = list(db.exec(select(Division)).all())
        return cls({d.id or 0: d for d in divisions}, {d.code: d for d in divisions})

    def code(self, division_id: int | None) -> str | None:
        division = self.by_id.get(division_id) if division_id is not None else None
        return division.code if division else None

    def subtier_map(self) -> dict[str, str]:
        """Sub-tier agency code -> division code, as the importers want it."""
        return {
            code: division.code
            for division in self.by_code.values()
            for code in division.codes("subtier_codes")
        }


def search_text(*parts: str | None) -> str:
    """The lower-case words live search matches with LIKE, one space between them."""
    return " ".join(word for part in parts if part for word in _WORD.findall(part.lower()))


def query_words(query: str, limit: int = 8) -> list[str]:
    """The words of a search box, lower case, LIKE wildcards escaped, at most `limit` of them."""
    words = _WORD.findall(query.lower())[:limit]
    return [
        w.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
        for w in words
    ]


def parse_form_money(text: str, label: str, errors: dict[str, str], name: str) -> int | None:
    """Dollars typed in a form ("$1,234.50", "-200") as cents; an error message when unreadable."""
    try:
        return parse_money_cents(text)
    except ValueError as exc:
        errors[name] = f"{label}: {exc}."
        return None


def parse_form_date(text: str, label: str, errors: dict[str, str], name: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError as exc:
        errors[name] = f"{label}: {exc}."
        return None


def dollars(cents: int | None) -> str:
    """Cents as a plain number of dollars for CSV ("-1234.50"); "" when unknown."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, remainder = divmod(abs(cents), 100)
    return f"{sign}{whole}.{remainder:02d}"


def describe_rows(rows: Iterable[int], limit: int = 480) -> str:
    """Row numbers as short ranges ("2, 7-9, 12"), cut to fit a column."""
    ranges: list[str] = []
    ordered = sorted(set(rows))
    start = previous = None
    for row in [*ordered, None]:
        if row is not None and previous is not None and row == previous + 1:
            previous = row
            continue
        if start is not None:
            ranges.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = row
    text = ", ".join(ranges)
    return text if len(text) <= limit else text[: limit - 1].rsplit(",", 1)[0] + ", …"
