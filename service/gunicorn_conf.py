"""gunicorn settings for `commentmod serve` and the compose web service.

Sync workers: each request is short (validate, one transaction, a non-blocking enqueue).
The count comes from COMMENTMOD_WEB_WORKERS (default 2). Access logs come from the app
(JSON, route patterns only), so gunicorn's own access log stays off.
"""

from __future__ import annotations

import os

from service.settings import load_settings

_settings = load_settings()

workers = int(os.environ.get("WEB_CONCURRENCY", _settings.web_workers))
bind = os.environ.get("COMMENTMOD_BIND", f"{_settings.host}:{_settings.port}")
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
# Body limits are enforced by the app (413 before parsing); keep header limits strict.
limit_request_line = 8190
limit_request_fields = 100


def child_exit(server: object, worker: object) -> None:
    """Multiprocess Prometheus: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
