"""Route guards: the permission API applied before a handler runs (services check again)."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from marketplace.auth import Permission, SignInRequired, require


def signed_in(connection: ASGIConnection, _handler: Any) -> None:
    if connection.scope.get("user") is None:
        raise SignInRequired


def admin(connection: ASGIConnection, _handler: Any) -> None:
    require(connection.scope.get("user"), Permission.ADMIN)
