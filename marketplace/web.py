"""Helpers every controller uses: rendering pages or htmx fragments, forms, flashes, the caller."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlparse

import anyio.to_thread
from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Stream, Template
from sqlmodel import Session

from marketplace.accounts import ValidationFailed
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


@dataclass(frozen=True)
class StoredUpload:
    """An uploaded file once on disk, as `receive_upload` hands it to the service."""

    filename: str  # the user's file name, without any folders
    content_type: str
    size: int
    stored_name: str  # the name on disk, random
    form: FormMultiDict  # the rest of the form


async def receive_upload(
    request: Request,
    *,
    field: str,
    folder: Path,
    prefix: str,
    too_large: str,
    missing: str,
    attach: Callable[[StoredUpload], object],
    sniff: Callable[[str, bytes], str] | None = None,
) -> None:
    """Read a multipart form's file, keep it on disk and record it, flashing what happened.

    The route's body limit answers 413 while the form is read: that becomes `too_large`. The
    file is written under a random name in `folder`; `attach` (run in a worker thread) records
    it and raises ValidationFailed to refuse it. A refused or failed file is removed, so no
    file is ever kept without its record.

    Args:
        field: the form field holding the file.
        missing: the message when no file was chosen.
        sniff: from the file name and first bytes, its content type, or ValidationFailed;
            without it, the type the browser sent.
    """
    try:
        form = await request.form()
    except HTTPException as exc:
        if exc.status_code != 413:
            raise
        flash(request, too_large, "error")
        return
    upload = form.get(field)
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, missing, "error")
        return
    filename = Path(upload.filename).name
    try:
        if sniff is None:
            content_type = upload.content_type or "application/octet-stream"
        else:
            upload.file.seek(0)
            content_type = sniff(filename, upload.file.read(8))
    except ValidationFailed as exc:
        await upload.close()
        flash(request, next(iter(exc.errors.values())), "error")
        return
    stored_name = f"{prefix}-{secrets.token_hex(16)}"
    target = folder / stored_name
    size = await anyio.to_thread.run_sync(partial(store_upload, upload, target))
    await upload.close()
    stored = StoredUpload(filename, content_type, size, stored_name, form)
    try:
        await anyio.to_thread.run_sync(partial(attach, stored))
    except ValidationFailed as exc:
        target.unlink(missing_ok=True)
        flash(request, next(iter(exc.errors.values())), "error")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    else:
        flash(request, f"Attached {filename}.")


def csv_download(
    open_session: Callable[[], AbstractContextManager[Session]],
    rows: Callable[[Session], Iterator[str]],
    filename: str,
) -> Stream:
    """A CSV file streamed as an attachment, its rows read in a session of their own.

    The request's session is closed before a streamed body is sent, so the rows are read in a
    new one (`open_session`, usually `state.database.session`), opened when the body starts.
    """

    def body() -> Iterator[str]:
        with open_session() as db:
            yield from rows(db)

    return Stream(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
