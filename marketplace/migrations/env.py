"""Alembic environment: runs against the URL the app is configured with."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import marketplace.all_models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.db import build_engine
from marketplace.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata

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


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
