"""Schema migrations (Alembic) driven from code, so `marketplace db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from marketplace.types import UTCDateTime

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every pending migration to the database at `database_url`."""
    command.upgrade(alembic_config(database_url), revision)


def pending_revisions(engine: Engine, database_url: str) -> bool:
    """True when the database is not at the head revision (or is empty)."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) != set(script.get_heads())


# Tables created by SQL in migrations (FTS5 shadow tables and the like) that autogenerate must ignore.
UNMANAGED_PREFIXES = ("listing_fts", "purchase_fts")


# Search objects are engine-specific (an FTS5 table on SQLite, a tsvector column and GIN index on
# PostgreSQL), created by SQL in migrations and kept out of the models, so autogenerate skips them.
UNMANAGED_COLUMNS = ("search_vector",)
UNMANAGED_INDEXES = ("ix_listing_search", "ix_purchase_search")


def include_object(obj, name, type_, reflected, compare_to):
    """Autogenerate filter: ignore the search objects that migrations create by hand."""
    if not name:
        return True
    if type_ == "table":
        return not name.startswith(UNMANAGED_PREFIXES)
    if type_ == "column":
        return name not in UNMANAGED_COLUMNS
    if type_ == "index":
        return not name.startswith(UNMANAGED_INDEXES)
    return True


def render_item(type_, obj, autogen_context):
    """Render the app's own column types with their full import path."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import marketplace.types")
        return "marketplace.types.UTCDateTime()"
    return False
