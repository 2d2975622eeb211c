"""Choosing a model's bars from its out-of-fold probabilities (pure numpy).

Every function takes ``p`` (out-of-fold probabilities of the positive class), ``y`` (1 for a
positive row) and, where rows weigh differently, ``w`` (sample weights); all are 1-D arrays of
one length. Results are rounded to 4 places, as stored in the artifacts' ``.json``.
"""

from __future__ import annotations

import numpy as np

MIN_THRESHOLD = 0.5  # calibration may raise the model's bar, never lower it below this
# Per-language F1-optimal thresholds are searched on this grid.
F1_GRID = tuple(round(0.3 + 0.01 * i, 2) for i in range(41))


def calibrate(
    p: np.ndarray, y: np.ndarray, w: np.ndarray, target: float, prevalence: float
) -> dict[str, float]:
    """The lowest threshold (≥ :data:`MIN_THRESHOLD`) whose precision reaches ``target`` when
    positives make up ``prevalence`` of comments, with the recall and FPR there (weighted)."""
    pos_total = float(w[y == 1].sum())
    neg_total = float(w[y == 0].sum())
    best = {"threshold": 1.0, "precision": 1.0, "recall": 0.0, "fpr": 0.0}
    for t in np.unique(np.round(p, 3))[::-1]:
        if t < MIN_THRESHOLD:
            break
        hit = p >= t
        tpr = float(w[hit & (y == 1)].sum()) / pos_total
        fpr = float(w[hit & (y == 0)].sum()) / neg_total
        if tpr == 0.0:
            continue
        precision = prevalence * tpr / (prevalence * tpr + (1.0 - prevalence) * fpr)
        if precision < target:
            break
        best = {"threshold": float(t), "precision": precision, "recall": tpr, "fpr": fpr}
    return {k: round(v, 4) for k, v in best.items()}


def best_f1_threshold(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The threshold on :data:`F1_GRID` with the best F1 of ``p >= t`` (ties: the higher)."""
    best = {"threshold": 0.5, "f1": -1.0, "precision": 0.0, "recall": 0.0}
    positives = int(y.sum())
    for t in F1_GRID:
        hit = p >= t
        tp = int((hit & (y == 1)).sum())
        predicted = int(hit.sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / positives if positives else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 >= best["f1"]:
            best = {"threshold": t, "f1": f1, "precision": precision, "recall": recall}
    return {k: round(v, 4) for k, v in best.items()}


def ham_bar(p: np.ndarray, y: np.ndarray, w: np.ndarray, miss: float) -> float:
    """The highest probability (0.01 steps, ≤ 0.5) with at most ``miss`` of the positives'
    weight below it."""
    pos = y == 1
    total = float(w[pos].sum())
    bar = 0.0
    for step in range(1, 51):
        t = step / 100
        if float(w[pos & (p < t)].sum()) / total > miss:
            break
        bar = t
    return bar
