"""Demo reuse requests and the first duplicate scan. Reuses: active reuses, one approved with conditions, a denial with its reason, and
requests waiting in owners' queues. Filed and decided through the reuse service, so the demo
carries the same audit trail, notifications and licence checks as real use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from marketplace.accounts import principal_for
from marketplace.models import User
from marketplace.types import utcnow
from procurement import duplicate_scans
from procurement.models import DuplicateScanRun, Licence, Purchase, ReuseRequest
from procurement.services import reuse as reuse_service
from procurement.services.common import today_at_hhs
from procurement.services.reuse import Decision, ReuseInput


@dataclass(frozen=True)
class DemoReuse:
    piid: str  # the licensed purchase
    requester: str  # demo account e-mail
    seats: int
    start: int  # days from today
    purpose: str
    decider: str = ""  # empty: left waiting
    decision: str = Decision.APPROVE
    conditions: str = ""
    reason: str = ""
    dua_reference: str = ""


REUSES: tuple[DemoReuse, ...] = (
    DemoReuse("75D30124P00412", "officer.nih@demo.hhs.gov", 5, -60,
              "NIAID pharmacoepidemiology of RSV vaccines in commercially insured adults",
              decider="steward.cdc@demo.hhs.gov", dua_reference="DUA-CDC-2026-031"),
    DemoReuse("75F40124P00077", "officer.cms@demo.hhs.gov", 10, -30,
              "CMS Innovation Center evaluation of a diabetes prevention model",
              decider="steward.fda@demo.hhs.gov", decision=Decision.APPROVE_WITH_CONDITIONS,
              conditions="Aggregate outputs only; cell sizes under 11 suppressed; no redistribution."),
    DemoReuse("75N98024F00021", "steward.cdc@demo.hhs.gov", 20, -45,
              "Bibliometric review for the CDC Science Agenda",
              decider="officer.nih@demo.hhs.gov"),
    DemoReuse("75F40124P00077", "viewer.hrsa@demo.hhs.gov", 5, 0,
              "HRSA maternal health claims analysis",
              decider="steward.fda@demo.hhs.gov", decision=Decision.DENY,
              reason="The remaining seats are committed to CBER reviewers until the term ends; "
                     "ask again at the renewal, or use the NIH-held MarketScan licence."),
    DemoReuse("75N98024F00021", "viewer.hrsa@demo.hhs.gov", 5, 3,
              "Literature searches for the HRSA Office of Health Equity"),
    DemoReuse("75F40124P00077", "officer.nih@demo.hhs.gov", 5, 7,
              "NIA study of claims-based frailty indices, validated against Sentinel algorithms"),
)  # fmt: skip


def load_reuse_demo(db: Session) -> dict[str, int]:
    """File and decide the demo requests, once (skipped when any reuse request exists)."""
    if db.exec(select(ReuseRequest.id)).first() is not None:
        return {"reuse_requests_created": 0}
    today = today_at_hhs(utcnow())
    people = {u.email: principal_for(db, u) for u in db.exec(select(User)).all()}
    created = 0
    for demo in REUSES:
        licence = db.exec(
            select(Licence)
            .join(Purchase, Purchase.id == Licence.purchase_id)  # type: ignore[arg-type]
            .where(Purchase.piid == demo.piid)
        ).first()
        requester = people.get(demo.requester)
        if licence is None or requester is None:
            continue
        request = reuse_service.request_reuse(
            db,
            requester,
            reuse_service.find_target(db, licence_id=licence.id),
            ReuseInput(
                purpose=demo.purpose,
                seats=str(demo.seats),
                start_on=(today + timedelta(days=demo.start)).isoformat(),
                end_on=licence.term_end_on.isoformat(),
                dua_required=bool(demo.dua_reference),
                dua_reference=demo.dua_reference,
                contact_name=requester.name,
                contact_email=requester.email,
            ),
            today=today,
        )
        created += 1
        if demo.decider:
            reuse_service.decide(
                db,
                people[demo.decider],
                request.id or 0,
                demo.decision,
                today=today,
                conditions=demo.conditions,
                reason=demo.reason,
            )
    return {"reuse_requests_created": created}


def scan_demo_duplicates(db: Session) -> dict[str, int]:
    """Scan the demo register once, so the duplicates pages open on kept results."""
    if db.exec(select(DuplicateScanRun.id)).first() is not None:
        return {"duplicate_pairs_found": 0}
    outcome = duplicate_scans.full_scan(db, trigger="demo")
    return {"duplicate_pairs_found": outcome.run.pairs}
