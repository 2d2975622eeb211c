"""``commentmod db|worker|scheduler|relay``: the schema and the asynchronous half.

The worker and scheduler load the workers' code (models included) only when they run.
"""

from __future__ import annotations

import argparse
from typing import Any

from service.cli.common import fail, print_json
from service.db.migrate import upgrade
from service.settings import Settings
from service.usecases.checks import relay_outbox
from service.usecases.services import build_services
from service.usecases.webhooks import (
    relay_webhooks,
)


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.celery_app import make_celery, run_celery

    app = make_celery(settings)
    argv = [
        "worker",
        f"--loglevel={settings.log_level}",
        f"--concurrency={args.concurrency or settings.worker_concurrency}",
        "--queues=moderation",
        "--without-gossip",
        "--without-mingle",
    ]
    if args.hostname:
        argv.append(f"--hostname={args.hostname}")
    return run_celery(app, argv)


def training_available() -> bool:
    """True when the training extra (scipy) is installed: ``commentmod trainer`` can run."""
    import importlib.util

    return importlib.util.find_spec("scipy") is not None


def cmd_trainer(settings: Settings, args: argparse.Namespace) -> int:
    """A worker on the training queue only (the scheduler's site retraining), one at a time."""
    if not training_available():
        return fail("trainer needs the training extra: pip install 'commentmod[train]'")
    from service.queue import TRAINING_QUEUE
    from workers.celery_app import make_celery, run_celery

    app = make_celery(settings, preload_detectors=False)
    argv = [
        "worker",
        f"--loglevel={settings.log_level}",
        "--concurrency=1",
        f"--queues={TRAINING_QUEUE}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={args.hostname or 'trainer@%h'}",
    ]
    return run_celery(app, argv)


def cmd_scheduler(settings: Settings, _: argparse.Namespace) -> int:
    from workers.celery_app import make_celery, run_celery

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    return run_celery(app, ["beat", f"--loglevel={settings.log_level}"])


def cmd_relay(settings: Settings, _: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        report = relay_outbox(svc)
        webhooks = relay_webhooks(svc)
    finally:
        svc.close()
    print_json(
        {
            "sent": report.sent,
            "given_up": report.given_up,
            "failed": report.failed,
            "webhooks_sent": webhooks,
        }
    )
    return 0


def add_schema_commands(sub: Any) -> None:
    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)


def add_commands(sub: Any) -> None:
    worker = sub.add_parser("worker", help="a Celery worker running the checks")
    worker.add_argument(
        "--concurrency", type=int, help="worker processes (default: worker_concurrency)"
    )
    worker.add_argument("--hostname", help="Celery node name (default: celery@HOST)")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser(
        "scheduler", help="the scheduler (outbox relay, purges, site model retraining)"
    ).set_defaults(func=cmd_scheduler)
    trainer = sub.add_parser(
        "trainer", help="a worker that runs the scheduler's site model retraining (train extra)"
    )
    trainer.add_argument("--hostname", help="Celery node name (default: trainer@HOST)")
    trainer.set_defaults(func=cmd_trainer)
    sub.add_parser("relay", help="run the outbox relay once").set_defaults(func=cmd_relay)
