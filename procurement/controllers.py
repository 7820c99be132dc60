"""Procurement pages under /procurement: purchases, vendors, licences, renewals, imports."""

from __future__ import annotations

import secrets
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import File, Redirect, Stream, Template

import procurement.jobs  # noqa: F401  (registers the import job handler)
from marketplace import accounts
from marketplace.accounts import NotFound, ValidationFailed
from marketplace.auth import Permission, Principal, can, require
from marketplace.guards import signed_in
from marketplace.jobs import enqueue
from marketplace.models import Job
from marketplace.settings import Settings
from marketplace.types import utcnow
from marketplace.web import (
    DbSession,
    StoredUpload,
    csv_download,
    flash,
    form_value,
    form_values,
    is_htmx,
    page_or_partial,
    principal,
    receive_upload,
    redirect,
    render,
    store_upload,
)
from procurement.duplicates_web import DuplicatesController
from procurement.importers import TEMPLATE_COLUMNS, TEMPLATE_REQUIRED, template_csv
from procurement.invoices_web import InvoiceController
from procurement.jobs import IMPORT_JOB
from procurement.models import ImportRun, ImportStatus
from procurement.reuse_web import ReuseController, ReuseUploadController
from procurement.roi_web import RoiController
from procurement.services import documents, imports, licences, purchases, vendors
from procurement.services.common import today_at_hhs
from procurement.services.imports import FORMAT_LABELS, ImportOptions
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput, PurchaseQuery
from procurement.services.reuse_spans import cost_per_reuse_view

MULTIPART_SLACK = 1024 * 1024  # boundaries and the other form fields around an uploaded file
PerPage = Annotated[int, QueryParameter(ge=1, le=100000)]


def _today() -> Any:
    return today_at_hhs(utcnow())


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


def _division_options(db: DbSession) -> list[tuple[str, str]]:
    return [(d.code, f"{d.code}: {d.name}") for d in accounts.list_divisions(db)]


# ---------------------------------------------------------------------------- purchases


def _purchase_query(
    q: str,
    division: str,
    vendor: str,
    psc: str,
    status: str,
    licence: str,
    *,
    sort: str = "newest",
    page: int = 1,
) -> PurchaseQuery:
    """The list's query parameters, bounded and checked, as the page and the CSV export read them."""
    return PurchaseQuery(
        q=q[:200],
        division=division[:20],
        vendor_id=int(vendor) if vendor.isdigit() else None,
        psc=psc[:10],
        status=status if status in purchases.STATUSES else "",
        licence=licence if licence in purchases.LICENCE_FILTERS else "",
        sort=sort if sort in purchases.SORTS else "newest",
        page=page,
    )


