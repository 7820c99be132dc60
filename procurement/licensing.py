"""Licence rules: who may reuse a licence, seats, terms and renewal deadlines.

Pure: plain values in, values out; `today` is always a parameter.

Scope says whom the vendor's licence covers; the reuse policy says whether the owner lets other
divisions use it. The scope is the hard limit, because an owner cannot grant more than the vendor
did:

- department: the licence covers every HHS division, so any division may reuse it.
- listed_divisions: the owner and the divisions listed in the contract, no one else.
- division: the owning division only (like a GLPI licence not "visible in child entities"); no
  other division can reuse it, whatever the policy says.
- named_users: the licence counts named people, not organisations (like Snipe-IT seats checked out
  to users), so another division may hold seats for its staff; the seat count is the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

RenewalBucket = Literal[30, 60, 120]
_RENEWAL_BUCKETS: tuple[RenewalBucket, ...] = (30, 60, 120)


class LicenceScope(StrEnum):
    """Whom the vendor's licence covers."""

    NAMED_USERS = "named_users"
    DIVISION = "division"
    LISTED_DIVISIONS = "listed_divisions"
    DEPARTMENT = "department"


class ReusePolicy(StrEnum):
    """Whether the owner lets other divisions reuse the licence."""

    NO = "no"
    WITH_APPROVAL = "with_approval"
    YES = "yes"


class RefusalCode(StrEnum):
    """Stable reasons a reuse request cannot be approved (pages and the API key on these)."""

    OWN_DIVISION = "own_division"
    SHARING_NOT_ALLOWED = "sharing_not_allowed"
    DIVISION_OUT_OF_SCOPE = "division_out_of_scope"
    BAD_SEATS = "bad_seats"
    BAD_DATES = "bad_dates"
    TERM_OVER = "term_over"
    REUSE_BEFORE_TERM = "reuse_before_term"
    REUSE_BEYOND_TERM = "reuse_beyond_term"
    NO_SEATS_LEFT = "no_seats_left"
    AGREEMENT_MISSING = "agreement_missing"


@dataclass(frozen=True, kw_only=True)
class LicenceTerms:
    """What a licence allows, as recorded from the contract (keyword arguments only).

    Defaults are the cautious reading of a contract that says nothing: reuse with approval, no
    redistribution, no derivatives.

    Attributes:
        owner_division: code of the division that bought the licence.
        scope: whom the vendor's licence covers.
        listed_divisions: the other divisions covered when scope is listed_divisions.
        seats: seats bought; None means unlimited.
        term_start: first day of the current term.
        term_end: last day of the current term (inclusive).
        renewal_date: the date a renewal decision is due, when the contract names one.
        auto_renew: whether the contract renews unless cancelled.
        renewal_cost_cents: the price of the next term, in cents, when known.
        reuse_policy: whether the owner lets other divisions reuse it.
        redistribution_allowed: whether the data may be passed on outside the licensees.
        derivatives_allowed: whether derived data products may be published.
        dua_required: whether a reusing division must sign a data use agreement.
        price_per_seat_cents: the price of one seat for one term, in cents, when known.
    """

    owner_division: str
    scope: LicenceScope
    listed_divisions: frozenset[str] = frozenset()
    seats: int | None
    term_start: date
    term_end: date
    renewal_date: date | None = None
    auto_renew: bool = False
    renewal_cost_cents: int | None = None
    reuse_policy: ReusePolicy = ReusePolicy.WITH_APPROVAL
    redistribution_allowed: bool = False
    derivatives_allowed: bool = False
    dua_required: bool = False
    price_per_seat_cents: int | None = None

    def __post_init__(self) -> None:
        if self.term_end < self.term_start:
            raise ValueError(f"Term ends ({self.term_end}) before it starts ({self.term_start}).")
        if self.seats is not None and self.seats < 1:
            raise ValueError(
                f"A licence has at least one seat or unlimited seats, not {self.seats}."
            )
        for name in ("renewal_cost_cents", "price_per_seat_cents"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} cannot be negative ({value}).")


@dataclass(frozen=True)
class ReuseAsk:
    """A division's request to reuse a licence.

    Attributes:
        requesting_division: code of the division asking.
        seats: seats requested.
        start: first day of the reuse.
        end: last day of the reuse (inclusive); None for "until the licence term ends".
        has_agreement: whether a signed data use agreement is attached.
    """

    requesting_division: str
    seats: int
    start: date
    end: date | None
    has_agreement: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why a reuse cannot be approved: a stable code and a sentence a page shows as is."""

    code: RefusalCode
    message: str


def in_scope(terms: LicenceTerms, division: str) -> bool:
    """Whether the vendor's licence covers a division (see the module docstring)."""
    if division == terms.owner_division:
        return True
    if terms.scope is LicenceScope.LISTED_DIVISIONS:
        return division in terms.listed_divisions
    return terms.scope is not LicenceScope.DIVISION


