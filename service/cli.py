"""The ``commentmod`` command: a composition root like ``create_app`` (it may reach both
halves: ``worker``, ``scheduler``, ``evaluate`` and ``train`` load the workers' code)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

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
    from service.webhooks import InvalidWebhookUrl, configure_webhook, validate_webhook_url

    if args.webhook_url:
        try:
            validate_webhook_url(args.webhook_url)
        except InvalidWebhookUrl as exc:
            return _fail(str(exc))
    svc = build_services(settings)
    try:
        site, api_key = create_site(svc, args.slug, args.name)
        secret = configure_webhook(svc, site.slug, args.webhook_url) if args.webhook_url else None
    except SiteExists:
        return _fail(f"a site with slug {args.slug!r} already exists")
    finally:
        svc.close()
    out = {"site": site.slug, "id": site.id, "api_key": api_key}
    if secret:
        out.update(webhook_url=args.webhook_url, webhook_secret=secret)
    _print_json(out)
    return 0


def cmd_sites_webhook(settings: Settings, args: argparse.Namespace) -> int:
    """Set, rotate (same URL again) or remove (--disable) a site's webhook."""
    from service.usecases import NotFound, build_services
    from service.webhooks import InvalidWebhookUrl, configure_webhook

    if bool(args.url) == bool(args.disable):
        return _fail("give --url U or --disable")
    svc = build_services(settings)
    try:
        secret = configure_webhook(svc, args.slug, None if args.disable else args.url)
    except (NotFound, InvalidWebhookUrl) as exc:
        return _fail(str(exc))
    finally:
        svc.close()
    _print_json({"site": args.slug, "webhook_url": args.url, "webhook_secret": secret})
    return 0


def _policy_value(raw: str) -> Any:
    """``--set key=value``: the value is JSON when it parses (3, true, ["a","b"]), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def cmd_sites_policy(settings: Settings, args: argparse.Namespace) -> int:
    """Show a site's policy; with --set/--unset, save the next version of its overrides."""
    from service.domain.policy import PolicyInvalid
    from service.moderation import PolicyConflict, get_site_policy, update_site_policy
    from service.usecases import NotFound, build_services

    svc = build_services(settings)
    try:
        view = get_site_policy(svc, None, args.slug)
        if args.set or args.unset or args.replace is not None:
            overrides = dict(view.overrides) if args.replace is None else {}
            if args.replace:
                overrides = json.loads(Path(args.replace).read_text(encoding="utf-8"))
            for item in args.set or []:
                key, sep, raw = item.partition("=")
                if not sep:
                    return _fail(f"--set needs key=value: {key}")
                overrides[key.strip()] = _policy_value(raw)
            for key in args.unset or []:
                overrides.pop(key, None)
            view = update_site_policy(
                svc, None, args.slug, overrides, actor="cli", expected_version=view.version
            )
    except NotFound:
        return _fail(f"no site {args.slug!r}")
    except PolicyInvalid as exc:
        return _fail("invalid policy: " + json.dumps(exc.fields, sort_keys=True))
    except PolicyConflict:
        return _fail("the policy changed meanwhile; run the command again")
    except (OSError, ValueError) as exc:
        return _fail(f"cannot read the policy file: {type(exc).__name__}")
    finally:
        svc.close()
    _print_json(
        {
            "site": view.site,
            "version": view.version,
            "overrides": view.overrides,
            "effective": view.effective,
            "updated_by": view.updated_by,
            "updated_at": view.updated_at.isoformat() if view.updated_at else None,
            "history": [
                {"version": v.version, "actor": v.actor, "created_at": v.created_at.isoformat()}
                for v in view.history
            ],
        }
    )
    return 0


def cmd_labels_export(settings: Settings, args: argparse.Namespace) -> int:
    """Moderator decisions as a labelled CSV (text,label,lang) the detectors can train on."""
    from service.moderation import export_labels
    from service.usecases import NotFound, build_services

    svc = build_services(settings)
    try:
        with Path(args.file).open("w", encoding="utf-8", newline="") as out:
            count = export_labels(svc, args.site, args.check, out)
    except NotFound:
        return _fail(f"no site {args.site!r}")
    finally:
        svc.close()
    _print_json({"site": args.site, "check": args.check, "file": args.file, "rows": count})
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


def cmd_moderators_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from service.moderation import revoke_moderator
    from service.usecases import NotFound, build_services

    svc = build_services(settings)
    try:
        changed = revoke_moderator(svc, args.id)
    except NotFound:
        return _fail(f"no moderator {args.id}")
    finally:
        svc.close()
    _print_json({"moderator": args.id, "revoked": True, "was_active": changed})
    return 0


def cmd_keys_generate(_: Settings, __: argparse.Namespace) -> int:
    from service.domain.privacy import generate_email_key, generate_hash_key

    print(f"COMMENTMOD_EMAIL_KEYS={generate_email_key()}")
    print(f"COMMENTMOD_HASH_KEY={generate_hash_key()}")
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


def cmd_scheduler(settings: Settings, _: argparse.Namespace) -> int:
    from workers.celery_app import make_celery, run_celery

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    return run_celery(app, ["beat", f"--loglevel={settings.log_level}"])


