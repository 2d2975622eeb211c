"""Test back-ends: PostgreSQL + Redis when COMMENTMOD_TEST_DATABASE_URL /
COMMENTMOD_TEST_REDIS_URL are set (unreachable → the run fails, never skips), else SQLite and
kombu's SQLAlchemy broker in a temporary folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@dataclass
class Backend:
    name: str
    database_url: str
    broker_url: str
    # A second broker nobody consumes from, to inspect task messages as sent.
    captive_broker_url: str
    # A third broker for a worker started with special settings.
    spare_broker_url: str


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
    # The database CI created for this run; its schema is reset so a run starts clean.
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # raises (the run fails) when PostgreSQL is unreachable
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    client.ping()  # raises (the run fails) when Redis is unreachable
    client.close()
    # Three Redis databases from the one given: the broker, a captive one, a spare one.
    parts = urlsplit(redis_url)
    first = int(parts.path.strip("/") or 0)
    brokers = [urlunsplit(parts._replace(path=f"/{first + i}")) for i in range(3)]
    for url in brokers:
        c = redis.Redis.from_url(url)
        c.flushdb()
        c.close()
    return Backend(
        name="postgresql+redis",
        database_url=db_url,
        broker_url=brokers[0],
        captive_broker_url=brokers[1],
        spare_broker_url=brokers[2],
    )