def seats_free(terms: LicenceTerms, seats_in_use: int) -> int | None:
    """Seats not yet used, never below 0; None when the licence has unlimited seats.

    Args:
        terms: the licence.
        seats_in_use: seats held by the owner and by approved reuses.
    """
    if seats_in_use < 0:
        raise ValueError(f"Seats in use cannot be negative ({seats_in_use}).")
    if terms.seats is None:
        return None
    return max(terms.seats - seats_in_use, 0)


def needs_approval(terms: LicenceTerms) -> bool:
    """Whether a reuse needs an officer's decision rather than being approved automatically.

    Only the yes policy approves automatically. A no policy also answers True, so a caller that
    skips `reuse_refusals` still never approves on its own; `reuse_refusals` says it is refused.
    """
    return terms.reuse_policy is not ReusePolicy.YES


def reuse_refusals(
    terms: LicenceTerms, ask: ReuseAsk, *, seats_in_use: int, today: date
) -> tuple[Refusal, ...]:
    """Every reason a reuse request cannot be approved; an empty tuple means it may be approved.

    Reasons the requester cannot change (asking for its own licence, sharing not allowed, a
    division outside the licence's scope) are returned alone. Otherwise all reasons are returned
    together, so one edit of the request can fix them all.

    Args:
        terms: the licence.
        ask: the request.
        seats_in_use: seats held by the owner and by approved reuses.
        today: the date the request is decided on.

    Returns:
        Refusals in a stable order: dates, term, seats, agreement.
    """
    owner, division = terms.owner_division, ask.requesting_division
    if division == owner:
        return (
            Refusal(
                RefusalCode.OWN_DIVISION,
                f"{owner} owns this licence; its staff use it directly, without a reuse.",
            ),
        )
    if terms.reuse_policy is ReusePolicy.NO:
        return (
            Refusal(
                RefusalCode.SHARING_NOT_ALLOWED,
                f"{owner} does not allow this licence to be shared with other divisions.",
            ),
        )
    if not in_scope(terms, division):
        covered = ", ".join(sorted({owner} | terms.listed_divisions))
        return (
            Refusal(
                RefusalCode.DIVISION_OUT_OF_SCOPE,
                f"The licence covers {covered} only; {division} is outside its scope.",
            ),
        )
    refusals: list[Refusal] = []
    end = terms.term_end if ask.end is None else ask.end
    if ask.seats < 1:
        refusals.append(
            Refusal(RefusalCode.BAD_SEATS, f"Request at least 1 seat; {ask.seats} requested.")
        )
    if end < ask.start:
        refusals.append(
            Refusal(
                RefusalCode.BAD_DATES,
                f"The reuse ends on {end.isoformat()}, before it starts on "
                f"{ask.start.isoformat()}.",
            )
        )
    if today > terms.term_end:
        refusals.append(
            Refusal(
                RefusalCode.TERM_OVER,
                f"The licence term ended on {terms.term_end.isoformat()}.",
            )
        )
    if ask.start < terms.term_start:
        refusals.append(
            Refusal(
                RefusalCode.REUSE_BEFORE_TERM,
                f"The reuse starts on {ask.start.isoformat()}, before the licence term starts "
                f"on {terms.term_start.isoformat()}.",
            )
        )
    if end > terms.term_end:
        refusals.append(
            Refusal(
                RefusalCode.REUSE_BEYOND_TERM,
                f"The reuse ends on {end.isoformat()}, after the licence term ends on "
                f"{terms.term_end.isoformat()}; ask again after the renewal.",
            )
        )
    free = seats_free(terms, seats_in_use)
    if free is not None and ask.seats >= 1 and ask.seats > free:
        refusals.append(Refusal(RefusalCode.NO_SEATS_LEFT, _seats_message(free, terms, ask)))
    if terms.dua_required and not ask.has_agreement:
        refusals.append(
            Refusal(
                RefusalCode.AGREEMENT_MISSING,
                "This licence requires a data use agreement; attach the signed agreement.",
            )
        )
    return tuple(refusals)


def renewal_bucket(terms: LicenceTerms, today: date) -> RenewalBucket | None:
    """Which renewal list a licence belongs on: due within 30, 60 or 120 days, or None.

    The deadline is the renewal date when the contract names one, otherwise the end of the term.
    A deadline today counts as within 30 days; a deadline already past gives None (the licence is
    expired or overdue, which pages show from the dates). Auto-renewing licences are included:
    their renewal still has to be funded.
    """
    deadline = terms.renewal_date or terms.term_end
    days_left = (deadline - today).days
    if days_left < 0:
        return None
    return next((bucket for bucket in _RENEWAL_BUCKETS if days_left <= bucket), None)


def _seats_message(free: int, terms: LicenceTerms, ask: ReuseAsk) -> str:
    """The seats refusal ("Only 2 of 25 seats are free; 5 requested."), right for 0 and 1 free."""
    if free == 0:
        return f"None of the {terms.seats} seats are free; {ask.seats} requested."
    verb = "is" if free == 1 else "are"
    return f"Only {free} of {terms.seats} seats {verb} free; {ask.seats} requested."
