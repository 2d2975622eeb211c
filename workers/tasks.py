"""Thin tasks: decode the message, call one use case, retry on a storage outage, ack.

Messages carry ids only. The pipeline's policy (batches, isolation, give-ups, retries of
failing checks) is :func:`service.usecases.pipeline.run_message`; a task only turns its
outcome into Celery's terms.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable

from celery import Celery, Task

from service.db.errors import StorageUnavailable
from service.domain.checks import CheckResult
from service.queue import (
    CHECK_COMMENTS_TASK,
    CHECK_TASKS,
    PURGE_TASK,
    RELAY_TASK,
    RETRAIN_TASK,
    WEBHOOK_TASK,
)
from service.settings import Settings
from service.usecases.checks import CheckWork, relay_outbox
from service.usecases.pipeline import Delivery, run_message
from service.usecases.services import NotFound, Services
from service.usecases.site_models import model_artifact
from service.usecases.submission import purge_expired_idempotency_keys
from service.usecases.webhooks import deliver, relay_webhooks
from workers.checks.base import CheckInput, Detector
from workers.checks.registry import get_detector
from workers.checks.site_models import artifact_from_bytes, detector_with

log = logging.getLogger(__name__)


def load_detector(check: str, plugins: dict[str, str]) -> Detector:
    """The registered detector for ``check``, or the plugin the settings name for it."""
    target = plugins.get(check)
    if target:
        module_name, _, attribute = target.partition(":")
        factory: Callable[[], Detector] = getattr(importlib.import_module(module_name), attribute)
        return factory()
    return get_detector(check)


def run_detector(detector: Detector, work: CheckWork) -> CheckResult:
    """Run a detector on a job's work (the detector sees no email, no IP)."""
    return detector.run(
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


def backoff_seconds(retries: int, cap: int) -> int:
    """1, 2, 4, … seconds, capped below the broker visibility timeout."""
    return int(min(cap, 2**retries))


class Detectors:
    """The detectors of one worker, loaded once. ``preload`` runs in the worker's main process
    before the pool forks, so the children share the models' memory and no comment waits
    for a model to load.

    With ``services``, a job whose work names a site model version (the site's active one,
    read with the job) runs that site's detector: loaded from the database on first use and
    kept per (site, check) until another version is named, so a promotion or rollback takes
    effect on the next job without a restart."""

    def __init__(self, settings: Settings, services: Callable[[], Services] | None = None) -> None:
        self._settings = settings
        self._services = services
        self._loaded: dict[str, Detector] = {}
        self._site: dict[tuple[int, str], tuple[int, Detector]] = {}

    def __call__(self, check: str) -> Detector:
        if check not in self._loaded:
            self._loaded[check] = load_detector(check, self._settings.detector_plugins)
        return self._loaded[check]

    def preload(self) -> None:
        for check in self._settings.checks:
            self(check)

    def for_work(self, work: CheckWork) -> Detector:
        """The detector for this job: the site's model version it names, else the default."""
        if work.model_version is None or work.site_id is None or self._services is None:
            return self(work.check)
        key = (work.site_id, work.check)
        cached = self._site.get(key)
        if cached is None or cached[0] != work.model_version:
            try:
                stored = model_artifact(
                    self._services(), work.site_id, work.check, work.model_version
                )
            except NotFound:  # deleted since the job was read (its site was): the default
                log.warning("site model gone", extra={"check": work.check})
                return self(work.check)
            artifact = artifact_from_bytes(stored.weights, stored.meta or {}, stored.version)
            cached = (stored.version, detector_with(work.check, artifact))
            self._site[key] = cached
        return cached[1]

    def run(self, work: CheckWork) -> CheckResult:
        return run_detector(self.for_work(work), work)


def register_tasks(
    app: Celery, services: Callable[[], Services], settings: Settings, detector_for: Detectors
) -> None:
    def retry_later(task: Task, exc: Exception, **options: object) -> Exception:
        cap = settings.check_retry_backoff_max_seconds
        return task.retry(exc=exc, countdown=backoff_seconds(task.request.retries, cap), **options)

    def run_checks(task: Task, checks: tuple[str, ...], comment_ids: str | list[str]) -> str:
        """Idempotent (see :func:`service.usecases.pipeline.run_message`)."""
        ids = [comment_ids] if isinstance(comment_ids, str) else list(comment_ids)
        delivery = Delivery(ids, checks, task.request.id, task.request.retries)
        try:
            outcome = run_message(services(), delivery, detector_for.run)
        except StorageUnavailable as exc:
            # The database is away: try again later; the relay re-sends if retries run out.
            raise retry_later(task, exc) from exc
        if outcome.retry_ids:
            assert outcome.error is not None
            retry_args = (
                outcome.retry_ids[0] if len(outcome.retry_ids) == 1 else list(outcome.retry_ids)
            )
            raise retry_later(task, outcome.error, args=[retry_args]) from outcome.error
        return outcome.summary

    common = _check_task_options(settings)
    for check, task_name in CHECK_TASKS.items():
        _register_check_task(app, task_name, (check,), run_checks, common)
    # Every check of the comments, in one message: what the producer sends.
    _register_check_task(app, CHECK_COMMENTS_TASK, tuple(CHECK_TASKS), run_checks, common)

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

    _register_training_task(app, services, settings)

    @app.task(name=WEBHOOK_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def deliver_webhook(self: Task, delivery_id: str) -> str:
        """Idempotent (see service.usecases.webhooks.deliver). Failed attempts are
        re-dispatched by the relay with backoff, never by long Celery countdowns."""
        try:
            return deliver(services(), delivery_id)
        except StorageUnavailable as exc:
            raise self.retry(
                exc=exc,
                countdown=backoff_seconds(
                    self.request.retries, settings.check_retry_backoff_max_seconds
                ),
                max_retries=settings.check_max_retries,
            ) from exc


def _check_task_options(settings: Settings) -> dict[str, object]:
    return {
        "bind": True,
        "acks_late": True,
        "reject_on_worker_lost": True,
        # Retries are counted by us (check_max_retries) plus one for the give-up path.
        "max_retries": settings.check_max_retries + 1,
    }


def _register_check_task(
    app: Celery,
    name: str,
    checks: tuple[str, ...],
    run_checks: Callable[[Task, tuple[str, ...], str | list[str]], str],
    options: dict[str, object],
) -> None:
    @app.task(name=name, **options)
    def check_task(self: Task, comment_ids: str | list[str]) -> str:
        return run_checks(self, checks, comment_ids)


def _register_training_task(
    app: Celery, services: Callable[[], Services], settings: Settings
) -> None:
    """The scheduler's site retraining pass, run by ``commentmod trainer`` (the training
    queue). Acknowledged on receipt: a training lost with its trainer is redone by a later
    pass (its lease expires), never redelivered mid-run. Its time limit is the lease."""
    lease = settings.site_retrain_lease_seconds

    @app.task(name=RETRAIN_TASK, acks_late=False, time_limit=lease, soft_time_limit=lease - 5)
    def retrain_sites() -> str:
        from workers.training.site_retrain import retrain_sites as run_pass

        counts = run_pass(services(), settings)
        return " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no labels"
