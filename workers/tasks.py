"""Thin tasks: one call into the use cases plus a retry policy. Messages carry ids only."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable

from celery import Celery, Task
from celery.exceptions import Retry
from sqlalchemy.exc import OperationalError

from service.queue import CHECK_COMMENTS_TASK, CHECK_TASKS, PURGE_TASK, RELAY_TASK, WEBHOOK_TASK
from service.settings import Settings
from service.usecases.checks import (
    CLAIM_BATCH,
    CheckWork,
    is_over_attempt_limit,
    relay_outbox,
    release_claims,
    start_checks,
)
from service.usecases.results import UNAVAILABLE, CheckRecord, record_checks
from service.usecases.services import Services
from service.usecases.submission import purge_expired_idempotency_keys
from service.usecases.webhooks import deliver, relay_webhooks
from workers.checks.base import CheckInput, Detector

log = logging.getLogger(__name__)


def load_detector(check: str, plugins: dict[str, str]) -> Detector:
    """The built-in detector for ``check``, or the plugin the settings name for it."""
    target = plugins.get(check)
    if target:
        module_name, _, attribute = target.partition(":")
        factory: Callable[[], Detector] = getattr(importlib.import_module(module_name), attribute)
        return factory()
    from workers.checks.registry import get_detector

    return get_detector(check)


def run_detector(detector: Detector, work: CheckWork) -> CheckRecord:
    started = time.perf_counter()
    result = detector.run(
        CheckInput(
            text=work.text,
            author_name=work.author_name,
            author_url=work.author_url,
            lang_hint=work.lang_hint,
            is_honeypot_filled=work.is_honeypot_filled,
            seconds_to_submit=work.seconds_to_submit,
            user_agent=work.user_agent,
            referrer=work.referrer,
        )
    )
    return CheckRecord(
        score=float(result.score),
        verdict=result.verdict,
        reasons=tuple(result.reasons),
        evidence=tuple({"start": e.start, "end": e.end, "label": e.label} for e in result.evidence),
        model=result.model,
        lang=result.lang,
        signals={k: float(v) for k, v in result.signals.items()},
        duration_ms=(time.perf_counter() - started) * 1000.0,
    )


def backoff_seconds(retries: int, cap: int) -> int:
    """1, 2, 4, … seconds, capped below the broker visibility timeout."""
    return int(min(cap, 2**retries))


class Detectors:
    """The detectors of one worker, loaded once. ``preload`` runs in the worker's main process
    before the pool forks, so the children share the models' memory and no comment waits
    for a model to load."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._loaded: dict[str, Detector] = {}

    def __call__(self, check: str) -> Detector:
        if check not in self._loaded:
            self._loaded[check] = load_detector(check, self._settings.detector_plugins)
        return self._loaded[check]

    def preload(self) -> None:
        for check in self._settings.checks:
            self(check)


