"""`commentmod serve` on a Redis broker that is killed, again and again, with checks in flight.

What issue 16 saw: Redis died while the worker held a delivered, unacknowledged check; the
worker hit "Unrecoverable error: AttributeError(... 'hostname')" (celery 5.7.0), exited, and
`serve` took the web down with it. Here a real `commentmod serve` (gunicorn + worker +
scheduler, supervised) runs on the run's database with a private redis-server as its broker;
a reader posts steadily; before every kill the test sees a check delivered and not yet
acknowledged in Redis' ``unacked`` hash, then SIGKILLs Redis (everything in it is lost) and
starts it again empty on the same port, at random moments, CYCLES times.

Pass: every request answered (no connection error, no 5xx), every accepted comment decided
exactly once and published once, no process restarted by the supervisor (the worker rode out
every loss), and the service up at the end and stopping cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

import redis as redis_client
import requests

from service.settings import Settings
from service.usecases.services import build_services
from service.usecases.sites import create_site
from tests.reliability import plugins
from tests.reliability.conftest import (
    body,
    fault_settings,
    pipeline_counts,
    private_database_url,
    record,
)
from tests.reliability.servers import CommentmodProcess, RedisServer, free_port, wait_for
from tests.support.backends import Backend

CYCLES = int(os.environ.get("RELIABILITY_REDIS_CYCLES", "20"))
POST_EVERY_SECONDS = 0.3
# Long enough that a kill right after a delivery catches the check mid-run.
CHECK_SECONDS = "0.5"
UNACKED_KEY = "unacked"  # kombu's Redis transport: delivered, not yet acknowledged


class Reader(threading.Thread):
    """Posts a comment every POST_EVERY_SECONDS until stopped; counts every outcome."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.url, self.key = url, key
        self.accepted: list[str] = []
        self.statuses: dict[int, int] = {}
        self.connection_errors: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                r = requests.post(
                    f"{self.url}/v1/comments",
                    json=body(client_ip=f"198.51.100.{len(self.accepted) % 250}"),
                    headers={"Authorization": f"Bearer {self.key}"},
                    timeout=10,
                )
            except requests.RequestException as exc:
                self.connection_errors.append(repr(exc))
            else:
                self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
                if r.status_code == 202:
                    self.accepted.append(r.json()["id"])
            self.halt.wait(POST_EVERY_SECONDS)


def _unacked(redis: RedisServer) -> int:
    client = redis_client.Redis(port=redis.port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return int(client.hlen(UNACKED_KEY))
    except redis_client.RedisError:
        return 0
    finally:
        client.close()


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_serve_survives_redis_killed_with_checks_in_flight(
    backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    seed = int(os.environ.get("RELIABILITY_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    redis = RedisServer(tmp_path / "redis").start()
    s = fault_settings(
        settings,
        tmp_path,
        broker_url=redis.url(),
        # Its own database: the session's worker claims waiting jobs from the run's database.
        database_url=private_database_url(backend, tmp_path),
        detector_plugins=plugins.SLOW_SPAM,
        rate_limit_site_requests=10_000,
        rate_limit_ip_requests=10_000,
        # Lost messages come back through the relay (Redis restarts empty), not a timeout.
        relay_grace_seconds=2.0,
        relay_stale_seconds=4.0,
        relay_max_sends=50,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = CommentmodProcess(
        s,
        ["serve", "--host", "127.0.0.1", "--port", str(port)],
        tmp_path / "serve.log",
        extra_env={plugins.SLOW_SECONDS_ENV: CHECK_SECONDS, "WEB_CONCURRENCY": "2"},
    )
    wait_for(lambda: _healthy(url) and " ready." in serve.log(), 90, "serve up", interval=0.2)
    svc = build_services(s)
    _, key = create_site(svc, f"rel-inflight-{time.time_ns()}")
    reader = Reader(url, key)
    in_flight_at_kill: list[int] = []
    try:
        reader.start()
        for _ in range(CYCLES):
            time.sleep(rng.uniform(0.0, 1.0))  # a random moment; then the state is asserted
            in_flight_at_kill.append(
                wait_for(lambda: _unacked(redis), 60, "a check delivered, not acknowledged")
            )
            redis.kill()
            time.sleep(rng.uniform(0.2, 2.0))  # how long Redis stays down
            redis.start()
        reader.halt.set()
        reader.join(timeout=30)

        def all_decided() -> bool:
            counts = pipeline_counts(svc, reader.accepted)
            return all(c["status"] not in (None, "pending") for c in counts.values())

        wait_for(all_decided, 180, "every accepted comment decided", interval=0.5)
        counts = pipeline_counts(svc, reader.accepted)
        still_up = serve.proc.poll() is None and _healthy(url)
    finally:
        reader.halt.set()
        svc.close()
    log = serve.log()
    figures: dict[str, Any] = {
        "cycles": len(in_flight_at_kill),
        "seed": seed,
        "requests": sum(reader.statuses.values()) + len(reader.connection_errors),
        "accepted": len(reader.accepted),
        "connection_errors": len(reader.connection_errors),
        "5xx": sum(n for code, n in reader.statuses.items() if code >= 500),
        "decided_more_than_once": sum(1 for c in counts.values() if c["decisions"] != 1),
        "published_more_than_once": sum(1 for c in counts.values() if c["publications"] > 1),
        "supervisor_restarts": log.count("; restarting in"),
        "unrecoverable_errors": log.count("Unrecoverable error"),
    }
    record("serve, redis killed with checks in flight", backend, **figures)
    assert len(in_flight_at_kill) == CYCLES and all(n > 0 for n in in_flight_at_kill)
    assert not reader.connection_errors, reader.connection_errors[:5]
    assert set(reader.statuses) == {202}, reader.statuses
    assert figures["unrecoverable_errors"] == 0, log[-4000:]
    assert figures["supervisor_restarts"] == 0, log[-4000:]
    for cid, c in counts.items():
        assert c["status"] == "published", (cid, c)
        assert c["decisions"] == 1 and c["publications"] == 1, (cid, c)
        assert c["results"] == {"spam": 1, "toxicity": 1}, (cid, c)
    assert still_up
    serve.proc.terminate()  # SIGTERM to `serve` itself: it stops its children and exits 0
    assert serve.proc.wait(timeout=60) == 0, log[-4000:]
