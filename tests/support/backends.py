"""Test back-ends: PostgreSQL + Redis when COMMENTMOD_TEST_DATABASE_URL /
COMMENTMOD_TEST_REDIS_URL are set (unreachable → the run fails, never skips), else SQLite and
kombu's SQLAlchemy broker in a temporary folder."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


@dataclass
class Backend:
    name: str
    database_url: str
    broker_url: str
    # A second broker nobody consumes from, to inspect task messages as sent.
    captive_broker_url: str
    # A third broker for a worker started with special settings.
    spare_broker_url: str
    drop_database: str | None = None


def _pg_admin_url(url: URL) -> URL:
    return url.set(database="postgres")


def make_backend(tmp: Path) -> Backend:
    db_url = os.environ.get("COMMENTMOD_TEST_DATABASE_URL")
    redis_url = os.environ.get("COMMENTMOD_TEST_REDIS_URL")
    if bool(db_url) != bool(redis_url):
        raise RuntimeError(
            "set both COMMENTMOD_TEST_DATABASE_URL and COMMENTMOD_TEST_REDIS_URL, or neither"
        )
    if db_url and redis_url:
        return _server_backend(db_url, redis_url)
    return Backend(
        name="embedded",
        database_url=f"sqlite:///{tmp / 'commentmod.db'}",
        broker_url=f"sqla+sqlite:///{tmp / 'broker.db'}",
        captive_broker_url=f"sqla+sqlite:///{tmp / 'captive-broker.db'}",
        spare_broker_url=f"sqla+sqlite:///{tmp / 'spare-broker.db'}",
    )


def _server_backend(db_url: str, redis_url: str) -> Backend:
    base = make_url(db_url)
    if not base.drivername.startswith("postgresql"):
        raise RuntimeError("COMMENTMOD_TEST_DATABASE_URL must be a postgresql+psycopg:// URL")
    # A fresh database per run, so runs never see each other's rows.
    name = f"commentmod_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_admin_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # raises (the run fails) when PostgreSQL is unreachable
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    client.ping()  # raises (the run fails) when Redis is unreachable
    client.close()
    redis_base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    first = int(redis_url.rsplit("/", 1)[1]) if redis_url.count("/") > 2 else 0
    brokers = [f"{redis_base}/{first + i}" for i in range(3)]
    for url in brokers:
        c = redis.Redis.from_url(url)
        c.flushdb()
        c.close()
    return Backend(
        name="postgresql+redis",
        database_url=base.set(database=name).render_as_string(hide_password=False),
        broker_url=brokers[0],
        captive_broker_url=brokers[1],
        spare_broker_url=brokers[2],
        drop_database=name,
    )


def drop_backend(backend: Backend) -> None:
    if backend.drop_database is None:
        return
    url = make_url(backend.database_url)
    admin = create_engine(_pg_admin_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{backend.drop_database}" WITH (FORCE)'))
    admin.dispose()
