"""Reuse request pages under /procurement/reuse: ask, my requests, requests to my division,
one request with its decision form and attachments, and the division's delegate approvers."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import File, Redirect, Template
from sqlmodel import Session, col, select

import procurement.reuse_jobs  # noqa: F401  (registers the sweep for the worker)
from marketplace.accounts import ValidationFailed
from marketplace.auth import Principal
from marketplace.guards import signed_in
from marketplace.models import AuditEvent, Division
from marketplace.settings import Settings
from marketplace.types import utcnow
from marketplace.web import (
    DbSession,
    StoredUpload,
    flash,
    form_value,
    principal,
    receive_upload,
    redirect,
    render,
)
from procurement.licensing import LicenceScope, ReusePolicy
from procurement.reuse_rules import ReuseState
from procurement.services import reuse as reuse_service
from procurement.services.common import today_at_hhs
from procurement.services.licences import REUSE_LABELS, SCOPE_LABELS, licence_of, terms_of
from procurement.services.reuse import Decision, ReuseInput, ReuseTarget
from procurement.services.reuse_spans import seats_in_use

DECISION_LABELS = {
    Decision.APPROVE: "Approve",
    Decision.APPROVE_WITH_CONDITIONS: "Approve with conditions",
    Decision.DENY: "Deny",
    Decision.REVOKE: "Revoke",
}


def _today():
    return today_at_hhs(utcnow())


def _user(request: Request) -> Principal:
    return principal(request)  # type: ignore[return-value]


def _target_id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def _target_context(db: Session, target: ReuseTarget) -> dict[str, Any]:
    """What the request form shows about the licence: its terms and the seats free today."""
    context: dict[str, Any] = {"target": target, "scope_labels": SCOPE_LABELS}
    if target.licence is not None:
        terms = terms_of(target.licence, target.owner.code)
        used = seats_in_use(db, target.licence)
        context.update(
            terms=terms,
            reuse_label=REUSE_LABELS.get(ReusePolicy(terms.reuse_policy), terms.reuse_policy),
            seats_free=None if terms.seats is None else max(terms.seats - used, 0),
            shareable=terms.reuse_policy is not ReusePolicy.NO
            and terms.scope is not LicenceScope.DIVISION,
        )
    return context


class ReuseController(Controller):
    path = "/reuse"
    guards = [signed_in]

    @get("/new", name="reuse_new", sync_to_thread=True)
    def new(
        self,
        request: Request,
        db: DbSession,
        listing: FromQuery[str] = "",
        licence: FromQuery[str] = "",
        purchase: FromQuery[str] = "",
    ) -> Template | Redirect:
        purchase_id = _target_id(purchase)
        if purchase_id is not None:
            # From a duplicate pair: the other division's purchase, reused through its licence.
            found = licence_of(db, purchase_id)
            if found is None:
                flash(
                    request,
                    "No licence terms are recorded for this purchase yet: ask its division's "
                    "officers to add them, then request reuse.",
                    "error",
                )
                return redirect(f"/procurement/purchases/{purchase_id}")
            licence = str(found.id)
        target = reuse_service.find_target(
            db, listing_id=_target_id(listing), licence_id=_target_id(licence)
        )
        user = _user(request)
        values = ReuseInput(contact_name=user.name, contact_email=user.email)
        return self._form(request, db, target, values, {})

    def _form(
        self,
        request: Request,
        db: Session,
        target: ReuseTarget,
        values: ReuseInput,
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        user = _user(request)
        return render(
            request,
            "procurement/reuse_form.html",
            {
                **_target_context(db, target),
                "values": values,
                "errors": errors,
                "own_division": user.division_id == target.owner.id,
            },
            status_code=status_code,
        )

    @post("/new", name="reuse_create", sync_to_thread=True)
    def create(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        target = reuse_service.find_target(
            db,
            listing_id=_target_id(form_value(data, "listing")),
            licence_id=_target_id(form_value(data, "licence")),
        )
        values = ReuseInput(
            purpose=form_value(data, "purpose")[:5000],
            seats=form_value(data, "seats", "1")[:10],
            start_on=form_value(data, "start_on")[:20],
            end_on=form_value(data, "end_on")[:20],
            dua_required=bool(form_value(data, "dua_required")),
            dua_reference=form_value(data, "dua_reference")[:200],
            contact_name=form_value(data, "contact_name")[:200],
            contact_email=form_value(data, "contact_email")[:254],
        )
        try:
            created = reuse_service.request_reuse(
                db, _user(request), target, values, today=_today(), sla_business_days=_sla(request)
            )
        except ValidationFailed as exc:
            db.rollback()
            return self._form(request, db, target, values, exc.errors, status_code=422)
        flash(
            request,
            f"Request {created.id} sent to {target.owner.code}; a decision is due by "
            f"{created.due_on:%B %-d, %Y}.",
        )
        return redirect(f"/procurement/reuse/{created.id}")

    @get("/mine", name="reuse_mine", sync_to_thread=True)
    def mine(self, request: Request, db: DbSession, status: FromQuery[str] = "") -> Template:
        return self._list(request, db, "mine", status)

    @get("/incoming", name="reuse_incoming", sync_to_thread=True)
    def incoming(self, request: Request, db: DbSession, status: FromQuery[str] = "") -> Template:
        return self._list(request, db, "division", status)

    def _list(self, request: Request, db: Session, scope: str, status: str) -> Template:
        user = _user(request)
        rows = reuse_service.list_requests(db, user, scope=scope, status=status, today=_today())
        return render(
            request,
            "procurement/reuse_list.html",
            {
                "rows": rows,
                "scope": scope,
                "status": status if status in ReuseState._value2member_map_ else "",
                "states": list(ReuseState),
                "counts": reuse_service.counts_by_state(
                    db, user.division_id, owner=scope == "division"
                ),
                "today": _today(),
            },
        )

    @get("/{request_id:int}", name="reuse_detail", sync_to_thread=True)
    def detail(self, request: Request, db: DbSession, request_id: FromPath[int]) -> Template:
        return self._detail(request, db, request_id, {})

    def _detail(
        self,
        request: Request,
        db: Session,
        request_id: int,
        errors: dict[str, str],
        values: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        user = _user(request)
        today = _today()
        reuse = reuse_service.get_request(db, user, request_id, today=today)
        target = reuse_service.find_target(
            db, listing_id=reuse.listing_id, licence_id=reuse.licence_id
        )
        divisions = {d.id: d for d in db.exec(select(Division)).all()}
        requester = divisions[reuse.requesting_division_id]
        state = ReuseState(reuse.status)
        refusals = (
            reuse_service.refusals_for(
                db,
                reuse,
                requester.code,
                today=today,
                has_agreement=reuse_service.has_agreement(db, reuse),
            )
            if state is ReuseState.REQUESTED
            else ()
        )
        may_decide = reuse_service.may_decide(db, user, reuse, today=today)
        history = db.exec(
            select(AuditEvent)
            .where(AuditEvent.object_type == "reuse_request", AuditEvent.object_id == str(reuse.id))
            .order_by(col(AuditEvent.id))
        ).all()
        actions = [
            decision
            for decision in Decision.ALL
            if (state is ReuseState.REQUESTED and decision != Decision.REVOKE)
            or (state in (ReuseState.APPROVED, ReuseState.ACTIVE) and decision == Decision.REVOKE)
        ]
        return render(
            request,
            "procurement/reuse_detail.html",
            {
                **_target_context(db, target),
                "reuse": reuse,
                "state": state,
                "requester": requester,
                "refusals": refusals,
                "may_decide": may_decide,
                "is_requester": user.id == reuse.requested_by_id,
                "may_attach": state
                in (ReuseState.REQUESTED, ReuseState.APPROVED, ReuseState.ACTIVE)
                and (user.division_id == reuse.requesting_division_id or may_decide),
                "attachments": reuse_service.attachments_of(db, reuse.id or 0),
                "history": history,
                "actions": actions,
                "decision_labels": DECISION_LABELS,
                "errors": errors,
                "values": values or {},
            },
            status_code=status_code,
        )

    @post("/{request_id:int}/decide", name="reuse_decide", sync_to_thread=True)
    def decide(
        self,
        request: Request,
        db: DbSession,
        request_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        values = {
            name: form_value(data, name)[:4000]
            for name in ("decision", "conditions", "reason", "avoided_override", "override_reason")
        }
        try:
            decided = reuse_service.decide(
                db,
                _user(request),
                request_id,
                values["decision"],
                today=_today(),
                conditions=values["conditions"],
                reason=values["reason"],
                avoided_override=values["avoided_override"][:40],
                override_reason=values["override_reason"][:500],
            )
        except ValidationFailed as exc:
            db.rollback()
            return self._detail(request, db, request_id, exc.errors, values, status_code=422)
        flash(request, f"Request {decided.id} is now {ReuseState(decided.status).label.lower()}.")
        return redirect(f"/procurement/reuse/{request_id}")

    @get("/attachments/{attachment_id:int}", name="reuse_attachment", sync_to_thread=True)
    def attachment(
        self, request: Request, db: DbSession, state: State, attachment_id: FromPath[int]
    ) -> File:
        settings: Settings = state.settings
        stored, path = reuse_service.open_attachment(
            db, _user(request), Path(settings.upload_dir), attachment_id, today=_today()
        )
        return File(
            path=path,
            filename=stored.filename,
            media_type=stored.content_type,
            content_disposition_type="attachment",
        )

    @get("/delegates", name="reuse_delegates", sync_to_thread=True)
    def delegates(self, request: Request, db: DbSession) -> Template:
        return self._delegates(request, db, {}, {})

    def _delegates(
        self,
        request: Request,
        db: Session,
        errors: dict[str, str],
        values: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "procurement/reuse_delegates.html",
            {
                "delegates": reuse_service.list_delegates(db, _user(request)),
                "errors": errors,
                "values": values,
                "today": _today(),
            },
            status_code=status_code,
        )

    @post("/delegates", name="reuse_delegate_add", sync_to_thread=True)
    def add_delegate(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        values = {"email": form_value(data, "email")[:254], "until": form_value(data, "until")[:20]}
        try:
            reuse_service.add_delegate(
                db, _user(request), values["email"], values["until"], today=_today()
            )
        except ValidationFailed as exc:
            db.rollback()
            return self._delegates(request, db, exc.errors, values, status_code=422)
        flash(request, f"{values['email']} can now decide your division's reuse requests.")
        return redirect("/procurement/reuse/delegates")

    @post("/delegates/{delegate_id:int}/remove", name="reuse_delegate_remove", sync_to_thread=True)
    def remove_delegate(
        self, request: Request, db: DbSession, delegate_id: FromPath[int]
    ) -> Redirect:
        reuse_service.remove_delegate(db, _user(request), delegate_id)
        flash(request, "Delegate removed.")
        return redirect("/procurement/reuse/delegates")


def _sla(request: Request) -> int:
    settings: Settings = request.app.state.settings
    return settings.reuse_sla_business_days


class ReuseUploadController(Controller):
    """Agreements attached to a reuse request (multipart; reuse_service.MAX_ATTACHMENT_BYTES)."""

    path = "/reuse"
    guards = [signed_in]

    @post("/{request_id:int}/attachments", name="reuse_attach")
    async def upload(
        self, request: Request, db: DbSession, state: State, request_id: FromPath[int]
    ) -> Redirect:
        settings: Settings = state.settings
        user = _user(request)
        await anyio.to_thread.run_sync(
            partial(reuse_service.check_may_attach, db, user, request_id, today=_today())
        )

        def attach(stored: StoredUpload) -> None:
            reuse_service.attach(
                db,
                user,
                request_id,
                filename=stored.filename,
                content_type=stored.content_type,
                size=stored.size,
                stored_name=stored.stored_name,
                is_agreement=stored.form.get("is_agreement", "1") == "1",
                today=_today(),
            )

        await receive_upload(
            request,
            field="attachment",
            folder=Path(settings.upload_dir) / "reuse",
            prefix="reuse",
            too_large="The file is larger than the upload limit.",
            missing="Choose a file to attach.",
            attach=attach,
            sniff=reuse_service.attachment_type,
        )
        return redirect(f"/procurement/reuse/{request_id}")
