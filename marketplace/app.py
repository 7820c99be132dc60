"""create_app(settings) -> Litestar: the one place that wires the whole application."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig

from marketplace import accounts, templating
from marketplace.accounts import NotFound
from marketplace.audit import record_event
from marketplace.auth import PermissionDenied, SignInRequired
from marketplace.controllers.admin import AdminController
from marketplace.controllers.auth import AuthController
from marketplace.controllers.catalog import (
    CatalogController,
    DataJsonController,
    HarvestAdminController,
    ListingsApiController,
)
from marketplace.controllers.notifications import NotificationsController
from marketplace.controllers.system import SystemController
from marketplace.db import Database, provide_db_session
from marketplace.logs import configure_logging, request_id_var
from marketplace.sessions import DatabaseStore, SessionMiddleware
from marketplace.settings import PROJECT_ROOT, Settings
from marketplace.web import client_ip, principal, render
from procurement.controllers import procurement_router

log = logging.getLogger(__name__)

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def request_context_middleware(
    app: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """Give every request an id (logged on every line, echoed as X-Request-ID) and security headers."""

    async def middleware(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if incoming.isalnum() and len(incoming) <= 64 else secrets.token_hex(8)
        )
        token = request_id_var.set(request_id)

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend(SECURITY_HEADERS)
                headers.append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)

    return middleware


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )


def _error_response(request: Request, status_code: int, title: str, message: str) -> Response:
    if _wants_json(request):
        return Response({"error": title, "detail": message}, status_code=status_code)
    context = {"title": title, "message": message, "status_code": status_code}
    return render(request, "errors/error.html", context, status_code=status_code)


def _on_sign_in_required(request: Request, _exc: Exception) -> Response:
    if _wants_json(request):
        return Response({"error": "Sign in required"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request") == "true":
        # htmx would swap a login page into a fragment; ask it to navigate instead.
        return Response("", status_code=401, headers={"HX-Redirect": "/login"})
    return Redirect(path=f"/login?next={quote(target, safe='/')}", status_code=303)


def _on_permission_denied(request: Request, exc: Exception) -> Response:
    reason = exc.reason if isinstance(exc, PermissionDenied) else "You may not do this."
    user = principal(request)
    database: Database = request.app.state.database
    with database.session() as db:
        record_event(
            db,
            user,
            "access.denied",
            object_type="route",
            object_id=request.url.path[:300],
            summary=f"{request.method} {request.url.path[:200]}: {reason}"[:1000],
            ip_address=client_ip(request),
        )
        db.commit()
    return _error_response(request, 403, "Access denied", reason)


def _on_not_found(request: Request, _exc: Exception) -> Response:
    return _error_response(
        request,
        404,
        "Page not found",
        "We could not find that page. Check the address, or search the catalog.",
    )


_ERROR_TITLES = {
    400: "Bad request",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 403:
        return _on_permission_denied(request, exc)
    if exc.status_code == 404:
        return _on_not_found(request, exc)
    if exc.status_code >= 500:
        return _on_server_error(request, exc)
    title = _ERROR_TITLES.get(exc.status_code, f"Error {exc.status_code}")
    return _error_response(request, exc.status_code, title, str(exc.detail))


def _on_server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return _error_response(
        request,
        500,
        "Something went wrong",
        "The error has been logged with this request's id. Please try again.",
    )


_startup_objects_frozen = False
# Python's default first threshold (700 allocations) set off a full collection every few requests
# that build kept results (the ROI report's 5,000 licence facts): each walked every kept object,
# 100-150 ms inside the request. The app makes few reference cycles; reference counting frees
# the rest.
GC_THRESHOLDS = (20_000, 10, 10)


def _freeze_startup_objects() -> None:
    """Leave the objects loaded at startup out of every later garbage collection.

    Modules, templates, ORM tables: about 230,000 long-lived objects that each full collection
    walked, 150-450 ms inside whichever request set it off (a third of the ROI dashboard's
    p95 after a change). Once per process: tests start many apps, and what is frozen is never
    collected.
    """
    global _startup_objects_frozen
    if not _startup_objects_frozen:
        _startup_objects_frozen = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Litestar:
    """Build the application for `settings` (read from the environment when omitted)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    database = Database(settings)
    session_store = store or _session_store(settings, database)

    def load_principal(user_id: int, signed_in_at: Any) -> Any:
        with database.session() as db:
            return accounts.load_principal(db, user_id, signed_in_at)

    template_config = TemplateConfig(
        directory=Path(TEMPLATES_DIR),
        engine=JinjaTemplateEngine,
        engine_callback=templating.configure_environment,
    )

    async def close_database(app: Litestar) -> None:
        database.dispose()

    return Litestar(
        route_handlers=[
            SystemController,
            AuthController,
            NotificationsController,
            AdminController,
            CatalogController,
            DataJsonController,
            ListingsApiController,
            HarvestAdminController,
            procurement_router(settings),
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], name="static", opt={"skip_session": True}
            ),
        ],
        state=State({"settings": settings, "database": database}),
        dependencies={"db": Provide(_db_dependency)},
        middleware=[
            request_context_middleware,
            DefineMiddleware(
                SessionMiddleware,
                store=session_store,
                load_principal=load_principal,
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
                cookie_secure=settings.cookie_secure,
            ),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="csrftoken",
            header_name="x-csrftoken",
            cookie_secure=settings.cookie_secure,
            cookie_samesite="lax",
            exclude=["/static"],
        ),
        template_config=template_config,
        exception_handlers={
            SignInRequired: _on_sign_in_required,
            PermissionDenied: _on_permission_denied,
            PermissionDeniedException: _on_permission_denied,
            NotFound: _on_not_found,
            NotFoundException: _on_not_found,
            HTTPException: _on_http_exception,
            HTTP_500_INTERNAL_SERVER_ERROR: _on_server_error,
        },
        openapi_config=OpenAPIConfig(
            title="HHS Data Marketplace API", version="1.0.0", path="/schema"
        ),
        request_max_body_size=settings.max_request_bytes,
        on_startup=[_freeze_startup_objects, database.prewarm],
        on_shutdown=[close_database],
        logging_config=None,  # configure_logging already set JSON lines with request ids
        debug=False,
    )


async def _db_dependency(state: State) -> Any:
    async for session in provide_db_session(state.database):
        yield session


def _session_store(settings: Settings, database: Database) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace="marketplace_session")
    return DatabaseStore(database)
