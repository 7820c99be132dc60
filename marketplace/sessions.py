"""Server-side sessions: an opaque cookie, data in the database (or Redis), timeouts, rotation.

Written as our own small middleware rather than Litestar's session middleware because we need
three things it does not do: no stored session for anonymous traffic, rotation of the id at
sign-in, and idle plus absolute timeouts checked on every request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar.datastructures import Cookie
from litestar.stores.base import Store
from sqlalchemy import delete
from sqlmodel import select

from marketplace.db import Database
from marketplace.models import StoredSession
from marketplace.types import utcnow

COOKIE_NAME = "mp_session"
SEEN_WRITE_INTERVAL = timedelta(seconds=60)


class DatabaseStore(Store):
    """Litestar `Store` over the `web_session` table, so sessions survive restarts and span workers."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        expires_at = _expiry(expires_in)
        await anyio.to_thread.run_sync(self._set, key, data, expires_at)

    def _set(self, key: str, data: bytes, expires_at: datetime | None) -> None:
        with self.database.session() as db:
            row = db.get(StoredSession, key)
            if row is None:
                row = StoredSession(key=key, data=data, expires_at=expires_at)
            else:
                row.data, row.expires_at = data, expires_at
            db.add(row)
            db.commit()

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await anyio.to_thread.run_sync(self._get, key, _expiry(renew_for))

    def _get(self, key: str, renew_until: datetime | None) -> bytes | None:
        with self.database.session() as db:
            row = db.get(StoredSession, key)
            if row is None:
                return None
            if row.expires_at is not None and row.expires_at <= utcnow():
                db.delete(row)
                db.commit()
                return None
            if renew_until is not None:
                row.expires_at = renew_until
                db.add(row)
                db.commit()
            return row.data

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    def _delete(self, key: str) -> None:
        with self.database.session() as db:
            db.exec(delete(StoredSession).where(StoredSession.key == key))  # type: ignore[call-overload]
            db.commit()

    async def delete_all(self) -> None:
        await anyio.to_thread.run_sync(self._delete_all)

    def _delete_all(self) -> None:
        with self.database.session() as db:
            db.exec(delete(StoredSession))  # type: ignore[call-overload]
            db.commit()

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        def _remaining() -> int | None:
            with self.database.session() as db:
                row = db.get(StoredSession, key)
                if row is None or row.expires_at is None:
                    return None
                return max(int((row.expires_at - utcnow()).total_seconds()), 0)

        return await anyio.to_thread.run_sync(_remaining)


def purge_expired_sessions(database: Database, now: datetime) -> int:
    """Delete expired rows of the database store; returns how many (a periodic job)."""
    with database.session() as db:
        expired = db.exec(select(StoredSession.key).where(StoredSession.expires_at <= now)).all()
        if expired:
            db.exec(delete(StoredSession).where(StoredSession.expires_at <= now))  # type: ignore[call-overload]
            db.commit()
        return len(expired)


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    return utcnow() + timedelta(seconds=seconds)


def _store_key(token: str) -> str:
    # Only a hash of the cookie is stored: a leaked store does not give working cookies.
    return hashlib.sha256(token.encode()).hexdigest()


class WebSession:
    """The session of one request: a small JSON dict plus what must happen to it afterwards."""

    def __init__(self, token: str | None, data: dict[str, Any]) -> None:
        self.token = token
        self.data = data
        self.modified = False
        self.rotate_from: str | None = None
        self.cleared = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.modified = True

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            self.modified = True
        return self.data.pop(key, default)

    def flash(self, message: str, category: str = "success") -> None:
        self.set("flash", [*self.data.get("flash", []), [category, message]])

    def pop_flashes(self) -> list[tuple[str, str]]:
        return [tuple(item) for item in self.pop("flash", [])]  # type: ignore[misc]

    def start(self, user_id: int, now: datetime) -> None:
        """Begin an authenticated session under a brand-new id (defeats session fixation)."""
        flashes = self.data.get("flash", [])
        self.rotate_from = self.token
        self.token = None
        self.data = {"uid": user_id, "created": now.isoformat(), "seen": now.isoformat()}
        if flashes:
            self.data["flash"] = flashes
        self.modified = True

    def clear(self) -> None:
        self.data = {}
        self.cleared = True
        self.modified = True


class SessionMiddleware:
    """Loads `scope["web_session"]` and the signed-in principal into `scope["user"]`."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        *,
        store: Store,
        load_principal: Callable[[int, datetime], Any],
        idle: timedelta,
        absolute: timedelta,
        cookie_secure: bool,
    ) -> None:
        self.app = app
        self.store = store
        self.load_principal = load_principal
        self.idle = idle
        self.absolute = absolute
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        token = _cookie_from_headers(scope.get("headers", []), COOKIE_NAME)
        session = WebSession(token, {})
        now = utcnow()
        scope["user"] = None
        if token:
            raw = await self.store.get(_store_key(token))
            data = _decode(raw)
            if data is None:
                session.clear()  # unknown or expired id: tell the browser to drop the cookie
            else:
                session.data = data
                await self._authenticate(scope, session, now)
        scope["web_session"] = session

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start" and session.modified:
                header = await self._persist(session)
                if header:
                    message.setdefault("headers", []).append(
                        (b"set-cookie", header.encode("latin-1"))
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _authenticate(self, scope: dict, session: WebSession, now: datetime) -> None:
        user_id = session.get("uid")
        if user_id is None:
            return
        try:
            created = datetime.fromisoformat(session.get("created"))
            seen = datetime.fromisoformat(session.get("seen"))
        except (TypeError, ValueError):
            session.clear()
            return
        if now - created > self.absolute or now - seen > self.idle:
            session.clear()
            session.flash("Your session timed out. Please sign in again.", "info")
            return
        principal = await anyio.to_thread.run_sync(self.load_principal, int(user_id), created)
        if principal is None:
            session.clear()
            return
        scope["user"] = principal
        if now - seen > SEEN_WRITE_INTERVAL:
            session.set("seen", now.isoformat())

    async def _persist(self, session: WebSession) -> str | None:
        if session.rotate_from:
            await self.store.delete(_store_key(session.rotate_from))
        if session.cleared and not session.data:
            if session.token:
                await self.store.delete(_store_key(session.token))
            return _cookie_header("", self.cookie_secure, expire=True)
        if not session.data:
            return None
        if session.token is None:
            session.token = secrets.token_urlsafe(32)
        await self.store.set(
            _store_key(session.token),
            json.dumps(session.data).encode(),
            expires_in=int(self.idle.total_seconds()),
        )
        return _cookie_header(session.token, self.cookie_secure)


def _decode(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _cookie_from_headers(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name and cookie_value:
                    return cookie_value
    return None


def _cookie_header(value: str, secure: bool, *, expire: bool = False) -> str:
    cookie = Cookie(
        key=COOKIE_NAME,
        value=value or "null",
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
        max_age=0 if expire else None,
    )
    return cookie.to_header(header="")
