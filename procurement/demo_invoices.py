"""Demo chargeback invoices in every status, generated from the demo licences' granted reuses.

Call `demo_invoices(db)` after the demo reuses exist. Idempotent: generation never invoices a
charge twice, and a status is only demonstrated when no invoice has it yet.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from marketplace.types import utcnow
from procurement.costs import PeriodStep, ShareMethod, periods_between
from procurement.invoicing import InvoiceStatus
from procurement.models import Invoice, Licence
from procurement.services import invoices
from procurement.services.common import today_at_hhs
from procurement.services.invoices import InvoiceInput, LineInput
from procurement.services.reuse_spans import reuse_spans_by_licence

DEMO_ACTOR = "demo: marketplace demo load"


def demo_invoices(db: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Draft, issued, paid and void invoices from the demo reuses; returns how many were created.

    Licences with granted reuses that share no cost are switched to an equal split, so the demo
    has something to bill. If the reuses give fewer than four invoices, hand-made ones between
    CDC and NIH fill in, so every status is shown.
    """
    now = now or utcnow()
    today = today_at_hhs(now)
    spans = reuse_spans_by_licence(db)
    for licence in db.exec(select(Licence).where(col(Licence.id).in_(list(spans)))).all():
        if licence.share_method == ShareMethod.NONE:
            licence.share_method = ShareMethod.EQUAL.value
            db.add(licence)
    db.commit()
    created = 0
    for period in periods_between(today - timedelta(days=200), today, PeriodStep.QUARTER):
        created += len(invoices.generate_invoices(db, DEMO_ACTOR, period.label, now=now).created)
    existing = list(db.exec(select(Invoice).order_by(col(Invoice.id))).all())
    while len(existing) < 4:
        existing.append(_hand_invoice(db, len(existing), now))
        created += 1
    _demonstrate_statuses(db, existing, today)
    return {"invoices_created": created}


def _hand_invoice(db: Session, n: int, now: datetime) -> Invoice:
    return invoices.create_invoice(
        db,
        DEMO_ACTOR,
        InvoiceInput(
            from_division="CDC",
            to_division="NIH",
            from_agreement="IAA-CDC-2026-0007",
            to_agreement="IPAC-NIH-775533",
            lines=(LineInput(f"Survey platform seats, demo charge {n + 1}", "2", "1234.56"),),
        ),
        now=now,
    )


def _demonstrate_statuses(db: Session, existing: list[Invoice], today: date) -> None:
    """Move drafts along until draft, issued, paid and void each have an invoice."""
    have = {invoice.status for invoice in existing}
    drafts = [invoice for invoice in existing if invoice.status == InvoiceStatus.DRAFT]
    # Keep the first draft a draft; use the later ones.
    spare = drafts[1:]
    if InvoiceStatus.PAID not in have and spare:
        number = spare.pop().number
        invoices.issue_invoice(db, DEMO_ACTOR, number, today=today)
        invoices.record_payment(
            db, DEMO_ACTOR, number, today.isoformat(), "IPAC-DEMO-0001", today=today
        )
    if InvoiceStatus.ISSUED not in have and spare:
        invoices.issue_invoice(db, DEMO_ACTOR, spare.pop().number, today=today)
    if InvoiceStatus.VOID not in have and spare:
        invoices.void_invoice(
            db, DEMO_ACTOR, spare.pop().number, "Demo: billed the wrong agreement; reissued."
        )
