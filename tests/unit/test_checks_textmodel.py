"""Model features and the calibrated model weight: digits, links, shared normalization."""

from __future__ import annotations

import numpy as np
import pytest

from workers.checks.normalize import normalize
from workers.checks.scoring import MODEL_CAP, SUSPECT, decide, model_weight
from workers.checks.textmodel import N_FEATURES, TextModel, feature_arrays, model_view


def test_short_numbers_carry_no_model_feature() -> None:
    # "point 10" and "point 47" must look the same to the model as "point" alone.
    plain = feature_arrays("point was new")
    for text in ("point 10 was new", "point 47 was new"):
        keys, values = feature_arrays(text)
        assert np.array_equal(keys, plain[0]) and np.array_equal(values, plain[1])
    assert "longnumber" in model_view("call 9876543210")
    assert "2024" not in model_view("In 2024 it cost Rs 45,000")


def test_links_become_one_word_and_shared_normalization_gives_the_same_view() -> None:
    text = "Good analysis. The report (https://rbi.org.in/Scripts/Annual.aspx) says the same."
    view = model_view(text, hide_links=True)
    assert "weblink" in view and "rbi" not in view
    assert model_view(text, True, normalize(text)) == view
    long_text = "word " * 400 + "bit.ly/abc"
    assert model_view(long_text, True, normalize(long_text)) == model_view(long_text, True)


@pytest.mark.parametrize("threshold", [0.5, 0.62, 0.9])
def test_model_weight_is_monotone_and_suspect_at_the_threshold(threshold: float) -> None:
    assert model_weight(threshold, threshold) == pytest.approx(SUSPECT)
    assert model_weight(1.0, threshold) == pytest.approx(MODEL_CAP)
    ps = [i / 100 for i in range(101)]
    ws = [model_weight(p, threshold) for p in ps]
    assert ws == sorted(ws)
    assert decide([], model_weight(threshold - 0.01, threshold))[1] == "clean"
    # A model alone never rejects.
    assert decide([], model_weight(1.0, threshold))[1] == "suspect"


def test_per_language_thresholds_fall_back_to_the_global_bars() -> None:
    meta = {
        "threshold": 0.52,
        "threshold_alone": 0.6,
        "thresholds_by_lang": {"en": {"threshold": 0.39}},
    }
    model = TextModel("stub", "0", np.zeros(N_FEATURES), np.ones(N_FEATURES), 0.0, meta)
    assert model.thresholds_for("en") == (0.39, 0.39)
    assert model.thresholds_for("hi") == (0.52, 0.6)
    assert model.thresholds_for(None) == (0.52, 0.6)
