"""How detector evidence becomes a score and a verdict (shared by spam and toxicity).

Each piece of evidence carries a weight in 0–1 read as "on its own, the chance this comment
should not be published". Weights combine by noisy-OR, ``1 − Π(1 − wᵢ)``, so independent
hints add up and one strong hint is enough. The trained model is one more piece of evidence,
capped below :data:`BLATANT`, and :func:`decide` only says ``blatant`` when the rules *alone*
would already hold the comment: the model and weak hints (one link, a money amount) can hold
a comment for a human but never auto-reject it. Precision first: the models were trained on
SMS, YouTube and tweets, not on news comments.
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.checks.base import Verdict
from workers.checks.textmodel import TextModel

# Bump when a rule or a lexicon changes in a way that changes verdicts.
RULES_VERSION = "1"

SUSPECT = 0.5
BLATANT = 0.85
MODEL_CAP = 0.84


def noisy_or(weights: Iterable[float]) -> float:
    """``1 − Π(1 − w)`` over ``weights`` (each clipped to 0–1)."""
    keep = 1.0
    for w in weights:
        keep *= 1.0 - min(1.0, max(0.0, w))
    return 1.0 - keep


def decide(rule_weights: list[float], model_probability: float | None) -> tuple[float, Verdict]:
    """Score and verdict from the rules' weights and the model's probability (if any).

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
