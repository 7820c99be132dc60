"""catalog search ranking for broad queries: a title-only match index and a narrow count index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 09:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named ix_listing_search_* so autogenerate leaves them alone (marketplace.migrate.UNMANAGED_INDEXES);
# they serve the hand-written SQL of marketplace.catalog.search.
#
# PostgreSQL: search ranks the listings whose title holds every word first, so it needs those
# listings without reading every hit's row. The title's lexemes are the 'A'-weighted part of
# search_vector; an expression index over them answers "title matches" from the index alone and
# needs no new column or write path.
POSTGRES_TITLE = (
    "ix_listing_search_title",
    "listing USING gin (ts_filter(search_vector, '{a}'))",
)
# SQLite: FTS5 answers "title matches" with a column filter. What costs on a broad word is
# looking up each hit's kind, division and access level for the counts: this index holds just
# those (ix_listing_search_cover also holds the title and is twice as wide).
SQLITE_NARROW = (
    "ix_listing_search_narrow",
    "listing (id, status, access_level, kind, division_id)",
)


def upgrade() -> None:
    name, target = POSTGRES_TITLE if op.get_bind().dialect.name == "postgresql" else SQLITE_NARROW
    op.execute(f"CREATE INDEX {name} ON {target}")
    op.execute("ANALYZE")


def downgrade() -> None:
    for name in (POSTGRES_TITLE[0], SQLITE_NARROW[0]):
        op.execute(f"DROP INDEX IF EXISTS {name}")
