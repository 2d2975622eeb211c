"""Task names, shared Celery settings, and the producer.

The service sends tasks *by name* and never imports ``workers``: the web process stays free of
detector models. Messages carry ids only (JSON), never personal data.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from celery import Celery

from service.domain.checks import CHECKS
from service.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "moderation"
# One task per registered check (service/domain/checks.py), under a stable name.
CHECK_TASKS = {check: f"moderation.check_{check}" for check in CHECKS}
# Every check of a batch of comments in one message (what the producer sends): the worker
# counts, runs, records and decides both checks of a comment in one pass. The per-check tasks
# above are for the relay's re-sends and for isolating a job.
CHECK_COMMENTS_TASK = "moderation.check_comments"
RELAY_TASK = "moderation.relay_outbox"
PURGE_TASK = "moderation.purge_expired"
# Carries a webhook_deliveries id only; see service/usecases/webhooks.py.
WEBHOOK_TASK = "moderation.deliver_webhook"
# The scheduler's retraining pass (ids only: no arguments at all). It runs on its own queue,
# consumed by `commentmod trainer`, the one process with the training extra (scipy): the
# moderation worker and the web never load the training stack.
RETRAIN_TASK = "training.retrain_sites"
TRAINING_QUEUE = "training"
EMBEDDED_TRANSPORT = "service.embedded_broker:Transport"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Settings shared by the producer and the workers, each chosen on purpose."""
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        transport_options = {
            # acks_late: an unacknowledged message returns to the queue this long after
            # delivery if its worker vanished. Longer than the hard time limit and any retry
            # countdown, so a healthy slow task or a waiting retry is never run twice.
            "visibility_timeout": settings.broker_visibility_timeout_seconds,
            # ...and is put back by the next sweep of any live worker: scan every interval
            # (throttle 1) instead of kombu's default of every 10th 10-second tick.
            "unacked_restore_interval": settings.broker_restore_interval_seconds,
            "unacked_restore_throttle": 1,
            # Fail fast when Redis is down or unresponsive: the request path never waits.
            "socket_timeout": settings.broker_timeout_seconds,
            "socket_connect_timeout": settings.broker_timeout_seconds,
        }
    broker_url = settings.broker_url
    broker_transport = None
    if broker_url.startswith("sqla+"):
        # The embedded broker (kombu's SQLAlchemy transport, polled faster).
        broker_url, broker_transport = broker_url.removeprefix("sqla+"), EMBEDDED_TRANSPORT
        if broker_url.startswith("sqlite"):
            # Handed to create_engine: wait for SQLite's write lock instead of failing while
            # the web and the workers share the file.
            transport_options = {"connect_args": {"timeout": 30}}
    return {
        "broker_url": broker_url,
        "broker_transport": broker_transport,
        "broker_transport_options": transport_options,
        "broker_connection_timeout": settings.broker_timeout_seconds,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": QUEUE,
        "task_routes": {RETRAIN_TASK: {"queue": TRAINING_QUEUE}},
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
    """Sends tasks by name.

    ``send`` is synchronous and never raises (a failure is left to the outbox relay).
    ``enqueue`` is what the request path uses: it hands the message to a background thread
    and returns at once, so a slow or dead broker never delays a response. Whatever that
    thread could not send (broker down, process killed) is still in the outbox and the
    relay sends it; after a failure the thread pauses sending for a few seconds instead of
    timing out on every message.
    """

    PAUSE_AFTER_FAILURE_SECONDS = 5.0
    MAX_BACKLOG = 10_000
    # Checks already waiting in the backlog are sent together: one message with up to this
    # many comment ids (the worker counts, runs, records and decides them in a batch).
    MAX_BATCH = 100
    # Under load, wait this long after the first item for more before sending: every comment
    # that arrives meanwhile shares the messages (a Celery send costs as much CPU as the rest
    # of the request; figures in docs/benchmarks.md). "Under load" means the previous send
    # was less than BUSY_SECONDS ago; an idle sender sends at once, so a lone comment waits
    # for nothing.
    LINGER_SECONDS = 0.05
    BUSY_SECONDS = 0.1

    def __init__(self, settings: Settings) -> None:
        self._app = Celery("commentmod-producer", set_as_current=False)
        self._app.conf.update(celery_config(settings))
        # (task names, args, batchable): a batchable item's args are one comment id, to be
        # sent with others to each of the task names (one item per comment: a put costs a
        # wake-up).
        self._backlog: queue.Queue[tuple[tuple[str, ...], tuple[str, ...], bool]] = queue.Queue(
            self.MAX_BACKLOG
        )
        self._thread: threading.Thread | None = None
        self._thread_pid = 0
        self._paused_until = 0.0
        self._last_send = 0.0
        self._lock = threading.Lock()

    def send(self, task_name: str, *args: str | list[str]) -> bool:
        try:
            self._app.send_task(task_name, args=list(args), retry=False)
        except Exception:  # noqa: BLE001 - any broker failure: the relay re-sends later
            log.warning("enqueue failed; the relay will re-send", extra={"task": task_name})
            return False
        return True

    def send_check(self, comment_id: str, check: str) -> bool:
        return self.send(CHECK_TASKS[check], comment_id)

    def enqueue_checks(self, comment_id: str, checks: Sequence[str]) -> None:
        """Non-blocking send of a comment's checks (one ``CHECK_COMMENTS_TASK`` message for
        all of them, shared with other comments); the outbox relay covers anything this does
        not deliver."""
        if not checks:  # Settings.checks admits only names in CHECK_TASKS
            return
        self._ensure_thread()
        names = (CHECK_COMMENTS_TASK,)
        try:
            self._backlog.put_nowait((names, (comment_id,), True))
        except queue.Full:
            log.warning("send backlog full; the relay will send", extra={"task": names})

    def enqueue(self, task_name: str, *args: str) -> None:
        """Non-blocking send of any task by name (ids only); an outbox relay must cover it."""
        self._ensure_thread()
        try:
            self._backlog.put_nowait(((task_name,), args, False))
        except queue.Full:
            log.warning("send backlog full; the relay will send", extra={"task": task_name})

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until the background thread has handled everything enqueued so far."""
        deadline = time.monotonic() + timeout
        while self._backlog.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._backlog.unfinished_tasks

    def _ensure_thread(self) -> None:
        # Started lazily, and again in a forked child (threads do not survive fork).
        if self._thread is not None and self._thread_pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if (
                self._thread is None
                or self._thread_pid != os.getpid()
                or not self._thread.is_alive()
            ):
                self._thread = threading.Thread(target=self._drain, name="task-sender", daemon=True)
                self._thread_pid = os.getpid()
                self._thread.start()

    def _drain(self) -> None:
        while True:
            items = [self._backlog.get()]  # wait for the first, then (if busy) for more
            now = time.monotonic()
            until = now + self.LINGER_SECONDS if now - self._last_send < self.BUSY_SECONDS else now
            try:
                while len(items) < self.MAX_BATCH:
                    items.append(self._backlog.get(timeout=max(0.0, until - time.monotonic())))
            except queue.Empty:
                pass
            try:
                self._send_all(items)
                self._last_send = time.monotonic()
            finally:
                for _ in items:
                    self._backlog.task_done()

    def _send_all(self, items: list[tuple[tuple[str, ...], tuple[str, ...], bool]]) -> None:
        """Checks go out as one message per task name (ids in arrival order), the rest one by
        one. While paused after a failure nothing is sent: the relay covers it."""
        batches: dict[str, list[str]] = {}
        messages: list[tuple[str, tuple[str | list[str], ...]]] = []
        for names, item_args, batchable in items:
            if not batchable:
                messages.append((names[0], item_args))
                continue
            for name in names:
                if name not in batches:
                    batches[name] = []
                    messages.append((name, (batches[name],)))
                batches[name].append(item_args[0])
        for task_name, args in messages:
            if time.monotonic() < self._paused_until:
                return
            if len(args) == 1 and isinstance(args[0], list) and len(args[0]) == 1:
                args = (args[0][0],)  # a lone id travels as before
            if not self.send(task_name, *args):
                self._paused_until = time.monotonic() + self.PAUSE_AFTER_FAILURE_SECONDS

    def ping(self) -> bool:
        """True when the broker accepts a connection (for /readyz)."""
        try:
            with self._app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                # Declaring our (durable, idempotent) queue proves the broker answers; for
                # the SQLAlchemy transport it is the first statement that touches the store.
                conn.default_channel.queue_declare(QUEUE, passive=False, durable=True)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def close(self) -> None:
        self._app.close()
