"""Where the pipeline gets its detectors: :func:`get_detector` and :func:`detect_language`.

Importing this module is cheap (no model is read); the first :func:`get_detector` call for a
check loads its committed artifact from ``workers/checks/artifacts/`` and the detector is then
cached for the life of the process.

Variants: ``default`` ships weights trained only on commercially usable data. ``trac`` is the
opt-in toxicity model learned from TRAC-1 (CC BY-NC-SA 4.0, non-commercial): its weights are
*not* in the repository; a site that may use them (where that licence allows, see
docs/models.md) builds them locally with ``python -m workers.training --include-nc``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from workers.checks.base import CheckName, Detector
from workers.checks.language import detect_language

ARTIFACTS_DIR = Path(__file__).parent / "artifacts"
BUILD_NC_HINT = "make models-nc"
Variant = Literal["default", "trac"]
# Artifact name per (check, variant).
ARTIFACTS: dict[tuple[CheckName, Variant], str] = {
    ("spam", "default"): "spam-linear",
    ("spam", "trac"): "spam-linear",
    ("toxicity", "default"): "toxicity-linear",
    ("toxicity", "trac"): "toxicity-linear-trac",
}

# Not shipped: built locally on demand (``--include-nc``), listed in artifacts/.gitignore.
NON_COMMERCIAL_ARTIFACTS = frozenset({"toxicity-linear-trac"})

__all__ = [
    "ARTIFACTS",
    "ARTIFACTS_DIR",
    "NON_COMMERCIAL_ARTIFACTS",
    "detect_language",
    "get_detector",
    "trac_toxicity",
]


@cache
def get_detector(check: CheckName, variant: Variant = "default") -> Detector:
    """The process-wide detector for ``check`` (``spam`` or ``toxicity``).

    Loads the artifact on first use; raises ``FileNotFoundError`` when it is missing (run
    ``python -m workers.training``, with ``--include-nc`` for the ``trac`` variant) and
    ``ValueError`` for an unknown check.
    """
    # Imported here so that importing the registry stays cheap for the web process and CLI.
    from workers.checks.spam import SpamDetector
    from workers.checks.textmodel import TextModel
    from workers.checks.toxicity import ToxicityDetector

    if (check, variant) not in ARTIFACTS:
        raise ValueError(f"unknown check/variant: {check!r}/{variant!r}")
    name = ARTIFACTS[(check, variant)]
    if name in NON_COMMERCIAL_ARTIFACTS and not (ARTIFACTS_DIR / f"{name}.json").exists():
        raise FileNotFoundError(
            f"{name} is trained on non-commercial data and not shipped; build it locally with "
            f"`{BUILD_NC_HINT}`, i.e. `python -m workers.training --include-nc` (only "
            "where CC BY-NC-SA 4.0 allows)"
        )
    artifact = TextModel.load(ARTIFACTS_DIR, name)
    if check == "spam":
        return SpamDetector(model_artifact=artifact)
    return ToxicityDetector(model_artifact=artifact)


def trac_toxicity() -> Detector:
    """The opt-in TRAC-1 toxicity detector, for the ``detector_plugins`` setting.

    One setting turns it on (docs/models.md, "Opt-in TRAC model"), after ``make models-nc``:
    ``COMMENTMOD_DETECTOR_PLUGINS='{"toxicity": "workers.checks.registry:trac_toxicity"}'``.
    Raises ``FileNotFoundError`` naming ``make models-nc`` when the artifact was not built, so
    a worker configured for it fails at start instead of running without it.
    """
    return get_detector("toxicity", "trac")
