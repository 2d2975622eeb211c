"""Training a site's model for a check, by hand (``commentmod train --site``) or by the
scheduler (the ``training.retrain_sites`` task run by ``commentmod trainer``): one path, one
promotion rule, one lease per (site, check) in the database.

Needs the training extra (scipy): only ``commentmod train`` and ``commentmod trainer`` import
this module; the web and the moderation worker never do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from service.settings import Settings
from service.usecases.services import Services
from service.usecases.site_models import (
    StoredModel,
    active_model,
    claim_training,
    finish_training,
    site_labels,
    store_model,
    training_states,
)
from workers.checks.base import Detector
from workers.checks.registry import get_detector, load_artifact
from workers.checks.site_models import (
    artifact_bytes,
    artifact_from_bytes,
    detector_with,
    site_model_name,
)
from workers.training.site_model import (
    Example,
    examples_from,
    is_better,
    score_holdout,
    side_by_side,
    train_candidate,
)

log = logging.getLogger(__name__)
# What a training ended with; ``refused`` and ``busy`` are failures for the CLI's exit status.
FAILED = frozenset({"refused", "busy"})


def site_detector(check: str, stored: StoredModel | None) -> Detector:
    """The detector of a stored site model, or the default detector when ``stored`` is None."""
    if stored is None:
        return get_detector(check)
    return detector_with(
        check, artifact_from_bytes(stored.weights, stored.meta or {}, stored.version)
    )


def train_site_check(
    svc: Services,
    slug: str,
    check: str,
    *,
    trained_by: str,
    force: bool = False,
    dry_run: bool = False,
    min_new: int | None = None,
    out: Callable[[str], None] = print,
) -> str:
    """Train, compare and (by the rule, or ``force``) promote one check's site model; the
    outcome: ``too_few``, ``busy`` (another training holds the lease, or with ``min_new``
    one already trained on these labels), ``dry_run``, ``promoted`` or ``refused``."""
    rows = site_labels(svc, slug, check)
    minimum = svc.settings.site_model_min_labels
    if len(rows) < minimum:
        out(f"{check}: {len(rows)} labels (< site_model_min_labels={minimum}); keeps the default")
        return "too_few"
    if dry_run:
        return _train(svc, slug, check, examples_from(rows), trained_by, force, True, out)
    lease = svc.settings.site_retrain_lease_seconds
    max_seen = None if min_new is None else len(rows) - min_new
    if not claim_training(svc, slug, check, lease, max_seen):
        out(f"{check}: another training of {slug} holds the lease (or saw these labels)")
        return "busy"
    outcome, seen = "failed", None
    try:
        outcome = _train(svc, slug, check, examples_from(rows), trained_by, force, False, out)
        seen = len(rows)
    finally:
        finish_training(svc, slug, check, seen, outcome)
    return outcome


def _train(
    svc: Services,
    slug: str,
    check: str,
    examples: list[Example],
    trained_by: str,
    force: bool,
    dry_run: bool,
    out: Callable[[str], None],
) -> str:
    name = site_model_name(check, slug)
    # Only the toxicity detector reads per-language bars; spam keeps the default's bars.
    prior = load_artifact(check, "default")
    candidate, holdout = train_candidate(prior, name, examples, calibrate=check == "toxicity")
    current = active_model(svc, slug, check)
    current_name = f"{name}@{current.version}" if current else "default"
    cur = score_holdout(check, site_detector(check, current), holdout)
    cand = score_holdout(check, detector_with(check, candidate), holdout)
    better, why = is_better(cand, cur)
    trained = len(examples) - len(holdout)
    out(f"{check}: {trained} labels to train, {len(holdout)} most recent held out")
    out(f"current ({current_name}) / candidate:")
    out("\n".join(side_by_side(cur, cand)))
    verdict = "promote" if better else "refuse"
    if dry_run:
        out(f"{check}: would {verdict} ({why}); dry run, nothing stored")
        return "dry_run"
    promoted = better or force
    weights, meta = artifact_bytes(candidate)
    metrics: dict[str, Any] = {
        "holdout": len(holdout),
        "labels": len(examples),
        "candidate": cand,
        "current": cur,
        "current_model": current_name,
        "rule": verdict,
        "why": why,
        "forced": promoted and not better,
        "trained_by": trained_by,
    }
    version = store_model(svc, slug, check, weights, meta, metrics, activate=promoted)
    state = "promoted" if promoted else "stored, not promoted"
    forced = " (--force)" if promoted and not better else ""
    out(f"{check}: {name}@{version} {state}{forced}: {why}")
    return "promoted" if promoted else "refused"


def retrain_sites(svc: Services, settings: Settings) -> dict[str, int]:
    """The scheduler's retraining pass: every (site, check) with enough labels and at least
    ``site_retrain_min_new_labels`` new ones since its last training is trained and promoted
    by the rule; the others keep their model. Counts of the outcomes are returned."""
    min_new = settings.site_retrain_min_new_labels
    counts: dict[str, int] = {}
    for state in training_states(svc, settings.checks, settings.site_model_min_labels, min_new):
        outcome = state.status
        if state.status == "due":
            outcome = train_site_check(
                svc,
                state.slug,
                state.check,
                trained_by="scheduler",
                min_new=min_new,
                out=lambda line: log.debug(line),
            )
        log.info(
            "site retrain",
            extra={
                "site": state.slug,
                "check": state.check,
                "labels": state.labels,
                "labels_seen": state.seen,
                "outcome": outcome,
            },
        )
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
