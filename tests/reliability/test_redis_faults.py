"""Redis killed, hung (SIGSTOP) and returned empty while readers post.

Real processes: a private redis-server (the broker), `commentmod worker`, `commentmod
scheduler` (the outbox relay every second), and the web app over real HTTP. The checks take
0.3 s each so that a backlog of queued and unacknowledged messages is inside Redis when it
is killed: those are lost with it and only the outbox relay can bring them back.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from service.db.models import CheckJob
from service.settings import Settings
from service.usecases.services import build_services
from service.usecases.sites import create_site
from tests.reliability import plugins
from tests.reliability.conftest import body, fault_settings, live_server, pipeline_counts, record
from tests.reliability.servers import RedisServer, Scheduler, Worker, wait_for
from tests.support.backends import Backend

PER_PHASE = 12
MAX_LATENCY_SECONDS = 2.0


def test_redis_killed_hung_and_returned_empty(
    backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    s = fault_settings(
        settings,
        tmp_path,
        broker_url=redis.url(),
        # The limiter counts in the same Redis: it must not make a hung Redis slow either.
        rate_limit_site_requests=10_000,
        rate_limit_ip_requests=10_000,
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

    def post_phase(phase: str, url: str) -> None:
        for _ in range(PER_PHASE):
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
            redis.kill()  # a backlog of queued + unacked messages dies with it
            post_phase("killed", url)
            redis.start()  # same port, empty
            post_phase("returned_empty", url)
            redis.pause()
            post_phase("hung", url)
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
    assert max(worst.values()) < MAX_LATENCY_SECONDS, worst
    assert not undecided, f"lost: {undecided}\n{worker.log()[-3000:]}"
    for c in counts.values():
        assert c["status"] == "published"
        assert c["results"] == {"spam": 1, "toxicity": 1}
        assert c["decisions"] == 1 and c["publications"] == 1
