"""Kept results: bounded, least recently used first out, and forgotten all at once."""

from __future__ import annotations

import pytest

from marketplace.memo import KeptResults, forget_all


def test_the_least_recently_used_entry_goes_first() -> None:
    kept: KeptResults[int] = KeptResults(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "b" is now the least recently used
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c")) == (1, None, 3)
    assert len(kept) == 2


def test_forget_all_empties_every_map() -> None:
    first: KeptResults[int] = KeptResults(4)
    second: KeptResults[str] = KeptResults(4)
    first.put(("db", 1), 10)
    second.put(("db", 2), "x")
    forget_all()
    assert len(first) == len(second) == 0
    assert first.get(("db", 1)) is None


def test_a_map_holds_at_least_one_entry() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KeptResults(0)


def test_a_stamp_reads_each_aggregate_in_one_query(db) -> None:
    from sqlalchemy import event, func
    from sqlmodel import col, select

    from marketplace.memo import read_stamp
    from marketplace.models import Division

    ids = db.exec(select(Division.id)).all()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        values = read_stamp(db, func.count(col(Division.id)), func.max(col(Division.id)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert values == (len(ids), max(ids))
    assert len(statements) == 1
