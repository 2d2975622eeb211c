"""Train a site's own model for a check, with the shipped default model as the prior.

The site model keeps the default artifact's features, IDF and calibrated thresholds and
learns a correction of its weights from the site's labels: logistic loss on the site's
labels plus ``prior_strength/2 · ‖w − w_default‖²`` (L-BFGS). Where the site says nothing the
default's knowledge stands; a few hundred site labels move the words the site uses. Needs
nothing but the default artifact (shipped in the wheel and the image), not ../shared.

Candidates are scored on the site's most recent labels, held out by time
(:func:`split_by_time`), with :func:`score_holdout` (per language: AUC, precision, recall and
F1 of "not published", and precision of ``blatant``) and judged by :func:`is_better`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, sparse

from workers.checks.base import CheckInput, CheckName, Detector
from workers.checks.registry import detect_language
from workers.checks.textmodel import N_FEATURES, TextModel, tfidf
from workers.checks.toxicity_data import model_text
from workers.training.calibration import best_f1_threshold
from workers.training.evaluation import MAIN_LANGS, metrics

POSITIVE_LABELS = frozenset({"spam", "toxic"})
# How strongly the weights are held to the default's: the L2 penalty on their difference,
# against a class-balanced log loss summed over the site's labels (so a few hundred of them
# outweigh the pull where the site's own words speak).
PRIOR_STRENGTH = 0.1
# The share of the site's labels, the most recent, held out to compare candidate and current.
HOLDOUT_SHARE = 0.2
# Bars recalibrated on the site's training labels (:func:`recalibrate`): out-of-fold scores
# from this many folds (contiguous in time), for each language with at least this many
# labels and of each class at least MIN_CALIBRATION_CLASS.
CALIBRATION_FOLDS = 4
MIN_CALIBRATION_ROWS = 50
MIN_CALIBRATION_CLASS = 10


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    positive: bool
    lang: str


def examples_from(rows: Sequence[tuple[str, str, str | None]]) -> list[Example]:
    """``(text, label, lang)`` rows (``labels export``'s columns, oldest first) as examples."""
    return [
        Example(text, label in POSITIVE_LABELS, lang or detect_language(text))
        for text, label, lang in rows
    ]


def split_by_time(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """``(train, holdout)``: the most recent :data:`HOLDOUT_SHARE` (at least one) held out."""
    held = max(1, round(len(examples) * HOLDOUT_SHARE))
    return list(examples[:-held]), list(examples[-held:])


def design_matrix(prior: TextModel, texts: Sequence[str]) -> sparse.csr_matrix:
    """TF-IDF rows exactly as the detector computes them for ``prior``."""
    transform = str(prior.meta.get("text_transform", ""))
    indptr, indices, data = [0], [], []
    for text in texts:
        idx, values = tfidf(*prior.features(model_text(text, transform)), prior.idf)
        indices.append(idx)
        data.append(values)
        indptr.append(indptr[-1] + len(idx))
    return sparse.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.asarray(indptr),
        ),
        shape=(len(texts), N_FEATURES),
    )


def fit_site_model(
    prior: TextModel, train: Sequence[Example], name: str, prior_strength: float = PRIOR_STRENGTH
) -> TextModel:
    """``prior`` with weights and bias refit on ``train`` under an L2 pull towards its own.

    Classes are balanced (each class's examples weigh half the total), so a site with few
    positives still moves the model."""
    X = design_matrix(prior, [e.text for e in train])
    y = np.array([1.0 if e.positive else 0.0 for e in train])
    n_pos = max(1.0, y.sum())
    n_neg = max(1.0, len(y) - y.sum())
    sample_w = np.where(y > 0, len(y) / (2 * n_pos), len(y) / (2 * n_neg))
    cols = np.unique(X.indices)  # only weights the site's texts touch can move
    Xc = X[:, cols].tocsr()
    w0 = prior.weights[cols]
    start = np.concatenate([w0, [prior.bias]])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = Xc @ w + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        nll = np.sum(sample_w * (np.logaddexp(0, z) - y * z))
        diff = w - w0
        residual = sample_w * (p - y)
        grad_w = Xc.T @ residual + prior_strength * diff
        grad_b = residual.sum() + prior_strength * (b - prior.bias)
        value = nll + 0.5 * prior_strength * (diff @ diff + (b - prior.bias) ** 2)
        return float(value), np.concatenate([grad_w, [grad_b]])

    solution = optimize.minimize(loss, start, jac=True, method="L-BFGS-B").x
    weights = prior.weights.copy()
    weights[cols] = solution[:-1]
    meta: dict[str, Any] = {
        **prior.meta,
        "prior": f"{prior.name}@{prior.version}",
        "site_labels": len(train),
        "prior_strength": prior_strength,
    }
    return replace(
        prior, name=name, version="0", weights=weights, bias=float(solution[-1]), meta=meta
    )


