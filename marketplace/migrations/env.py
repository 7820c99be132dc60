"""Alembic environment: runs against the URL the app is configured with."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import marketplace.all_models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.db import build_engine
from marketplace.migrate import include_object, render_item

config = context.config
target_metadata = SQLModel.metadata


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
