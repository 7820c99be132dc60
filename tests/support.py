"""Test helpers: settings, databases on SQLite and PostgreSQL, sign-in and CSRF-aware posts."""

from __future__ import annotations

import html as html_lib
import os
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlmodel import Session

from marketplace.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct horse battery staple"


def settings_for(database_url: str, var_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": "test-secret-key-that-is-long-enough-for-hmac",
        "environment": "test",
        "var_dir": var_dir,
        "upload_dir": var_dir / "uploads",
        "cookie_secure": False,
    }
    values.update(overrides)
    return Settings(**values)


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema of the test database (once per test session)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class PostgresCleaner:
    """Puts a migrated PostgreSQL database back to its just-migrated state between tests.

    TRUNCATE (which the audit table's row triggers do not see) plus re-inserting the reference rows
    captured right after migration, with their ids, so every test starts from the same data.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        inspector = inspect(self.engine)
        self.tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
        self.snapshot: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as connection:
            for table in self.tables:
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
                if rows:
                    self.snapshot[table] = [dict(row) for row in rows]

    def clean(self) -> None:
        with self.engine.begin() as connection:
            names = ", ".join(f'"{t}"' for t in self.tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table, rows in self.snapshot.items():
                columns = list(rows[0])
                placeholders = ", ".join(f":{c}" for c in columns)
                quoted = ", ".join(f'"{c}"' for c in columns)
                connection.execute(
                    text(f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})'), rows
                )
                if "id" in columns:
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT MAX(id) FROM "{table}"))'
                        )
                    )

    def dispose(self) -> None:
        self.engine.dispose()


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def csrf_token(client: Any) -> str:
    """The CSRF cookie, fetched with a GET first when the client has none yet."""
    token = client.cookies.get("csrftoken")
    if not token:
        client.get("/login")
        token = client.cookies.get("csrftoken")
    assert token, "the app did not set a csrftoken cookie"
    return token


def post_form(client: Any, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST a form with the CSRF token, as a browser would."""
    payload = dict(data or {})
    payload["_csrf_token"] = csrf_token(client)
    return client.post(url, data=payload, follow_redirects=False, **kwargs)


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, f"sign-in failed for {email}: {response.status_code}"
    return response


def make_user(
    db: Session,
    email: str,
    *,
    division: str = "CDC",
    roles: tuple[str, ...] = (),
    name: str | None = None,
    password: str = PASSWORD,
) -> Any:
    from marketplace import accounts

    return accounts.create_user(
        db,
        "test",
        accounts.UserInput(
            email=email,
            name=name or email.split("@")[0].replace(".", " ").title(),
            division_code=division,
            roles=roles,
            password=password,
        ),
    )


def text_of(html: str) -> str:
    """Visible text of an HTML page, whitespace collapsed (for assertions on messages)."""
    without_tags = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(without_tags)).strip()


def see_latest(db: Session) -> None:
    """End the test session's read snapshot and forget loaded objects, to see what the app committed."""
    db.rollback()
    db.expire_all()
