"""Duplicate-procurement pages under /procurement: the scan, check before you buy, consolidation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

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
)
from procurement import duplicates
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
    def scan_page(self, request: Request, db: DbSession) -> Template:
        """Cross-division duplicate clusters, with a decision form on each pair."""
        duplicates.require_reviewer(principal(request))
        result, loaded = duplicates.scan(db)
        return render(
            request,
            "procurement/duplicates.html",
            {
                "clusters": duplicates.review_view(result, loaded),
                "method": AVOIDABLE_METHOD,
                "decisions": list(Decision),
            },
        )

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

    def _check(self, request: Request, db: DbSession, form: CheckForm) -> Template:
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
            },
        )

    @get("/consolidation", name="consolidation", sync_to_thread=True)
    def consolidation(self, request: Request, db: DbSession) -> Template:
        """Offerings two or more divisions buy, at once or one after another."""
        duplicates.require_reviewer(principal(request))
        result, loaded = duplicates.scan(db)
        return render(
            request,
            "procurement/consolidation.html",
            {"offers": duplicates.consolidation_view(result, loaded)},
        )
