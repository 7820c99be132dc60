"""Results kept per process while the records behind them are unchanged.

Counting tens of thousands of rows by facet costs tens of milliseconds; people repeat the same
searches far more often than the records change. A result is kept under a key that includes a
*stamp* of the records it read (latest change, highest id, counts): a write moves the stamp, so
the next request computes afresh, and nothing has to be told to forget. A stamp that moved while
a result was being computed only means the result is kept under the older key, never that a
newer stamp serves older figures.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import select

Value = TypeVar("Value")

# Every map of the process, so that all can be forgotten at once (`forget_all`).
_every_map: weakref.WeakSet[KeptResults[object]] = weakref.WeakSet()


class KeptResults(Generic[Value]):
    """A bounded, thread-safe map; the least recently used entry is dropped first.

    Args:
        size: the most entries kept.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        _every_map.add(self)  # type: ignore[arg-type]

    def get(self, key: Hashable) -> Value | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def database_key(db: object) -> str:
    """The database a session reads (URL without password): part of every key, since one
    process may serve several databases (tests, benchmarks)."""
    bind = db.get_bind()  # type: ignore[attr-defined]
    engine = getattr(bind, "engine", bind)
    return engine.url.render_as_string(hide_password=True)


def read_stamp(db: Any, *aggregates: Any) -> tuple[Any, ...]:
    """The values of `aggregates` (max, count...) in one query, each its own scalar subquery, so
    that each is one index lookup: a single SELECT of them all would scan the tables."""
    return tuple(db.exec(select(*(select(a).scalar_subquery() for a in aggregates))).one())


def forget_all() -> None:
    """Empty every map of the process.

    For a database that was emptied and refilled behind the stamps' back: tests truncate their
    PostgreSQL database and restart its ids between tests, so two tests' stamps could match.
    """
    for kept in list(_every_map):
        kept.clear()
