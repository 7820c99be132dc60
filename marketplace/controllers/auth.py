"""Sign in, sign out, and the signed-in user's own account."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import accounts
from marketplace.accounts import SignInFailed, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Principal
from marketplace.guards import signed_in
from marketplace.types import utcnow
from marketplace.web import (
    DbSession,
    client_ip,
    flash,
    form_value,
    principal,
    redirect,
    render,
    safe_next,
    web_session,
)


class AuthController(Controller):
    @get("/login", name="login", sync_to_thread=False)
    def login_form(
        self, request: Request, next_url: Annotated[str | None, QueryParameter(name="next")] = None
    ) -> Template | Redirect:
        """The sign-in form with the federal system-use notice."""
        if principal(request):
            return redirect(safe_next(next_url))
        return render(
            request, "marketplace/login.html", {"next": safe_next(next_url), "errors": {}}
        )

    @post("/login", name="login_submit", sync_to_thread=True)
    def login(
        self, request: Request, db: DbSession, state: State, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        """Check the password; on success start a fresh session and go back where the user was."""
        settings = state.settings
        email = form_value(data, "email")[:254]
        next_url = safe_next(form_value(data, "next"))
        try:
            user = accounts.sign_in(
                db,
                email,
                form_value(data, "password")[:1024],
                now=utcnow(),
                failure_limit=settings.sign_in_failure_limit,
                lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
                ip_address=client_ip(request),
            )
        except SignInFailed as exc:
            return render(
                request,
                "marketplace/login.html",
                {"next": next_url, "email": email, "error": str(exc), "errors": {}},
                status_code=400,
            )
        web_session(request).start(user.id, utcnow())
        if accounts.user_must_change_password(db, user.id):
            flash(request, "Choose a new password to continue.", "info")
            return redirect("/account/password")
        flash(request, f"Signed in as {user.name}.")
        return redirect(next_url)

    @post("/logout", name="logout", sync_to_thread=True)
    def logout(self, request: Request, db: DbSession) -> Redirect:
        """End the session everywhere it is stored."""
        user = principal(request)
        if user is not None:
            record_event(
                db,
                user,
                "auth.sign_out",
                object_type="user",
                object_id=user.id,
                summary="Signed out",
            )
            db.commit()
        session = web_session(request)
        session.clear()
        session.flash("You have signed out.", "info")
        return redirect("/")

    @get("/account", name="account", guards=[signed_in], sync_to_thread=False)
    def account(self, request: Request) -> Template:
        """Who I am: division and roles."""
        return render(request, "marketplace/account.html")

    @get("/account/password", name="password_form", guards=[signed_in], sync_to_thread=False)
    def password_form(self, request: Request) -> Template:
        return render(request, "marketplace/password.html", {"errors": {}})

    @post("/account/password", name="password_change", guards=[signed_in], sync_to_thread=True)
    def change_password(
        self, request: Request, db: DbSession, data: URLEncodedBody[dict[str, Any]]
    ) -> Template | Redirect:
        user: Principal = principal(request)  # type: ignore[assignment]
        try:
            accounts.change_password(
                db,
                user,
                form_value(data, "current_password")[:1024],
                form_value(data, "new_password")[:1024],
                form_value(data, "confirm_password")[:1024],
            )
        except ValidationFailed as exc:
            return render(
                request, "marketplace/password.html", {"errors": exc.errors}, status_code=422
            )
        # A new session id after a credential change, like at sign-in.
        web_session(request).start(user.id, utcnow())
        flash(request, "Your password has been changed.")
        return redirect("/account")
