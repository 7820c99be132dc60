"""A large import refreshes the planner's statistics of every table it grows, on both engines."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from procurement.services import imports
from procurement.services.imports import ImportOptions, import_awards

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


def test_a_large_import_analyses_vendors_and_their_aliases(db, tmp_path, monkeypatch):
    postgresql = db.get_bind().dialect.name == "postgresql"
    rows = _rows(40)
    _import(db, tmp_path, rows[:10], "small.csv")  # below the threshold: nothing analysed
    db.rollback()
    assert _planner_rows(db, "vendor") is None
    vacuums = _purchase_vacuums(db) if postgresql else 0
    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", 20)
    _import(db, tmp_path, rows[10:], "large.csv")
    db.rollback()
    if postgresql:  # vacuumed, so facet counts can come from the covering indexes alone
        assert _purchase_vacuums(db) == vacuums + 1
    assert _planner_rows(db, "purchase") == 40
    assert _planner_rows(db, "vendor") == 40
    assert _planner_rows(db, "vendor_alias") >= 40  # every vendor's name is one of its aliases
