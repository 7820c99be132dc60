"""Accounts and divisions: sign-in with throttling, users and roles, division reference data."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from marketplace.audit import changed_fields, record_event
from marketplace.auth import (
    Permission,
    Principal,
    hash_password,
    password_needs_rehash,
    password_problem,
    require,
    verify_password,
)
from marketplace.models import Division, Role, SignInThrottle, User, UserRole
from marketplace.types import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
GENERIC_SIGN_IN_ERROR = "The e-mail address or password is not correct."


class ValidationFailed(Exception):
    """Input that cannot be saved; `errors` maps field names to messages for the form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(Exception):
    """The object does not exist (or the caller may not know it does)."""


class SignInFailed(Exception):
    """Sign-in refused; the message is safe to show and reveals nothing about the account."""


# ---------------------------------------------------------------- divisions


def list_divisions(db: Session, *, include_retired: bool = False) -> list[Division]:
    query = select(Division).order_by(Division.code)
    if not include_retired:
        query = query.where(Division.active == True)  # noqa: E712
    return list(db.exec(query).all())


def find_division(db: Session, code_or_alias: str) -> Division | None:
    """The division whose code or alias matches, case-insensitively (ARPAH finds ARPA-H)."""
    wanted = _code_key(code_or_alias)
    if not wanted:
        return None
    for division in db.exec(select(Division)).all():
        keys = {_code_key(division.code), *(_code_key(a) for a in division.codes("aliases"))}
        if wanted in keys:
            return division
    return None


