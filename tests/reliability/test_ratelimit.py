"""Rate limits on POST /v1/comments: per site key and per reader IP; shared through Redis
by every web process; in memory when Redis is dead or hung, and never a 500 either way."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from service.api import create_app
from service.usecases.services import Services, build_services
from service.usecases.sites import create_site
from tests.conftest import auth
from tests.reliability.conftest import body, record
from tests.reliability.servers import RedisServer
from tests.support.backends import Backend


def _app(services: Services, **overrides: Any) -> tuple[FlaskClient, Services]:
    values: dict[str, Any] = {
        "flood_interval_seconds": 0.0,
        "rate_limit_site_requests": 0,
        "rate_limit_ip_requests": 0,
    }
    values.update(overrides)
    svc = build_services(services.settings.model_copy(update=values))
    return create_app(services=svc).test_client(), svc


def _post(client: FlaskClient, key: str, **fields: Any) -> tuple[int, float, dict[str, Any]]:
    started = time.monotonic()
    r = client.post("/v1/comments", json=body(**fields), headers=auth(key))
    return r.status_code, time.monotonic() - started, {**r.get_json(), **dict(r.headers)}


def test_site_and_ip_limits_in_memory(services: Services) -> None:
    client, svc = _app(services, rate_limit_site_requests=5, rate_limit_ip_requests=2)
    try:
        _, key = create_site(svc, f"rl-{uuid.uuid4().hex[:10]}")
        ip = "203.0.113.77"
        codes = [_post(client, key, client_ip=ip)[0] for _ in range(3)]
        assert codes == [202, 202, 429]  # the IP's limit
        # Every request counts against its site, also one the IP limit refused: 3 + 2 = 5.
        codes += [_post(client, key)[0] for _ in range(2)]
        status, _, answer = _post(client, key)
        assert codes[3:] == [202, 202] and status == 429
        assert answer["error"]["code"] == "rate_limited"
        assert 1 <= int(answer["Retry-After"]) <= svc.settings.rate_limit_window_seconds
        assert ip not in str(answer)
    finally:
        svc.close()


def test_limits_shared_in_redis_then_in_memory_when_redis_dies_or_hangs(
    backend: Backend, services: Services, tmp_path: Path
) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    # Two apps = two web processes counting in the same Redis.
    web1, svc1 = _app(services, rate_limit_redis_url=redis.url(), rate_limit_site_requests=6)
    web2, svc2 = _app(services, rate_limit_redis_url=redis.url(), rate_limit_site_requests=6)
    try:
        _, key = create_site(svc1, f"rl-{uuid.uuid4().hex[:10]}")
        shared = [_post(web, key)[0] for web in (web1, web2) * 3] + [_post(web1, key)[0]]
        assert shared == [202] * 6 + [429]  # one count across both processes

        _, key2 = create_site(svc1, f"rl-{uuid.uuid4().hex[:10]}")
        redis.kill()
        dead = [_post(web1, key2) for _ in range(8)]
        redis.start()  # empty again, but web1 is still pausing Redis and counts in memory
        _, key3 = create_site(svc1, f"rl-{uuid.uuid4().hex[:10]}")
        redis.pause()
        hung = [_post(web2, key3) for _ in range(8)]
        redis.resume()
    finally:
        svc1.close()
        svc2.close()
    for label, results in (("dead", dead), ("hung", hung)):
        codes = [code for code, _, _ in results]
        assert codes == [202] * 6 + [429] * 2, (label, codes)
        assert all(
            answer.get("error", {}).get("code", "") != "internal_error" for *_, answer in results
        )
    record(
        "rate limit with Redis dead / hung",
        backend,
        shared_across_two_web_processes=shared,
        redis_dead_codes=[c for c, _, _ in dead],
        redis_hung_codes=[c for c, _, _ in hung],
        max_seconds_redis_dead=round(max(t for _, t, _ in dead), 3),
        max_seconds_redis_hung=round(max(t for _, t, _ in hung), 3),
    )
    assert max(t for _, t, _ in dead + hung) < 2.0
