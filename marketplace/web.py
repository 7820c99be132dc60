"""Helpers every controller uses: rendering pages or htmx fragments, forms, flashes, the caller."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlparse

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.response import Redirect, Template
from sqlmodel import Session

from marketplace.auth import Principal
from marketplace.sessions import WebSession

DbSession: TypeAlias = NamedDependency[Session]  # the request's database session ("db")


def principal(request: Request) -> Principal | None:
    """The signed-in user, or None."""
    return request.scope.get("user")


def web_session(request: Request) -> WebSession:
    session = request.scope.get("web_session")
    if session is None:  # static paths skip the session middleware; nothing should flash there
        session = WebSession(None, {})
        request.scope["web_session"] = session
    return session


def flash(request: Request, message: str, category: str = "success") -> None:
    web_session(request).flash(message, category)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    """Render a full page with the shared context (user, flashes, navigation)."""
    ctx = dict(context or {})
    ctx.setdefault("user", principal(request))
    ctx.setdefault("flashes", web_session(request).pop_flashes())
    ctx.setdefault("current_path", request.url.path)
    return Template(
        template_name=template,
        context=ctx,
        status_code=status_code,
        headers={"Vary": "HX-Request"},
    )


def page_or_partial(
    request: Request,
    page: str,
    fragment: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Template:
    """The fragment alone for an htmx request, otherwise the whole page (which includes it).

    History restores (Back after a swap) ask for the full page: htmx 2 sends
    `HX-History-Restore-Request`, which `is_htmx` treats as a plain request.
    """
    if is_htmx(request):
        ctx = dict(context)
        ctx.setdefault("user", principal(request))
        return Template(
            template_name=fragment,
            context=ctx,
            status_code=status_code,
            headers={"Vary": "HX-Request"},
        )
    return render(request, page, context, status_code=status_code)


def redirect(url: str, *, status_code: int = 303) -> Redirect:
    return Redirect(path=url, status_code=status_code)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after sign-in; anything else (other hosts, //evil) gives default."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def form_value(data: dict[str, Any], name: str, default: str = "") -> str:
    """One text field of a parsed URL-encoded form (the last one when repeated)."""
    value = data.get(name, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return str(value)


def form_values(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a repeated field (checkboxes)."""
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def store_upload(upload: UploadFile, target: Path) -> int:
    """Copy an upload to disk (created 0600, never from the user's file name); returns its size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    upload.file.seek(0)
    with target.open("xb") as handle:
        while chunk := upload.file.read(1 << 20):
            size += len(chunk)
            handle.write(chunk)
    target.chmod(0o600)
    return size
