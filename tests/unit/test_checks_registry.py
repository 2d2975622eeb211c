"""Registry: cheap import, lazy cached loading, artifacts present and loadable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.checks.base import CheckInput
from workers.checks.registry import (
    ARTIFACTS,
    ARTIFACTS_DIR,
    NON_COMMERCIAL_ARTIFACTS,
    get_detector,
)
from workers.checks.textmodel import TextModel
from workers.checks.toxicity import ToxicityDetector
from workers.training.data import DEFAULT_DATA_DIR
from workers.training.training import SPECS, build

SHIPPED = sorted(set(ARTIFACTS.values()) - NON_COMMERCIAL_ARTIFACTS)


def require_shared_data(*datasets: str) -> None:
    """The shared labelled data (``../shared/data`` next to the repository) must be there
    under CI (``CI=true``: the test fails); on a developer's machine without it, skip."""
    missing = [d for d in datasets if not (DEFAULT_DATA_DIR / d / "train.csv").is_file()]
    if not missing:
        return
    message = f"shared data {missing} not found under {DEFAULT_DATA_DIR}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def test_import_is_cheap() -> None:
    code = (
        "import sys, workers.checks.registry as r;"
        "heavy = ('sklearn', 'scipy', 'numpy', 'workers.checks.spam');"
        "bad = [m for m in heavy if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# The web app, the worker's tasks and both detectors, loaded and run as in production.
RUNTIME = """
import sys
import service.api, service.cli, workers.celery_app, workers.tasks
from workers.checks.base import CheckInput
from workers.checks.registry import get_detector
for check in ("spam", "toxicity"):
    get_detector(check).run(CheckInput(text="Earn 5000 daily, whatsapp 9876543210 bit.ly/x"))
print(sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy", "workers"}))
print("workers.training" in sys.modules)
"""


def test_runtime_never_loads_the_training_stack() -> None:
    # Runtime images install numpy only: scikit-learn and scipy are the `train` extra.
    out = subprocess.run(
        [sys.executable, "-c", RUNTIME], capture_output=True, text=True, check=True
    )
    assert out.stdout.split("\n")[:2] == ["['workers']", "False"], out.stdout


@pytest.mark.parametrize("name", SHIPPED)
def test_artifacts_load(name: str) -> None:
    model = TextModel.load(ARTIFACTS_DIR, name)
    assert model.name == name and model.version
    assert 0.0 <= model.predict("hello world") <= 1.0
    # The model-only hold threshold was calibrated in training, not fixed at 0.5.
    assert 0.5 <= model.threshold <= model.threshold_alone < 1.0
    assert model.meta["calibration"]["method"].endswith("out-of-fold predictions on train")
    assert not model.meta["non_commercial"]


def test_non_commercial_weights_are_not_shipped() -> None:
    # TRAC-1 is CC BY-NC-SA 4.0: its weights are built locally on demand and git-ignored.
    ignore = (ARTIFACTS_DIR / ".gitignore").read_text(encoding="utf-8")
    for name in NON_COMMERCIAL_ARTIFACTS:
        assert f"{name}.*" in ignore.splitlines()
    assert {s.name for s in SPECS if s.non_commercial} == set(NON_COMMERCIAL_ARTIFACTS)


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


def test_trac_variant_explains_how_to_build_it_when_missing() -> None:
    if (ARTIFACTS_DIR / "toxicity-linear-trac.json").exists():
        pytest.skip("the opt-in TRAC artifact was built locally (--include-nc)")
    get_detector.cache_clear()
    with pytest.raises(FileNotFoundError, match="--include-nc"):
        get_detector("toxicity", "trac")


def test_trac_variant_builds_on_demand_and_is_distinct(tmp_path: Path) -> None:
    require_shared_data("trac1_en", "trac1_hi")
    spec = next(s for s in SPECS if s.name == "toxicity-linear-trac")
    build(spec, DEFAULT_DATA_DIR, tmp_path)
    model = TextModel.load(tmp_path, "toxicity-linear-trac")
    assert model.meta["non_commercial"] is True
    detector = ToxicityDetector(model_artifact=model)
    assert detector.model != get_detector("toxicity").model
    assert detector.run(CheckInput(text="tu chutiya hai madarchod")).verdict != "clean"
    assert detector.run(CheckInput(text="Thoughtful point number 1.")).verdict == "clean"
