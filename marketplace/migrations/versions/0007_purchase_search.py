"""purchase word index for the register search and check-before-you-buy

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 09:20:00

The index holds the words of `purchase.search_text` (PIIDs, vendor, product, description, codes),
split at every ASCII character that is not a letter or digit, exactly as
`procurement.services.purchases.search_words` splits a query, so both engines find the same rows:

- SQLite: an external-content FTS5 table `purchase_fts` (rowid = purchase id, `ascii` tokenizer:
  ASCII punctuation separates, every other character is part of a word; no stemming) kept in
  step by three triggers, so every writer (forms, imports, vendor merges, the demo) updates it.
- PostgreSQL: a generated `tsvector` column `purchase.search_vector` built from the same words
  with `array_to_tsvector` (no parser, no dictionary, so no locale or stemming differences), with
  a GIN index. Words longer than 200 characters are cut into 200-character pieces there (a
  lexeme may not pass 2 kB); queries use at most 40 characters a word, so matches agree.

Batch migrations on SQLite rebuild a table and drop its triggers: a later migration that alters
`purchase` in batch mode must run TRIGGERS again (tests/procurement/test_purchase_search.py
checks they exist at head).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ASCII characters that are neither letters nor digits: what separates words on both engines.
_SEPARATORS = r"[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]"

FTS_TABLE = (
    "CREATE VIRTUAL TABLE purchase_fts USING fts5("
    "search_text, content='purchase', content_rowid='id', tokenize='ascii')"
)
TRIGGERS = (
    "CREATE TRIGGER purchase_fts_insert AFTER INSERT ON purchase BEGIN "
    "INSERT INTO purchase_fts (rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER purchase_fts_delete AFTER DELETE ON purchase BEGIN "
    "INSERT INTO purchase_fts (purchase_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER purchase_fts_update AFTER UPDATE OF search_text ON purchase BEGIN "
    "INSERT INTO purchase_fts (purchase_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO purchase_fts (rowid, search_text) VALUES (new.id, new.search_text); END",
)
POSTGRES_VECTOR = (
    "ALTER TABLE purchase ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "array_to_tsvector(array_remove(regexp_split_to_array("
    f"regexp_replace(search_text, '([^{_SEPARATORS[1:-1]}]{{200}})', '\\1 ', 'g'), "
    f"'{_SEPARATORS}+'), ''))) STORED"
)
POSTGRES_INDEX = "CREATE INDEX ix_purchase_search_vector ON purchase USING gin (search_vector)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Adding a stored generated column computes it for every existing row: the back-fill.
        op.execute(POSTGRES_VECTOR)
        op.execute(POSTGRES_INDEX)
        op.execute("ANALYZE purchase")
        return
    op.execute(FTS_TABLE)
    for trigger in TRIGGERS:
        op.execute(trigger)
    # Back-fill: index every purchase already in the table.
    op.execute("INSERT INTO purchase_fts (purchase_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_purchase_search_vector")
        op.execute("ALTER TABLE purchase DROP COLUMN IF EXISTS search_vector")
        return
    for name in ("purchase_fts_insert", "purchase_fts_delete", "purchase_fts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS purchase_fts")
