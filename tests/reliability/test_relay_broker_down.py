"""The outbox relay with its broker down, then back (a private Redis, a private database).

The relay schedules its re-sends in one short transaction and sends after it commits, so the
database is never locked while the broker refuses (docs/reliability.md, "Bugs these tests
found"). What it must still guarantee: a send the broker refused is taken back — not
counted against ``relay_max_sends``, due again at once — and goes out when the broker returns.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import redis as redis_client
from sqlalchemy import text

from service.domain.submission import parse_submission
from service.queue import QUEUE
from service.settings import Settings
from service.usecases.checks import relay_outbox
from service.usecases.services import build_services, utcnow
from service.usecases.submission import submit_comment
from tests.conftest import comment_body, new_site
from tests.reliability.conftest import fault_settings, private_database_url
from tests.reliability.servers import RedisServer
from tests.support.backends import Backend


def _jobs(svc_settings: Settings, comment_id: str) -> list[tuple[int, object]]:
    svc = build_services(svc_settings)
    try:
        with svc.storage.engine.connect() as c:
            return [
                (int(count), at)
                for count, at in c.execute(
                    text(
                        "SELECT send_count, next_send_at FROM check_jobs"
                        ' WHERE comment_id = :id ORDER BY "check"'
                    ),
                    {"id": comment_id},
                )
            ]
    finally:
        svc.close()


def test_a_refused_send_is_taken_back_and_sent_when_the_broker_returns(
    backend: Backend, settings: Settings, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    s = fault_settings(
        settings,
        tmp_path,
        broker_url=redis.url(),
        database_url=private_database_url(backend, tmp_path),
    )
    redis.kill()  # the broker is down from the first send on: refused connections
    svc = build_services(s)
    try:
        site, _ = new_site(svc)
        comment_id = submit_comment(
            svc, site, parse_submission(comment_body(), max_text_chars=10_000)
        ).id
        with svc.storage.engine.begin() as c:  # its first send was lost: due for a re-send
            c.execute(
                text("UPDATE check_jobs SET next_send_at = :past WHERE comment_id = :id"),
                {"past": utcnow() - timedelta(seconds=60), "id": comment_id},
            )
        report = relay_outbox(svc)
    finally:
        svc.close()
    assert (report.sent, report.failed) == (0, 1)
    jobs = _jobs(s, comment_id)
    assert [count for count, _ in jobs] == [0, 0]  # not counted
    assert all(_naive(at) <= _naive(utcnow()) for _, at in jobs)  # due again at once

    redis.start()  # back, empty
    svc = build_services(s)
    try:
        assert relay_outbox(svc).sent == 2
    finally:
        svc.close()
    assert [count for count, _ in _jobs(s, comment_id)] == [1, 1]
    client = redis_client.Redis(port=redis.port)
    try:
        assert client.llen(QUEUE) == 2  # both checks' messages are on the broker
    finally:
        client.close()


def _naive(at: object) -> datetime:
    """SQLite returns naive UTC datetimes (or ISO text), PostgreSQL aware ones."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    assert isinstance(at, datetime)
    return at.replace(tzinfo=None)
