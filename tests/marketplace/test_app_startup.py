"""What an app does when it starts, once per process."""

from __future__ import annotations

import gc

from litestar.testing import TestClient

from marketplace.app import GC_THRESHOLDS, create_app


def test_startup_objects_are_frozen_once_per_process(settings) -> None:
    with TestClient(app=create_app(settings)):
        frozen = gc.get_freeze_count()
    # Modules, templates and ORM tables stay out of every later collection, which come rarer...
    assert frozen > 50_000
    assert gc.get_threshold() == GC_THRESHOLDS
    with TestClient(app=create_app(settings)):
        # ...but a second app in the same process (as in tests) freezes nothing more (frozen
        # objects still go when their last reference does).
        assert gc.get_freeze_count() <= frozen


def test_prewarm_reads_every_table_and_index_of_a_sqlite_database(database, monkeypatch) -> None:
    from marketplace import db as db_module

    read = database.prewarm()
    if database.engine.dialect.name != "sqlite":
        assert read == []  # PostgreSQL's buffers outlive the app: nothing to do
        return
    with database.engine.connect() as connection:
        schema = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_schema WHERE type IN ('table', 'index')"
        ).all()
    virtual = {name for name, sql in schema if (sql or "").startswith("CREATE VIRTUAL")}
    assert virtual == {"listing_fts", "purchase_fts"}
    # The full-text tables' own storage, the search indexes and primary-key indexes included.
    assert set(read) == {name for name, _ in schema} - virtual
    assert {"listing_fts_data", "ix_listing_search_exact_title"} <= set(read)
    assert any(name.startswith("sqlite_autoindex_listing_facet") for name in read)
    # A file larger than the map would not stay mapped: it is left alone.
    monkeypatch.setattr(db_module, "SQLITE_MMAP_BYTES", 4096)
    assert database.prewarm() == []


def test_the_pool_hands_out_the_warmest_sqlite_connection_first(tmp_path) -> None:
    from marketplace.db import build_engine

    engine = build_engine(f"sqlite:///{tmp_path / 'app.db'}")
    first, second = engine.connect(), engine.connect()
    first_dbapi, second_dbapi = (
        first.connection.dbapi_connection,
        second.connection.dbapi_connection,
    )
    first.close()
    second.close()  # returned last: handed out next
    with engine.connect() as again:
        assert again.connection.dbapi_connection is second_dbapi
        assert again.connection.dbapi_connection is not first_dbapi
    engine.dispose()
