"""catalog search: an index of lowercased titles, for the exact-title tier

Revision ID: 0013_catalog_exact_title
Revises: 0012_catalog_fts_prefix
Create Date: 2026-11-26 19:40:00

Ranking puts a listing whose title is exactly the query first. On SQLite, when thousands of titles
hold a broad word, only the best-scored of them are looked up in the listing table, and this
index finds the exact titles among the rest in one lookup (see
marketplace.catalog.search._ranked_scoring_once). PostgreSQL ranks in its own way and does not
need it.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_catalog_exact_title"
down_revision: str | None = "0012_catalog_fts_prefix"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named ix_listing_search_* so autogenerate leaves it alone (marketplace.migrate.UNMANAGED_INDEXES).
INDEX = "ix_listing_search_exact_title"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON listing (lower(title))")
        op.execute("ANALYZE listing")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
