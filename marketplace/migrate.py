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
UNMANAGED_PREFIXES = ("listing_fts",)


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name and name.startswith(UNMANAGED_PREFIXES))


def render_item(type_, obj, autogen_context):
    """Render the app's own column types with their full import path."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import marketplace.types")
        return "marketplace.types.UTCDateTime()"
    return False
