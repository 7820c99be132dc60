"""Granted reuses as the cost module sees them: one query that invoices, pages and reports share.

A reuse counts once it is approved and keeps counting for its dates after it ends: an expired or
revoked reuse still used the licence while it ran (a revocation moves its end to the day it was
revoked). Requested and denied ones never count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, func, select

from marketplace.models import Division
from procurement import costs
from procurement.charts import ChartData, ChartKind, Series, render_svg
from procurement.costs import ReuseSpan
from procurement.models import Licence, Purchase, ReuseRequest
from procurement.reuse_rules import ReuseState

GRANTED_STATUSES = (
    ReuseState.APPROVED,
    ReuseState.ACTIVE,
    ReuseState.EXPIRED,
    ReuseState.REVOKED,
)
# Statuses whose seats are held against the licence now (an approved reuse reserves its seats
# before it starts).
HOLDING_STATUSES = (ReuseState.APPROVED, ReuseState.ACTIVE)


def reuse_spans_by_licence(
    db: Session,
    licence_ids: Iterable[int] | None = None,
    *,
    period_start: date | None = None,
    period_end: date | None = None,
) -> dict[int, list[ReuseSpan]]:
    """Granted reuses per licence id, optionally only those active at some time in a period.

    Args:
        db: the session.
        licence_ids: the licences to load; None for every licence.
        period_start: with period_end, keep reuses active on at least one day of the period.
        period_end: the last day of the period, included.
    """
    query = (
        select(
            ReuseRequest.licence_id,
            Division.code,
            ReuseRequest.start_on,
            ReuseRequest.end_on,
            ReuseRequest.seats,
        )
        .join(Division, col(Division.id) == ReuseRequest.requesting_division_id)
        .where(col(ReuseRequest.licence_id).is_not(None))
        .where(col(ReuseRequest.status).in_([s.value for s in GRANTED_STATUSES]))
    )
    if licence_ids is not None:
        query = query.where(col(ReuseRequest.licence_id).in_(list(licence_ids)))
    if period_start is not None and period_end is not None:
        query = query.where(ReuseRequest.start_on <= period_end).where(
            ReuseRequest.end_on >= period_start
        )
    spans: dict[int, list[ReuseSpan]] = defaultdict(list)
    # Plain rows through the connection: the ORM's handling of each row costs as much as the
    # rest for the thousands of reuses a report reads.
    for licence_id, code, start_on, end_on, seats in db.connection().execute(query).all():
        spans[licence_id].append(ReuseSpan(code, start_on, max(end_on, start_on), max(seats, 1)))
    return dict(spans)


def seats_in_use(db: Session, licence: Licence) -> int:
    """Seats held now: the owner's own staff plus approved and active reuses."""
    return licence.owner_seats + seats_held_by_reuses(db, licence.id or 0)


def seats_held_by_reuses(db: Session, licence_id: int) -> int:
    """Seats held against a licence now by approved and active reuses."""
    total = db.exec(
        select(func.coalesce(func.sum(ReuseRequest.seats), 0))
        .where(ReuseRequest.licence_id == licence_id)
        .where(col(ReuseRequest.status).in_([s.value for s in HOLDING_STATUSES]))
    ).one()
    return int(total)


@dataclass(frozen=True)
class CostPerReuse:
    """A licence's cost per reuse by fiscal quarter over its term, as pages and reports show it."""

    series: tuple[costs.PeriodCost, ...]
    chart_svg: str

    @property
    def total_cost_cents(self) -> int:
        return sum(point.cost_cents for point in self.series)


def cost_per_reuse_view(
    db: Session, licence: Licence, purchase: Purchase, owner_code: str, *, chart_id: str
) -> CostPerReuse | None:
    """Cost, uses and cost per reuse in each fiscal quarter of the purchase's period of
    performance (costs.cost_per_reuse_series), or None when the purchase has no dates."""
    if purchase.start_on is None or purchase.current_end_on is None:
        return None
    end = max(purchase.current_end_on, purchase.start_on)
    periods = costs.periods_between(purchase.start_on, end, costs.PeriodStep.QUARTER)
    series = costs.cost_per_reuse_series(
        purchase.obligated_cents,
        purchase.start_on,
        end,
        owner_code,
        reuse_spans_by_licence(db, [licence.id or 0]).get(licence.id or 0, []),
        periods,
    )
    chart = ChartData(
        title="Cost per reuse by fiscal quarter",
        description="The licence's cost in each quarter divided by the divisions using it "
        "(the owner plus each division with an active reuse).",
        x_label="Fiscal quarter",
        y_label="Cost per reuse",
        series=(
            Series(
                "Cost per reuse", tuple((p.period.label, p.cost_per_reuse_cents) for p in series)
            ),
        ),
    )
    return CostPerReuse(
        series=series, chart_svg=render_svg(ChartKind.LINE, chart, chart_id=chart_id)
    )
