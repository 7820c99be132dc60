"""Fixtures: the app on SQLite and (with TEST_DATABASE_URL) PostgreSQL, clients, users."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from marketplace.app import create_app
from marketplace.db import Database
from marketplace.memo import forget_all
from marketplace.migrate import upgrade
from tests.support import (
    IN_CI,
    SHARED_DATA,
    PostgresCleaner,
    copy_sqlite,
    reset_postgres,
    settings_for,
)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = []
    if not TEST_DATABASE_URL:
        missing.append("PostgreSQL tests (TEST_DATABASE_URL is not set)")
    if not CHROMIUM.exists():
        missing.append(f"browser tests ({CHROMIUM} not found: apt-get install -y chromium)")
    if not SHARED_DATA.exists():
        missing.append(f"tests on real data ({SHARED_DATA} not found)")
    if not missing:
        return ["environment: SQLite, PostgreSQL, Chromium and ../shared data all available"]
    if IN_CI:
        raise pytest.UsageError("CI=true but missing: " + "; ".join(missing))
    return ["SKIPPING " + "; ".join(missing)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_cleaner() -> Iterator[PostgresCleaner]:
    if not TEST_DATABASE_URL:
        message = "PostgreSQL not configured: set TEST_DATABASE_URL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    reset_postgres(TEST_DATABASE_URL)
    upgrade(TEST_DATABASE_URL)
    cleaner = PostgresCleaner(TEST_DATABASE_URL)
    yield cleaner
    cleaner.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A clean, migrated database for one test, on each engine."""
    if request.param == "sqlite":
        return copy_sqlite(sqlite_template, tmp_path / "test.db")
    cleaner: PostgresCleaner = request.getfixturevalue("postgres_cleaner")
    cleaner.clean()
    # Same URL, ids restarted: a kept result of the previous test could match this one's stamps.
    forget_all()
    return TEST_DATABASE_URL


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Any:
    return settings_for(database_url, tmp_path / "var")


@pytest.fixture
def database(settings: Any) -> Iterator[Database]:
    db = Database(settings)
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Any]:
    with database.session() as session:
        yield session


@pytest.fixture
def app(settings: Any) -> Any:
    return create_app(settings)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip (a failure under CI=true) when it is absent."""
    if not SHARED_DATA.exists():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing under CI")
        pytest.skip(f"{SHARED_DATA} not found (a user's clone has no ../shared)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM
