"""After a large import: the planner's statistics of every table it grows, PostgreSQL's vacuum and
GIN pending list, on both engines."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from procurement.services import imports, purchases
from procurement.services.imports import ImportOptions, import_awards
from procurement.services.purchases import PurchaseQuery
from tests.procurement.test_purchase_search import officer
from tests.support import see_latest

HEADER = "piid,division,vendor,description,start,current_end,obligated"


def _rows(count: int) -> list[str]:
    # One vendor per row: vendors and their aliases grow with the register.
    return [
        f"75D30124P{n:05d},CDC,Vendor {n} Analytics LLC,Claims data,2026-01-01,2026-12-31,10.00"
        for n in range(1, count + 1)
    ]


def _import(db, tmp_path: Path, rows: list[str], name: str) -> None:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    outcome = import_awards(db, "cli: test", path, ImportOptions(filename=name))
    assert outcome.created == len(rows)
    see_latest(db)


def _planner_rows(db, table: str) -> float | None:
    """The row count the planner believes the table holds; None when it was never analysed."""
    if db.get_bind().dialect.name == "postgresql":
        tuples = db.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = :table"), {"table": table}
        ).scalar_one()
        return None if tuples <= 0 else tuples
    if not db.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first():
        return None
    stat = db.execute(
        text("SELECT stat FROM sqlite_stat1 WHERE tbl = :table"),
        {"table": table},
    ).first()
    return None if stat is None else float(stat[0].split()[0])


def _purchase_vacuums(db) -> int:
    """How many times PostgreSQL has vacuumed the purchase table by hand (VACUUM, not autovacuum)."""
    db.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.execute(
        text("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'purchase'")
    ).scalar_one()


def _pending_word_pages(db) -> int:
    db.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
    return db.execute(
        text("SELECT pending_pages FROM pgstatginindex('ix_purchase_search_vector')")
    ).scalar_one()


def test_a_large_import_refreshes_statistics_vacuums_and_merges_pending_words(
    db, tmp_path, monkeypatch
):
    postgresql = db.get_bind().dialect.name == "postgresql"
    rows = _rows(40)
    _import(db, tmp_path, rows[:10], "small.csv")  # below the threshold: nothing analysed
    db.rollback()
    assert _planner_rows(db, "vendor") is None
    vacuums = 0
    if postgresql:
        assert _pending_word_pages(db) > 0  # new words wait in the GIN index's pending list
        vacuums = _purchase_vacuums(db)
    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", 20)
    _import(db, tmp_path, rows[10:], "large.csv")
    db.rollback()
    if postgresql:  # vacuumed, so facet counts can come from the covering indexes alone
        assert _purchase_vacuums(db) == vacuums + 1
        assert _pending_word_pages(db) == 0  # and every word search no longer reads the list
    assert _planner_rows(db, "purchase") == 40
    assert _planner_rows(db, "vendor") == 40
    assert _planner_rows(db, "vendor_alias") >= 40  # every vendor's name is one of its aliases
    page = purchases.search_purchases(
        db, officer(db), PurchaseQuery(q="claims"), today=date(2026, 11, 26)
    )
    assert page.total == 40
