"""The detector contract shared by the pipeline and every detector.

A detector is pure: it takes a :class:`CheckInput` and returns a
:class:`~service.domain.checks.CheckResult` (the one result type, defined in the pure
domain) with a score, a verdict, stable reason codes, evidence spans (offsets into the
*original* text) and the model's ``name@version``. It never raises on odd text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from service.domain.checks import VERDICTS, CheckResult, Evidence

Verdict = Literal["clean", "suspect", "blatant"]
# A check's name: a key of the registry (workers/checks/registry.py).
CheckName = str

__all__ = ["VERDICTS", "CheckInput", "CheckName", "CheckResult", "Detector", "Evidence", "Verdict"]


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


class Detector(Protocol):
    check: CheckName
    model: str

    def run(self, item: CheckInput) -> CheckResult: ...
