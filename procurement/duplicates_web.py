"""Duplicate-procurement pages under /procurement: the scan, check before you buy, consolidation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

import procurement.jobs  # noqa: F401  (registers the scan jobs)
from marketplace import accounts
from marketplace.accounts import ValidationFailed
from marketplace.guards import signed_in
from marketplace.web import (
    DbSession,
    flash,
    form_value,
    is_htmx,
    page_or_partial,
    principal,
    redirect,
    render,
    safe_next,
)
from procurement import duplicate_scans, duplicates
from procurement.duplicate_groups import Outcome
from procurement.duplicates import AVOIDABLE_METHOD, Decision
from procurement.importers.values import parse_money_cents
from procurement.matching import NeedQuery

FIELD_MAX = 200


@dataclass(frozen=True)
class CheckForm:
    """The check-before-you-buy fields as typed (all text), kept to refill the form."""

    vendor: str = ""
    text: str = ""
    division: str = ""
    amount: str = ""
    start: str = ""
    end: str = ""

    def need(self) -> tuple[NeedQuery | None, dict[str, str]]:
        """The query to run (None when nothing to look for yet) and field errors."""
        errors: dict[str, str] = {}
        amount_cents = None
        if self.amount:
            try:
                amount_cents = parse_money_cents(self.amount)
            except ValueError:
                errors["amount"] = "Enter an amount in dollars, such as 25000."
        start = _date(self.start, "start", errors)
        end = _date(self.end, "end", errors)
        if start and end and end < start:
            errors["end"] = "The end cannot be before the start."
        if not (self.vendor or self.text):
            return None, errors
        need = NeedQuery(
            vendor_name=self.vendor,
            text=self.text,
            division=self.division or None,
            amount_cents=amount_cents,
            start=start,
            end=end if start else None,
        )
        return need, errors


def _date(value: str, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


class DuplicatesController(Controller):
    path = "/"
    guards = [signed_in]

    @get("/duplicates", name="duplicates", sync_to_thread=True)
    def scan_page(self, request: Request, db: DbSession, page: FromQuery[str] = "1") -> Template:
        """Kept duplicate clusters, a page at a time, with a decision form on each pair."""
        view = duplicate_scans.review_page(db, principal(request), page=_page_number(page))
        return render(
            request,
            "procurement/duplicates.html",
            {**view, "method": AVOIDABLE_METHOD, "decisions": list(Decision)},
        )

    @post("/duplicates/scan", name="duplicates_scan", sync_to_thread=True)
    def scan_again(self, request: Request, db: DbSession) -> Template | Redirect:
        """Queue a full scan; its progress shows on the duplicates page."""
        job = duplicate_scans.request_scan(db, principal(request))
        if is_htmx(request):
            return Template(
                template_name="procurement/_duplicate_scan_status.html",
                context={**duplicate_scans.scan_status(db), "user": principal(request)},
            )
        flash(request, f"Full scan queued (job {job.id}); this page shows its progress.")
        return redirect(safe_next(request.headers.get("referer"), "/procurement/duplicates"))

    @post("/duplicates/decide", name="duplicates_decide", sync_to_thread=True)
    def decide(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Confirm or dismiss one pair; htmx gets the pair's row back, a plain post a redirect."""
        duplicates.require_reviewer(principal(request))
        try:
            decided = duplicates.decide_pair(
                db,
                principal(request),
                form_value(data, "key_a")[:300],
                form_value(data, "key_b")[:300],
                form_value(data, "decision"),
                form_value(data, "note"),
            )
        except ValidationFailed as exc:
            message = " ".join(exc.errors.values())
            if is_htmx(request):
                return Template(
                    template_name="procurement/_duplicate_decided.html",
                    context={"error": message, "row_id": form_value(data, "row_id")[:50]},
                )
            flash(request, message, "error")
            return redirect("/procurement/duplicates")
        label = Decision(decided.decision.decision).label
        if is_htmx(request):
            a, b = decided.purchases
            return Template(
                template_name="procurement/_duplicate_decided.html",
                context={"decided": decided, "label": label, "row_id": f"pair-{a.id}-{b.id}"},
            )
        flash(request, f"Recorded: {label}.")
        return redirect("/procurement/duplicates")

    @get("/check", name="duplicates_check", sync_to_thread=True)
    def check(
        self,
        request: Request,
        db: DbSession,
        vendor: FromQuery[str] = "",
        text: FromQuery[str] = "",
        division: FromQuery[str] = "",
        amount: FromQuery[str] = "",
        start: FromQuery[str] = "",
        end: FromQuery[str] = "",
    ) -> Template:
        """Check before you buy: the page, or (for htmx) just the ranked matches."""
        form = CheckForm(
            *(v.strip()[:FIELD_MAX] for v in (vendor, text, division, amount, start, end))
        )
        return self._check(request, db, form)

    def _check(
        self,
        request: Request,
        db: DbSession,
        form: CheckForm,
        *,
        outcome: dict[str, str] | None = None,
        outcome_errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        need, errors = form.need()
        matches = duplicates.check_need(db, need, signed_in=True) if need is not None else None
        user = principal(request)
        return page_or_partial(
            request,
            "procurement/check.html",
            "procurement/_check_results.html",
            {
                "form": form,
                "errors": errors,
                "matches": matches,
                "divisions": [(d.code, f"{d.code}: {d.name}") for d in accounts.list_divisions(db)],
                "default_division": user.division_code if user else "",
                "may_record": duplicate_scans.may_record_outcomes(user),
                "outcome": outcome or {},
                "outcome_errors": outcome_errors or {},
                "outcomes": Outcome,
                "recent": duplicate_scans.recent_outcomes(db, user),
            },
            status_code=status_code,
        )

    @post("/check/outcome", name="duplicates_check_outcome", sync_to_thread=True)
    def record_outcome(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Keep the outcome of a check: reuse an existing match, or proceed with a reason."""
        form = CheckForm(
            *(
                form_value(data, name).strip()[:FIELD_MAX]
                for name in ("vendor", "text", "division", "amount", "start", "end")
            )
        )
        outcome = {
            "outcome": form_value(data, "outcome")[:20],
            "match": form_value(data, "match")[:40],
            "justification": form_value(data, "justification")[:5000],
        }
        need, errors = form.need()
        planned = None if errors.get("amount") or need is None else need.amount_cents
        try:
            duplicate_scans.record_check_outcome(
                db,
                principal(request),
                duplicate_scans.OutcomeInput(
                    outcome=outcome["outcome"],
                    match=outcome["match"],
                    justification=outcome["justification"],
                    vendor=form.vendor,
                    need=form.text,
                    planned_cents=planned,
                ),
            )
        except ValidationFailed as exc:
            return self._check(
                request,
                db,
                form,
                outcome=outcome,
                outcome_errors=exc.errors,
                status_code=200 if is_htmx(request) else 422,
            )
        label = Outcome(outcome["outcome"]).label
        flash(request, f"Recorded: {label}.")
        return redirect("/procurement/check")

    @get("/consolidation", name="consolidation", sync_to_thread=True)
    def consolidation(
        self, request: Request, db: DbSession, page: FromQuery[str] = "1"
    ) -> Template:
        """Offerings two or more divisions buy, at once or one after another (kept scan)."""
        view = duplicate_scans.consolidation_page(db, principal(request), page=_page_number(page))
        return render(request, "procurement/consolidation.html", view)


def _page_number(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 7 else 1
