"""Evaluate a detector on a labelled CSV through the same code path as the worker.

``evaluate(check, csv_path)`` reads ``text,label[,lang]`` (labels ``spam``/``ham`` or
``toxic``/``ok``; other columns ignored), runs ``get_detector(check).run(CheckInput(text=…))``
on every row and returns::

    {"overall": {"count", "accuracy", "precision", "recall", "f1", "roc_auc"},
     "by_lang": {"en": {...}, "hi": {...}, "hi-Latn": {...}}}

A row is predicted positive when ``is_positive(result)`` (default: ``verdict != "clean"``, i.e.
the pipeline would not publish it). ``roc_auc`` ranks by ``result.score`` and is ``None`` when a
group holds one class only. ``lang`` comes from the CSV, else :func:`detect_language`;
``by_lang`` always has the three keys (a group with no rows has ``count`` 0) and may have
``mixed``/``und`` too.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

from sklearn.metrics import roc_auc_score

from workers.checks.base import CheckInput, CheckName, CheckResult, Detector
from workers.checks.registry import Variant, detect_language, get_detector

POSITIVE_LABELS = frozenset({"spam", "toxic"})
NEGATIVE_LABELS = frozenset({"ham", "ok"})
MAIN_LANGS = ("en", "hi", "hi-Latn")


def _is_not_clean(result: CheckResult) -> bool:
    return result.verdict != "clean"


def metrics(labels: Sequence[bool], predicted: Sequence[bool], scores: Sequence[float]) -> dict:
    """count, accuracy, precision, recall, F1 (of the positive class) and ROC AUC."""
    n = len(labels)
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc = roc_auc_score(labels, scores) if 0 < sum(labels) < n else None
    return {
        "count": n,
        "accuracy": round((n - fp - fn) / n, 4) if n else 0.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "roc_auc": None if auc is None else round(float(auc), 4),
    }


def evaluate(
    check: CheckName,
    csv_path: Path | str,
    is_positive: Callable[[CheckResult], bool] | None = None,
    variant: Variant = "default",
) -> dict:
    """Run the ``check`` detector over ``csv_path`` and report metrics overall and per language.

    Raises ``ValueError`` on a label outside spam/ham/toxic/ok or a CSV without ``text,label``.
    """
    with Path(csv_path).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{csv_path}: needs columns text,label")
        examples = list(reader)
    return evaluate_rows(get_detector(check, variant), examples, is_positive)


def evaluate_rows(
    detector: Detector,
    examples: Sequence[dict[str, str]],
    is_positive: Callable[[CheckResult], bool] | None = None,
) -> dict:
    """:func:`evaluate` on already-read rows (dicts with ``text``, ``label``, optional ``lang``)."""
    decide = is_positive or _is_not_clean
    rows: list[tuple[str, bool, bool, float]] = []
    for row in examples:
        label = (row["label"] or "").strip().lower()
        if label not in POSITIVE_LABELS | NEGATIVE_LABELS:
            raise ValueError(f"unknown label {row['label']!r}")
        text = row["text"] or ""
        lang = (row.get("lang") or "").strip() or detect_language(text)
        result = detector.run(CheckInput(text=text, lang_hint=lang))
        rows.append((lang, label in POSITIVE_LABELS, decide(result), result.score or 0.0))

    def summarize(subset: list[tuple[str, bool, bool, float]]) -> dict:
        return metrics([r[1] for r in subset], [r[2] for r in subset], [r[3] for r in subset])

    langs = list(MAIN_LANGS) + sorted({r[0] for r in rows} - set(MAIN_LANGS))
    return {
        "overall": summarize(rows),
        "by_lang": {lang: summarize([r for r in rows if r[0] == lang]) for lang in langs},
    }
