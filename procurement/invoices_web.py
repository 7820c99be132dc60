"""Chargeback invoice pages under /procurement/invoices: list, CSV, detail, forms, actions, PDF."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Stream, Template

from marketplace import accounts
from marketplace.accounts import ValidationFailed
from marketplace.auth import Permission, Principal, can, require
from marketplace.guards import signed_in
from marketplace.types import utcnow
from marketplace.web import (
    DbSession,
    csv_download,
    flash,
    form_value,
    form_values,
    is_htmx,
    page_or_partial,
    principal,
    redirect,
)
from procurement.invoicing import InvalidTransition, InvoiceNotEditable
from procurement.services import invoices
from procurement.services.common import today_at_hhs
from procurement.services.invoices import InvoiceInput, LineInput

Page = Annotated[int, QueryParameter(ge=1, le=100000)]
BASE = "/procurement/invoices"


def _user(request: Request) -> Principal:
    return principal(request)  # type: ignore[return-value]


def _done(request: Request, url: str) -> Response | Redirect:
    """After a successful form: htmx is told to navigate, a plain post is redirected."""
    if is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": url})
    return redirect(url)


def _form_status(request: Request) -> int:
    """Field errors: 200 for htmx (so it swaps the fragment), 422 for a plain post."""
    return 200 if is_htmx(request) else 422


def _invoice_input(data: dict[str, Any]) -> InvoiceInput:
    descriptions = form_values(data, "line_description")[: invoices.MAX_LINES + 1]
    quantities = form_values(data, "line_quantity")
    prices = form_values(data, "line_unit_price")
    lines = tuple(
        LineInput(
            description[:600],
            (quantities[i] if i < len(quantities) else "1")[:20],
            (prices[i] if i < len(prices) else "")[:40],
        )
        for i, description in enumerate(descriptions)
    )
    return InvoiceInput(
        from_division=form_value(data, "from_division")[:20],
        to_division=form_value(data, "to_division")[:20],
        from_agreement=form_value(data, "from_agreement")[:200],
        to_agreement=form_value(data, "to_agreement")[:200],
        period=form_value(data, "period")[:30],
        terms_days=form_value(data, "terms_days", "30")[:10],
        notes=form_value(data, "notes")[:6000],
        lines=lines,
    )


class InvoiceController(Controller):
    path = "/invoices"
    guards = [signed_in]

    @get("/", name="invoices", sync_to_thread=True)
    def index(
        self,
        request: Request,
        db: DbSession,
        status: FromQuery[str] = "",
        from_division: FromQuery[str] = "",
        to_division: FromQuery[str] = "",
        fy: FromQuery[str] = "",
        period: FromQuery[str] = "",
        page: Page = 1,
    ) -> Template:
        """The invoices the caller may read, filtered; the results are an htmx fragment."""
        query = invoices.clean_query(status, from_division, to_division, fy, period, page)
        result = invoices.list_invoices(db, principal(request), query)
        return page_or_partial(
            request,
            "procurement/invoices.html",
            "procurement/_invoice_results.html",
            {
                "result": result,
                "query": query,
                "statuses": invoices.STATUS_LABELS,
                "divisions": [(d.code, d.code) for d in accounts.list_divisions(db)],
                "can_create": can(principal(request), Permission.MANAGE_PURCHASES),
            },
        )

    @get("/export.csv", name="invoices_csv", sync_to_thread=True)
    def export(
        self,
        request: Request,
        state: State,
        status: FromQuery[str] = "",
        from_division: FromQuery[str] = "",
        to_division: FromQuery[str] = "",
        fy: FromQuery[str] = "",
        period: FromQuery[str] = "",
    ) -> Stream:
        """The matching invoices as CSV (spreadsheet-safe; dollars as plain numbers)."""
        user = _user(request)
        query = invoices.clean_query(status, from_division, to_division, fy, period)
        return csv_download(
            state.database.session,
            lambda db: invoices.export_csv(db, user, query),
            "invoices.csv",
        )

    # ------------------------------------------------------------------ create and edit

    @get("/new", name="invoice_new", sync_to_thread=True)
    def new(self, request: Request, db: DbSession) -> Template:
        """The form to create an invoice by hand (procurement officers)."""
        user = require(principal(request), Permission.MANAGE_PURCHASES)
        return self._form(request, db, InvoiceInput(from_division=user.division_code), {}, None)

    @post("/new", name="invoice_create", sync_to_thread=True)
    def create(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Response | Redirect:
        """Create a draft invoice; it is numbered at once."""
        require(principal(request), Permission.MANAGE_PURCHASES)
        values = _invoice_input(data)
        try:
            invoice = invoices.create_invoice(db, _user(request), values)
        except ValidationFailed as exc:
            db.rollback()
            return self._form(request, db, values, exc.errors, None, _form_status(request))
        flash(request, f"Created draft invoice {invoice.number}.")
        return _done(request, f"{BASE}/{invoice.number}")

    @get("/{number:str}/edit", name="invoice_edit", sync_to_thread=True)
    def edit(self, request: Request, db: DbSession, number: FromPath[str]) -> Template | Redirect:
        """Edit a draft (officers of the charging division); issued invoices are final."""
        try:
            invoice, values = invoices.editable_invoice(db, _user(request), number)
        except InvoiceNotEditable as exc:
            flash(request, str(exc), "error")
            return redirect(f"{BASE}/{number[:40]}")
        return self._form(request, db, values, {}, invoice)

    @post("/{number:str}/edit", name="invoice_update", sync_to_thread=True)
    def update(
        self,
        request: Request,
        db: DbSession,
        number: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        """Save an edited draft; an issued invoice is refused (void and reissue instead)."""
        values = _invoice_input(data)
        try:
            invoice = invoices.update_invoice(db, _user(request), number, values)
        except ValidationFailed as exc:
            db.rollback()
            invoice, _ = invoices.editable_invoice(db, _user(request), number)
            return self._form(request, db, values, exc.errors, invoice, _form_status(request))
        except InvoiceNotEditable as exc:
            db.rollback()
            flash(request, str(exc), "error")
            return _done(request, f"{BASE}/{number[:40]}")
        flash(request, f"Saved draft invoice {invoice.number}.")
        return _done(request, f"{BASE}/{invoice.number}")

    def _form(
        self,
        request: Request,
        db: DbSession,
        values: InvoiceInput,
        errors: dict[str, str],
        invoice: Any,
        status_code: int = 200,
    ) -> Template:
        return page_or_partial(
            request,
            "procurement/invoice_form.html",
            "procurement/_invoice_form.html",
            {
                "values": values,
                "errors": errors,
                "invoice": invoice,
                "lines": values.form_lines(),
                "divisions": [(d.code, f"{d.code}: {d.name}") for d in accounts.list_divisions(db)],
            },
            status_code=status_code,
        )

    # ------------------------------------------------------------------ generate

    @get("/generate", name="invoice_generate_form", sync_to_thread=True)
    def generate_form(self, request: Request, period: FromQuery[str] = "") -> Template:
        """The form to generate this division's cost-share invoices for a period (officers)."""
        require(principal(request), Permission.MANAGE_PURCHASES)
        return self._generate_page(request, period[:30], {}, None)

    @post("/generate", name="invoice_generate", sync_to_thread=True)
    def generate(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template:
        """Generate the period's invoices from granted reuses and report what was created."""
        require(principal(request), Permission.MANAGE_PURCHASES)
        period = form_value(data, "period")[:30]
        try:
            report = invoices.generate_invoices(db, _user(request), period)
        except ValidationFailed as exc:
            db.rollback()
            return self._generate_page(request, period, exc.errors, None, _form_status(request))
        return self._generate_page(request, period, {}, report)

    def _generate_page(
        self,
        request: Request,
        period: str,
        errors: dict[str, str],
        report: Any,
        status_code: int = 200,
    ) -> Template:
        return page_or_partial(
            request,
            "procurement/invoice_generate.html",
            "procurement/_invoice_generate.html",
            {"period": period, "errors": errors, "report": report},
            status_code=status_code,
        )

    # ------------------------------------------------------------------ one invoice

    @get("/{ref:str}", name="invoice", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, ref: FromPath[str]) -> Template | Response:
        """One invoice with its lines and actions, or its PDF when the address ends in .pdf."""
        if ref.lower().endswith(".pdf"):
            number, pdf = invoices.invoice_pdf(db, principal(request), ref[:-4])
            return Response(
                pdf,
                media_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
            )
        return self._detail(request, db, ref, {})

    def _detail(
        self,
        request: Request,
        db: DbSession,
        number: str,
        errors: dict[str, str],
        status_code: int = 200,
        values: dict[str, str] | None = None,
    ) -> Template:
        view = invoices.invoice_view(db, principal(request), number)
        return page_or_partial(
            request,
            "procurement/invoice_detail.html",
            "procurement/_invoice_actions.html",
            {
                "view": view,
                "inv": view.invoice,
                "errors": errors,
                "values": values or {},
                "terms": invoices.terms_text(view.invoice),
                "today": today_at_hhs(utcnow()),
            },
            status_code=status_code,
        )

    def _action(
        self,
        request: Request,
        db: DbSession,
        number: str,
        run: Any,
        message: str,
        values: dict[str, str] | None = None,
    ) -> Template | Response | Redirect:
        try:
            invoice = run()
        except ValidationFailed as exc:
            db.rollback()
            return self._detail(request, db, number, exc.errors, _form_status(request), values)
        except (InvalidTransition, InvoiceNotEditable) as exc:
            db.rollback()
            return self._detail(
                request, db, number, {"action": str(exc)}, 409 if not is_htmx(request) else 200
            )
        flash(request, message.format(number=invoice.number))
        return _done(request, f"{BASE}/{invoice.number}")

    @post("/{number:str}/issue", name="invoice_issue", sync_to_thread=True)
    def issue(
        self, request: Request, db: DbSession, number: FromPath[str]
    ) -> Template | Response | Redirect:
        """Issue a draft: it gets its issue and due dates and can no longer be edited."""
        today = today_at_hhs(utcnow())
        return self._action(
            request,
            db,
            number,
            lambda: invoices.issue_invoice(db, _user(request), number, today=today),
            "Issued invoice {number}.",
        )

    @post("/{number:str}/pay", name="invoice_pay", sync_to_thread=True)
    def pay(
        self,
        request: Request,
        db: DbSession,
        number: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        """Record a payment by hand: the day and its reference (IPAC or other)."""
        today = today_at_hhs(utcnow())
        values = {
            "paid_on": form_value(data, "paid_on")[:30],
            "payment_reference": form_value(data, "payment_reference")[:200],
        }
        return self._action(
            request,
            db,
            number,
            lambda: invoices.record_payment(
                db,
                _user(request),
                number,
                values["paid_on"],
                values["payment_reference"],
                today=today,
            ),
            "Recorded the payment of invoice {number}.",
            values,
        )

    @post("/{number:str}/void", name="invoice_void", sync_to_thread=True)
    def void(
        self,
        request: Request,
        db: DbSession,
        number: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        """Void a draft or issued invoice with a reason; it keeps its number."""
        values = {"void_reason": form_value(data, "void_reason")[:600]}
        return self._action(
            request,
            db,
            number,
            lambda: invoices.void_invoice(db, _user(request), number, values["void_reason"]),
            "Voided invoice {number}; it keeps its number.",
            values,
        )
