"""catalog search: FTS5 prefix indexes, and a title-less index for scoring hits

Revision ID: 0012_catalog_fts_prefix
Revises: 0011
Create Date: 2026-11-26 16:10:00

Search matches every loose word as a prefix. Without a prefix index FTS5 answers `"medic"*` by
merging the document lists of every indexed word that starts with "medic" (medicare, medicaid,
medical, ...), and it does so again for each statement that reads the match and once more for
bm25's document frequencies: 10-15 ms each on 100,000 listings, four or five times per search.
With `prefix='2 3 4 5 6'` FTS5 keeps those merged lists for the stems' first 2 to 6 characters
(the porter stemmer makes "use" the prefix "us"), which answer the same matches with the same
scores in about a millisecond. Longer prefixes have few completions and gain nothing. The index
grows about fourfold (60 to 245 MB of FTS data on the benchmark's 100,000 listings).

PostgreSQL keeps its tsvector and GIN index unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_catalog_fts_prefix"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "title, keywords, publisher, description"
TOKENIZE = "tokenize = 'porter unicode61 remove_diacritics 2'"


# Named ix_listing_search_* so autogenerate leaves them alone (marketplace.migrate.UNMANAGED_INDEXES).
# Search's per-hit lookups that need no title (counting, and ranking the hits whose title lacks a
# word) read this index: ix_listing_search_narrow plus completeness, which it replaces. Reading it
# instead of ix_listing_search_cover (which holds the title) makes scoring those hits about a
# fifth cheaper.
SCORED = (
    "ix_listing_search_scored",
    "listing (id, status, access_level, kind, division_id, completeness)",
)
NARROW = ("ix_listing_search_narrow", "listing (id, status, access_level, kind, division_id)")


def upgrade() -> None:
    _rebuild(f"{TOKENIZE}, prefix = '2 3 4 5 6'")
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE INDEX {SCORED[0]} ON {SCORED[1]}")
        op.execute(f"DROP INDEX {NARROW[0]}")
        op.execute("ANALYZE listing")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"CREATE INDEX {NARROW[0]} ON {NARROW[1]}")
        op.execute(f"DROP INDEX {SCORED[0]}")
    _rebuild(TOKENIZE)


def _rebuild(options: str) -> None:
    """Recreate listing_fts with these options, copying its documents (same rowids)."""
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute("ALTER TABLE listing_fts RENAME TO listing_fts_old")
    op.execute(f"CREATE VIRTUAL TABLE listing_fts USING fts5({COLUMNS}, {options})")
    op.execute(
        "INSERT INTO listing_fts (rowid, title, keywords, publisher, description) "
        "SELECT rowid, title, keywords, publisher, description FROM listing_fts_old"
    )
    op.execute("DROP TABLE listing_fts_old")
