"""The `marketplace` command: JSON on stdout only, clear errors, nothing written on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select

from marketplace.models import User, UserRole

CLI = [sys.executable, "-m", "marketplace"]


def run_cli(*args: str, database_url: str, tmp_path: Path, **env: str):
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MARKETPLACE_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    environment.pop("MARKETPLACE_ENV", None)
    environment.update(env)
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=environment, timeout=120
    )


def users_in(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        emails = session.exec(select(User.email)).all()
    engine.dispose()
    return list(emails)


def test_users_create_with_json_prints_one_document(database_url, tmp_path):
    result = run_cli(
        "users",
        "create",
        "--email",
        "Ops@HHS.gov",
        "--name",
        "Ops Person",
        "--division",
        "arpah",
        "--role",
        "steward",
        "--role",
        "officer",
        "--json",
        database_url=database_url,
        tmp_path=tmp_path,
        MARKETPLACE_PASSWORD="a long enough password",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["email"] == "ops@hhs.gov"
    assert document["division"] == "ARPA-H"
    assert document["roles"] == ["officer", "steward", "viewer"]
    engine = create_engine(database_url)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == "ops@hhs.gov")).one()
        assert len(session.exec(select(UserRole).where(UserRole.user_id == user.id)).all()) == 3
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--division", "XYZ", "--role", "steward"), "Unknown division 'XYZ'"),
        (("--division", "CDC", "--role", "wizard"), "Unknown role(s) wizard"),
    ],
)
def test_users_create_refuses_bad_input_and_writes_nothing(database_url, tmp_path, args, message):
    result = run_cli(
        "users",
        "create",
        "--email",
        "x@hhs.gov",
        "--name",
        "X",
        *args,
        "--json",
        database_url=database_url,
        tmp_path=tmp_path,
        MARKETPLACE_PASSWORD="a long enough password",
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert message in json.loads(result.stdout)["error"]
    assert users_in(database_url) == []


def test_users_create_without_password_or_terminal_fails_clearly(database_url, tmp_path):
    result = run_cli(
        "users",
        "create",
        "--email",
        "x@hhs.gov",
        "--name",
        "X",
        "--division",
        "CDC",
        database_url=database_url,
        tmp_path=tmp_path,
    )
    assert result.returncode == 1
    assert "MARKETPLACE_PASSWORD" in result.stderr


def test_demo_load_is_idempotent_and_refused_in_production(database_url, tmp_path):
    first = run_cli("demo", "load", "--json", database_url=database_url, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["users_created"] == 8
    second = run_cli("demo", "load", "--json", database_url=database_url, tmp_path=tmp_path)
    assert json.loads(second.stdout)["users_created"] == 0
    assert len(users_in(database_url)) == 8
    refused = run_cli(
        "demo",
        "load",
        database_url=database_url,
        tmp_path=tmp_path,
        MARKETPLACE_ENV="production",
        SECRET_KEY="k" * 40,
    )
    assert refused.returncode == 1
    assert "refusing to load demo data" in refused.stderr


def test_db_upgrade_on_a_new_sqlite_file_seeds_divisions(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run_cli("db", "upgrade", "--json", database_url=url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"status": "ok", "database": url}
    engine = create_engine(url)
    with engine.connect() as connection:
        codes = {row[0] for row in connection.exec_driver_sql("SELECT code FROM division")}
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    engine.dispose()
    assert {
        "CDC",
        "NIH",
        "FDA",
        "CMS",
        "HRSA",
        "IHS",
        "SAMHSA",
        "AHRQ",
        "ACF",
        "ACL",
        "ASPR",
        "ASPE",
        "OS",
        "ASA",
        "PSC",
        "OIG",
        "ONC",
        "ARPA-H",
        "HHS",
    } <= codes
    assert mode == "wal"


def test_a_bad_database_url_fails_with_a_message(tmp_path):
    result = run_cli(
        "db",
        "upgrade",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        tmp_path=tmp_path,
    )
    assert result.returncode == 1
    assert "migration failed" in result.stderr


def test_worker_once_runs_due_jobs(database_url, tmp_path):
    from marketplace import jobs
    from marketplace.db import Database
    from tests.support import settings_for

    database = Database(settings_for(database_url, tmp_path))
    with database.session() as db:
        job = jobs.enqueue(db, "sessions.purge_expired")
        db.commit()
        job_id = job.id
    result = run_cli("worker", "--once", "--json", database_url=database_url, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"ran": 1}
    with database.session() as db:
        from marketplace.models import Job

        assert db.get(Job, job_id).status == "succeeded"
    database.dispose()


def test_app_sqlite_connections_map_the_file_and_keep_their_settings(tmp_path):
    from marketplace.db import SQLITE_MMAP_BYTES, build_engine

    engine = build_engine(f"sqlite:///{tmp_path / 'app.db'}")
    with engine.connect() as connection:
        settings = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("mmap_size", "journal_mode", "foreign_keys")
        }
    engine.dispose()
    assert settings == {
        "mmap_size": SQLITE_MMAP_BYTES,
        "journal_mode": "wal",
        "foreign_keys": 1,
    }


def test_a_pooled_sqlite_connection_forgets_an_unused_exclusive_mode(tmp_path):
    """Connections are kept between requests: an exclusive session that never began must not
    hand BEGIN IMMEDIATE (the write lock) to the next, read-only, user of its connection."""
    from marketplace.db import build_engine, exclusive_session

    engine = build_engine(f"sqlite:///{tmp_path / 'app.db'}", pool_size=1)
    with exclusive_session(engine) as session:
        assert not session.in_transaction()  # nothing ran, so nothing began
    with engine.connect() as connection:
        assert "begin_mode" not in connection.info
        connection.exec_driver_sql("SELECT 1")
        # A deferred read transaction: another connection can still take the write lock.
        with engine.connect() as writer:
            writer.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            writer.commit()
    engine.dispose()
