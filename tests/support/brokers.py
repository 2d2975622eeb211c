"""Read task messages straight from a broker nobody consumes (privacy and shape checks)."""

from __future__ import annotations

import redis
from sqlalchemy import create_engine, inspect, text

from service.queue import QUEUE


def raw_messages(broker_url: str) -> list[str]:
    if broker_url.startswith("redis"):
        client = redis.Redis.from_url(broker_url)
        try:
            return [m.decode() for m in client.lrange(QUEUE, 0, -1)]
        finally:
            client.close()
    engine = create_engine(broker_url.removeprefix("sqla+"))
    try:
        if not inspect(engine).has_table("kombu_message"):
            return []
        with engine.connect() as conn:
            return [str(row[0]) for row in conn.execute(text("SELECT payload FROM kombu_message"))]
    finally:
        engine.dispose()
