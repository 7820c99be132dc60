"""search speed: indexes that let catalog search avoid reading whole listing rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named ix_listing_search_* so autogenerate leaves them alone (marketplace.migrate.UNMANAGED_INDEXES):
# they serve the hand-written SQL of marketplace.catalog.search, not the models.
INDEXES = {
    # Total and single-valued facets of the empty query: one pass over a narrow index.
    "ix_listing_search_facets": "listing (status, access_level, kind, division_id)",
}
# The empty query's default order, read from the index instead of sorting every listing. A DESC
# index keeps NULLs last on SQLite (which rejects NULLS LAST here) but first on PostgreSQL.
ORDER_INDEX = "ix_listing_search_order"
ORDER_COLUMNS = {
    "sqlite": "listing (completeness DESC, modified_on DESC, id, status, access_level)",
    "postgresql": "listing (completeness DESC, modified_on DESC NULLS LAST, id, status, access_level)",
}
# SQLite: a listing row carries its record JSON and description (overflow pages), so looking up
# each full-text hit in the table is the cost of a search. This index holds everything search
# needs per hit and is named in the query (INDEXED BY). PostgreSQL reads its hits from the heap
# after the GIN bitmap scan either way.
SQLITE_COVER = (
    "ix_listing_search_cover",
    "listing (id, status, access_level, kind, division_id, completeness, modified_on, title)",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    indexes = {**INDEXES, ORDER_INDEX: ORDER_COLUMNS[dialect]}
    if dialect == "sqlite":
        indexes[SQLITE_COVER[0]] = SQLITE_COVER[1]
    for name, target in indexes.items():
        op.execute(f"CREATE INDEX {name} ON {target}")
    op.execute("ANALYZE")


def downgrade() -> None:
    names = [*INDEXES, ORDER_INDEX, SQLITE_COVER[0]]
    for name in names:
        op.execute(f"DROP INDEX IF EXISTS {name}")
