"""``commentmod evaluate|train``: the workers' detectors, run offline on labelled data.

The workers' code (models, training stack) is imported only when these commands run.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from service.cli.common import DEFAULT_DATA_DIR, fail, print_json
from service.domain.checks import CHECKS, CheckResult
from service.domain.policy import DecisionContext, Policy, decide
from service.domain.statuses import Status
from service.settings import Settings
from service.usecases.services import NotFound


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """The worker's detector through the pipeline's own policy: a positive is a comment the
    pipeline would not publish (held, rejected or spam) on this check's result alone."""
    from workers.training.evaluation import evaluate

    path = Path(args.file)
    if not path.is_file():
        return fail(f"no such file: {path}")
    # Pre-moderation is left out: it holds everything and says nothing about the detector.
    policy = Policy(max_links=settings.policy_max_links)

    def would_not_publish(result: CheckResult) -> bool:
        # The verdict alone (no score): site thresholds are not this command's question.
        outcome = replace(result, score=None)
        decision = decide(
            DecisionContext(outcomes={result.check: outcome}), policy, (result.check,)
        )
        return decision.status is not Status.PUBLISHED

    try:
        if args.site:
            report = evaluate_site_csv(settings, args, path, would_not_publish)
        else:
            report = evaluate(args.check, path, is_positive=would_not_publish)
    except NotFound:
        return fail(f"unknown site {args.site!r}")
    except ValueError as exc:
        return fail(str(exc))
    print(json.dumps(report, ensure_ascii=False))
    return 0


def evaluate_site_csv(
    settings: Settings, args: argparse.Namespace, path: Path, is_positive: Any
) -> dict:
    from service.cli.site_models import evaluate_site

    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs columns text,label")
        rows = list(reader)
    return evaluate_site(settings, args.site, args.check, rows, is_positive)


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    if args.site:
        from service.cli.site_models import cmd_train_site

        return cmd_train_site(settings, args)
    from workers.training.training import DEFAULT_OUT_DIR, train_all

    data = Path(args.data)
    if not data.is_dir():
        return fail(f"no data directory at {data}")
    print_json(train_all(data, Path(args.out) if args.out else DEFAULT_OUT_DIR))
    return 0


def add_commands(sub: Any) -> None:
    evaluate = sub.add_parser("evaluate", help="run a detector on a labelled CSV")
    evaluate.add_argument("--check", choices=list(CHECKS), required=True, help="which detector")
    evaluate.add_argument("--site", help="evaluate through this site's active model")
    evaluate.add_argument("file", help="CSV with text,label[,lang] columns")
    evaluate.set_defaults(func=cmd_evaluate)

    train = sub.add_parser("train", help="rebuild the detector model artifacts, or a site's model")
    train.add_argument(
        "--data",
        default=str(DEFAULT_DATA_DIR),
        help="labelled data directory (default: %(default)s)",
    )
    train.add_argument("--out", help="artifact directory (default: the committed models)")
    train.add_argument("--site", help="train this site's own model from its labels")
    train.add_argument("--check", choices=list(CHECKS), help="with --site: one check only")
    train.add_argument("--dry-run", action="store_true", help="with --site: only compare")
    train.add_argument("--force", action="store_true", help="with --site: promote anyway")
    train.set_defaults(func=cmd_train)
