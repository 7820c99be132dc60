"""Reuse request states, business-day deadlines and reminders (pure rules, tables of cases)."""

from datetime import date

import pytest

from procurement.reuse_rules import (
    InvalidReuseTransition,
    ReuseState,
    add_business_days,
    business_days_between,
    can_move,
    ensure_move,
    federal_holidays,
    is_business_day,
    reminder_due,
    scheduled_state,
    state_after_approval,
)

R, A, D, ACT, E, REV = (
    ReuseState.REQUESTED,
    ReuseState.APPROVED,
    ReuseState.DENIED,
    ReuseState.ACTIVE,
    ReuseState.EXPIRED,
    ReuseState.REVOKED,
)


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        (R, A, True),
        (R, ACT, True),
        (R, D, True),
        (R, E, True),
        (R, REV, False),  # nothing to revoke before approval
        (A, ACT, True),
        (A, REV, True),
        (A, D, False),  # an approval is revoked, not denied
        (ACT, REV, True),
        (ACT, E, True),
        (ACT, A, False),
        (D, A, False),  # a denial is final: ask again
        (E, ACT, False),
        (REV, ACT, False),
    ],
)
def test_transitions(source, target, allowed):
    assert can_move(source, target) is allowed
    if allowed:
        ensure_move(source, target)
    else:
        with pytest.raises(InvalidReuseTransition):
            ensure_move(source, target)


def test_refused_transition_message_names_both_states():
    with pytest.raises(InvalidReuseTransition, match="A denied request cannot become approved"):
        ensure_move("denied", "approved")


@pytest.mark.parametrize(
    ("start", "today", "expected"),
    [
        (date(2026, 1, 10), date(2026, 1, 10), ACT),
        (date(2026, 1, 9), date(2026, 1, 10), ACT),
        (date(2026, 1, 11), date(2026, 1, 10), A),
    ],
)
def test_state_after_approval(start, today, expected):
    assert state_after_approval(start, today) is expected


@pytest.mark.parametrize(
    ("state", "start", "end", "today", "expected"),
    [
        (A, date(2026, 2, 1), date(2026, 6, 30), date(2026, 1, 31), A),  # not started
        (A, date(2026, 2, 1), date(2026, 6, 30), date(2026, 2, 1), ACT),  # starts today
        (ACT, date(2026, 2, 1), date(2026, 6, 30), date(2026, 6, 30), ACT),  # last day
        (ACT, date(2026, 2, 1), date(2026, 6, 30), date(2026, 7, 1), E),
        (A, date(2026, 2, 1), date(2026, 6, 30), date(2026, 7, 1), E),  # never started in time
        (R, date(2026, 2, 1), date(2026, 6, 30), date(2026, 7, 1), E),  # undecided too long
        (R, date(2026, 2, 1), date(2026, 6, 30), date(2026, 3, 1), R),  # still decidable
        (D, date(2026, 2, 1), date(2026, 6, 30), date(2026, 7, 1), D),  # final states stay
        (REV, date(2026, 2, 1), date(2026, 6, 30), date(2026, 7, 1), REV),
    ],
)
def test_scheduled_state(state, start, end, today, expected):
    assert scheduled_state(state, start, end, today) is expected


@pytest.mark.parametrize(
    ("year", "holiday"),
    [
        (2026, date(2026, 1, 1)),
        (2026, date(2026, 1, 19)),  # MLK: third Monday
        (2026, date(2026, 2, 16)),
        (2026, date(2026, 5, 25)),  # last Monday of May
        (2026, date(2026, 6, 19)),
        (2026, date(2026, 7, 3)),  # 4 July 2026 is a Saturday: observed Friday
        (2026, date(2026, 9, 7)),
        (2026, date(2026, 10, 12)),
        (2026, date(2026, 11, 11)),
        (2026, date(2026, 11, 26)),  # Thanksgiving: fourth Thursday
        (2026, date(2026, 12, 25)),
        (2027, date(2027, 12, 24)),  # Christmas 2027 is a Saturday
        (2027, date(2027, 12, 31)),  # New Year 2028 is a Saturday: observed in 2027
        (2028, date(2028, 1, 17)),
    ],
)
def test_federal_holidays(year, holiday):
    assert holiday in federal_holidays(year)
    assert not is_business_day(holiday)


def test_each_year_has_eleven_holidays_when_none_moves_across_years():
    assert len(federal_holidays(2026)) == 11
    assert date(2026, 7, 4) not in federal_holidays(2026)  # the Saturday itself is not the holiday
    assert len(federal_holidays(2028)) == 10  # its New Year's Day was observed in 2027


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 25), 10, date(2026, 12, 10)),  # skips Thanksgiving and a weekend
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 = Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # from a Saturday
        (date(2026, 12, 24), 1, date(2026, 12, 28)),  # over Christmas and a weekend
        (date(2026, 11, 25), 0, date(2026, 11, 25)),
        (date(2026, 11, 26), 0, date(2026, 11, 27)),  # a holiday rolls to the next business day
    ],
)
def test_add_business_days(start, days, expected):
    assert add_business_days(start, days) == expected


def test_negative_service_level_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        add_business_days(date(2026, 1, 5), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 11, 25), date(2026, 12, 10), 10),
        (date(2026, 12, 10), date(2026, 11, 25), -10),
        (date(2026, 11, 27), date(2026, 11, 29), 0),  # Saturday and Sunday only
        (date(2026, 11, 27), date(2026, 11, 27), 0),
    ],
)
def test_business_days_between(start, end, expected):
    assert business_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("state", "due", "reminded", "today", "expected"),
    [
        (R, date(2026, 12, 10), None, date(2026, 12, 1), False),  # 7 business days left
        (R, date(2026, 12, 10), None, date(2026, 12, 8), True),  # 2 left
        (R, date(2026, 12, 10), date(2026, 12, 8), date(2026, 12, 9), False),  # already warned
        (R, date(2026, 12, 10), date(2026, 12, 8), date(2026, 12, 11), True),  # missed
        (R, date(2026, 12, 10), date(2026, 12, 11), date(2026, 12, 14), False),  # told once
        (R, date(2026, 12, 10), None, date(2026, 12, 15), True),
        (ACT, date(2026, 12, 10), None, date(2026, 12, 15), False),  # decided
        (D, date(2026, 12, 10), None, date(2026, 12, 9), False),
    ],
)
def test_reminder_due(state, due, reminded, today, expected):
    assert reminder_due(state, due, reminded, today) is expected
