"""Request rate limits: fixed windows counted in Redis, or in memory when Redis is away.

``POST /v1/comments`` is limited per site API key and per reader IP (the body's
``client_ip``, counted by its keyed hash: the clear IP never reaches Redis). Counting is in
Redis when ``rate_limit_redis_url`` is set or the broker is Redis, so every web process
shares one count; otherwise, and for a few seconds after any Redis error or timeout, each
process counts in its own memory. A dead or hung Redis therefore costs at most one 250 ms
timeout per pause period and never turns into a 500: past the limit the answer is still 429.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from service.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "commentmod:rl"


@dataclass(frozen=True, slots=True)
class Verdict:
    is_allowed: bool
    retry_after: int  # seconds until the current window ends (>= 1)


class _MemoryWindows:
    """Fixed-window counters of one process (thread-safe; old windows are dropped)."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._window_id = 0
        self._lock = threading.Lock()

    def incr(self, key: str, window_id: int) -> int:
        with self._lock:
            if window_id > self._window_id:  # past windows go (no hash outlives two windows)
                self._window_id = window_id
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_id}
            if len(self._counts) >= self.MAX_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_id}
                if len(self._counts) >= self.MAX_KEYS:  # all current: refuse to grow
                    self._counts.clear()
            count = self._counts.get((key, window_id), 0) + 1
            self._counts[(key, window_id)] = count
            return count

    def keys(self) -> list[str]:
        with self._lock:
            return [key for key, _ in self._counts]

    def forget(self, prefix: str) -> None:
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if not k[0].startswith(prefix)}


class RateLimiter:
    """``hit(scope, key, limit)`` counts one request and says whether it is allowed."""

    REDIS_TIMEOUT_SECONDS = 0.25
    # After a Redis failure, count in memory for this long before asking Redis again.
    PAUSE_AFTER_FAILURE_SECONDS = 5.0

    def __init__(self, window_seconds: int, redis_url: str | None) -> None:
        self.window = window_seconds
        self._redis_url = redis_url
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._redis_paused_until = 0.0
        self._memory = _MemoryWindows()

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        url = settings.rate_limit_redis_url
        if not url and settings.broker_url.startswith(("redis://", "rediss://")):
            url = settings.broker_url
        return cls(settings.rate_limit_window_seconds, url or None)

    @property
    def is_shared(self) -> bool:
        """True while counts go to Redis (shared by every web process)."""
        return self._redis_url is not None and time.monotonic() >= self._redis_paused_until

    def hit(self, scope: str, key: str, limit: int) -> Verdict:
        if limit <= 0:
            return Verdict(True, 1)
        now = time.time()
        window_id = int(now // self.window)
        retry_after = max(1, math.ceil((window_id + 1) * self.window - now))
        name = f"{KEY_PREFIX}:{scope}:{key}:{window_id}"
        count = self._redis_incr(name) if self.is_shared else None
        if count is None:
            count = self._memory.incr(name, window_id)
        return Verdict(count <= limit, retry_after)

    def counter_names(self) -> list[str]:
        """The names of the counters this limiter can see (Redis when shared, else its
        memory): for tests and audits."""
        if self.is_shared:
            return [n.decode() for n in self._redis().scan_iter(match=f"{KEY_PREFIX}:*")]
        return self._memory.keys()

    def forget(self, scope: str, key: str) -> bool:
        """Drop every counter of ``key`` (erasure: an IP hash must not outlive its author).
        False when Redis could not be reached (its counters expire within one window)."""
        import redis

        prefix = f"{KEY_PREFIX}:{scope}:{key}:"
        self._memory.forget(prefix)
        if self._redis_url is None:
            return True
        try:
            client = self._redis()
            names = list(client.scan_iter(match=prefix + "*", count=1000))
            if names:
                client.delete(*names)
        except (redis.RedisError, OSError) as exc:
            log.warning(
                "rate limiter: could not drop counters", extra={"error": type(exc).__name__}
            )
            return False
        return True

    def _redis_incr(self, name: str) -> int | None:
        import redis

        try:
            pipe = self._redis().pipeline(transaction=False)
            pipe.incr(name)
            pipe.expire(name, self.window + 1)
            count, _ = pipe.execute()
            return int(count)
        except (redis.RedisError, OSError) as exc:
            self._redis_paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE_SECONDS
            log.warning(
                "rate limiter: Redis unavailable, counting in memory",
                extra={"error": type(exc).__name__},
            )
            return None

    def _redis(self) -> Any:
        if self._client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            with self._client_lock:
                if self._client is None:
                    self._client = redis.Redis.from_url(
                        str(self._redis_url),
                        socket_timeout=self.REDIS_TIMEOUT_SECONDS,
                        socket_connect_timeout=self.REDIS_TIMEOUT_SECONDS,
                        # One try: a retry would only double the wait on a hung server.
                        retry=Retry(NoBackoff(), 0),
                    )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
