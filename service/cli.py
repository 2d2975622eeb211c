"""The ``commentmod`` command: a composition root like ``create_app`` (it may reach both
halves: ``worker``, ``scheduler``, ``evaluate`` and ``train`` load the workers' code)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.settings import Settings, load_settings

DEFAULT_DATA_DIR = Path("../shared/data")


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = 2) -> int:
    print(f"commentmod: {message}", file=sys.stderr)
    return code


# --- commands -------------------------------------------------------------------------------


def cmd_db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    from service.db.migrate import upgrade

    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_sites_create(settings: Settings, args: argparse.Namespace) -> int:
    from service.usecases import SiteExists, build_services, create_site

    svc = build_services(settings)
    try:
        site, api_key = create_site(svc, args.slug, args.name)
    except SiteExists:
        return _fail(f"a site with slug {args.slug!r} already exists")
    finally:
        svc.close()
    _print_json({"site": site.slug, "id": site.id, "api_key": api_key})
    return 0


def cmd_moderators_create(settings: Settings, args: argparse.Namespace) -> int:
    from service.usecases import NotFound, build_services, create_moderator

    svc = build_services(settings)
    try:
        moderator_id, token = create_moderator(svc, args.name, args.site)
    except NotFound as exc:
        return _fail(str(exc))
    finally:
        svc.close()
    _print_json({"moderator": args.name, "id": moderator_id, "sites": args.site, "token": token})
    return 0


def cmd_keys_generate(_: Settings, __: argparse.Namespace) -> int:
    from service.domain.privacy import generate_email_key, generate_hash_key

    print(f"COMMENTMOD_EMAIL_KEYS={generate_email_key()}")
    print(f"COMMENTMOD_HASH_KEY={generate_hash_key()}")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from workers.celery_app import make_celery

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
    app.worker_main(argv)
    return 0


def cmd_scheduler(settings: Settings, _: argparse.Namespace) -> int:
    from workers.celery_app import make_celery

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    app.start(["beat", f"--loglevel={settings.log_level}"])
    return 0


def cmd_relay(settings: Settings, _: argparse.Namespace) -> int:
    from service.usecases import build_services, relay_outbox

    svc = build_services(settings)
    try:
        report = relay_outbox(svc)
    finally:
        svc.close()
    _print_json({"sent": report.sent, "given_up": report.given_up, "failed": report.failed})
    return 0


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """The worker's detector through the pipeline's own policy: a positive is a comment the
    pipeline would not publish (held, rejected or spam) on this check's result alone."""
    from service.domain.policy import CheckOutcome, DecisionContext, Policy, decide
    from service.domain.statuses import Status
    from workers.checks.base import CheckResult
    from workers.checks.evaluation import evaluate

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"no such file: {path}")
    # Pre-moderation is left out: it holds everything and says nothing about the detector.
    policy = Policy(max_links=settings.policy_max_links)

    def would_not_publish(result: CheckResult) -> bool:
        outcome = CheckOutcome(
            check=result.check,
            verdict=result.verdict,
            reasons=result.reasons,
            signals=result.signals,
        )
        decision = decide(
            DecisionContext(outcomes={result.check: outcome}), policy, (result.check,)
        )
        return decision.status is not Status.PUBLISHED

    try:
        report = evaluate(args.check, path, is_positive=would_not_publish)
    except ValueError as exc:
        return _fail(str(exc))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def cmd_train(_: Settings, args: argparse.Namespace) -> int:
    from workers.checks.training import DEFAULT_OUT_DIR, train_all

    data = Path(args.data)
    if not data.is_dir():
        return _fail(f"no data directory at {data}")
    _print_json(train_all(data, Path(args.out) if args.out else DEFAULT_OUT_DIR))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Web (gunicorn) + worker + scheduler as one process group; stops all if one dies."""
    from service.db.migrate import upgrade

    host = args.host or settings.host
    port = args.port or settings.port
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    metrics_dir = settings.var_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir.resolve()))
    exe = [sys.executable, "-m", "service.cli"]
    commands = {
        "web": [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:service.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            "service.api:create_app_from_env()",
        ],
        "worker": [*exe, "worker"],
        "scheduler": [*exe, "scheduler"],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}  # noqa: S603
    print(f"commentmod: serving on http://{host}:{port} (web, worker, scheduler); Ctrl-C stops")
    print("commentmod: create a site with: .venv/bin/commentmod sites create demo")
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"commentmod: {name} exited with {child.returncode}; stopping", file=sys.stderr
                )
                exit_code = 1
                stopping = True
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commentmod", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="web + worker + scheduler (what `make run` starts)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    sites = sub.add_parser("sites", help="sites").add_subparsers(
        dest="sites_command", required=True
    )
    create_site = sites.add_parser("create", help="create a site; prints its API key once")
    create_site.add_argument("slug")
    create_site.add_argument("--name")
    create_site.add_argument("--webhook-url")
    create_site.set_defaults(func=cmd_sites_create)

    mods = sub.add_parser("moderators", help="moderators").add_subparsers(
        dest="moderators_command", required=True
    )
    create_mod = mods.add_parser("create", help="create a moderator; prints its token once")
    create_mod.add_argument("name")
    create_mod.add_argument("--site", action="append", required=True)
    create_mod.set_defaults(func=cmd_moderators_create)

    keys = sub.add_parser("keys", help="secrets").add_subparsers(dest="keys_command", required=True)
    keys.add_parser(
        "generate", help="print new COMMENTMOD_EMAIL_KEYS / COMMENTMOD_HASH_KEY"
    ).set_defaults(func=cmd_keys_generate)

    worker = sub.add_parser("worker", help="a Celery worker running the checks")
    worker.add_argument("--concurrency", type=int)
    worker.add_argument("--hostname")
    worker.set_defaults(func=cmd_worker)
    sub.add_parser("scheduler", help="the scheduler (outbox relay)").set_defaults(
        func=cmd_scheduler
    )
    sub.add_parser("relay", help="run the outbox relay once").set_defaults(func=cmd_relay)

    evaluate = sub.add_parser("evaluate", help="run a detector on a labelled CSV")
    evaluate.add_argument("--check", choices=["spam", "toxicity"], required=True)
    evaluate.add_argument("file")
    evaluate.set_defaults(func=cmd_evaluate)

    train = sub.add_parser("train", help="rebuild the detector model artifacts")
    train.add_argument("--data", default=str(DEFAULT_DATA_DIR))
    train.add_argument("--out")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except Exception as exc:  # noqa: BLE001 - a readable message instead of a traceback
        return _fail(f"invalid settings: {exc}")
    return int(args.func(settings, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
