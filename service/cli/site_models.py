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
    site_labels,
    store_model,
)


def site_detector(check: str, stored: StoredModel | None) -> Any:
    """The detector of a stored site model, or the default detector when ``stored`` is None."""
    from workers.checks.registry import get_detector
    from workers.checks.site_models import artifact_from_bytes, detector_with

    if stored is None:
        return get_detector(check)
    return detector_with(
        check, artifact_from_bytes(stored.weights, stored.meta or {}, stored.version)
    )


def evaluate_site(
    settings: Settings, site: str, check: str, rows: list[dict[str, str]], is_positive: Any
) -> dict:
    """``commentmod evaluate --site``: the rows through the site's active model for ``check``
    (the default model when it has none)."""
    from workers.training.evaluation import evaluate_rows

    svc = build_services(settings)
    try:
        detector = site_detector(check, active_model(svc, site, check))
    finally:
        svc.close()
    return evaluate_rows(detector, rows, is_positive)


def train_check(svc: Services, args: argparse.Namespace, check: str) -> int:
    """Train, compare and (by the rule, or ``--force``) promote one check's site model."""
    from workers.checks.registry import load_artifact
    from workers.checks.site_models import artifact_bytes, detector_with, site_model_name
    from workers.training.site_model import (
        examples_from,
        is_better,
        score_holdout,
        side_by_side,
        train_candidate,
    )

    rows = site_labels(svc, args.site, check)
    minimum = svc.settings.site_model_min_labels
    if len(rows) < minimum:
        print(f"{check}: {len(rows)} labels (< site_model_min_labels={minimum}); keeps the default")
        return 0
    examples = examples_from(rows)
    name = site_model_name(check, args.site)
    candidate, holdout = train_candidate(load_artifact(check, "default"), name, examples)
    current = active_model(svc, args.site, check)
    current_name = f"{name}@{current.version}" if current else "default"
    cur = score_holdout(check, site_detector(check, current), holdout)
    cand = score_holdout(check, detector_with(check, candidate), holdout)
    better, why = is_better(cand, cur)
    trained = len(examples) - len(holdout)
    print(f"{check}: {trained} labels to train, {len(holdout)} most recent held out")
    print(f"current ({current_name}) / candidate:")
    print("\n".join(side_by_side(cur, cand)))
    promoted = better or bool(args.force)
    verdict = "promote" if better else "refuse"
    if args.dry_run:
        print(f"{check}: would {verdict} ({why}); dry run, nothing stored")
        return 0
    weights, meta = artifact_bytes(candidate)
    metrics = {
        "holdout": len(holdout),
        "candidate": cand,
        "current": cur,
        "current_model": current_name,
        "rule": verdict,
        "why": why,
        "forced": promoted and not better,
    }
    version = store_model(svc, args.site, check, weights, meta, metrics, activate=promoted)
    state = "promoted" if promoted else "stored, not promoted"
    forced = " (--force)" if promoted and not better else ""
    print(f"{check}: {name}@{version} {state}{forced}: {why}")
    return 0 if promoted else 1  # refused: 1, so a script or the scheduler can tell


def cmd_train_site(settings: Settings, args: argparse.Namespace) -> int:
    try:
        import scipy  # noqa: F401
    except ImportError:
        return fail("train --site needs the training extra: pip install 'commentmod[train]'")
    svc = build_services(settings)
    try:
        checks = [args.check] if args.check else list(CHECKS)
        return max(train_check(svc, args, check) for check in checks)
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
