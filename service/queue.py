"""Task names, shared Celery settings, and the producer.

The service sends tasks *by name* and never imports ``workers``: the web process stays free of
detector models. Messages carry ids only (JSON), never personal data.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from kombu.utils.url import maybe_sanitize_url

from service.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "moderation"
CHECK_TASKS = {
    "spam": "moderation.check_spam",
    "toxicity": "moderation.check_toxicity",
}
RELAY_TASK = "moderation.relay_outbox"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Settings shared by the producer and the workers, each chosen on purpose."""
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        transport_options = {
            # acks_late: an unacknowledged message returns to the queue this long after
            # delivery if its worker vanished. Longer than the hard time limit and any retry
            # countdown, so a healthy slow task or a waiting retry is never run twice.
            "visibility_timeout": settings.broker_visibility_timeout_seconds,
            # Fail fast when Redis is down or unresponsive: the request path never waits.
            "socket_timeout": settings.broker_timeout_seconds,
            "socket_connect_timeout": settings.broker_timeout_seconds,
        }
    elif settings.broker_url.startswith("sqla+sqlite"):
        # kombu's SQLAlchemy transport hands these to create_engine: wait for SQLite's
        # write lock instead of failing while the web and the workers share the file.
        transport_options = {"connect_args": {"timeout": 30}}
    return {
        "broker_url": settings.broker_url,
        "broker_transport_options": transport_options,
        "broker_connection_timeout": settings.broker_timeout_seconds,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        # Results live in our database (check_results), not in a Celery backend.
        "task_ignore_result": True,
        "result_backend": None,
        # Acknowledge after the task ran, and put the message back if the worker process
        # died mid-task: a check is never silently dropped. Tasks are idempotent by data.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One message at a time per process: no comment waits behind a slow sibling, and a
        # crash loses (re-queues) at most one message.
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.task_soft_time_limit_seconds,
        "task_time_limit": settings.task_time_limit_seconds,
        "worker_concurrency": settings.worker_concurrency,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_send_sent_event": False,
        "enable_utc": True,
        "timezone": "UTC",
    }


class TaskProducer:
    """Sends tasks by name. ``send`` never raises: a failure is left to the outbox relay."""

    def __init__(self, settings: Settings) -> None:
        self._app = Celery("commentmod-producer", set_as_current=False)
        self._app.conf.update(celery_config(settings))
        self._broker = maybe_sanitize_url(settings.broker_url)

    def send(self, task_name: str, *args: str) -> bool:
        try:
            self._app.send_task(task_name, args=list(args), retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: the relay re-sends later
            log.warning("enqueue failed; the relay will re-send", extra={"task": task_name})
            return False
        return True

    def send_check(self, comment_id: str, check: str) -> bool:
        return self.send(CHECK_TASKS[check], comment_id)

    def ping(self) -> bool:
        """True when the broker accepts a connection (for /readyz)."""
        try:
            with self._app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def close(self) -> None:
        self._app.close()