def score_holdout(check: CheckName, detector: Detector, holdout: Sequence[Example]) -> dict:
    """Per language (and overall): AUC, precision, recall, F1 of "not clean" (the pipeline
    would not publish it) and ``blatant_precision`` (of the ``blatant`` verdicts)."""
    rows = []
    for e in holdout:
        result = detector.run(CheckInput(text=e.text, lang_hint=e.lang))
        rows.append((e.lang, e.positive, result.verdict, result.score or 0.0))

    def summarize(subset: list[tuple[str, bool, str, float]]) -> dict:
        out = metrics(
            [r[1] for r in subset], [r[2] != "clean" for r in subset], [r[3] for r in subset]
        )
        blatant = [r[1] for r in subset if r[2] == "blatant"]
        out["blatant"] = len(blatant)
        out["blatant_precision"] = round(sum(blatant) / len(blatant), 4) if blatant else None
        return out

    langs = [lang for lang in MAIN_LANGS if any(r[0] == lang for r in rows)]
    langs += sorted({r[0] for r in rows} - set(MAIN_LANGS))
    return {
        "overall": summarize(rows),
        "by_lang": {lang: summarize([r for r in rows if r[0] == lang]) for lang in langs},
    }


def is_better(candidate: dict, current: dict) -> tuple[bool, str]:
    """The promotion rule: a higher overall AUC (or equal AUC and higher F1) and no loss of
    precision at ``blatant``. Returns ``(better, why)``."""
    cand, cur = candidate["overall"], current["overall"]
    c_bp, k_bp = cand["blatant_precision"], cur["blatant_precision"]
    if c_bp is not None and k_bp is not None and c_bp < k_bp:
        return False, f"precision at blatant falls ({k_bp} -> {c_bp})"
    c_key = (cand["roc_auc"] or 0.0, cand["f1"])
    k_key = (cur["roc_auc"] or 0.0, cur["f1"])
    if c_key > k_key:
        return True, f"AUC/F1 {k_key} -> {c_key}"
    return False, f"not better: AUC/F1 {k_key} -> {c_key}"


def side_by_side(current: dict, candidate: dict) -> list[str]:
    """A table, one line per language: current vs candidate."""
    header = ("AUC", "precision", "recall", "F1", "P@blatant")
    lines = [f"{'lang':<8}{'n':>5}  " + "  ".join(f"{h:>11}" for h in header)]
    groups = {"overall": (current["overall"], candidate["overall"])}
    for lang, cand in candidate["by_lang"].items():
        groups[lang] = (current["by_lang"].get(lang, cand), cand)

    def pair(a: Any, b: Any) -> str:
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        return f"{fmt(a)}/{fmt(b)}"

    for lang, (cur, cand) in groups.items():
        cells = [
            pair(cur[k], cand[k])
            for k in ("roc_auc", "precision", "recall", "f1", "blatant_precision")
        ]
        lines.append(f"{lang:<8}{cand['count']:>5}  " + "  ".join(f"{c:>11}" for c in cells))
    return lines


def out_of_fold(
    prior: TextModel, train: Sequence[Example], prior_strength: float = PRIOR_STRENGTH
) -> np.ndarray:
    """Each training label's probability from a site model fit without its fold
    (:data:`CALIBRATION_FOLDS` contiguous folds): what the model says of labels it never saw."""
    X = design_matrix(prior, [e.text for e in train])
    p = np.zeros(len(train))
    everything = np.arange(len(train))
    for fold in np.array_split(everything, CALIBRATION_FOLDS):
        rest = np.setdiff1d(everything, fold)
        model = fit_site_model(prior, [train[i] for i in rest], "oof", prior_strength)
        z = X[fold] @ model.weights + model.bias
        p[fold] = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    return p


def _calibratable(y: np.ndarray) -> bool:
    positives = int(y.sum())
    return len(y) >= MIN_CALIBRATION_ROWS and min(positives, len(y) - positives) >= (
        MIN_CALIBRATION_CLASS
    )


def recalibrate(model: TextModel, train: Sequence[Example], p: np.ndarray) -> TextModel:
    """``model`` with its bars (``thresholds_by_lang``, the toxicity detector's per-language
    ``threshold`` and ``threshold_alone``) set to the F1-best bar of the out-of-fold
    probabilities ``p``: per language where the site has enough labels of it, else the bar
    of all its labels pooled (when those are enough); languages the site has no labels in
    keep the default's bars. The default's bars were chosen on its own data (0.927 for
    Hindi: precise, little recall); the site's labels say where its own comments split."""
    y = np.array([e.positive for e in train], dtype=int)
    langs = np.array([e.lang for e in train])
    by_lang = dict(model.meta.get("thresholds_by_lang") or {})
    pooled = best_f1_threshold(p, y) if _calibratable(y) else None
    calibrated = {}
    for lang in sorted(set(langs.tolist())):
        mask = langs == lang
        best = best_f1_threshold(p[mask], y[mask]) if _calibratable(y[mask]) else pooled
        if best is None:
            continue
        bar = best["threshold"]
        by_lang[lang] = {"threshold": bar, "threshold_alone": bar, "rows": int(mask.sum())}
        calibrated[lang] = "own" if best is not pooled else "pooled"
    meta = {**model.meta, "thresholds_by_lang": by_lang, "site_calibrated_langs": calibrated}
    return replace(model, meta=meta)


def train_candidate(
    prior: TextModel, name: str, examples: Sequence[Example], calibrate: bool = False
) -> tuple[TextModel, list[Example]]:
    """The candidate fit on all but the most recent labels, and those held-out labels;
    ``calibrate``: with its bars recalibrated on the training labels (out of fold)."""
    train, holdout = split_by_time(examples)
    model = fit_site_model(prior, train, name)
    if calibrate:
        model = recalibrate(model, train, out_of_fold(prior, train))
    return model, holdout
