"""Reuse request rules: states, service-level deadlines in business days, scheduled changes.

Pure: plain values in, values out; `today` is always a parameter.

A request moves requested → approved or denied → active → expired or revoked. An approved
request whose start has come is active; an approved or active reuse whose end has passed is
expired; a request nobody decided before its end date expires too, since there is nothing left to
approve. Revocation ends an approved or active reuse early.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from functools import cache


class ReuseState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    DENIED = "denied"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_open(self) -> bool:
        """Whether the request still waits for a decision."""
        return self is ReuseState.REQUESTED


_LABELS = {
    ReuseState.REQUESTED: "Requested",
    ReuseState.APPROVED: "Approved",
    ReuseState.DENIED: "Denied",
    ReuseState.ACTIVE: "Active",
    ReuseState.EXPIRED: "Expired",
    ReuseState.REVOKED: "Revoked",
}

_TRANSITIONS: dict[ReuseState, frozenset[ReuseState]] = {
    ReuseState.REQUESTED: frozenset(
        {ReuseState.APPROVED, ReuseState.ACTIVE, ReuseState.DENIED, ReuseState.EXPIRED}
    ),
    ReuseState.APPROVED: frozenset({ReuseState.ACTIVE, ReuseState.EXPIRED, ReuseState.REVOKED}),
    ReuseState.ACTIVE: frozenset({ReuseState.EXPIRED, ReuseState.REVOKED}),
    ReuseState.DENIED: frozenset(),
    ReuseState.EXPIRED: frozenset(),
    ReuseState.REVOKED: frozenset(),
}


class InvalidReuseTransition(ValueError):
    """A decision that the request's state does not allow (decided twice, revoked a denial…)."""


def can_move(from_state: ReuseState | str, to_state: ReuseState | str) -> bool:
    return ReuseState(to_state) in _TRANSITIONS[ReuseState(from_state)]


def ensure_move(from_state: ReuseState | str, to_state: ReuseState | str) -> None:
    source, target = ReuseState(from_state), ReuseState(to_state)
    if target not in _TRANSITIONS[source]:
        raise InvalidReuseTransition(
            f"A {source.label.lower()} request cannot become {target.label.lower()}."
        )


def state_after_approval(start: date, today: date) -> ReuseState:
    """Active at once when the reuse starts today or earlier, otherwise approved until it starts."""
    return ReuseState.ACTIVE if start <= today else ReuseState.APPROVED


def scheduled_state(state: ReuseState | str, start: date, end: date, today: date) -> ReuseState:
    """The state the daily sweep moves a request to (the same state when nothing is due)."""
    state = ReuseState(state)
    if state in (ReuseState.REQUESTED, ReuseState.APPROVED, ReuseState.ACTIVE) and end < today:
        return ReuseState.EXPIRED
    if state is ReuseState.APPROVED and start <= today:
        return ReuseState.ACTIVE
    return state


# --- Business days ---------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (Monday 0) of a month; n = -1 for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A holiday on Saturday is observed on Friday, on Sunday on Monday (5 U.S.C. 6103)."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@cache
def federal_holidays(year: int) -> frozenset[date]:
    """The observed U.S. federal holidays falling in a calendar year (5 U.S.C. 6103(a)).

    New Year's Day of the next year can be observed on 31 December of this one, so it is included
    when that happens.
    """
    days = {
        _observed(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 6, 19)),  # Juneteenth
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _observed(date(year, 11, 11)),  # Veterans Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
        _observed(date(year, 12, 25)),
        _observed(date(year + 1, 1, 1)),
    }
    return frozenset(day for day in days if day.year == year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The business day `days` business days after `start` (weekends and federal holidays skipped).

    A request made on a Saturday with a 10-day service level is due 10 business days after the
    following Monday's start of business, i.e. counting starts the next business day.
    """
    if days < 0:
        raise ValueError(f"A service level cannot be negative ({days} business days).")
    day = start
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -business_days_between(end, start)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_business_day(start + timedelta(offset))
    )


def reminder_due(
    state: ReuseState | str,
    due_on: date,
    reminded_on: date | None,
    today: date,
    *,
    warn_business_days: int = 2,
) -> bool:
    """Whether to remind the owner's approvers of an undecided request today.

    Once when the deadline is `warn_business_days` business days away or closer, and once more
    the day after it is missed; never for a decided request.
    """
    if ReuseState(state) is not ReuseState.REQUESTED:
        return False
    if today > due_on:
        return reminded_on is None or reminded_on <= due_on
    if business_days_between(today, due_on) <= warn_business_days:
        return reminded_on is None
    return False
