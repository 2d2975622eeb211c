"""Spam detector: the rule table of :mod:`workers.checks.spam_rules` + a linear model.

Every rule that fires adds a reason code, a weight (see :mod:`workers.checks.scoring`) and
evidence spans into the original text. Stable reason codes: ``honeypot``, ``too_fast``,
``links``, ``shortener``, ``phone_number``, ``messaging_handle``, ``spam_phrase``, ``money``,
``shouting``, ``repetition``, ``author_name_keywords``, ``author_url``,
``spam_model``. ``signals`` carries ``links`` (number of links in the text — the site policy
decides ``too_many_links``), ``phone_numbers``, ``model_score``, ``seconds_to_submit`` and
``model_veto`` (1 when only soft hints fired and the model was confidently ham: not held).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workers.checks.base import CheckInput, CheckName, CheckResult, Evidence
from workers.checks.language import detect_language
from workers.checks.normalize import Lexicon
from workers.checks.scoring import SUSPECT, decide, model_name, model_weight, noisy_or
from workers.checks.spam_rules import RULES, Comment, SpamRule
from workers.checks.textmodel import TextModel

SPAM_PHRASES_PATH = Path(__file__).parent / "lexicons" / "spam_phrases.txt"

# Rules at or above this (more than one plain link or one money amount) support the model.
RULE_SUPPORT = 0.2
# A vetoed rules score stays this far below ``suspect`` (see :meth:`SpamDetector.run`).
MODEL_VETO_MARGIN = 0.01


@dataclass
class RuleFindings:
    """What the rule table found on one comment, in rule order."""

    weights: list[float] = field(default_factory=list)
    # Weights of the hard hits: evidence a spammer needs (see :mod:`workers.checks.spam_rules`).
    hard: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    signals: dict[str, float] = field(default_factory=dict)


def run_rules(comment: Comment, rules: tuple[SpamRule, ...] = RULES) -> RuleFindings:
    """Run every rule on ``comment`` and collect its hits (a reason is listed once)."""
    found = RuleFindings()
    if comment.item.seconds_to_submit is not None:
        found.signals["seconds_to_submit"] = float(comment.item.seconds_to_submit)
    found.signals["links"] = float(len(comment.links))
    found.signals["phone_numbers"] = float(len(comment.phones))
    for rule in rules:
        for hit in rule.find(comment):
            found.evidence.extend(hit.evidence)
            found.weights.append(hit.weight)
            if not hit.is_soft:
                found.hard.append(hit.weight)
            if hit.reason not in found.reasons:
                found.reasons.append(hit.reason)
            found.signals.update(hit.signals)
    return found


@dataclass
class SpamDetector:
    """Implements :class:`workers.checks.base.Detector` for ``check="spam"``.

    ``model`` is optional (rules only without it). Thread-safe; ``run`` never raises on odd
    input.
    """

    model_artifact: TextModel | None = None
    phrases: Lexicon = field(default_factory=lambda: Lexicon.from_file(SPAM_PHRASES_PATH))
    check: CheckName = field(default="spam", init=False)
    # ``name@version``: the trained model's plus the rules' version, or the rules' alone.
    model: str = field(init=False)

    def __post_init__(self) -> None:
        self.model = model_name("spam", self.model_artifact)

    def run(self, item: CheckInput) -> CheckResult:
        comment = Comment(item, self.phrases)
        found = run_rules(comment)
        w_model = None
        if self.model_artifact is not None and item.text.strip():
            w_model = self._weigh_model(self.model_artifact, comment, found)
        score, verdict = decide(found.weights, w_model)
        return CheckResult(
            check="spam",
            score=round(score, 4),
            verdict=verdict,
            reasons=tuple(found.reasons),
            evidence=tuple(found.evidence),
            model=self.model,
            lang=item.lang_hint or detect_language(item.text),
            signals=found.signals,
        )

    @staticmethod
    def _weigh_model(model: TextModel, comment: Comment, found: RuleFindings) -> float:
        """The model's evidence weight, at the bar the rules' support earns; may add the
        ``spam_model`` reason and veto a soft-only hold (updates ``found`` in place)."""
        p = model.predict(comment.text, comment.norm)
        found.signals["model_score"] = round(p, 4)
        # A comment with nothing a spammer needs (no contact, offer, extra links, …) is held
        # by the model alone only above its stricter bar: the training data's ham is SMS
        # chat and music-video comments, so ordinary news prose ("please check …") can
        # score moderately high.
        if noisy_or(found.weights) >= RULE_SUPPORT:
            threshold = model.threshold
        elif found.weights:  # a soft hint (one link, a money amount, …) but no support
            threshold = model.threshold_alone
        else:  # nothing but the model's own view of the words
            threshold = model.threshold_bare
        w_model = model_weight(p, threshold)
        if w_model >= SUSPECT:
            found.reasons.append("spam_model")
        # Soft hints alone ("free" + all caps, "call now", "XXX") that the model firmly
        # calls ham do not hold a comment: on the training data such holds were all ham.
        # Any hard rule (a contact, a shortener, …) keeps the rules' full weight.
        if p < model.ham_bar and not found.hard and noisy_or(found.weights) >= SUSPECT:
            found.weights = [SUSPECT - MODEL_VETO_MARGIN]
            found.signals["model_veto"] = 1.0
        return w_model