def register_tasks(
    app: Celery, services: Callable[[], Services], settings: Settings, detector_for: Detectors
) -> None:

    def retry_later(task: Task, exc: Exception, **options: object) -> Retry:
        return task.retry(
            exc=exc,
            countdown=backoff_seconds(
                task.request.retries, settings.check_retry_backoff_max_seconds
            ),
            **options,
        )

    def run_checks(task: Task, checks: tuple[str, ...], comment_ids: str | list[str]) -> str:
        """Idempotent: does only the missing work; "skipped" is a normal outcome.

        A message carries one id (old messages, the relay) or a batch (the producer), for one
        check (the relay, re-sends) or every check (the producer: one message runs, records
        and decides both checks of its comments). Each (id, check) job keeps its own crash
        bound and retries: in a batch that was delivered before without finishing (its
        worker died), the jobs are re-sent one per message, so a comment that kills its
        worker only holds itself; a detector error retries (then gives up on) the failing
        ids alone.
        """
        ids = [comment_ids] if isinstance(comment_ids, str) else list(comment_ids)
        svc = services()
        me = task.request.id
        retries = task.request.retries
        try:
            # An undisturbed first delivery also takes every never-delivered job of the
            # backlog (see claim_checks): the checks of many comments then run, record and
            # decide as one batch, and their own messages find them claimed or done.
            works = start_checks(
                svc, ids, checks, task_id=me, claim=CLAIM_BATCH - len(ids) if not retries else 0
            )
        except OperationalError as exc:
            # The database is away: try again later; the relay re-sends if retries run out.
            raise retry_later(task, exc) from exc
        if not works:
            return "skipped"
        records: list[tuple[str, str, CheckRecord]] = []
        runnable: list[CheckWork] = []
        isolated: list[CheckWork] = []
        batch_of_many = len({work.comment_id for work in works}) > 1
        for work in works:
            if is_over_attempt_limit(svc, work):
                log.warning("check given up after repeated deliveries", extra={"check": work.check})
                records.append((work.comment_id, work.check, UNAVAILABLE))
            elif batch_of_many and work.attempt > retries + 1:
                # Delivered before without finishing (its worker died?): run it alone.
                isolated.append(work)
            else:
                runnable.append(work)
        release_claims(svc, isolated)
        for work in isolated:
            # If the send fails the job is still unfinished: the relay re-sends it.
            svc.producer.send_check(work.comment_id, work.check)
        failed: list[tuple[str, str, Exception]] = []
        for work in runnable:
            try:
                record = run_detector(detector_for(work.check), work)
            except Retry:
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then recorded as unavailable
                failed.append((work.comment_id, work.check, exc))
            else:
                records.append((work.comment_id, work.check, record))
        if failed and retries >= settings.check_max_retries:
            log.error(
                "check failed after retries",
                extra={"check": failed[0][1], "error": type(failed[0][2]).__name__},
            )
            records += [(comment_id, check, UNAVAILABLE) for comment_id, check, _ in failed]
            failed = []
        try:
            recorded = record_checks(svc, records)
        except OperationalError as exc:
            raise retry_later(task, exc) from exc
        if failed:
            log.warning(
                "check failed; retrying",
                extra={"check": failed[0][1], "error": type(failed[0][2]).__name__},
            )
            # Only the failing ids again; their recorded checks are done and will be skipped.
            retry_ids = list(dict.fromkeys(comment_id for comment_id, _, _ in failed))
            raise retry_later(
                task, failed[0][2], args=[retry_ids[0] if len(retry_ids) == 1 else retry_ids]
            ) from failed[0][2]
        decided = sum(1 for r in recorded.values() if r.decided)
        if len(ids) == 1 and set(recorded) <= set(ids):  # its own comment only, nothing claimed
            if records and all(record is UNAVAILABLE for _, _, record in records):
                return "given_up" if not runnable else "unavailable"
            only = recorded.get(ids[0])
            if only is not None and only.decided:
                return f"decided:{only.decided}"
            return "recorded" if records else "skipped"
        return f"recorded={len(recorded)} decided={decided} isolated={len(isolated)}"

    common = {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        # Retries are counted by us (check_max_retries) plus one for the give-up path.
        "max_retries": settings.check_max_retries + 1,
    }

    @app.task(name=CHECK_TASKS["spam"], **common)
    def check_spam(self: Task, comment_ids: str | list[str]) -> str:
        return run_checks(self, ("spam",), comment_ids)

    @app.task(name=CHECK_TASKS["toxicity"], **common)
    def check_toxicity(self: Task, comment_ids: str | list[str]) -> str:
        return run_checks(self, ("toxicity",), comment_ids)

    @app.task(name=CHECK_COMMENTS_TASK, **common)
    def check_comments(self: Task, comment_ids: str | list[str]) -> str:
        """Every check of the comments, in one message: what the producer sends."""
        return run_checks(self, tuple(CHECK_TASKS), comment_ids)

    @app.task(name=PURGE_TASK, acks_late=False)
    def purge_expired() -> str:
        return f"idempotency_keys={purge_expired_idempotency_keys(services())}"

    @app.task(name=RELAY_TASK, acks_late=False)
    def relay() -> str:
        report = relay_outbox(services())
        webhooks = relay_webhooks(services())
        return (
            f"sent={report.sent} given_up={report.given_up} failed={report.failed} "
            f"webhooks={webhooks}"
        )

    @app.task(name=WEBHOOK_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def deliver_webhook(self: Task, delivery_id: str) -> str:
        """Idempotent (see service.usecases.webhooks.deliver). Failed attempts are re-dispatched by
        the relay with backoff, never by long Celery countdowns."""
        try:
            return deliver(services(), delivery_id)
        except OperationalError as exc:
            raise self.retry(
                exc=exc,
                countdown=backoff_seconds(
                    self.request.retries, settings.check_retry_backoff_max_seconds
                ),
                max_retries=settings.check_max_retries,
            ) from exc
