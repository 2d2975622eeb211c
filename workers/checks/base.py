"""The detector contract shared by the pipeline and every detector.

A detector is pure: it takes a :class:`CheckInput` and returns a :class:`CheckResult` with a
score, a verdict, stable reason codes, evidence spans (offsets into the *original* text) and
the model's ``name@version``. It never raises on odd text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Verdict = Literal["clean", "suspect", "blatant"]
CheckName = Literal["spam", "toxicity"]
VERDICTS: tuple[Verdict, ...] = ("clean", "suspect", "blatant")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span ``text[start:end]`` of the original comment text and why it matters."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class CheckInput:
    """What a detector may look at. No email, no raw IP: detectors never see PII."""

    text: str
    author_name: str = ""
    author_url: str | None = None
    lang_hint: str | None = None
    # True when the site's hidden trap field was filled in.
    is_honeypot_filled: bool = False
    # Seconds between the form being shown and the submission; None when unknown.
    seconds_to_submit: float | None = None
    user_agent: str | None = None
    referrer: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: CheckName
    score: float  # 0..1, higher = more likely spam / toxic
    verdict: Verdict
    reasons: tuple[str, ...]  # stable snake_case codes
    evidence: tuple[Evidence, ...]
    model: str  # "name@version"
    lang: str  # "en" | "hi" | "hi-Latn" | "mixed" | "und"
    # Numeric signals the site policy may use (e.g. {"links": 2}).
    signals: dict[str, float] = field(default_factory=dict)


class Detector(Protocol):
    check: CheckName
    model: str

    def run(self, item: CheckInput) -> CheckResult: ...
