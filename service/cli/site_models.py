"""``commentmod train --site`` and ``commentmod models list|promote|rollback``: each site's
own models (issue 17). Training and the detectors are the workers' code, imported only when
these commands run; the service side stores and serves the artifacts' bytes.
"""

from __future__ import annotations

import argparse
from typing import Any

from service.cli.common import fail, print_json
from service.domain.checks import CHECKS
from service.settings import Settings
from service.usecases.services import NotFound, Services, build_services
from service.usecases.site_models import (
    StoredModel,
    active_model,
    list_models,
    promote,
    rollback,
)


def evaluate_site(
    settings: Settings, site: str, check: str, rows: list[dict[str, str]], is_positive: Any
) -> dict:
    """``commentmod evaluate --site``: the rows through the site's active model for ``check``
    (the default model when it has none)."""
    from workers.training.evaluation import evaluate_rows
    from workers.training.site_retrain import site_detector

    svc = build_services(settings)
    try:
        detector = site_detector(check, active_model(svc, site, check))
    finally:
        svc.close()
    return evaluate_rows(detector, rows, is_positive)


def cmd_train_site(settings: Settings, args: argparse.Namespace) -> int:
    try:
        import scipy  # noqa: F401
    except ImportError:
        return fail("train --site needs the training extra: pip install 'commentmod[train]'")
    from workers.training.site_retrain import FAILED, train_site_check

    svc = build_services(settings)
    try:
        checks = [args.check] if args.check else list(CHECKS)
        outcomes = [
            train_site_check(
                svc, args.site, check, trained_by="cli", force=args.force, dry_run=args.dry_run
            )
            for check in checks
        ]
        # refused (stored, not promoted) or busy: 1, so a script can tell
        return 1 if FAILED & set(outcomes) else 0
    except NotFound as exc:
        return fail(str(exc))
    finally:
        svc.close()


def cmd_models(settings: Settings, args: argparse.Namespace) -> int:
    svc = build_services(settings)
    try:
        if args.models_command == "list":
            print_json([_listed(m) for m in list_models(svc, args.site, args.check)])
            return 0
        checks = _target_checks(svc, args)
        if isinstance(checks, str):
            return fail(checks)
        for check in checks:
            if args.models_command == "promote":
                promote(svc, args.site, check, args.version)
                print(f"{check}: version {args.version} active for {args.site}")
            else:
                now = rollback(svc, args.site, check)
                print(f"{check}: {'default model' if now is None else f'version {now}'} active")
    except NotFound as exc:
        return fail(str(exc))
    finally:
        svc.close()
    return 0


def _target_checks(svc: Services, args: argparse.Namespace) -> list[str] | str:
    """The checks ``promote``/``rollback`` act on: ``--check``, else (as the SPEC's
    ``models promote|rollback --site SLUG`` allows) every check with an active site model
    for a rollback, or the one check that has the version for a promote; a message when
    that is none or ambiguous."""
    if args.check:
        return [args.check]
    stored = list_models(svc, args.site, None)
    if args.models_command == "rollback":
        checks = sorted({m.check for m in stored if m.is_active})
        return checks or f"{args.site} runs the default models: nothing to roll back"
    checks = sorted({m.check for m in stored if m.version == args.version})
    if len(checks) == 1:
        return checks
    if not checks:
        return f"{args.site} has no stored model version {args.version}"
    return f"version {args.version} exists for {', '.join(checks)}: give --check"


def _listed(model: StoredModel) -> dict[str, Any]:
    overall = (model.metrics.get("candidate") or {}).get("overall") or {}
    return {
        "check": model.check,
        "version": model.version,
        "active": model.is_active,
        "created_at": model.created_at.isoformat(),
        "holdout_auc": overall.get("roc_auc"),
        "holdout_f1": overall.get("f1"),
        "rule": model.metrics.get("rule"),
        "labels": model.metrics.get("labels"),
        "trained_by": model.metrics.get("trained_by", "cli"),
    }


def add_commands(sub: Any) -> None:
    models = sub.add_parser("models", help="a site's own models: list, promote, roll back")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    helps = {
        "list": "the site's stored model versions and which one is active",
        "promote": "make a stored version the active one",
        "rollback": "go back to the previous version (then to the default model)",
    }
    for name, text in helps.items():
        command = models_sub.add_parser(name, help=text)
        command.add_argument("--site", required=True, help="the site's slug")
        if name == "list":
            command.add_argument("--check", choices=list(CHECKS), help="one check only")
        else:
            command.add_argument(
                "--check",
                choices=list(CHECKS),
                help="which check's model (default: every check the command applies to)",
            )
        if name == "promote":
            command.add_argument(
                "--version", type=int, required=True, help="the version to make active"
            )
        command.set_defaults(func=cmd_models)
