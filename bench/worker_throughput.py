"""Workers alone: drain a backlog of N comments' checks (PostgreSQL + Redis).

    .venv/bin/python bench/worker_throughput.py [--n 1000] [--concurrency 2]
        [--redis redis://127.0.0.1:6379/14]

Creates a fresh PostgreSQL database, submits N comments through the Flask handler with the
workers stopped (their checks go to Redis), then starts ``python -m service.cli worker`` from
the current directory and waits until every comment is decided. Prints comments/s over the
decisions (last ``decided_at`` - first) and over the wall time since the worker started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import redis
from sqlalchemy import create_engine, text

from service.api import create_app
from service.db.migrate import upgrade
from service.domain.privacy import generate_email_key, generate_hash_key
from service.settings import load_settings
from service.usecases.services import build_services
from service.usecases.sites import create_site

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--burst",
        action="store_true",
        help="hand every check to the producer at once after the submissions (a burst: its "
        "thread then sends batches) instead of one by one as each submission commits",
    )
    args = parser.parse_args()
    name = f"perf_x_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    redis.Redis.from_url(args.redis).flushdb()
    worker: subprocess.Popen[bytes] | None = None
    engine = create_engine(url)
    try:
        upgrade(url)
        email_key, hash_key = generate_email_key(), generate_hash_key()
        settings = load_settings(
            database_url=url,
            broker_url=args.redis,
            email_keys=email_key,
            hash_key=hash_key,
            log_level="WARNING",
            rate_limit_site_requests=0,
            flood_interval_seconds=0,
        )
        svc = build_services(settings)
        _, key = create_site(svc, "throughput")
        client = create_app(services=svc).test_client()
        held: list[tuple[str, Any]] = []
        enqueue_checks = svc.producer.enqueue_checks
        if args.burst:
            svc.producer.enqueue_checks = lambda cid, checks: held.append((cid, checks))  # type: ignore[method-assign]
        headers = {"Authorization": f"Bearer {key}"}
        for i in range(args.n):
            r = client.post(
                "/v1/comments",
                json={
                    "thread_id": f"t{i % 20}",
                    "author_name": "Bench",
                    "author_email": f"b{uuid.uuid4().hex}@example.com",
                    "text": f"An ordinary remark about the article, number {uuid.uuid4().hex}.",
                },
                headers=headers,
            )
            assert r.status_code == 202, r.data
        for comment_id, checks in held:
            enqueue_checks(comment_id, checks)
        assert svc.producer.flush(60)
        svc.close()
        backlog = redis.Redis.from_url(args.redis).llen("moderation")
        env = dict(
            os.environ,
            COMMENTMOD_DATABASE_URL=url,
            COMMENTMOD_BROKER_URL=args.redis,
            COMMENTMOD_EMAIL_KEYS=email_key,
            COMMENTMOD_HASH_KEY=hash_key,
            COMMENTMOD_LOG_LEVEL="WARNING",
        )
        started = time.monotonic()
        worker = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", f"--concurrency={args.concurrency}"],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        pending = args.n
        while time.monotonic() - started < args.timeout:
            with engine.connect() as conn:
                pending = conn.scalar(
                    text("SELECT count(*) FROM comments WHERE decided_at IS NULL")
                )
            if not pending:
                break
            time.sleep(0.2)
        wall = time.monotonic() - started
        with engine.connect() as conn:
            first, last, decided = conn.execute(
                text("SELECT min(decided_at), max(decided_at), count(decided_at) FROM comments")
            ).one()
            statuses = dict(
                conn.execute(text("SELECT status, count(*) FROM comments GROUP BY status")).all()
            )
        span = (last - first).total_seconds() if first and last else float("nan")
        print(
            json.dumps(
                {
                    "n": args.n,
                    "messages_in_queue": backlog,
                    "decided": decided,
                    "statuses": statuses,
                    "comments_per_s_decisions": round(decided / span, 1) if span else None,
                    "comments_per_s_wall": round(decided / wall, 1),
                    "wall_s": round(wall, 2),
                }
            )
        )
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
