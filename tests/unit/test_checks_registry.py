"""Registry: cheap import, lazy cached loading, artifacts present and loadable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workers.checks.registry import ARTIFACTS, ARTIFACTS_DIR, get_detector
from workers.checks.textmodel import TextModel


def test_import_is_cheap() -> None:
    code = (
        "import sys, workers.checks.registry as r;"
        "heavy = ('sklearn', 'scipy', 'numpy', 'workers.checks.spam');"
        "bad = [m for m in heavy if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(set(ARTIFACTS.values())))
def test_artifacts_load(name: str) -> None:
    model = TextModel.load(ARTIFACTS_DIR, name)
    assert model.name == name and model.version
    assert 0.0 <= model.predict("hello world") <= 1.0


def test_artifacts_are_small() -> None:
    total = sum(p.stat().st_size for p in ARTIFACTS_DIR.iterdir())
    assert total < 5_000_000


@pytest.mark.parametrize("check", ["spam", "toxicity"])
def test_get_detector_is_cached_and_named(check: str) -> None:
    detector = get_detector(check)  # type: ignore[arg-type]
    assert detector is get_detector(check)  # type: ignore[arg-type]
    assert detector.check == check
    name, _, version = detector.model.partition("@")
    assert name and version


def test_unknown_check_is_refused() -> None:
    with pytest.raises(ValueError):
        get_detector("sentiment")  # type: ignore[arg-type]


def test_trac_variant_is_opt_in_and_distinct() -> None:
    assert get_detector("toxicity", "trac").model != get_detector("toxicity").model
