"""Workers SIGKILLed mid-check, and a check that kills its worker every time.

Both brokers: a private redis-server (acks_late + visibility timeout) and the embedded
SQLAlchemy transport (which forgets a message once delivered, so the outbox relay brings it
back). The spam check sleeps 4 s (a detector plugin) so the test can kill it mid-flight;
the delivery counter (``check_jobs.attempt_count``, written before the detector runs) says
when it is running.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import redis as redis_client
import requests
from sqlalchemy import select

from service.db.models import CheckJob
from service.queue import CHECK_COMMENTS_TASK, CHECK_TASKS, QUEUE
from service.settings import Settings
from service.usecases.services import Services, build_services
from service.usecases.sites import create_site
from tests.reliability import plugins
from tests.reliability.conftest import body, fault_settings, live_server, pipeline_counts, record
from tests.reliability.servers import RedisServer, Scheduler, Worker, wait_for
from tests.support.backends import Backend

SLOW_SECONDS = 4.0


def _broker(kind: str, tmp: Path) -> str:
    if kind == "redis":
        return RedisServer(tmp / "redis").start().url()
    return f"sqla+sqlite:///{tmp / 'broker.db'}"


def _slow_spam_settings(broker: str, settings: Settings, tmp: Path) -> Settings:
    return fault_settings(
        settings,
        tmp,
        broker_url=_broker(broker, tmp),
        detector_plugins=plugins.SLOW_SPAM,
        # Redis: no relay re-send before the broker's own redelivery (visibility timeout),
        # so what is measured is kombu's restore. Embedded: the relay is the only way back.
        relay_grace_seconds=60.0 if broker == "redis" else 6.0,
        relay_stale_seconds=60.0 if broker == "redis" else 6.0,
    )


def _way_back_seconds(s: Settings, broker: str) -> float:
    """How long a dead worker's message takes to come back: Redis restores it once it is
    older than the visibility timeout, at the next sweep; on the embedded broker the relay
    re-sends its jobs once they are stale."""
    if broker == "redis":
        return s.broker_visibility_timeout_seconds + s.broker_restore_interval_seconds
    return s.relay_stale_seconds + s.relay_interval_seconds


CHECK_TASK_NAMES = {*CHECK_TASKS.values(), CHECK_COMMENTS_TASK}


def _deliveries_running(log: str) -> int:
    """Check deliveries the worker logged as received and not yet as ended (succeeded,
    retried, failed, or lost with its pool process)."""
    running = 0
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        data = record.get("data") or {}
        if record.get("message", "").startswith("Task handler raised error:"):
            running -= 1  # its pool process died (WorkerLostError) or hit the hard time limit
        elif data.get("name") in CHECK_TASK_NAMES:
            if record.get("logger") == "celery.worker.strategy":
                running += 1
            elif record.get("logger") == "celery.app.trace":
                running -= 1
    return running


def _quiet(worker: Worker, broker_url: str) -> bool:
    """Nothing queued, delivered-unacknowledged (Redis) or running: no delivery can still
    change the outcome. (The embedded broker keeps no trace of a delivered message; its
    redeliveries are relay re-sends, which the tests' jobs have used up or do not need.)"""
    if _deliveries_running(worker.log()) > 0:
        return False
    if not broker_url.startswith("redis"):
        return True
    client = redis_client.Redis.from_url(broker_url)
    try:
        return client.llen(QUEUE) == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def _attempts(svc: Services, comment_id: str, check: str) -> int:
    with svc.storage.sessions() as s:
        job = s.scalar(
            select(CheckJob).where(CheckJob.comment_id == comment_id, CheckJob.check == check)
        )
        return 0 if job is None else job.attempt_count


def _submit(url: str, key: str) -> str:
    r = requests.post(
        f"{url}/v1/comments", json=body(), headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _decided(svc: Services, comment_id: str, timeout: float) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    wait_for(
        lambda: pipeline_counts(svc, [comment_id])[comment_id]["status"] != "pending",
        timeout,
        "the comment decided",
        interval=0.2,
    )
    return pipeline_counts(svc, [comment_id])[comment_id], time.monotonic() - started


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_child_then_whole_worker_sigkilled_mid_check(
    broker: str, backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    s = _slow_spam_settings(broker, settings, tmp_path)
    slow = {plugins.SLOW_SECONDS_ENV: str(SLOW_SECONDS)}
    worker = Worker(s, tmp_path / "worker-1.log", concurrency=1, extra_env=slow).wait_ready()
    Scheduler(s, tmp_path / "scheduler.log")
    svc = build_services(s)
    _, key = create_site(svc, f"rel-kill-{broker}-{time.time_ns()}")
    try:
        with live_server(svc) as url:
            # 1. One pool process dies mid-check: the main process re-queues the message.
            first = _submit(url, key)
            wait_for(lambda: _attempts(svc, first, "spam") >= 1, 30, "spam check started")
            children = worker.children()
            assert len(children) == 1
            os.kill(children[0].pid, signal.SIGKILL)
            child_counts, child_recovery = _decided(svc, first, 60)
            child_attempts = _attempts(svc, first, "spam")

            # 2. The whole worker (main process and pool) dies mid-check; a new one starts.
            second = _submit(url, key)
            wait_for(lambda: _attempts(svc, second, "spam") >= 1, 30, "spam check started")
            killed_at = time.monotonic()
            worker.kill()
            survivor = Worker(s, tmp_path / "worker-2.log", concurrency=1, extra_env=slow)
            survivor.wait_ready()
            worker_counts, _ = _decided(svc, second, 90)
            worker_recovery = time.monotonic() - killed_at
            worker_attempts = _attempts(svc, second, "spam")
    finally:
        svc.close()
    bound = _way_back_seconds(s, broker) + SLOW_SECONDS + 15  # + worker restart and slack
    # The pool notices a dead child at once, or at the latest when the job's hard time limit
    # expires (seen on the embedded transport); then the re-queued check runs again.
    child_bound = s.task_time_limit_seconds + SLOW_SECONDS + 10
    record(
        f"worker SIGKILL mid-check ({broker} broker)",
        backend,
        child_killed={
            "deliveries": child_attempts,
            "results": child_counts["results"],
            "decisions": child_counts["decisions"],
            "publications": child_counts["publications"],
            "recovery_seconds": round(child_recovery, 1),
            "bound_seconds": child_bound,
        },
        worker_killed={
            "deliveries": worker_attempts,
            "results": worker_counts["results"],
            "decisions": worker_counts["decisions"],
            "publications": worker_counts["publications"],
            "recovery_seconds": round(worker_recovery, 1),
            "bound_seconds": bound,
        },
    )
    for counts in (child_counts, worker_counts):
        assert counts["status"] == "published"
        assert counts["results"] == {"spam": 1, "toxicity": 1}
        assert counts["decisions"] == 1 and counts["publications"] == 1
    assert child_attempts >= 2 and worker_attempts >= 2  # the check ran again
    assert child_recovery < child_bound
    assert worker_recovery < bound


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_check_that_kills_its_worker_every_time_is_bounded_then_held(
    broker: str, backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    s = fault_settings(
        settings,
        tmp_path,
        broker_url=_broker(broker, tmp_path),
        detector_plugins=plugins.CRASHING_TOXICITY,
        check_max_retries=1,
        relay_max_sends=1,
    )
    limit = s.check_max_retries + s.relay_max_sends + 2  # usecases.is_over_attempt_limit
    worker = Worker(s, tmp_path / "worker.log", concurrency=1).wait_ready()
    Scheduler(s, tmp_path / "scheduler.log")
    svc = build_services(s)
    _, key = create_site(svc, f"rel-crash-{broker}-{time.time_ns()}")
    try:
        with live_server(svc) as url:
            started = time.monotonic()
            comment_id = _submit(url, key)
            counts, _ = _decided(svc, comment_id, 120)
            elapsed = time.monotonic() - started
            # Any delivery still queued or running has ended; it must have changed nothing.
            wait_for(lambda: _quiet(worker, s.broker_url), 60, "no delivery left", 0.2)
            counts = pipeline_counts(svc, [comment_id])[comment_id]
            deliveries = _attempts(svc, comment_id, "toxicity")
            r = requests.get(
                f"{url}/v1/comments/{comment_id}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
    finally:
        svc.close()
    crashes = worker.log().count("exited with 'signal 9 (SIGKILL)'")
    record(
        f"check kills its worker every time ({broker} broker)",
        backend,
        deliveries=deliveries,
        delivery_limit=limit,
        pool_processes_killed=crashes,
        status=counts["status"],
        reasons=r.json()["reasons"],
        publications=counts["publications"],
        seconds_to_held=round(elapsed, 1),
    )
    assert counts["status"] == "held"
    assert r.json()["reasons"] == ["check_unavailable"]
    assert counts["publications"] == 0 and counts["decisions"] == 1
    assert counts["results"] == {"spam": 1, "toxicity": 1}
    assert 2 <= deliveries <= limit
    assert crashes >= 1


def _claimer(svc: Services, comment_id: str, check: str) -> str | None:
    with svc.storage.sessions() as s:
        return s.scalar(
            select(CheckJob.claimed_by).where(
                CheckJob.comment_id == comment_id, CheckJob.check == check
            )
        )


@pytest.mark.parametrize("broker", ["redis", "embedded"])
def test_worker_killed_while_running_jobs_it_claimed(
    broker: str, backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    """A worker takes the backlog's jobs along with its message's own (claims), then dies:
    the claimed jobs' own messages leave them alone, so something else must bring them back.
    Redis redelivers the claimer's message, which takes its claims back and, as a batch that
    died, re-sends each job in a message of its own; the embedded broker forgets it, and the
    relay releases the claims when it re-sends. Every comment is decided once."""
    s = _slow_spam_settings(broker, settings, tmp_path)
    slow = {plugins.SLOW_SECONDS_ENV: str(SLOW_SECONDS)}
    svc = build_services(s)
    _, key = create_site(svc, f"rel-claim-{broker}-{time.time_ns()}")
    try:
        with live_server(svc) as url:
            ids = []
            for _ in range(3):  # one message each (the producer is idle between them)
                ids.append(_submit(url, key))
                time.sleep(0.3)
            assert svc.producer.flush()
            worker = Worker(s, tmp_path / "worker-1.log", concurrency=1, extra_env=slow)
            Scheduler(s, tmp_path / "scheduler.log")
            worker.wait_ready()
            # The first message runs its comment and claims the other two.
            wait_for(lambda: all(_claimer(svc, cid, "spam") for cid in ids[1:]), 30, "claims taken")
            claimer = _claimer(svc, ids[1], "spam")
            assert claimer is not None and _claimer(svc, ids[2], "spam") == claimer
            killed_at = time.monotonic()
            worker.kill()
            survivor = Worker(s, tmp_path / "worker-2.log", concurrency=1, extra_env=slow)
            survivor.wait_ready()
            wait_for(
                lambda: all(c["status"] != "pending" for c in pipeline_counts(svc, ids).values()),
                120,
                "every comment decided",
                interval=0.2,
            )
            recovery = time.monotonic() - killed_at
            # Deliveries still queued or running have ended; they must have changed nothing.
            wait_for(lambda: _quiet(survivor, s.broker_url), 60, "no delivery left", 0.2)
            counts = pipeline_counts(svc, ids)
            attempts = {cid: _attempts(svc, cid, "spam") for cid in ids}
    finally:
        svc.close()
    # + the three spam checks one after another, + worker restart and slack
    bound = _way_back_seconds(s, broker) + 3 * SLOW_SECONDS + 20
    record(
        f"worker SIGKILL while running claimed jobs ({broker} broker)",
        backend,
        comments=len(ids),
        statuses=sorted(c["status"] for c in counts.values()),
        spam_deliveries=sorted(attempts.values()),
        recovery_seconds=round(recovery, 1),
        bound_seconds=bound,
    )
    for c in counts.values():
        assert c["status"] == "published"
        assert c["results"] == {"spam": 1, "toxicity": 1}
        assert c["decisions"] == 1 and c["publications"] == 1
    assert all(n >= 2 for n in attempts.values())  # each spam check ran again after the kill
    assert recovery < bound
