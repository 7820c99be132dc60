"""Administration: users and roles, divisions, the audit log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Stream, Template

from marketplace import accounts, audit
from marketplace.accounts import DivisionInput, NotFound, UserInput, ValidationFailed
from marketplace.auth import Principal
from marketplace.guards import admin
from marketplace.models import Division, Role, User
from marketplace.web import (
    DbSession,
    csv_download,
    flash,
    form_value,
    form_values,
    page_or_partial,
    principal,
    redirect,
    render,
)

ROLE_CHOICES = [(role.value, role.label) for role in Role]


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class AdminController(Controller):
    path = "/admin"
    guards = [admin]

    @get("/", name="admin_home", sync_to_thread=False)
    def index(self, request: Request) -> Template:
        """Entry page to the administration tools."""
        return render(request, "marketplace/admin/index.html")

    # ----------------------------------------------------------- users
    @get("/users", name="admin_users", sync_to_thread=True)
    def users(self, request: Request, db: DbSession, q: FromQuery[str] = "") -> Template:
        """Every account, searchable; the table is an htmx fragment."""
        rows = accounts.list_users(db, principal(request), query=q[:200])  # type: ignore[arg-type]
        return page_or_partial(
            request,
            "marketplace/admin/users.html",
            "marketplace/admin/_user_table.html",
            {"rows": rows, "q": q},
        )

    @get("/users/new", name="admin_user_new", sync_to_thread=True)
    def new_user(self, request: Request, db: DbSession) -> Template:
        return self._user_form(request, db, {}, {})

    @post("/users/new", name="admin_user_create", sync_to_thread=True)
    def create_user(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Create an account with a temporary password the person must change."""
        actor: Principal = principal(request)  # type: ignore[assignment]
        values = {
            "email": form_value(data, "email")[:300],
            "name": form_value(data, "name")[:300],
            "division": form_value(data, "division")[:40],
            "roles": form_values(data, "roles"),
            "password": form_value(data, "password")[:1024],
        }
        try:
            user = accounts.create_user(
                db,
                actor,
                UserInput(
                    email=values["email"],
                    name=values["name"],
                    division_code=values["division"],
                    roles=tuple(values["roles"]),
                    password=values["password"],
                ),
            )
            user.must_change_password = True
            db.add(user)
            db.commit()
        except ValidationFailed as exc:
            db.rollback()
            return self._user_form(request, db, values, exc.errors, status_code=422)
        flash(request, f"Created {user.email}. They must change the temporary password at sign-in.")
        return redirect(f"/admin/users/{user.id}")

    def _user_form(
        self, request: Request, db: DbSession, values: dict, errors: dict, status_code: int = 200
    ) -> Template:
        return render(
            request,
            "marketplace/admin/user_new.html",
            {
                "values": values,
                "errors": errors,
                "divisions": accounts.list_divisions(db),
                "role_choices": ROLE_CHOICES,
            },
            status_code=status_code,
        )

    @get("/users/{user_id:int}", name="admin_user", sync_to_thread=True)
    def user_detail(self, request: Request, db: DbSession, user_id: FromPath[int]) -> Template:
        return self._user_page(request, db, user_id, {})

    def _user_page(
        self,
        request: Request,
        db: DbSession,
        user_id: FromPath[int],
        errors: dict,
        status_code: int = 200,
    ) -> Template:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound
        target = accounts.principal_for(db, user)
        events, _ = audit.list_events(
            db, audit.AuditFilter(object_type="user", object_id=str(user_id)), per_page=20
        )
        return render(
            request,
            "marketplace/admin/user_detail.html",
            {
                "account": user,
                "target": target,
                "errors": errors,
                "events": events,
                "divisions": accounts.list_divisions(db),
                "role_choices": ROLE_CHOICES,
            },
            status_code=status_code,
        )

    @post("/users/{user_id:int}/roles", name="admin_user_roles", sync_to_thread=True)
    def update_roles(
        self,
        request: Request,
        db: DbSession,
        user_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        try:
            accounts.set_roles(
                db,
                principal(request),
                user_id,
                form_values(data, "roles"),  # type: ignore[arg-type]
                form_value(data, "division") or None,
            )
        except ValidationFailed as exc:
            db.rollback()
            return self._user_page(request, db, user_id, exc.errors, status_code=422)
        flash(request, "Roles and division saved.")
        return redirect(f"/admin/users/{user_id}")

    @post("/users/{user_id:int}/active", name="admin_user_active", sync_to_thread=True)
    def set_active(
        self,
        request: Request,
        db: DbSession,
        user_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        active = form_value(data, "active") == "true"
        try:
            accounts.set_active(db, principal(request), user_id, active)  # type: ignore[arg-type]
        except ValidationFailed as exc:
            return self._user_page(request, db, user_id, exc.errors, status_code=422)
        flash(request, "Account reactivated." if active else "Account deactivated and signed out.")
        return redirect(f"/admin/users/{user_id}")

    @post("/users/{user_id:int}/sign-out", name="admin_user_sign_out", sync_to_thread=True)
    def sign_out(self, request: Request, db: DbSession, user_id: FromPath[int]) -> Redirect:
        accounts.force_sign_out(db, principal(request), user_id)  # type: ignore[arg-type]
        flash(request, "Every session of this account has been ended.")
        return redirect(f"/admin/users/{user_id}")

    @post("/users/{user_id:int}/password", name="admin_user_password", sync_to_thread=True)
    def reset_password(
        self,
        request: Request,
        db: DbSession,
        user_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        try:
            accounts.reset_password(
                db,
                principal(request),
                user_id,  # type: ignore[arg-type]
                form_value(data, "password")[:1024],
            )
        except ValidationFailed as exc:
            return self._user_page(request, db, user_id, exc.errors, status_code=422)
        flash(request, "Temporary password set; the user must change it at next sign-in.")
        return redirect(f"/admin/users/{user_id}")

    # ----------------------------------------------------------- divisions
    @get("/divisions", name="admin_divisions", sync_to_thread=True)
    def divisions(self, request: Request, db: DbSession) -> Template:
        return self._divisions_page(request, db, {}, {})

    def _divisions_page(
        self, request: Request, db: DbSession, values: dict, errors: dict, status_code: int = 200
    ) -> Template:
        return render(
            request,
            "marketplace/admin/divisions.html",
            {
                "divisions": accounts.list_divisions(db, include_retired=True),
                "values": values,
                "errors": errors,
            },
            status_code=status_code,
        )

    @post("/divisions", name="admin_division_create", sync_to_thread=True)
    def create_division(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        values = _division_values(data)
        try:
            division = accounts.create_division(db, principal(request), DivisionInput(**values))  # type: ignore[arg-type]
        except ValidationFailed as exc:
            db.rollback()
            return self._divisions_page(request, db, values, exc.errors, status_code=422)
        flash(request, f"Added division {division.code}.")
        return redirect("/admin/divisions")

    @get("/divisions/{division_id:int}", name="admin_division", sync_to_thread=True)
    def division_detail(
        self, request: Request, db: DbSession, division_id: FromPath[int]
    ) -> Template:
        division = db.get(Division, division_id)
        if division is None:
            raise NotFound
        return self._division_page(request, division, _division_values_of(division), {})

    def _division_page(
        self,
        request: Request,
        division: Division,
        values: dict,
        errors: dict,
        status_code: int = 200,
    ) -> Template:
        return render(
            request,
            "marketplace/admin/division_edit.html",
            {"division": division, "values": values, "errors": errors},
            status_code=status_code,
        )

    @post("/divisions/{division_id:int}", name="admin_division_update", sync_to_thread=True)
    def update_division(
        self,
        request: Request,
        db: DbSession,
        division_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        values = _division_values(data)
        try:
            accounts.update_division(db, principal(request), division_id, DivisionInput(**values))  # type: ignore[arg-type]
        except ValidationFailed as exc:
            db.rollback()
            division = db.get(Division, division_id)
            if division is None:
                raise NotFound from exc
            return self._division_page(request, division, values, exc.errors, status_code=422)
        flash(request, "Division saved.")
        return redirect("/admin/divisions")

    @post("/divisions/{division_id:int}/active", name="admin_division_active", sync_to_thread=True)
    def division_active(
        self,
        request: Request,
        db: DbSession,
        division_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
    ) -> Template | Redirect:
        active = form_value(data, "active") == "true"
        try:
            division = accounts.set_division_active(db, principal(request), division_id, active)  # type: ignore[arg-type]
        except ValidationFailed as exc:
            return self._divisions_page(request, db, {}, exc.errors, status_code=422)
        flash(request, f"{division.code} {'restored' if active else 'retired'}.")
        return redirect("/admin/divisions")

    # ----------------------------------------------------------- audit
    @get("/audit", name="admin_audit", sync_to_thread=True)
    def audit_log(
        self,
        request: Request,
        db: DbSession,
        actor: FromQuery[str] = "",
        action: FromQuery[str] = "",
        object_type: FromQuery[str] = "",
        object_id: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        page: Annotated[int, QueryParameter(ge=1, le=100000)] = 1,
    ) -> Template:
        """Browse and filter the audit log, newest first."""
        filters = audit.AuditFilter(
            actor=actor[:200],
            action=action[:60],
            object_type=object_type[:60],
            object_id=object_id[:300],
            since=_parse_day(since),
            until=_parse_day(until),
        )
        events, total = audit.list_events(db, filters, page=page)
        audit.record_event(
            db,
            principal(request),
            "audit.read",
            object_type="audit_event",
            summary=f"Viewed audit log page {page}",
        )
        db.commit()
        return page_or_partial(
            request,
            "marketplace/admin/audit.html",
            "marketplace/admin/_audit_table.html",
            {
                "events": events,
                "total": total,
                "page": page,
                "per_page": 50,
                "filters": {
                    "actor": actor,
                    "action": action,
                    "object_type": object_type,
                    "object_id": object_id,
                    "since": since,
                    "until": until,
                },
            },
        )

    @get("/audit.csv", name="admin_audit_csv", sync_to_thread=True)
    def audit_csv(
        self,
        request: Request,
        db: DbSession,
        state: State,
        actor: FromQuery[str] = "",
        action: FromQuery[str] = "",
        object_type: FromQuery[str] = "",
        object_id: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Stream:
        """The filtered audit log as CSV (the export itself is audited)."""
        filters = audit.AuditFilter(
            actor=actor[:200],
            action=action[:60],
            object_type=object_type[:60],
            object_id=object_id[:300],
            since=_parse_day(since),
            until=_parse_day(until),
        )
        audit.record_event(
            db,
            principal(request),
            "audit.export",
            object_type="audit_event",
            summary="Exported the audit log as CSV",
        )
        db.commit()
        return csv_download(
            state.database.session, lambda db: audit.export_csv(db, filters), "audit-log.csv"
        )


def _division_values(data: dict[str, Any]) -> dict[str, str]:
    return {
        "code": form_value(data, "code")[:40],
        "name": form_value(data, "name")[:300],
        "bureau_code": form_value(data, "bureau_code")[:20],
        "subtier_codes": form_value(data, "subtier_codes")[:200],
        "piid_prefixes": form_value(data, "piid_prefixes")[:200],
        "aliases": form_value(data, "aliases")[:300],
        "kind": form_value(data, "kind", "operating")[:20],
    }


def _division_values_of(division: Division) -> dict[str, str]:
    return {
        "code": division.code,
        "name": division.name,
        "bureau_code": division.bureau_code,
        "subtier_codes": division.subtier_codes,
        "piid_prefixes": division.piid_prefixes,
        "aliases": division.aliases,
        "kind": division.kind,
    }
