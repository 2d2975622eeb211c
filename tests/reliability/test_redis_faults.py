"""Redis killed, hung (SIGSTOP) and returned empty while readers post.

Real processes: a private redis-server (the broker), `commentmod worker`, `commentmod
scheduler` (the outbox relay every second), and the web app over real HTTP. The checks take
0.3 s each so that a backlog of queued and unacknowledged messages is inside Redis when it
is killed: those are lost with it and only the outbox relay can bring them back. Before the
kill the test sees a check delivered and unacknowledged in Redis; the hung phase lasts until
the web's rate limiter has gone back to the hung Redis after its skip window, twice.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client
import requests
from sqlalchemy import func, select

from service.db.models import CheckJob
from service.settings import Settings
from service.usecases.services import build_services
from service.usecases.sites import create_site
from tests.reliability import plugins
from tests.reliability.conftest import (
    body,
    fault_settings,
    live_server,
    pipeline_counts,
    private_database_url,
    record,
)
from tests.reliability.servers import RedisServer, Scheduler, Worker, wait_for
from tests.support.backends import Backend

PER_PHASE = 12
LIMITER_FAILED = "rate limiter: Redis unavailable, counting in memory"


def _unacked(redis: RedisServer) -> int:
    """Checks delivered to the worker and not yet acknowledged (kombu's ``unacked`` hash)."""
    client = redis_client.Redis(port=redis.port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return int(client.hlen("unacked"))
    finally:
        client.close()


def test_redis_killed_hung_and_returned_empty(
    backend: Backend, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="service.ratelimit")
    redis = RedisServer(tmp_path / "redis").start()
    s = fault_settings(
        settings,
        tmp_path,
        broker_url=redis.url(),
        # Its own database: the session's worker claims waiting jobs from the run's database.
        database_url=private_database_url(backend, tmp_path),
        # The limiter counts in the same Redis: it must not make a hung Redis slow either.
        rate_limit_site_requests=10_000,
        rate_limit_ip_requests=10_000,
        # The hung phase lasts past the limiter's 5 s skip window; checks in flight meanwhile
        # must not reach the short default fault time limits (8 s) and be given up.
        task_soft_time_limit_seconds=20,
        task_time_limit_seconds=25,
        broker_visibility_timeout_seconds=30,
        detector_plugins={
            "spam": "tests.reliability.plugins:slow_spam",
            "toxicity": "tests.reliability.plugins:clean_toxicity",
        },
    )
    slow = {plugins.SLOW_SECONDS_ENV: "0.3"}
    worker = Worker(s, tmp_path / "worker.log", concurrency=2, extra_env=slow).wait_ready()
    Scheduler(s, tmp_path / "scheduler.log")
    svc = build_services(s)
    _, key = create_site(svc, f"rel-redis-{time.time_ns()}")
    accepted: list[str] = []
    latencies: dict[str, list[float]] = {}
    statuses: dict[str, list[int]] = {}

    def limiter_failures() -> int:
        return sum(1 for r in caplog.records if r.getMessage() == LIMITER_FAILED)

    def post_phase(phase: str, url: str, until_limiter_failures: int = 0) -> None:
        """PER_PHASE posts, and more until the limiter has failed on Redis that often."""
        goal = limiter_failures() + until_limiter_failures
        deadline = time.monotonic() + 60
        posted = 0
        while posted < PER_PHASE or limiter_failures() < goal:
            assert time.monotonic() < deadline, f"{phase}: limiter failures {limiter_failures()}"
            if posted >= PER_PHASE:
                time.sleep(0.1)  # pace the extra posts: a reader, not a flood
            posted += 1
            started = time.monotonic()
            r = requests.post(
                f"{url}/v1/comments",
                json=body(client_ip=f"198.51.100.{len(accepted) % 250}"),
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
            latencies.setdefault(phase, []).append(time.monotonic() - started)
            statuses.setdefault(phase, []).append(r.status_code)
            if r.status_code == 202:
                accepted.append(r.json()["id"])

    try:
        with live_server(svc) as url:
            post_phase("healthy", url)
            assert wait_for(lambda: _unacked(redis), 30, "a check delivered, unacknowledged")
            redis.kill()  # a backlog of queued + unacked messages dies with it
            post_phase("killed", url)
            redis.start()  # same port, empty
            post_phase("returned_empty", url)
            redis.pause()
            # Twice: once on the first post, once more after its 5 s skip window, so the
            # request path has met the hung server again (not only the in-memory fallback).
            post_phase("hung", url, until_limiter_failures=2)
            redis.resume()
            returned = time.monotonic()

            def all_decided() -> bool:
                counts = pipeline_counts(svc, accepted)
                return all(c["status"] not in (None, "pending") for c in counts.values())

            try:
                wait_for(all_decided, 90, "every accepted comment decided", interval=0.5)
            finally:
                counts = pipeline_counts(svc, accepted)
            recovery = time.monotonic() - returned
        with svc.storage.sessions() as db:
            resends = db.scalar(
                select(func.sum(CheckJob.send_count)).where(CheckJob.comment_id.in_(accepted))
            )
    finally:
        svc.close()
    undecided = [cid for cid, c in counts.items() if c["status"] in (None, "pending")]
    worst = {phase: round(max(values), 3) for phase, values in latencies.items()}
    figures: dict[str, Any] = {
        "posted": sum(len(v) for v in statuses.values()),
        "accepted": len(accepted),
        "non_202": sum(1 for v in statuses.values() for code in v if code != 202),
        "lost": len(undecided),
        "duplicated_decisions": sum(1 for c in counts.values() if c["decisions"] > 1),
        "duplicated_results": sum(
            1 for c in counts.values() for n in c["results"].values() if n > 1
        ),
        "relay_resends": int(resends or 0),
        "max_post_seconds_by_phase": worst,
        "seconds_until_all_decided_after_redis_returned": round(recovery, 1),
    }
    record("redis killed, hung, returned empty", backend, **figures)
    assert all(code == 202 for v in statuses.values() for code in v), statuses
    assert not undecided, f"lost: {undecided}\n{worker.log()[-3000:]}"
    for c in counts.values():
        assert c["status"] == "published"
        assert c["results"] == {"spam": 1, "toxicity": 1}
        assert c["decisions"] == 1 and c["publications"] == 1
