"""Who the caller is and what they may do: passwords, the Principal, and the one permission API.

Every service asks `require(principal, Permission.X, division_id)`; templates only mirror the answer.
Single sign-on (OIDC) or a second factor would plug in where a Principal is built, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from marketplace.models import Role

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; never raises for a malformed or missing hash."""
    if not password_hash:
        # Spend comparable time so a missing account is not revealed by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is unacceptable, or None (NIST SP 800-63B: length over composition)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if email and password.lower() == email.lower():
        return "Do not use your e-mail address as your password."
    if len(set(password)) < 4:
        return "Use a less repetitive password."
    return None


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the services see them."""

    id: int
    email: str
    name: str
    division_id: int
    division_code: str
    roles: frozenset[Role]
    signed_in_at: datetime | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in Role if role in self.roles]


class Permission(StrEnum):
    """Things a caller may want to do. Division-scoped ones take the object's division."""

    VIEW_STAFF_CONTENT = "view_staff_content"  # non-public listings, all purchases (read)
    PUBLISH_LISTING = "publish_listing"  # division-scoped
    DECIDE_REUSE = "decide_reuse"  # division-scoped: approve or deny reuse of its assets
    MANAGE_PURCHASES = "manage_purchases"  # division-scoped
    READ_SENSITIVE_PROCUREMENT = "read_sensitive_procurement"  # division-scoped
    READ_REPORTS = "read_reports"
    ADMIN = "admin"  # users, divisions, audit, harvest sources


class PermissionDenied(Exception):
    """The caller may not do this; `reason` is safe to show them."""

    def __init__(self, reason: str, *, permission: Permission | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permission = permission


class SignInRequired(Exception):
    """The caller is anonymous and the resource needs a signed-in user."""


def can(
    principal: Principal | None, permission: Permission, division_id: int | None = None
) -> bool:
    """Decide one permission for one caller, optionally on an object owned by `division_id`.

    Args:
        principal: the signed-in user, or None for anonymous callers (who may do none of these).
        permission: what they want to do.
        division_id: the owning division of the object, for division-scoped permissions.
    """
    if principal is None:
        return False
    roles = principal.roles
    own_division = division_id is None or division_id == principal.division_id
    match permission:
        case Permission.VIEW_STAFF_CONTENT:
            return True  # every account is HHS staff
        case Permission.PUBLISH_LISTING:
            return Role.STEWARD in roles and own_division
        case Permission.DECIDE_REUSE:
            return bool(roles & {Role.STEWARD, Role.OFFICER}) and own_division
        case Permission.MANAGE_PURCHASES:
            return Role.OFFICER in roles and own_division
        case Permission.READ_SENSITIVE_PROCUREMENT:
            return Role.LEADERSHIP in roles or (
                own_division and bool(roles & {Role.OFFICER, Role.STEWARD})
            )
        case Permission.READ_REPORTS:
            return bool(roles & {Role.LEADERSHIP, Role.ADMIN, Role.OFFICER})
        case Permission.ADMIN:
            return Role.ADMIN in roles
    return False


def require(
    principal: Principal | None, permission: Permission, division_id: int | None = None
) -> Principal:
    """Return the principal when allowed; raise SignInRequired or PermissionDenied otherwise."""
    if principal is None:
        raise SignInRequired
    if not can(principal, permission, division_id):
        raise PermissionDenied(_DENIED_MESSAGES[permission], permission=permission)
    return principal


_DENIED_MESSAGES = {
    Permission.VIEW_STAFF_CONTENT: "Sign in with an HHS account to see this.",
    Permission.PUBLISH_LISTING: "Only data stewards of the owning division can publish or edit this.",
    Permission.DECIDE_REUSE: "Only stewards or officers of the owning division can decide on reuse.",
    Permission.MANAGE_PURCHASES: "Only procurement officers of the owning division can change this.",
    Permission.READ_SENSITIVE_PROCUREMENT: "This is visible only to the owning division and leadership.",
    Permission.READ_REPORTS: "Reports are for leadership, procurement officers and administrators.",
    Permission.ADMIN: "This page is for administrators.",
}
