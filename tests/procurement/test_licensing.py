"""Worked cases for procurement.licensing: scope, refusals, seats, renewal buckets."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from procurement.licensing import (
    LicenceScope,
    LicenceTerms,
    Refusal,
    RefusalCode,
    ReuseAsk,
    ReusePolicy,
    in_scope,
    needs_approval,
    renewal_bucket,
    reuse_refusals,
    seats_free,
)

D = date
TERMS = LicenceTerms(
    owner_division="CDC",
    scope=LicenceScope.DEPARTMENT,
    seats=25,
    term_start=D(2025, 10, 1),
    term_end=D(2026, 9, 30),
    price_per_seat_cents=120_000,
)
ASK = ReuseAsk("NIH", seats=5, start=D(2025, 11, 1), end=D(2026, 6, 30), has_agreement=False)
TODAY = D(2025, 10, 15)


@pytest.mark.parametrize(
    "scope,listed,division,expected",
    [
        (LicenceScope.DEPARTMENT, frozenset(), "NIH", True),
        (LicenceScope.LISTED_DIVISIONS, frozenset({"NIH", "FDA"}), "NIH", True),
        (LicenceScope.LISTED_DIVISIONS, frozenset({"NIH", "FDA"}), "CMS", False),
        (LicenceScope.LISTED_DIVISIONS, frozenset(), "NIH", False),
        (LicenceScope.DIVISION, frozenset(), "NIH", False),
        (LicenceScope.DIVISION, frozenset({"NIH"}), "NIH", False),  # a list means nothing here
        (LicenceScope.NAMED_USERS, frozenset(), "NIH", True),  # seats for named NIH staff
        (LicenceScope.DIVISION, frozenset(), "CDC", True),  # the owner always
    ],
)
def test_in_scope(scope, listed, division, expected):
    assert in_scope(replace(TERMS, scope=scope, listed_divisions=listed), division) is expected


@pytest.mark.parametrize(
    "terms_changes,ask_changes,seats_in_use,today,expected",
    [
        ({}, {}, 0, TODAY, ()),
        ({"reuse_policy": ReusePolicy.YES}, {}, 0, TODAY, ()),
        # the owner asking for its own licence: nothing else is worth saying
        (
            {"reuse_policy": ReusePolicy.NO},
            {"requesting_division": "CDC"},
            0,
            TODAY,
            ("own_division",),
        ),
        # sharing not allowed: reported alone even though the dates are also wrong
        (
            {"reuse_policy": ReusePolicy.NO},
            {"end": D(2025, 1, 1)},
            0,
            TODAY,
            ("sharing_not_allowed",),
        ),
        ({"scope": LicenceScope.DIVISION}, {}, 0, TODAY, ("division_out_of_scope",)),
        # a yes policy cannot widen the vendor's grant
        (
            {"scope": LicenceScope.DIVISION, "reuse_policy": ReusePolicy.YES},
            {},
            0,
            TODAY,
            ("division_out_of_scope",),
        ),
        (
            {"scope": LicenceScope.LISTED_DIVISIONS, "listed_divisions": frozenset({"FDA"})},
            {},
            0,
            TODAY,
            ("division_out_of_scope",),
        ),
        (
            {"scope": LicenceScope.LISTED_DIVISIONS, "listed_divisions": frozenset({"NIH"})},
            {},
            0,
            TODAY,
            (),
        ),
        ({"scope": LicenceScope.NAMED_USERS}, {}, 0, TODAY, ()),
        ({}, {"seats": 0}, 0, TODAY, ("bad_seats",)),
        ({}, {"end": D(2025, 10, 31)}, 0, TODAY, ("bad_dates",)),
        ({}, {"start": D(2025, 11, 1), "end": D(2025, 11, 1)}, 0, TODAY, ()),  # one day is fine
        ({}, {"start": D(2026, 9, 1), "end": None}, 0, D(2026, 10, 1), ("term_over",)),
        ({}, {"start": D(2026, 9, 1), "end": None}, 0, D(2026, 9, 30), ()),  # last day of term
        ({}, {"start": D(2025, 9, 30)}, 0, TODAY, ("reuse_before_term",)),
        ({}, {"start": D(2025, 10, 1)}, 0, TODAY, ()),
        ({}, {"end": D(2026, 10, 1)}, 0, TODAY, ("reuse_beyond_term",)),
        ({}, {"end": D(2026, 9, 30)}, 0, TODAY, ()),
        ({"auto_renew": True}, {"end": D(2026, 10, 1)}, 0, TODAY, ("reuse_beyond_term",)),
        ({}, {"end": None}, 0, TODAY, ()),  # open-ended means until the term ends
        ({}, {}, 21, TODAY, ("no_seats_left",)),  # 4 free, 5 asked
        ({}, {}, 20, TODAY, ()),  # exactly the 5 free
        ({}, {}, 30, TODAY, ("no_seats_left",)),  # already over-allocated
        ({"seats": None}, {"seats": 500}, 10_000, TODAY, ()),  # unlimited seats
        ({"dua_required": True}, {}, 0, TODAY, ("agreement_missing",)),
        ({"dua_required": True}, {"has_agreement": True}, 0, TODAY, ()),
        # fixable reasons all at once, in a stable order
        (
            {"dua_required": True},
            {"start": D(2025, 9, 1), "end": D(2026, 12, 31)},
            24,
            TODAY,
            ("reuse_before_term", "reuse_beyond_term", "no_seats_left", "agreement_missing"),
        ),
    ],
)
def test_reuse_refusals(terms_changes, ask_changes, seats_in_use, today, expected):
    refusals = reuse_refusals(
        replace(TERMS, **terms_changes),
        replace(ASK, **ask_changes),
        seats_in_use=seats_in_use,
        today=today,
    )
    assert tuple(refusal.code for refusal in refusals) == expected
    assert all(isinstance(refusal.code, RefusalCode) and refusal.message for refusal in refusals)


@pytest.mark.parametrize(
    "seats_in_use,asked,message",
    [
        (23, 5, "Only 2 of 25 seats are free; 5 requested."),
        (24, 2, "Only 1 of 25 seats is free; 2 requested."),
        (25, 1, "None of the 25 seats are free; 1 requested."),
    ],
)
def test_no_seats_left_message(seats_in_use, asked, message):
    ask = replace(ASK, seats=asked)
    assert reuse_refusals(TERMS, ask, seats_in_use=seats_in_use, today=TODAY) == (
        Refusal(RefusalCode.NO_SEATS_LEFT, message),
    )


@pytest.mark.parametrize(
    "terms_changes,ask_changes,today,message",
    [
        (
            {"scope": LicenceScope.DIVISION},
            {},
            TODAY,
            "The licence covers CDC only; NIH is outside its scope.",
        ),
        (
            {"scope": LicenceScope.LISTED_DIVISIONS, "listed_divisions": frozenset({"FDA", "ACF"})},
            {},
            TODAY,
            "The licence covers ACF, CDC, FDA only; NIH is outside its scope.",
        ),
        (
            {},
            {"end": D(2026, 10, 31)},
            TODAY,
            "The reuse ends on 2026-10-31, after the licence term ends on 2026-09-30; "
            "ask again after the renewal.",
        ),
        (
            {},
            {"start": D(2026, 9, 1), "end": None},
            D(2026, 10, 1),
            "The licence term ended on 2026-09-30.",
        ),
    ],
)
def test_refusal_messages(terms_changes, ask_changes, today, message):
    terms, ask = replace(TERMS, **terms_changes), replace(ASK, **ask_changes)
    (refusal,) = reuse_refusals(terms, ask, seats_in_use=0, today=today)
    assert refusal.message == message


@pytest.mark.parametrize(
    "seats,seats_in_use,expected",
    [(25, 0, 25), (25, 23, 2), (25, 25, 0), (25, 30, 0), (None, 0, None), (None, 10_000, None)],
)
def test_seats_free(seats, seats_in_use, expected):
    assert seats_free(replace(TERMS, seats=seats), seats_in_use) == expected


def test_seats_free_refuses_negative_use():
    with pytest.raises(ValueError, match="negative"):
        seats_free(TERMS, -1)


@pytest.mark.parametrize(
    "term_end,renewal_date,expected",
    [
        (D(2026, 6, 1), None, 30),  # due today
        (D(2026, 7, 1), None, 30),  # 30 days
        (D(2026, 7, 2), None, 60),  # 31 days
        (D(2026, 7, 31), None, 60),  # 60 days
        (D(2026, 8, 1), None, 120),  # 61 days
        (D(2026, 9, 29), None, 120),  # 120 days
        (D(2026, 9, 30), None, None),  # 121 days
        (D(2026, 5, 31), None, None),  # already over
        (D(2026, 12, 31), D(2026, 6, 15), 30),  # the contract's renewal date comes first
        (D(2026, 6, 15), D(2026, 5, 1), None),  # renewal date missed
    ],
)
def test_renewal_bucket(term_end, renewal_date, expected):
    terms = replace(TERMS, term_start=D(2025, 6, 1), term_end=term_end, renewal_date=renewal_date)
    assert renewal_bucket(terms, D(2026, 6, 1)) == expected


@pytest.mark.parametrize(
    "policy,expected",
    [(ReusePolicy.NO, True), (ReusePolicy.WITH_APPROVAL, True), (ReusePolicy.YES, False)],
)
def test_needs_approval(policy, expected):
    assert needs_approval(replace(TERMS, reuse_policy=policy)) is expected


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"term_end": D(2025, 9, 30)}, "before it starts"),
        ({"seats": 0}, "at least one seat"),
        ({"price_per_seat_cents": -1}, "price_per_seat_cents cannot be negative"),
        ({"renewal_cost_cents": -1}, "renewal_cost_cents cannot be negative"),
    ],
)
def test_licence_terms_validation(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(TERMS, **changes)


def test_licence_terms_defaults_are_cautious():
    assert TERMS.reuse_policy is ReusePolicy.WITH_APPROVAL
    assert not TERMS.redistribution_allowed
    assert not TERMS.derivatives_allowed
