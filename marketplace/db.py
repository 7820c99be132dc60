"""Database engine, per-request sessions and the SQLite pragmas the app relies on."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, create_engine

from marketplace.settings import Settings

# Reads beyond this size fall back to the page cache; the benchmark databases are 100-930 MB.
SQLITE_MMAP_BYTES = 1 << 30


def build_engine(database_url: str, *, pool_size: int = 10) -> Engine:
    """Create the engine for a URL; SQLite gets WAL, foreign keys and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # Kept connections keep their parsed schema, page cache and full-text state: a
            # first catalog search of "medic*" took 57 ms on a new connection, 39 ms on a kept
            # one. The pool rolls back each connection it takes back, which ends its WAL read
            # snapshot. No cap (max_overflow=-1): a request holding two connections (its session
            # and an exclusive writer) must never wait for a third.
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=-1,
            # The most recently returned connection first: its map and caches are the warmest
            # (see Database.prewarm).
            pool_use_lifo=True,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(
        database_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin) instead of pysqlite's lazy BEGIN,
    # so that `immediate_transaction` can take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A connection's page cache is its own (2 MB) and starts empty: mapped pages are read from
    # the OS's cache without a copy. A first search that looks up 10,900 purchases at random took
    # 59-76 ms through the page cache, 15-27 ms mapped.
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    mode = connection.info.pop("begin_mode", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@contextmanager
def exclusive_session(engine: Engine) -> Iterator[Session]:
    """A Session whose transaction holds the write lock from its first statement.

    Read-then-write paths that must be exclusive (last licence seat, next invoice number) use it:
    SQLite gets `BEGIN IMMEDIATE`; on PostgreSQL callers lock rows with `SELECT … FOR UPDATE`.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.info["begin_mode"] = "IMMEDIATE"
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
        finally:
            # The connection goes back to the pool: never let an unused mode reach its next user.
            connection.info.pop("begin_mode", None)


class Database:
    """The engine plus a session factory; one per app (and per worker process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(settings.database_url)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()

    def prewarm(self) -> list[str]:
        """SQLite: read every table and index once through a pooled connection; what was read.

        Each connection maps the database file on its own, and the first read of each mapped
        page costs a page fault. In a new process every first search paid for the pages it
        touched: the first request of each of the catalog benchmark's 61 queries took p50 10.7 /
        p95 27 ms, then 8.9 / 19.4 ms after this (about 90 ms at startup for 930 MB). The pool
        hands out the most recently returned connection first, so this one serves the next
        requests. Skipped when the file is larger than the map (the rest would not stay) and on
        PostgreSQL, whose buffers outlive the app.
        """
        if not is_sqlite(self.engine):
            return []
        read: list[str] = []
        with self.engine.connect() as connection:
            pages, page_size = (
                connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                for name in ("page_count", "page_size")
            )
            if pages * page_size > SQLITE_MMAP_BYTES:
                return []
            objects = connection.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                "WHERE type IN ('table', 'index') ORDER BY type DESC, name"
            ).all()
            for kind, name, table, sql in objects:
                if kind == "table" and (sql or "").upper().startswith("CREATE VIRTUAL"):
                    continue  # its own tables hold its data and are read in turn
                scan = "NOT INDEXED" if kind == "table" else f"INDEXED BY {_quoted(name)}"
                # count(*) walks every page of the b-tree without decoding its rows. The names
                # come from the schema itself.
                statement = f"SELECT count(*) FROM {_quoted(table)} {scan}"  # noqa: S608
                connection.exec_driver_sql(statement).all()
                read.append(name)
        return read


async def provide_db_session(database: Database) -> AsyncGenerator[Session, None]:
    """Request-scoped Session dependency.

    An async generator on purpose: written as a sync generator, its cleanup ran on the thread pool and
    deadlocked once 32 requests held every thread.
    """
    session = database.session()
    try:
        yield session
    finally:
        session.close()


def database_is_reachable(database: Database) -> tuple[bool, str]:
    """For /healthz: one round trip to the database; the reason when it fails."""
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return False, f"{type(exc).__name__}: unreachable"
    return True, "ok"
