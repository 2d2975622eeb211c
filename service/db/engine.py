"""Engine and session factory for one settings object (built by the composition roots)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(
    database_url: str, *, pool_size: int = 5, pool_recycle: int = 1800, autocommit: bool = False
) -> Engine:
    """``autocommit=True`` (PostgreSQL only) gives a separate pool for single-statement reads:
    no BEGIN/ROLLBACK round trips. SQLite ignores it (its writers are serialized anyway)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(database_url)
    engine = create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=pool_recycle,
        pool_timeout=5,
        connect_args={"connect_timeout": 5},
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
    )
    _ping_idle_connections(engine)
    return engine


# A restarted PostgreSQL leaves dead pooled connections. SQLAlchemy's pool_pre_ping tests
# every checkout, a round trip as dear as a submission's own statement; a connection that was
# back in the pool less than this long ago is used untested instead (one that died meanwhile
# fails that request with 503 storage_unavailable, and the pool then renews its connections).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since", 0.0)
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # any failure: use a new connection instead
            # The pool discards this connection and checks out a fresh one (up to 3 tries).
            raise exc.DisconnectionError() from error


def _sqlite_engine(database_url: str) -> Engine:
    engine = create_engine(database_url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below), and make readers not block the writer.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # BEGIN IMMEDIATE takes the write lock up front: the web and several workers write
        # the same file, and a deferred transaction that read first cannot upgrade in WAL.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_postgresql(bind: Engine | Connection) -> bool:
    """The one dialect test: PostgreSQL-only statements and options are chosen by it."""
    return bind.dialect.name == "postgresql"


def upsert(
    s: Session,
    model: Any,
    values: dict[str, Any],
    keys: list[str],
    on_conflict: dict[str, Any],
) -> None:
    """INSERT … ON CONFLICT DO UPDATE (PostgreSQL and SQLite): safe under concurrency."""
    insert = pg_insert if is_postgresql(s.get_bind()) else sqlite_insert
    statement = insert(model).values(**values)
    s.execute(statement.on_conflict_do_update(index_elements=keys, set_=on_conflict))
