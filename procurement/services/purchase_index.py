"""The purchases word index during bulk imports.

On SQLite the FTS5 table `purchase_fts` is kept by triggers (migration 0007). Row by row they
cost about 200 µs per new purchase, doubling a large import; one INSERT … SELECT after the batch
indexes 20,000 purchases in a tenth of a second. So a bulk import drops the insert trigger inside
its own transaction, indexes its new rows in one statement and creates the trigger again before
it commits. SQLite has one writer at a time, so no other connection can insert a purchase while
the trigger is gone, and a rollback restores it with everything else. PostgreSQL's generated
tsvector column needs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

# Exactly the trigger migration 0007 creates (a test compares them).
SQLITE_INSERT_TRIGGER = (
    "CREATE TRIGGER purchase_fts_insert AFTER INSERT ON purchase BEGIN "
    "INSERT INTO purchase_fts (rowid, search_text) VALUES (new.id, new.search_text); END"
)


@contextmanager
def bulk_indexing(db: Session) -> Iterator[None]:
    """Index the purchases inserted inside the block in one statement at its end (SQLite)."""
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    # New rows of an INTEGER PRIMARY KEY table get ids above the current largest.
    before = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM purchase").scalar_one()
    connection.exec_driver_sql("DROP TRIGGER purchase_fts_insert")
    try:
        yield
    finally:
        connection.exec_driver_sql(
            "INSERT INTO purchase_fts (rowid, search_text) "
            "SELECT id, search_text FROM purchase WHERE id > ?",
            (before,),
        )
        connection.exec_driver_sql(SQLITE_INSERT_TRIGGER)