def cmd_keys_rotate(settings: Settings, _: argparse.Namespace) -> int:
    """Re-encrypt stored emails and webhook secrets under the first COMMENTMOD_EMAIL_KEYS key."""
    from service.domain.privacy import PrivacyConfigError
    from service.erasure import rotate_email_keys
    from service.usecases import build_services
    from service.webhooks import rotate_webhook_secrets

    svc = build_services(settings)
    try:
        rotated = rotate_email_keys(svc)
        secrets = rotate_webhook_secrets(svc)  # encrypted with the same keys
    except PrivacyConfigError as exc:
        return _fail(str(exc))
    finally:
        svc.close()
    _print_json({"rotated": rotated, "webhook_secrets": secrets})
    return 0


def cmd_authors_erase(settings: Settings, args: argparse.Namespace) -> int:
    """Erase an author's personal data on one site (the email is never printed)."""
    from sqlalchemy import select

    from service.db.models import Site
    from service.erasure import InvalidEmail, erase_author
    from service.usecases import SiteRef, build_services

    svc = build_services(settings)
    try:
        with svc.sessions() as s:
            site = s.scalar(select(Site).where(Site.slug == args.site))
            ref = None if site is None else SiteRef(site.id, site.slug, {})
        if ref is None:
            return _fail(f"unknown site: {args.site}")
        erased = erase_author(svc, ref, args.email)
    except InvalidEmail:
        return _fail("not a valid email address")
    finally:
        svc.close()
    _print_json({"site": args.site, "erased": erased})
    return 0


def cmd_relay(settings: Settings, _: argparse.Namespace) -> int:
    from service.usecases import build_services, relay_outbox
    from service.webhooks import relay_webhooks

    svc = build_services(settings)
    try:
        report = relay_outbox(svc)
        webhooks = relay_webhooks(svc)
    finally:
        svc.close()
    _print_json(
        {
            "sent": report.sent,
            "given_up": report.given_up,
            "failed": report.failed,
            "webhooks_sent": webhooks,
        }
    )
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
    """Web (gunicorn) + worker + scheduler, each restarted if it dies (service.supervisor)."""
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
    from service.logs import configure_logging
    from service.supervisor import Supervisor

    configure_logging(settings.log_level)
    supervisor = Supervisor(commands, env=env)
    supervisor.install_signal_handlers()
    print(f"commentmod: serving on http://{host}:{port} (web, worker, scheduler); Ctrl-C stops")
    print("commentmod: create a site with: .venv/bin/commentmod sites create demo")
    return supervisor.run()


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
    webhook = sites.add_parser("webhook", help="set or remove a site's webhook; prints the secret")
    webhook.add_argument("slug")
    webhook.add_argument("--url")
    webhook.add_argument("--disable", action="store_true")
    webhook.set_defaults(func=cmd_sites_webhook)
    policy = sites.add_parser("policy", help="show or change a site's moderation policy")
    policy.add_argument("slug")
    policy.add_argument("--set", action="append", metavar="KEY=VALUE", help="JSON or text value")
    policy.add_argument("--unset", action="append", metavar="KEY")
    policy.add_argument("--replace", metavar="FILE.json", help="replace all overrides")
    policy.set_defaults(func=cmd_sites_policy)

    mods = sub.add_parser("moderators", help="moderators").add_subparsers(
        dest="moderators_command", required=True
    )
    create_mod = mods.add_parser("create", help="create a moderator; prints its token once")
    create_mod.add_argument("name")
    create_mod.add_argument("--site", action="append", required=True)
    create_mod.set_defaults(func=cmd_moderators_create)
    revoke_mod = mods.add_parser("revoke", help="revoke a moderator's token")
    revoke_mod.add_argument("id", type=int)
    revoke_mod.set_defaults(func=cmd_moderators_revoke)

    labels = sub.add_parser("labels", help="moderator labels").add_subparsers(
        dest="labels_command", required=True
    )
    export = labels.add_parser("export", help="write text,label,lang CSV for retraining")
    export.add_argument("--site", required=True)
    export.add_argument("--check", choices=["spam", "toxicity"], required=True)
    export.add_argument("file")
    export.set_defaults(func=cmd_labels_export)

    keys = sub.add_parser("keys", help="secrets").add_subparsers(dest="keys_command", required=True)
    keys.add_parser(
        "generate", help="print new COMMENTMOD_EMAIL_KEYS / COMMENTMOD_HASH_KEY"
    ).set_defaults(func=cmd_keys_generate)
    keys.add_parser(
        "rotate", help="re-encrypt stored emails with the first COMMENTMOD_EMAIL_KEYS key"
    ).set_defaults(func=cmd_keys_rotate)

    authors = sub.add_parser("authors", help="authors' personal data").add_subparsers(
        dest="authors_command", required=True
    )
    erase = authors.add_parser("erase", help="erase an author's personal data on a site")
    erase.add_argument("--site", required=True)
    erase.add_argument("email")
    erase.set_defaults(func=cmd_authors_erase)

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
    try:
        return int(args.func(settings, args) or 0)
    except OperationalError as exc:
        # Typically: no database yet (run `commentmod db upgrade`, or `make run` first), or
        # the server is unreachable. The driver's message names no submitted value.
        return _fail(
            f"database unavailable: {exc.orig}; is it migrated (commentmod db upgrade)?", 1
        )


if __name__ == "__main__":
    sys.exit(main())