class PurchaseController(Controller):
    path = "/purchases"
    guards = [signed_in]

    @get("/", name="purchases", sync_to_thread=True)
    def index(
        self,
        request: Request,
        db: DbSession,
        q: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        psc: FromQuery[str] = "",
        status: FromQuery[str] = "",
        licence: FromQuery[str] = "",
        sort: FromQuery[str] = "newest",
        page: PerPage = 1,
    ) -> Template:
        """Search every purchase, with facets; the results are an htmx fragment."""
        query = _purchase_query(q, division, vendor, psc, status, licence, sort=sort, page=page)
        result = purchases.search_purchases(db, principal(request), query, today=_today())
        return page_or_partial(
            request,
            "procurement/purchases.html",
            "procurement/_purchase_results.html",
            {
                "result": result,
                "query": query,
                "sorts": purchases.SORTS,
                "divisions": _division_options(db),
                "can_record": can(principal(request), Permission.MANAGE_PURCHASES),
            },
        )

    @get("/export.csv", name="purchases_csv", sync_to_thread=True)
    def export(
        self,
        request: Request,
        state: State,
        q: FromQuery[str] = "",
        division: FromQuery[str] = "",
        vendor: FromQuery[str] = "",
        psc: FromQuery[str] = "",
        status: FromQuery[str] = "",
        licence: FromQuery[str] = "",
    ) -> Stream:
        """The matching purchases as CSV (spreadsheet-safe; dollars as plain numbers)."""
        user = require(principal(request), Permission.VIEW_STAFF_CONTENT)
        query = _purchase_query(q, division, vendor, psc, status, licence)
        today = _today()
        return csv_download(
            state.database.session,
            lambda db: purchases.export_csv(db, user, query, today=today),
            "purchases.csv",
        )

    @get("/new", name="purchase_new", sync_to_thread=True)
    def new(self, request: Request, db: DbSession) -> Template:
        """The form to record a purchase by hand (officers)."""
        user = require(principal(request), Permission.MANAGE_PURCHASES)
        return self._form(request, db, PurchaseInput(division=user.division_code), {}, None)

    @post("/new", name="purchase_create", sync_to_thread=True)
    def create(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Response | Redirect:
        """Record a purchase; without a PIID it gets its own reference."""
        values = _purchase_input(data)
        try:
            purchase = purchases.record_purchase(db, _user(request), values, today=_today())
        except ValidationFailed as exc:
            db.rollback()
            return self._form(request, db, values, exc.errors, None, _form_status(request))
        flash(request, f"Recorded purchase {purchase.piid}.")
        return _done(request, f"/procurement/purchases/{purchase.id}")

    @get("/{purchase_id:int}", name="purchase", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, purchase_id: FromPath[int]) -> Template:
        """One purchase: terms, amounts, licence, source, listing; sensitive parts when allowed."""
        view = purchases.purchase_view(db, principal(request), purchase_id)
        cost_per_reuse = (
            cost_per_reuse_view(
                db, view.licence, view.purchase, view.division.code, chart_id="cost-per-reuse"
            )
            if view.licence is not None
            else None
        )
        return render(
            request,
            "procurement/purchase_detail.html",
            {
                "view": view,
                "cost_per_reuse": cost_per_reuse,
                "p": view.purchase,
                "scope_labels": licences.SCOPE_LABELS,
                "reuse_labels": licences.REUSE_LABELS,
                "today": _today(),
            },
        )

    @get("/{purchase_id:int}/edit", name="purchase_edit", sync_to_thread=True)
    def edit(self, request: Request, db: DbSession, purchase_id: FromPath[int]) -> Template:
        purchase, values = purchases.editable_purchase(db, principal(request), purchase_id)
        return self._form(request, db, values, {}, purchase)

    @post("/{purchase_id:int}/edit", name="purchase_update", sync_to_thread=True)
    def update(
        self,
        request: Request,
        db: DbSession,
        purchase_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        """Save an edited purchase (officers of its division)."""
        values = _purchase_input(data)
        try:
            purchases.update_purchase(db, _user(request), purchase_id, values)
        except ValidationFailed as exc:
            db.rollback()
            purchase, _ = purchases.editable_purchase(db, principal(request), purchase_id)
            return self._form(request, db, values, exc.errors, purchase, _form_status(request))
        flash(request, "Purchase saved.")
        return _done(request, f"/procurement/purchases/{purchase_id}")

    def _form(
        self,
        request: Request,
        db: DbSession,
        values: PurchaseInput,
        errors: dict[str, str],
        purchase: Any,
        status_code: int = 200,
    ) -> Template:
        return page_or_partial(
            request,
            "procurement/purchase_form.html",
            "procurement/_purchase_form.html",
            {
                "values": values,
                "errors": errors,
                "purchase": purchase,
                "divisions": _division_options(db),
            },
            status_code=status_code,
        )

    @post("/{purchase_id:int}/listing", name="purchase_listing", sync_to_thread=True)
    def link_listing(
        self,
        request: Request,
        db: DbSession,
        purchase_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Redirect:
        """Link the purchase to a catalog listing (by number or identifier), or create a draft."""
        user = _user(request)
        try:
            if form_value(data, "action") == "create":
                listing = purchases.create_listing_from_purchase(db, user, purchase_id)
                flash(
                    request, f"Created draft listing {listing.id}; a data steward can publish it."
                )
            else:
                purchases.link_listing(db, user, purchase_id, form_value(data, "listing")[:500])
                flash(request, "Listing link saved.")
        except ValidationFailed as exc:
            db.rollback()
            flash(request, next(iter(exc.errors.values())), "error")
        return redirect(f"/procurement/purchases/{purchase_id}")

    @get("/{purchase_id:int}/licence", name="licence_edit", sync_to_thread=True)
    def licence_form(self, request: Request, db: DbSession, purchase_id: FromPath[int]) -> Template:
        """Add or edit the licence terms of a purchase (officers of its division)."""
        view = purchases.purchase_view(db, principal(request), purchase_id)
        require(principal(request), Permission.MANAGE_PURCHASES, view.purchase.division_id)
        values = (
            LicenceInput.of(view.licence)
            if view.licence
            else LicenceInput.for_purchase(view.purchase)
        )
        return self._licence_form(request, db, view, values, {})

    @post("/{purchase_id:int}/licence", name="licence_save", sync_to_thread=True)
    def licence_save(
        self,
        request: Request,
        db: DbSession,
        purchase_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        values = LicenceInput(
            scope=form_value(data, "scope")[:30],
            listed_divisions=tuple(v[:20] for v in form_values(data, "listed_divisions")[:40]),
            seats=form_value(data, "seats")[:20],
            owner_seats=form_value(data, "owner_seats", "0")[:20],
            term_start_on=form_value(data, "term_start_on")[:30],
            term_end_on=form_value(data, "term_end_on")[:30],
            renewal_on=form_value(data, "renewal_on")[:30],
            auto_renew=bool(form_value(data, "auto_renew")),
            renewal_cost=form_value(data, "renewal_cost")[:40],
            reuse_policy=form_value(data, "reuse_policy")[:20],
            redistribution_allowed=bool(form_value(data, "redistribution_allowed")),
            derivatives_allowed=bool(form_value(data, "derivatives_allowed")),
            dua_required=bool(form_value(data, "dua_required")),
            price_per_seat=form_value(data, "price_per_seat")[:40],
            notes=form_value(data, "notes")[:6000],
            listing=form_value(data, "listing")[:20],
            share_method=form_value(data, "share_method", "none")[:20],
            fixed_share=form_value(data, "fixed_share")[:40],
        )
        try:
            licences.save_licence(db, _user(request), purchase_id, values)
        except ValidationFailed as exc:
            db.rollback()
            view = purchases.purchase_view(db, principal(request), purchase_id)
            return self._licence_form(request, db, view, values, exc.errors, _form_status(request))
        flash(request, "Licence terms saved.")
        return _done(request, f"/procurement/purchases/{purchase_id}")

    @post("/{purchase_id:int}/licence/delete", name="licence_delete", sync_to_thread=True)
    def licence_delete(
        self, request: Request, db: DbSession, purchase_id: FromPath[int]
    ) -> Redirect:
        try:
            licences.delete_licence(db, _user(request), purchase_id)
        except ValidationFailed as exc:
            db.rollback()
            flash(request, exc.errors["licence"], "error")
            return redirect(f"/procurement/purchases/{purchase_id}/licence")
        flash(request, "Licence terms removed.")
        return redirect(f"/procurement/purchases/{purchase_id}")

    def _licence_form(
        self,
        request: Request,
        db: DbSession,
        view: Any,
        values: LicenceInput,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page_or_partial(
            request,
            "procurement/licence_form.html",
            "procurement/_licence_form.html",
            {
                "view": view,
                "values": values,
                "errors": errors,
                "scope_labels": licences.SCOPE_LABELS,
                "reuse_labels": licences.REUSE_LABELS,
                "share_labels": licences.SHARE_LABELS,
                "divisions": _division_options(db),
            },
            status_code=status_code,
        )

    @get("/documents/{document_id:int}", name="purchase_document", sync_to_thread=True)
    def document(
        self, request: Request, db: DbSession, state: State, document_id: FromPath[int]
    ) -> File:
        """Download a contract document (owning division and leadership only; audited)."""
        document, path = documents.open_document(
            db, principal(request), state.settings, document_id
        )
        return File(
            path=path,
            filename=document.filename,
            media_type="application/octet-stream",
            content_disposition_type="attachment",
        )


def _purchase_input(data: dict[str, Any]) -> PurchaseInput:
    limits = {"description": 6000, "sensitive_notes": 21000}
    return PurchaseInput(
        **{
            name: form_value(data, name)[: limits.get(name, 400)]
            for name in PurchaseInput.__dataclass_fields__
        }
    )


# ---------------------------------------------------------------------------- vendors


class VendorController(Controller):
    path = "/vendors"
    guards = [signed_in]

    @get("/", name="vendors", sync_to_thread=True)
    def index(
        self, request: Request, db: DbSession, q: FromQuery[str] = "", page: PerPage = 1
    ) -> Template:
        """Every vendor with its purchases; searchable by name, alias or UEI."""
        rows, total = vendors.list_vendors(db, principal(request), query=q[:200], page=page)
        return page_or_partial(
            request,
            "procurement/vendors.html",
            "procurement/_vendor_table.html",
            {"rows": rows, "total": total, "q": q, "page": page, "per_page": 50},
        )

    @get("/{vendor_id:int}", name="vendor", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, vendor_id: FromPath[int]) -> Template:
        """A vendor: identifiers, aliases, purchases, and the merge form for officers."""
        return self._page(request, db, vendor_id, {})

    def _page(
        self,
        request: Request,
        db: DbSession,
        vendor_id: int,
        errors: dict[str, str],
        status_code: int = 200,
        merge_id: str = "",
    ) -> Template:
        detail = vendors.vendor_detail(db, principal(request), vendor_id)
        return render(
            request,
            "procurement/vendor_detail.html",
            {"detail": detail, "errors": errors, "merge_id": merge_id},
            status_code=status_code,
        )

    @post("/{vendor_id:int}/merge", name="vendor_merge", sync_to_thread=True)
    def merge(
        self,
        request: Request,
        db: DbSession,
        vendor_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        """Merge another vendor into this one (officers; audited; teaches future imports)."""
        require(principal(request), Permission.MANAGE_PURCHASES)
        raw = form_value(data, "merge_id").strip()[:20]
        if not raw.isdigit():
            return self._page(
                request,
                db,
                vendor_id,
                {"merge_id": "Enter the number of the vendor to merge into this one."},
                422,
                raw,
            )
        try:
            kept = vendors.merge_vendors(db, _user(request), vendor_id, int(raw))
        except ValidationFailed as exc:
            db.rollback()
            return self._page(request, db, vendor_id, exc.errors, 422, raw)
        flash(request, f"Merged vendor {raw} into {kept.name}; future imports will follow.")
        return redirect(f"/procurement/vendors/{vendor_id}")


# ---------------------------------------------------------------------------- renewals


class RenewalController(Controller):
    path = "/renewals"
    guards = [signed_in]

    @get("/", name="renewals", sync_to_thread=True)
    def index(self, request: Request, db: DbSession, division: FromQuery[str] = "") -> Template:
        """Licences to renew or cancel within 30, 60 and 120 days, by division."""
        view = licences.renewals(db, principal(request), today=_today(), division=division[:20])
        return page_or_partial(
            request,
            "procurement/renewals.html",
            "procurement/_renewals.html",
            {"view": view, "divisions": _division_options(db)},
        )


# ---------------------------------------------------------------------------- imports


class ImportController(Controller):
    """The import pages; the upload route accepts bodies up to settings.max_upload_bytes."""

    path = "/imports"
    guards = [signed_in]

    @get("/", name="imports", sync_to_thread=True)
    def index(self, request: Request, db: DbSession, state: State) -> Template:
        """Upload an award file; the formats we read; the latest runs."""
        return self._page(request, db, state.settings, {}, {})

    def _page(
        self,
        request: Request,
        db: DbSession,
        settings: Settings,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        runs = imports.list_runs(db, principal(request))
        return render(
            request,
            "procurement/imports.html",
            {
                "values": values,
                "errors": errors,
                "runs": runs,
                "formats": FORMAT_LABELS,
                "layouts": imports.layout_titles(),
                "template_columns": TEMPLATE_COLUMNS,
                "template_required": TEMPLATE_REQUIRED,
                "divisions": _division_options(db),
                "max_mb": settings.max_upload_bytes / 1_048_576,
            },
            status_code=status_code,
        )

    @get("/template.csv", name="import_template", sync_to_thread=False)
    def template(self) -> Response[str]:
        """Our template CSV: the header and one example row."""
        return Response(
            template_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="purchases-template.csv"'},
        )

    @post("/", name="import_upload")
    async def upload(self, request: Request, db: DbSession, state: State) -> Template | Redirect:
        """Store the uploaded file, keep a run and start the background import."""
        settings: Settings = state.settings
        require(principal(request), Permission.MANAGE_PURCHASES)
        try:
            form = await request.form()
        except HTTPException as exc:
            if exc.status_code != 413:
                raise
            return await anyio.to_thread.run_sync(
                partial(self._refuse, request, db, settings, {}, _too_large(settings), 413)
            )
        values = {
            "format": str(form.get("format") or "auto")[:30],
            "division": str(form.get("division") or "")[:20],
            "dry_run": bool(form.get("dry_run")),
        }
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await anyio.to_thread.run_sync(
                partial(
                    self._refuse, request, db, settings, values, "Choose a file to upload.", 422
                )
            )
        stored_name = f"import-{secrets.token_hex(16)}"
        size = await anyio.to_thread.run_sync(
            partial(store_upload, upload, Path(settings.upload_dir) / stored_name)
        )
        await upload.close()
        if size > settings.max_upload_bytes:
            (Path(settings.upload_dir) / stored_name).unlink(missing_ok=True)
            return await anyio.to_thread.run_sync(
                partial(self._refuse, request, db, settings, values, _too_large(settings), 413)
            )
        return await anyio.to_thread.run_sync(
            partial(
                self._start, request, db, settings, values, Path(upload.filename).name, stored_name
            )
        )

    def _refuse(
        self,
        request: Request,
        db: DbSession,
        settings: Settings,
        values: dict[str, Any],
        message: str,
        status_code: int,
    ) -> Template:
        return self._page(request, db, settings, values, {"file": message}, status_code)

    def _start(
        self,
        request: Request,
        db: DbSession,
        settings: Settings,
        values: dict[str, Any],
        filename: str,
        stored_name: str,
    ) -> Template | Redirect:
        user = _user(request)
        options = ImportOptions(
            filename=filename,
            fmt=values["format"],
            division=values["division"] or None,
            dry_run=values["dry_run"],
            max_bytes=settings.max_upload_bytes,
        )
        try:
            run = imports.start_run(db, user, options, stored_name=stored_name)
        except ValidationFailed as exc:
            db.rollback()
            (Path(settings.upload_dir) / stored_name).unlink(missing_ok=True)
            return self._page(request, db, settings, values, exc.errors, 422)
        self._enqueue(db, user, run)
        flash(request, f"Importing {filename}: this page follows its progress.", "info")
        return redirect(f"/procurement/imports/{run.id}")

    @staticmethod
    def _enqueue(db: DbSession, user: Principal, run: ImportRun, **payload: Any) -> Job:
        job = enqueue(
            db,
            IMPORT_JOB,
            {"run_id": run.id, **payload},
            user_id=user.id,
            division_id=user.division_id,
        )
        run.job_id = job.id
        db.add(run)
        db.commit()
        return job

    @get("/{run_id:int}", name="import_run", sync_to_thread=True)
    def run(self, request: Request, db: DbSession, run_id: FromPath[int]) -> Template:
        """A run's report; while it runs the fragment polls itself and shows the job's progress."""
        run = imports.get_run(db, principal(request), run_id)
        job = db.get(Job, run.job_id) if run.job_id else None
        return page_or_partial(
            request,
            "procurement/import_run.html",
            "procurement/_import_report.html",
            self._run_context(run, job, {}, {}),
        )

    @staticmethod
    def _run_context(
        run: ImportRun, job: Job | None, mapping: dict[str, str], errors: dict[str, str]
    ) -> dict[str, Any]:
        # A job that ended with the run still queued (worker crash) shows the job's error.
        return {
            "run": run,
            "job": job,
            "running": run.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
            and (job is None or job.status in ("queued", "running")),
            "template_columns": TEMPLATE_COLUMNS,
            "template_required": TEMPLATE_REQUIRED,
            "mapping": mapping,
            "errors": errors,
        }

    @post("/{run_id:int}/mapping", name="import_mapping", sync_to_thread=True)
    def save_mapping(
        self,
        request: Request,
        db: DbSession,
        run_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Response | Redirect:
        """Save the officer's column mapping for this header and import the file again with it."""
        user = _user(request)
        run = imports.get_run(db, user, run_id)
        header = list(run.report.get("found") or [])
        mapping = {name: form_value(data, f"map_{name}")[:300] for name in TEMPLATE_COLUMNS}
        if not header or run.stored_name is None:
            raise NotFound
        try:
            imports.save_mapping(db, user, header, mapping)
        except ValidationFailed as exc:
            db.rollback()
            job = db.get(Job, run.job_id) if run.job_id else None
            return page_or_partial(
                request,
                "procurement/import_run.html",
                "procurement/_import_report.html",
                self._run_context(run, job, mapping, exc.errors),
                status_code=_form_status(request),
            )
        again = self._rerun(db, user, run, dry_run=run.dry_run)
        flash(request, "Mapping saved; files with these columns will use it from now on.")
        return _done(request, f"/procurement/imports/{again.id}")

    @post("/{run_id:int}/apply", name="import_apply", sync_to_thread=True)
    def apply(self, request: Request, db: DbSession, run_id: FromPath[int]) -> Redirect:
        """Import for real a file that was tried as a dry run."""
        user = _user(request)
        run = imports.get_run(db, user, run_id)
        if not run.dry_run or run.stored_name is None:
            raise NotFound
        again = self._rerun(db, user, run, dry_run=False)
        flash(request, f"Importing {run.filename}.", "info")
        return redirect(f"/procurement/imports/{again.id}")

    def _rerun(self, db: DbSession, user: Principal, run: ImportRun, *, dry_run: bool) -> ImportRun:
        options = ImportOptions(
            filename=run.filename,
            fmt=run.requested_format,
            division=run.division_code,
            dry_run=dry_run,
        )
        again = imports.start_run(db, user, options, stored_name=run.stored_name)
        self._enqueue(db, user, again)
        return again


def _too_large(settings: Settings) -> str:
    return (
        f"The file is larger than the {settings.max_upload_bytes / 1_048_576:.0f} MB limit: "
        "split it into smaller files (for example one per fiscal year)."
    )


class DocumentUploadController(Controller):
    """Contract documents attached to a purchase (multipart, up to settings.max_upload_bytes)."""

    path = "/purchases"
    guards = [signed_in]

    @post("/{purchase_id:int}/documents", name="purchase_document_upload")
    async def upload(
        self, request: Request, db: DbSession, state: State, purchase_id: FromPath[int]
    ) -> Redirect:
        settings: Settings = state.settings
        user = _user(request)
        await anyio.to_thread.run_sync(partial(documents.check_may_attach, db, user, purchase_id))

        def attach(stored: StoredUpload) -> None:
            documents.attach_document(
                db,
                user,
                purchase_id,
                filename=stored.filename,
                content_type=stored.content_type,
                size=stored.size,
                stored_name=stored.stored_name,
                max_bytes=settings.max_upload_bytes,
            )

        await receive_upload(
            request,
            field="document",
            folder=Path(settings.upload_dir) / "documents",
            prefix="document",
            too_large=_too_large(settings),
            missing="Choose a document to attach.",
            attach=attach,
        )
        return redirect(f"/procurement/purchases/{purchase_id}")


def procurement_router(settings: Settings) -> Router:
    """Every procurement route under /procurement; upload routes get the upload size limit."""
    uploads = Router(
        path="/",
        route_handlers=[ImportController, DocumentUploadController, ReuseUploadController],
        request_max_body_size=settings.max_upload_bytes + MULTIPART_SLACK,
    )
    return Router(
        path="/procurement",
        route_handlers=[
            PurchaseController,
            VendorController,
            RenewalController,
            DuplicatesController,
            ReuseController,
            InvoiceController,
            RoiController,
            uploads,
        ],
    )
