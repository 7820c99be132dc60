"""Migrations build exactly the models' schema, from empty, with one head."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import marketplace.all_models  # noqa: F401
from marketplace.db import build_engine
from marketplace.migrate import alembic_config, include_object, upgrade


def test_one_linear_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert sum(1 for r in revisions if r.down_revision is None) == 1


# SQLAlchemy cannot reflect SQLite's expression indexes; search indexes are the migrations' own
# (include_object leaves every ix_listing_search_* index out of the comparison).
@pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index ix_listing_search"
)
def test_upgrade_from_empty_matches_the_models(database_url):
    # The fixture database was built by `upgrade`; running it again is a no-op.
    upgrade(database_url)
    engine = build_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": include_object,
                "render_as_batch": connection.dialect.name == "sqlite",
            },
        )
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_divisions_are_seeded_by_the_migration(db):
    from sqlmodel import select

    from marketplace.hhs import DIVISIONS
    from marketplace.models import Division

    rows = {d.code: d for d in db.exec(select(Division)).all()}
    assert set(rows) == {seed.code for seed in DIVISIONS}
    assert rows["CDC"].bureau_code == "009:20"
    assert "7523" in rows["CDC"].codes("subtier_codes")
    assert rows["CMS"].bureau_code == "009:38"
