"""Site model training (issue 17), without a database: the artifact survives the bytes the
database keeps, the prior fit learns a site's words, the time split holds out the newest
labels and the promotion rule refuses a loss of precision at ``blatant``."""

from __future__ import annotations

import numpy as np

from workers.checks.base import CheckInput
from workers.checks.registry import load_artifact
from workers.checks.site_models import artifact_bytes, artifact_from_bytes, detector_with
from workers.checks.textmodel import TextModel
from workers.training.site_model import Example, fit_site_model, is_better, split_by_time


def overall(auc: float, f1: float, blatant_precision: float | None) -> dict:
    return {"overall": {"roc_auc": auc, "f1": f1, "blatant_precision": blatant_precision}}


def test_the_promotion_rule() -> None:
    assert is_better(overall(0.9, 0.5, 1.0), overall(0.8, 0.5, 1.0))[0]
    assert not is_better(overall(0.8, 0.5, 1.0), overall(0.9, 0.5, 1.0))[0]
    assert not is_better(overall(0.8, 0.5, None), overall(0.8, 0.5, None))[0]  # a tie stays
    better, why = is_better(overall(0.95, 0.9, 0.8), overall(0.8, 0.5, 1.0))
    assert not better and "blatant" in why


def test_the_newest_labels_are_held_out() -> None:
    examples = [Example(f"c{i}", i % 2 == 0, "en") for i in range(10)]
    train, holdout = split_by_time(examples)
    assert [e.text for e in holdout] == ["c8", "c9"] and len(train) == 8


def test_a_site_model_learns_the_site_words_and_survives_its_bytes() -> None:
    prior = load_artifact("toxicity", "default")
    train = [
        Example(f"the writer is a zorbakiya about topic {i}", True, "en") for i in range(30)
    ] + [Example(f"the writer explains topic {i} well", False, "en") for i in range(60)]
    site = fit_site_model(prior, train, "toxicity-site-demo")
    text = "such a zorbakiya again"

    def model_score(model: TextModel) -> float:
        result = detector_with("toxicity", model).run(CheckInput(text=text, lang_hint="en"))
        return float(result.signals["model_score"])

    assert model_score(site) > model_score(prior) + 0.3
    weights, meta = artifact_bytes(site)
    loaded = artifact_from_bytes(weights, meta, 3)
    assert loaded.name == "toxicity-site-demo" and loaded.version == "3"
    assert np.isclose(loaded.predict(text), site.predict(text), atol=0.01)
    assert detector_with("toxicity", loaded).model.startswith("toxicity-site-demo@3+rules")


def test_bars_are_recalibrated_on_the_site_labels_out_of_fold() -> None:
    from workers.training.site_model import out_of_fold, recalibrate

    prior = load_artifact("toxicity", "default")
    hindi_bar = prior.meta["thresholds_by_lang"]["hi-Latn"]["threshold"]
    train = [Example(f"tu ek kravnetu hai, topic {i}", True, "hi-Latn") for i in range(40)] + [
        Example(f"lekh accha hai, topic {i} samjhaya", False, "hi-Latn") for i in range(80)
    ]
    train += [Example(f"a fine remark {i}", False, "en") for i in range(5)]
    site = fit_site_model(prior, train, "toxicity-site-demo")
    p = out_of_fold(prior, train)
    assert p.shape == (len(train),) and ((p >= 0) & (p <= 1)).all()
    # Out of fold, the site's word still separates: every toxic label above every clean one.
    y = np.array([e.positive for e in train])
    assert p[y].min() > p[~y & (np.arange(len(train)) < 120)].max()
    calibrated = recalibrate(site, train, p)
    bars = calibrated.meta["thresholds_by_lang"]
    # Hindi (Latin script) had enough labels: its own bar, far below the default's 0.927.
    assert bars["hi-Latn"]["threshold"] < hindi_bar and bars["hi-Latn"]["rows"] == 120
    assert calibrated.meta["site_calibrated_langs"] == {"en": "pooled", "hi-Latn": "own"}
    # A language the site never labelled keeps the default's bar; the weights are the site's.
    assert bars["hi"] == prior.meta["thresholds_by_lang"]["hi"]
    assert calibrated.weights is site.weights
    # Too few labels: nothing recalibrated.
    few = recalibrate(site, train[:10], p[:10])
    assert few.meta["thresholds_by_lang"] == prior.meta["thresholds_by_lang"]
