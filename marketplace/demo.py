"""Demo data for `make run`: accounts for every role in several divisions (and, later, content).

Everything is added by natural key (e-mail, identifier, PIID), so loading twice adds nothing, and
later packages extend it by appending to DEMO_LOADERS. It never reads ../shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, func, select

from marketplace import accounts
from marketplace.db import Database
from marketplace.models import User
from procurement.demo import load_procurement_demo
from procurement.demo_invoices import demo_invoices
from procurement.demo_reuse import load_reuse_demo, scan_demo_duplicates

DEMO_PASSWORD = "demo-marketplace-2026"  # noqa: S105 - printed by `make run`; demo load refuses in production
DEMO_ACTOR = "cli: marketplace demo load"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    division: str
    roles: tuple[str, ...]
    purpose: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin@demo.hhs.gov", "Avery Admin", "OS", ("admin",), "administrator"),
    DemoUser(
        "leader@demo.hhs.gov",
        "Lena Leadership",
        "HHS",
        ("leadership",),
        "leadership, all divisions",
    ),
    DemoUser("steward.cdc@demo.hhs.gov", "Carmen Steward", "CDC", ("steward",), "CDC data steward"),
    DemoUser("steward.cms@demo.hhs.gov", "Marcus Steward", "CMS", ("steward",), "CMS data steward"),
    DemoUser(
        "officer.nih@demo.hhs.gov", "Nadia Officer", "NIH", ("officer",), "NIH procurement officer"
    ),
    DemoUser(
        "officer.cms@demo.hhs.gov", "Omar Officer", "CMS", ("officer",), "CMS procurement officer"
    ),
    DemoUser(
        "steward.fda@demo.hhs.gov",
        "Farah Both",
        "FDA",
        ("steward", "officer"),
        "FDA steward and procurement officer",
    ),
    DemoUser(
        "viewer.hrsa@demo.hhs.gov", "Henry Viewer", "HRSA", ("viewer",), "HRSA staff, read-only"
    ),
)


def _load_users(db: Session) -> dict[str, int]:
    created = 0
    for demo_user in DEMO_USERS:
        if db.exec(select(User.id).where(User.email == demo_user.email)).first():
            continue
        accounts.create_user(
            db,
            DEMO_ACTOR,
            accounts.UserInput(
                email=demo_user.email,
                name=demo_user.name,
                division_code=demo_user.division,
                roles=demo_user.roles,
                password=DEMO_PASSWORD,
            ),
        )
        created += 1
    return {"users_created": created}


def _load_listings(db: Session) -> dict[str, int]:
    from marketplace.catalog.demo import load_demo_listings

    return load_demo_listings(db)


DEMO_LOADERS: list[Callable[[Session], dict[str, int]]] = [_load_users, _load_listings]
DEMO_LOADERS.append(load_procurement_demo)
DEMO_LOADERS.append(load_reuse_demo)
DEMO_LOADERS.append(demo_invoices)
DEMO_LOADERS.append(scan_demo_duplicates)


def load_demo(database: Database, *, only_if_empty: bool = False) -> dict[str, int | bool]:
    """Run every demo loader in order; returns what each added.

    Args:
        only_if_empty: skip entirely when the database already has accounts (`make run` uses it, so
            a database someone has been using is never touched).
    """
    with database.session() as db:
        if only_if_empty and db.exec(select(func.count()).select_from(User)).one() > 0:
            return {"skipped": True}
        summary: dict[str, int | bool] = {"skipped": False}
        for loader in DEMO_LOADERS:
            summary.update(loader(db))
        return summary