def _code_key(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


@dataclass(frozen=True)
class DivisionInput:
    code: str
    name: str
    bureau_code: str
    subtier_codes: str = ""
    piid_prefixes: str = ""
    aliases: str = ""
    kind: str = "operating"


def _validate_division(data: DivisionInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not re.fullmatch(r"[A-Z][A-Z0-9-]{1,19}", data.code.strip().upper()):
        errors["code"] = "Use 2–20 letters, digits or hyphens, starting with a letter."
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = "Enter the division's name (up to 200 characters)."
    if not re.fullmatch(r"\d{3}:\d{2}", data.bureau_code.strip()):
        errors["bureau_code"] = "Use the OMB bureau code form NNN:NN, e.g. 009:20."
    if data.kind not in {"operating", "staff", "department"}:
        errors["kind"] = "Choose operating, staff or department."
    return errors


def _division_snapshot(division: Division) -> dict:
    return {
        "code": division.code,
        "name": division.name,
        "bureau_code": division.bureau_code,
        "subtier_codes": division.subtier_codes,
        "piid_prefixes": division.piid_prefixes,
        "aliases": division.aliases,
        "kind": division.kind,
        "active": division.active,
    }


def create_division(db: Session, actor: Principal, data: DivisionInput) -> Division:
    require(actor, Permission.ADMIN)
    errors = _validate_division(data)
    code = data.code.strip().upper()
    if not errors and find_division(db, code):
        errors["code"] = f"{code} is already a division code or alias."
    if errors:
        raise ValidationFailed(errors)
    division = Division(
        code=code,
        name=data.name.strip(),
        bureau_code=data.bureau_code.strip(),
        subtier_codes=_clean_list(data.subtier_codes),
        piid_prefixes=_clean_list(data.piid_prefixes),
        aliases=_clean_list(data.aliases),
        kind=data.kind,
    )
    db.add(division)
    db.flush()
    record_event(
        db,
        actor,
        "division.create",
        object_type="division",
        object_id=division.id,
        summary=f"Created division {code}",
        after=_division_snapshot(division),
        division_code=code,
    )
    db.commit()
    return division


def update_division(
    db: Session, actor: Principal, division_id: int, data: DivisionInput
) -> Division:
    """Rename or recode a division (reorganisations happen); the old code becomes an alias."""
    require(actor, Permission.ADMIN)
    division = db.get(Division, division_id)
    if division is None:
        raise NotFound
    errors = _validate_division(data)
    code = data.code.strip().upper()
    clash = find_division(db, code)
    if not errors and clash is not None and clash.id != division.id:
        errors["code"] = f"{code} is already used by {clash.code}."
    if errors:
        raise ValidationFailed(errors)
    before = _division_snapshot(division)
    aliases = _clean_list(data.aliases)
    if code != division.code and division.code not in aliases.split(","):
        aliases = _clean_list(f"{aliases},{division.code}")
    division.code = code
    division.name = data.name.strip()
    division.bureau_code = data.bureau_code.strip()
    division.subtier_codes = _clean_list(data.subtier_codes)
    division.piid_prefixes = _clean_list(data.piid_prefixes)
    division.aliases = aliases
    division.kind = data.kind
    division.updated_at = utcnow()
    old, new = changed_fields(before, _division_snapshot(division))
    record_event(
        db,
        actor,
        "division.update",
        object_type="division",
        object_id=division.id,
        summary=f"Updated division {code}",
        before=old,
        after=new,
        division_code=code,
    )
    db.commit()
    return division


def set_division_active(db: Session, actor: Principal, division_id: int, active: bool) -> Division:
    """Retire (or restore) a division; its records stay, it leaves pick-lists."""
    require(actor, Permission.ADMIN)
    division = db.get(Division, division_id)
    if division is None:
        raise NotFound
    if not active:
        members = db.exec(
            select(func.count())
            .select_from(User)
            .where(
                User.division_id == division.id,
                User.active == True,  # noqa: E712
            )
        ).one()
        if members:
            raise ValidationFailed(
                {
                    "active": f"{members} active user(s) still belong to {division.code}: move them first."
                }
            )
    if division.active != active:
        division.active = active
        division.updated_at = utcnow()
        record_event(
            db,
            actor,
            "division.retire" if not active else "division.restore",
            object_type="division",
            object_id=division.id,
            division_code=division.code,
            before={"active": not active},
            after={"active": active},
            summary=f"{'Retired' if not active else 'Restored'} division {division.code}",
        )
        db.commit()
    return division


def _clean_list(raw: str) -> str:
    seen: list[str] = []
    for part in raw.replace(";", ",").split(","):
        item = part.strip().upper()
        if item and item not in seen:
            seen.append(item)
    return ",".join(seen)


# ---------------------------------------------------------------- users


def principal_for(db: Session, user: User, signed_in_at: datetime | None = None) -> Principal:
    division = db.get(Division, user.division_id)
    roles = db.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    return Principal(
        id=user.id or 0,
        email=user.email,
        name=user.name,
        division_id=user.division_id,
        division_code=division.code if division else "?",
        roles=frozenset(Role(r) for r in roles if r in Role._value2member_map_),
        signed_in_at=signed_in_at,
    )


def load_principal(db: Session, user_id: int, signed_in_at: datetime) -> Principal | None:
    """The principal for a session, or None when the account is gone, inactive or signed out."""
    user = db.get(User, user_id)
    if user is None or not user.active:
        return None
    if user.sessions_valid_after and signed_in_at < user.sessions_valid_after:
        return None
    return principal_for(db, user, signed_in_at)


@dataclass(frozen=True)
class UserInput:
    email: str
    name: str
    division_code: str
    roles: tuple[str, ...]
    password: str | None = None


def _parse_roles(raw: Iterable[str]) -> tuple[set[Role], list[str]]:
    roles: set[Role] = set()
    unknown: list[str] = []
    for item in raw:
        value = item.strip().lower().replace("procurement_officer", "officer")
        if not value:
            continue
        if value in Role._value2member_map_:
            roles.add(Role(value))
        else:
            unknown.append(item)
    return roles, unknown


def create_user(db: Session, actor: Principal | str, data: UserInput) -> User:
    """Create an account. `actor` is an admin principal, or a CLI label (the CLI runs as root).

    Raises:
        ValidationFailed: unknown division or role, bad e-mail, weak password, duplicate e-mail;
            nothing is written.
    """
    if isinstance(actor, Principal):
        require(actor, Permission.ADMIN)
    errors: dict[str, str] = {}
    email = data.email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid e-mail address."
    elif db.exec(select(User).where(User.email == email)).first():
        errors["email"] = "An account with this e-mail address already exists."
    if not data.name.strip() or len(data.name) > 200:
        errors["name"] = "Enter the person's name (up to 200 characters)."
    division = find_division(db, data.division_code)
    if division is None or not division.active:
        errors["division"] = f"Unknown division {data.division_code!r}."
    roles, unknown = _parse_roles(data.roles)
    if unknown:
        allowed = ", ".join(r.value for r in Role)
        errors["roles"] = f"Unknown role(s) {', '.join(unknown)}; use {allowed}."
    roles.add(Role.VIEWER)
    if data.password is not None:
        problem = password_problem(data.password, email=email)
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    assert division is not None
    user = User(
        email=email,
        name=data.name.strip(),
        division_id=division.id or 0,
        password_hash=hash_password(data.password) if data.password else None,
    )
    db.add(user)
    db.flush()
    for role in sorted(roles):
        db.add(UserRole(user_id=user.id or 0, role=role.value))
    record_event(
        db,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        summary=f"Created account {email}",
        division_code=division.code,
        after={
            "email": email,
            "name": user.name,
            "division": division.code,
            "roles": sorted(r.value for r in roles),
        },
    )
    db.commit()
    return user


def set_roles(
    db: Session,
    actor: Principal,
    user_id: int,
    raw_roles: Iterable[str],
    division_code: str | None = None,
) -> User:
    """Replace a user's roles (and optionally move them to another division)."""
    require(actor, Permission.ADMIN)
    user = _get_user(db, user_id)
    roles, unknown = _parse_roles(raw_roles)
    errors: dict[str, str] = {}
    if unknown:
        errors["roles"] = f"Unknown role(s): {', '.join(unknown)}."
    division = (
        find_division(db, division_code) if division_code else db.get(Division, user.division_id)
    )
    if division is None or not division.active:
        errors["division"] = f"Unknown division {division_code!r}."
    roles.add(Role.VIEWER)
    if user.id == actor.id and Role.ADMIN not in roles:
        errors["roles"] = "You cannot remove your own administrator role."
    if errors:
        raise ValidationFailed(errors)
    assert division is not None
    before_roles = sorted(db.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all())
    before_division = db.get(Division, user.division_id)
    for existing in db.exec(select(UserRole).where(UserRole.user_id == user.id)).all():
        db.delete(existing)
    db.flush()
    for role in sorted(roles):
        db.add(UserRole(user_id=user.id or 0, role=role.value))
    user.division_id = division.id or 0
    user.updated_at = utcnow()
    record_event(
        db,
        actor,
        "user.update",
        object_type="user",
        object_id=user.id,
        summary=f"Changed roles of {user.email}",
        division_code=division.code,
        before={
            "roles": before_roles,
            "division": before_division.code if before_division else None,
        },
        after={"roles": sorted(r.value for r in roles), "division": division.code},
    )
    db.commit()
    return user


def set_active(db: Session, actor: Principal, user_id: int, active: bool) -> User:
    """Deactivate (which also ends their sessions) or reactivate an account."""
    require(actor, Permission.ADMIN)
    user = _get_user(db, user_id)
    if user.id == actor.id and not active:
        raise ValidationFailed({"active": "You cannot deactivate your own account."})
    if user.active != active:
        user.active = active
        user.updated_at = utcnow()
        if not active:
            user.sessions_valid_after = utcnow()
        record_event(
            db,
            actor,
            "user.deactivate" if not active else "user.reactivate",
            object_type="user",
            object_id=user.id,
            summary=user.email,
            before={"active": not active},
            after={"active": active},
        )
        db.commit()
    return user


def force_sign_out(db: Session, actor: Principal, user_id: int) -> User:
    """End every session of the user, on every worker, at their next request."""
    require(actor, Permission.ADMIN)
    user = _get_user(db, user_id)
    user.sessions_valid_after = utcnow()
    record_event(
        db,
        actor,
        "user.force_sign_out",
        object_type="user",
        object_id=user.id,
        summary=f"Signed out every session of {user.email}",
    )
    db.commit()
    return user


def reset_password(db: Session, actor: Principal, user_id: int, new_password: str) -> User:
    """Set a temporary password the user must change at next sign-in; ends their sessions."""
    require(actor, Permission.ADMIN)
    user = _get_user(db, user_id)
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise ValidationFailed({"password": problem})
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.sessions_valid_after = utcnow()
    user.updated_at = utcnow()
    record_event(
        db,
        actor,
        "user.reset_password",
        object_type="user",
        object_id=user.id,
        summary=f"Reset the password of {user.email}",
    )
    db.commit()
    return user


def change_password(db: Session, actor: Principal, current: str, new: str, confirm: str) -> None:
    user = _get_user(db, actor.id)
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = "Your current password is not correct."
    problem = password_problem(new, email=user.email)
    if problem:
        errors["new_password"] = problem
    elif new == current:
        errors["new_password"] = "Choose a password different from the current one."
    if new != confirm:
        errors["confirm_password"] = "The two new passwords do not match."
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.updated_at = utcnow()
    record_event(
        db,
        actor,
        "user.change_password",
        object_type="user",
        object_id=user.id,
        summary="Changed own password",
    )
    db.commit()


def _get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound
    return user


def list_users(
    db: Session, actor: Principal, *, query: str = ""
) -> list[tuple[User, Division, list[str]]]:
    """Every account with its division and roles, for the admin page (three queries in all)."""
    require(actor, Permission.ADMIN)
    statement = select(User, Division).join(Division, col(Division.id) == User.division_id)
    if query:
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(col(User.email).ilike(pattern) | col(User.name).ilike(pattern))
    rows = db.exec(statement.order_by(User.email)).all()
    roles: dict[int, list[str]] = {}
    for user_id, role in db.exec(select(UserRole.user_id, UserRole.role)).all():
        roles.setdefault(user_id, []).append(role)
    return [(user, division, sorted(roles.get(user.id or 0, []))) for user, division in rows]


# ---------------------------------------------------------------- sign-in


def sign_in(
    db: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    failure_limit: int,
    lockout: timedelta,
    ip_address: str | None = None,
) -> Principal:
    """Check a password sign-in, with throttling per e-mail address; audits both outcomes.

    Raises:
        SignInFailed: wrong e-mail or password (one generic message), or throttled.
    """
    email = email.strip().lower()[:254]
    throttle = db.get(SignInThrottle, email)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        minutes = max(1, int((throttle.locked_until - now).total_seconds() // 60) + 1)
        record_event(
            db,
            None,
            "auth.sign_in_throttled",
            object_type="user",
            object_id=email,
            summary="Sign-in refused while throttled",
            ip_address=ip_address,
        )
        db.commit()
        raise SignInFailed(
            f"Too many failed sign-ins for this account. Try again in {minutes} minutes, "
            "or ask an administrator to reset your password."
        )
    user = db.exec(select(User).where(User.email == email)).first()
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle = throttle or SignInThrottle(email=email)
        throttle.failures += 1
        throttle.last_failure_at = now
        if throttle.failures >= failure_limit:
            throttle.locked_until = now + lockout
        db.add(throttle)
        record_event(
            db,
            None,
            "auth.sign_in_failed",
            object_type="user",
            object_id=email,
            summary=f"Failed sign-in #{throttle.failures} in a row",
            ip_address=ip_address,
        )
        db.commit()
        raise SignInFailed(GENERIC_SIGN_IN_ERROR)
    if throttle:
        db.delete(throttle)
    if user.password_hash and password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = now
    principal = principal_for(db, user, now)
    record_event(
        db,
        principal,
        "auth.sign_in",
        object_type="user",
        object_id=user.id,
        summary="Signed in",
        ip_address=ip_address,
    )
    db.commit()
    return principal


def user_must_change_password(db: Session, user_id: int) -> bool:
    user = db.get(User, user_id)
    return bool(user and user.must_change_password)
