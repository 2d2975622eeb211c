"""Toxicity detector: lexicons for English, Devanagari Hindi and Hinglish + a linear model.

Reason codes (stable): ``profanity``, ``insult``, ``identity_attack``, ``threat``, ``sexual``
(one per lexicon category that fired) and ``toxicity_model``. ``signals["severity"]`` is
0 (none) … 3 (severe: slurs, threats, the strongest abuse); ``signals["model_score"]`` is the
model's raw probability. Evidence labels are ``<category>:<severity>`` and ``toxicity_model``
is reported without a span (the model scores the whole comment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import regex

from workers.checks.base import CheckInput, CheckName, CheckResult, Evidence
from workers.checks.language import detect_language
from workers.checks.normalize import Lexicon, LexiconMatch, normalize
from workers.checks.scoring import SUSPECT, decide, model_name, model_weight
from workers.checks.textmodel import TextModel

LEXICON_DIR = Path(__file__).parent / "lexicons"
LEXICON_FILES = ("toxicity_en.txt", "toxicity_hi.txt", "toxicity_hi_latn.txt")

W_SEVERITY = {1: 0.3, 2: 0.6, 3: 0.9}
# An insult within a few words of "you"/"tu"/"तू" is aimed at someone: (1 − w) shrinks by this.
TARGETED_FACTOR = 0.6
TARGET_WINDOW = 25  # characters of original text on either side of a hit
_TARGETED_CATEGORIES = frozenset({"insult", "profanity", "identity_attack", "sexual"})
SECOND_PERSON_RE = regex.compile(
    r"(?<![\p{L}\p{M}])(?:you|u|ur|your|youre|yourself|ya|tu|tum|tere|tera|teri|tujhe|tujhko|"
    r"tumhara|tumhari|tumhare|aap|apka|aapka|तू|तुम|तेरा|तेरी|तेरे|तुझे|तुझको|तुम्हारा|तुम्हारी|"
    r"तुम्हारे|आप)(?![\p{L}\p{M}])"
)


def load_lexicon() -> Lexicon:
    """The three toxicity word lists as one matcher (a comment may mix languages)."""
    entries = []
    for name in LEXICON_FILES:
        entries.extend(Lexicon.from_file(LEXICON_DIR / name).entries)
    return Lexicon(entries)


@dataclass
class ToxicityDetector:
    """Implements :class:`workers.checks.base.Detector` for ``check="toxicity"``.

    ``model_artifact`` is optional (lexicons only without it). Thread-safe; ``run`` never
    raises on odd input.
    """

    model_artifact: TextModel | None = None
    lexicon: Lexicon = field(default_factory=load_lexicon)
    check: CheckName = field(default="toxicity", init=False)
    model: str = field(init=False)

    def __post_init__(self) -> None:
        self.model = model_name("toxicity", self.model_artifact)

    def run(self, item: CheckInput) -> CheckResult:
        text = item.text
        norm = normalize(text)
        matches = self.lexicon.find(norm)
        # Second-person words, as offsets into the original text (like the hits).
        targets = (
            [norm.to_original(m.start(), m.end())[0] for m in SECOND_PERSON_RE.finditer(norm.text)]
            if matches
            else []
        )
        weights: list[float] = []
        reasons: list[str] = []
        evidence: list[Evidence] = []
        severity = 0
        for match in matches:
            entry = match.entry
            weight = W_SEVERITY.get(entry.severity, W_SEVERITY[1])
            if entry.category in _TARGETED_CATEGORIES and _near_target(match, targets):
                weight = 1.0 - (1.0 - weight) * TARGETED_FACTOR
            weights.append(weight)
            severity = max(severity, entry.severity)
            if entry.category not in reasons:
                reasons.append(entry.category)
            evidence.append(Evidence(match.start, match.end, f"{entry.category}:{entry.severity}"))

        signals: dict[str, float] = {}
        lang = item.lang_hint or detect_language(text)
        w_model = None
        if self.model_artifact is not None and text.strip():
            model = self.model_artifact
            p = model.predict(text, norm)
            signals["model_score"] = round(p, 4)
            # Without real lexicon support (a moderate/severe word, or a mild one aimed at
            # someone) the model needs its stricter bar: char/word models score harmless news
            # vocabulary moderately high at times, and "stray dogs" is not abuse. An artifact
            # calibrated per language (the opt-in TRAC model) has one bar per language.
            supported = max(weights, default=0.0) >= SUSPECT
            threshold, threshold_alone = model.thresholds_for(lang)
            threshold = threshold if supported else threshold_alone
            w_model = model_weight(p, threshold)
            if w_model >= SUSPECT:
                reasons.append("toxicity_model")

        score, verdict = decide(weights, w_model)
        # A comment held only by the model gets the mildest severity that explains the hold.
        signals["severity"] = float(max(severity, 1) if verdict != "clean" else severity)
        return CheckResult(
            check="toxicity",
            score=round(score, 4),
            verdict=verdict,
            reasons=tuple(reasons),
            evidence=tuple(evidence),
            model=self.model,
            lang=lang,
            signals=signals,
        )


def _near_target(match: LexiconMatch, targets: list[int]) -> bool:
    """True when a second-person word starts within :data:`TARGET_WINDOW` characters of the hit."""
    return any(match.start - TARGET_WINDOW <= t <= match.end + TARGET_WINDOW for t in targets)
