"""evaluate(): metrics shape, per-language split, custom is_positive, label validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.training.evaluation import evaluate, metrics


def write_csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(body, encoding="utf-8")
    return path


def test_metrics_values() -> None:
    m = metrics([True, True, False, False], [True, False, True, False], [0.9, 0.4, 0.6, 0.1])
    assert m == {
        "count": 4,
        "accuracy": 0.5,
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "roc_auc": 0.75,
    }


def test_evaluate_toxicity_by_lang(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "text,label,lang\n"
        "you are a fucking idiot,toxic,en\n"
        "Thanks for the balanced report,ok,en\n"
        "tu chutiya hai,toxic,\n"
        "तू हरामी कमीना है,toxic,hi\n"
        "यह लेख बहुत अच्छा है,ok,hi\n",
    )
    report = evaluate("toxicity", path)
    assert report["overall"]["count"] == 5
    assert report["overall"]["recall"] == 1.0
    assert set(report["by_lang"]) >= {"en", "hi", "hi-Latn"}
    assert report["by_lang"]["hi-Latn"]["count"] == 1  # detected: lang column empty
    assert report["by_lang"]["en"]["roc_auc"] == 1.0


def test_custom_is_positive(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "text,label\nBuy cheap viagra now at www.x.com,spam\nhello,ham\n")
    never = evaluate("spam", path, is_positive=lambda result: False)
    assert never["overall"]["recall"] == 0.0
    assert evaluate("spam", path)["overall"]["recall"] == 1.0


def test_unknown_label_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        evaluate("spam", write_csv(tmp_path, "text,label\nhello,maybe\n"))
