"""How detector evidence becomes a score and a verdict (shared by spam and toxicity).

Each piece of evidence carries a weight in 0–1 read as "on its own, the chance this comment
should not be published". Weights combine by noisy-OR, ``1 − Π(1 − wᵢ)``, so independent
hints add up and one strong hint is enough. The trained model is one more piece of evidence,
capped below :data:`BLATANT`, and :func:`decide` only says ``blatant`` when the rules *alone*
would already hold the comment: the model and weak hints (one link, a money amount) can hold
a comment for a human but never auto-reject it. Precision first: the models were trained on
SMS, YouTube and tweets, not on news comments.

A model's probability is not used raw: :func:`model_weight` maps it so that the model's
*calibrated* threshold (chosen in training on out-of-fold predictions, stored in the artifact)
lands exactly on :data:`SUSPECT`. A probability of 0.6 from a model whose calibrated bar is 0.8
is weak evidence, not a hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.checks.base import Verdict
from workers.checks.textmodel import TextModel

# Bump when a rule or a lexicon changes in a way that changes verdicts.
RULES_VERSION = "6"  # 6: issue 13 political contempt (contempt_patterns.py, lexicons)

SUSPECT = 0.5
BLATANT = 0.85
MODEL_CAP = 0.84


def noisy_or(weights: Iterable[float]) -> float:
    """``1 − Π(1 − w)`` over ``weights`` (each clipped to 0–1)."""
    keep = 1.0
    for w in weights:
        keep *= 1.0 - min(1.0, max(0.0, w))
    return 1.0 - keep


def model_weight(probability: float, threshold: float) -> float:
    """The model's evidence weight, monotone in ``probability`` (so AUC is unchanged):
    ``threshold`` → :data:`SUSPECT`, linear above it up to :data:`MODEL_CAP` at 1, and a
    steep (cubic) fall below it — the model is calibrated at its threshold, and its
    below-threshold scores (e.g. ≈ 0.35 for any text in a language it never saw) must not
    add up with one mild word into a hold."""
    p = min(1.0, max(0.0, probability))
    t = min(0.999, max(0.001, threshold))
    if p < t:
        return SUSPECT * (p / t) ** 3
    return SUSPECT + (MODEL_CAP - SUSPECT) * (p - t) / (1.0 - t)


def decide(rule_weights: list[float], model_probability: float | None) -> tuple[float, Verdict]:
    """Score and verdict from the rules' weights and the model's evidence weight (if any;
    see :func:`model_weight`).

    ``blatant`` when the score is ≥ :data:`BLATANT` *and* the rules alone reach
    :data:`SUSPECT`; ``suspect`` when the score is ≥ :data:`SUSPECT`; else ``clean``.
    """
    rules = noisy_or(rule_weights)
    if model_probability is None:
        score = rules
    else:
        score = noisy_or([rules, min(model_probability, MODEL_CAP)])
    if score >= BLATANT and rules < SUSPECT:
        # Model-led: hold, don't reject; keep the score below the blatant line to match.
        score = BLATANT - 0.001
    if score >= BLATANT:
        return score, "blatant"
    if score >= SUSPECT:
        return score, "suspect"
    return score, "clean"


def model_name(check: str, artifact: TextModel | None) -> str:
    """``name@version`` of a detector: ``<model>@<version>+rules<N>`` or ``<check>-rules@<N>``."""
    if artifact is None:
        return f"{check}-rules@{RULES_VERSION}"
    return f"{artifact.name}@{artifact.version}+rules{RULES_VERSION}"
