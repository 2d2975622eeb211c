"""``make_celery(settings)``: the workers' composition root."""

from __future__ import annotations

import threading

from celery import Celery
from celery.signals import worker_init, worker_process_init

from service.logs import configure_logging
from service.queue import PURGE_TASK, RELAY_TASK, RETRAIN_TASK, celery_config
from service.settings import Settings
from service.usecases.services import Services, build_services
from workers.heartbeat import DIR_SETTING, WorkerHeartbeat
from workers.tasks import Detectors, register_tasks


class LazyServices:
    """Built on first use inside each worker process: database connections must never be
    shared across the prefork pool's fork."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._services: Services | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Services:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build_services(self._settings)
        return self._services

    def reset(self) -> None:
        """Forget what the parent process built (called after fork)."""
        self._services = None


def make_celery(settings: Settings, *, preload_detectors: bool = True) -> Celery:
    """The Celery app of every role; ``preload_detectors=False`` for the trainer, which never
    runs a check and so need not load the detector models at start."""
    configure_logging(settings.log_level)
    app = Celery("commentmod", set_as_current=True)
    app.conf.update(celery_config(settings))
    app.conf.update(
        # A broker outage of any length is waited out: the default gives up (and stops the
        # worker) after 100 attempts.
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        # A check in flight when the connection drops is left to finish: its results land in
        # the database, and a redelivered copy is a no-op there (idempotent by data).
        # Cancelling it would only throw the work away.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    app.conf.beat_schedule = {
        "relay-outbox": {
            "task": RELAY_TASK,
            "schedule": settings.relay_interval_seconds,
            # A relay run that waited longer than one interval is superseded by the next.
            "options": {"expires": settings.relay_interval_seconds * 2},
        },
        "purge-expired": {"task": PURGE_TASK, "schedule": 3600.0},
    }
    interval = settings.site_retrain_interval_seconds
    if interval:
        # To `commentmod trainer` (the training queue); a pass not started within one
        # interval is superseded by the next. Overlapping passes are safe: the database
        # lease per (site, check) and its label count let one training run (site_retrain).
        app.conf.beat_schedule["retrain-site-models"] = {
            "task": RETRAIN_TASK,
            "schedule": interval,
            "options": {"expires": interval},
        }
    app.conf.beat_schedule_filename = str(settings.var_dir / "celerybeat-schedule")
    # Heartbeat files for healthchecks (workers/heartbeat.py).
    app.conf[DIR_SETTING] = str(settings.var_dir)
    app.conf.beat_scheduler = "workers.heartbeat:HeartbeatScheduler"
    app.steps["consumer"].add(WorkerHeartbeat)
    services = LazyServices(settings)
    worker_process_init.connect(lambda **_: services.reset(), weak=False)
    detectors = Detectors(settings, services)
    if preload_detectors:
        worker_init.connect(lambda **_: detectors.preload(), weak=False)
    register_tasks(app, services, settings, detectors)
    return app


def run_celery(app: Celery, argv: list[str]) -> int:
    """Run a celery sub-command (``worker``, ``beat``) and return its exit status.

    ``Celery.worker_main``/``Celery.start`` drop the status that ``celery worker`` computes,
    so a worker stopped by an "Unrecoverable error" would exit 0 and look like a clean stop
    to its supervisor. This runs the same click command and keeps the status.
    """
    from celery.bin.celery import celery as celery_command

    celery_command.params[0].default = app
    try:
        status = celery_command.main(args=argv, standalone_mode=False)
    finally:
        celery_command.params[0].default = None
    return status if isinstance(status, int) else 0
