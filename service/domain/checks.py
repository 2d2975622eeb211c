"""The checks: the one registry of them (:data:`CHECKS`) and the one result type
(:class:`CheckResult`), from the detector that produces it to the policy that reads it and
the storage that keeps it. Pure: no I/O, no framework.

Adding a check is one detector module plus one entry in :data:`CHECKS` (plus its rule in
the policy table, service/domain/policy.py): see docs/architecture.md, "Adding a check".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# The verdicts a detector returns, mildest first; the pipeline adds "unavailable" for a
# check that kept failing (never published unchecked).
VERDICTS: tuple[str, ...] = ("clean", "suspect", "blatant")
UNAVAILABLE_VERDICT = "unavailable"
UNAVAILABLE_REASON = "check_unavailable"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span ``text[start:end]`` of the original comment text and why it matters."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict on one comment: a score (0..1, higher = more likely spam, toxic…),
    stable snake_case reason codes, evidence spans, the ``name@version`` of the model, the
    detected language and numeric signals the site policy may use (e.g. ``{"links": 2}``).
    ``duration_ms`` is set by the pipeline, not by detectors."""

    check: str
    verdict: str  # clean | suspect | blatant | unavailable
    reasons: tuple[str, ...] = ()
    signals: Mapping[str, float] = field(default_factory=dict)
    score: float | None = None
    evidence: tuple[Evidence, ...] = ()
    model: str = "none"
    lang: str | None = None
    duration_ms: float | None = None

    @property
    def is_unavailable(self) -> bool:
        return self.verdict == UNAVAILABLE_VERDICT


def unavailable(check: str) -> CheckResult:
    """The result recorded for a check that kept failing or could not be run."""
    return CheckResult(check=check, verdict=UNAVAILABLE_VERDICT, reasons=(UNAVAILABLE_REASON,))


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check. ``detector`` is where its detector factory lives, as
    ``"module:callable"`` (called with the model variant, returns a detector): the workers
    import it, the web never does. ``labels`` turns a stored label's action into this check's
    training label (``commentmod labels export``): a moderator's or an imported state's
    ``approve``/``reject``/``spam``, or a check's own label given by a labelled CSV import
    (``ham``, ``toxic``, ``ok``), which labels that check only."""

    detector: str
    labels: Mapping[str, str] = field(default_factory=dict)


class UnknownCheck(ValueError):
    """No check is registered under this name."""


# The one registry of checks: name → spec. The order is the pipeline's and the docs'.
CHECKS: dict[str, CheckSpec] = {
    "spam": CheckSpec(
        detector="workers.checks.registry:spam_detector",
        labels=MappingProxyType({"spam": "spam", "approve": "ham", "ham": "ham"}),
    ),
    "toxicity": CheckSpec(
        detector="workers.checks.registry:toxicity_detector",
        labels=MappingProxyType({"reject": "toxic", "approve": "ok", "toxic": "toxic", "ok": "ok"}),
    ),
}


def check_spec(name: str) -> CheckSpec:
    """The registered check ``name``; an unknown name fails loudly."""
    spec = CHECKS.get(name)
    if spec is None:
        raise UnknownCheck(f"no check is registered as {name!r}")
    return spec
