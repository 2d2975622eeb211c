"""Where the pipeline gets its detectors: :func:`get_detector` builds the detector of a check
registered in :data:`service.domain.checks.CHECKS` (the one registry of checks), and
:func:`detect_language`. An unknown name fails loudly (:class:`UnknownCheck`).

Importing this module is cheap (no model is read); the first :func:`get_detector` call for a
check loads its committed artifact from ``workers/checks/artifacts/`` and the detector is then
cached for the life of the process.

Variants: ``default`` ships weights trained only on commercially usable data. ``trac`` is the
opt-in toxicity model learned from TRAC-1 (CC BY-NC-SA 4.0, non-commercial): its weights are
*not* in the repository; a site that may use them (where that licence allows, see
docs/models.md) builds them locally with ``make models-nc``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from service.domain.checks import CHECKS, UnknownCheck, check_spec
from workers.checks.base import CheckName, Detector
from workers.checks.language import detect_language

if TYPE_CHECKING:  # numpy behind it: imported when a model is first loaded
    from workers.checks.textmodel import TextModel

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

# Builds a check's detector for a model variant (loading its artifact, if it has one).
DetectorFactory = Callable[[Variant], Detector]

__all__ = [
    "ARTIFACTS",
    "ARTIFACTS_DIR",
    "CHECKS",
    "NON_COMMERCIAL_ARTIFACTS",
    "UnknownCheck",
    "detect_language",
    "get_detector",
    "spam_detector",
    "toxicity_detector",
    "trac_toxicity",
]


def load_artifact(check: CheckName, variant: Variant) -> TextModel:
    """The committed model artifact of ``check``'s ``variant``.

    Raises ``ValueError`` for a variant the check does not have and ``FileNotFoundError``
    when the artifact is missing (run ``make models``, or ``make models-nc`` for the ``trac``
    variant).
    """
    if (check, variant) not in ARTIFACTS:
        raise ValueError(f"unknown check/variant: {check!r}/{variant!r}")
    name = ARTIFACTS[(check, variant)]
    if name in NON_COMMERCIAL_ARTIFACTS and not (ARTIFACTS_DIR / f"{name}.json").exists():
        raise FileNotFoundError(
            f"{name} is trained on non-commercial data and not shipped; build it locally with "
            f"`{BUILD_NC_HINT}`, i.e. `python -m workers.training --include-nc` (only "
            "where CC BY-NC-SA 4.0 allows)"
        )
    from workers.checks.textmodel import TextModel

    return TextModel.load(ARTIFACTS_DIR, name)


# The detector modules are imported when their check is first built, so that importing the
# registry stays cheap for the web process and the CLI (tests/unit/test_checks_registry.py).
def spam_detector(variant: Variant = "default") -> Detector:
    from workers.checks.spam import SpamDetector

    return SpamDetector(model_artifact=load_artifact("spam", variant))


def toxicity_detector(variant: Variant = "default") -> Detector:
    from workers.checks.toxicity import ToxicityDetector

    return ToxicityDetector(model_artifact=load_artifact("toxicity", variant))


@cache
def get_detector(check: CheckName, variant: Variant = "default") -> Detector:
    """The process-wide detector for ``check``, built on first use and then cached.

    Raises :class:`UnknownCheck` for a name that is not registered, ``ValueError`` for an
    unknown variant and ``FileNotFoundError`` for a missing artifact.
    """
    module_name, _, attribute = check_spec(check).detector.partition(":")
    factory: DetectorFactory = getattr(importlib.import_module(module_name), attribute)
    return factory(variant)


def trac_toxicity() -> Detector:
    """The opt-in TRAC-1 toxicity detector, for the ``detector_plugins`` setting.

    One setting turns it on (docs/models.md, "Opt-in TRAC model"), after ``make models-nc``:
    ``COMMENTMOD_DETECTOR_PLUGINS='{"toxicity": "workers.checks.registry:trac_toxicity"}'``.
    Raises ``FileNotFoundError`` naming ``make models-nc`` when the artifact was not built, so
    a worker configured for it fails at start instead of running without it.
    """
    return get_detector("toxicity", "trac")
