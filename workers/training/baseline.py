"""Compare our detectors with the reference baseline on every dev split.

Baseline (per the issue): scikit-learn ``TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5))``
+ ``LogisticRegression(C=4, class_weight="balanced")`` trained on the *same* dataset's
``train.csv`` and scored on its ``dev.csv`` (positive when P ≥ 0.5). Ours = the committed
artifacts through :func:`workers.training.evaluation.evaluate_rows`, positive when the verdict is
not ``clean``. The opt-in TRAC-1 model (non-commercial, not shipped) is trained here in memory
from ``train.csv`` for the comparison, as is a variant *with* Davidson added, to show what its
casual-profanity labels do. Dev rows are only ever scored, never trained on.

Run: ``python -m workers.training.baseline [--data DIR] [--json OUT]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from workers.checks.base import Detector
from workers.checks.registry import get_detector
from workers.checks.spam import SpamDetector
from workers.checks.toxicity import ToxicityDetector
from workers.training.audit import audit_spam, detector_holds
from workers.training.data import DEFAULT_DATA_DIR, split_rows, training_rows
from workers.training.evaluation import evaluate_rows, metrics
from workers.training.training import SEED, SPECS, fit

# (dataset, check, positive label, language filter or None)
SPLITS: tuple[tuple[str, str, str, str | None], ...] = (
    ("youtube_spam_uci", "spam", "spam", None),
    ("sms_spam_uci", "spam", "spam", None),
    ("sms_spam_hindi_mt", "spam", "spam", None),
    ("davidson_hate_offensive", "toxicity", "toxic", None),
    ("trac1_en", "toxicity", "toxic", None),
    ("trac1_hi", "toxicity", "toxic", "hi"),
    ("trac1_hi", "toxicity", "toxic", "hi-Latn"),
)


def baseline_model(
    train: list[dict[str, str]], positive: str
) -> Callable[[list[str]], list[float]]:
    """The reference baseline trained on ``train``: a function from texts to P(positive)."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5))
    x = vectorizer.fit_transform([r["text"] for r in train])
    y = [r["label"] == positive for r in train]
    clf = LogisticRegression(C=4, class_weight="balanced", max_iter=2000, random_state=SEED)
    clf.fit(x, y)
    return lambda texts: list(clf.predict_proba(vectorizer.transform(texts))[:, 1])


def baseline_scores(
    train: list[dict[str, str]], dev: list[dict[str, str]], positive: str
) -> list[float]:
    """P(positive) of the reference baseline trained on ``train``, for each ``dev`` row."""
    return baseline_model(train, positive)([r["text"] for r in dev])


def news_audit(data_dir: Path) -> dict[str, dict]:
    """The TRAC-1 spam audit (:mod:`workers.training.audit`) for our spam detector, its rules
    alone, and the baseline trained on the comment-spam set (YouTube; positive at P ≥ 0.5)."""
    youtube = baseline_model(split_rows(data_dir, "youtube_spam_uci"), "spam")
    return {
        "ours": audit_spam(detector_holds(get_detector("spam")), data_dir),
        "rules only": audit_spam(detector_holds(SpamDetector()), data_dir),
        "baseline (YouTube)": audit_spam(
            lambda texts: [p >= 0.5 for p in youtube(texts)], data_dir
        ),
    }


def _trac_detector(data_dir: Path, with_davidson: bool = False) -> Detector:
    """The opt-in TRAC-1 toxicity detector trained in memory (optionally with Davidson added,
    for the comparison only). Nothing is written: the NC weights are never shipped."""
    spec = next(s for s in SPECS if s.name == "toxicity-linear-trac")
    if with_davidson:
        spec = replace(
            spec,
            name=spec.name + "-with-davidson",
            datasets=("davidson_hate_offensive", *spec.datasets),
            weights=(),
        )
    return ToxicityDetector(model_artifact=fit(spec, training_rows(data_dir, spec.datasets)))


def compare(data_dir: Path) -> list[dict[str, object]]:
    """One row per split: baseline vs each of our variants (F1, precision, recall, AUC)."""
    ours: dict[str, dict[str, Detector]] = {
        "spam": {"ours": get_detector("spam"), "rules only": SpamDetector()},
        "toxicity": {
            "ours (default)": get_detector("toxicity"),
            "ours (trac, opt-in)": _trac_detector(data_dir),
            "ours (trac + Davidson)": _trac_detector(data_dir, with_davidson=True),
            "rules only": ToxicityDetector(),
        },
    }
    table: list[dict[str, object]] = []
    for dataset, check, positive, lang in SPLITS:
        train = split_rows(data_dir, dataset)
        dev = split_rows(data_dir, dataset, "dev")
        scores = baseline_scores(train, dev, positive)
        keep = [i for i, r in enumerate(dev) if lang is None or r["lang"] == lang]
        labels = [dev[i]["label"] == positive for i in keep]
        split = dataset if lang is None else f"{dataset}[{lang}]"
        results = {
            "baseline": metrics(labels, [scores[i] >= 0.5 for i in keep], [scores[i] for i in keep])
        }
        rows = [dev[i] for i in keep]
        for name, detector in ours[check].items():
            results[name] = evaluate_rows(detector, rows)["overall"]
        table.append({"split": split, "check": check, "results": results})
    return table


def to_markdown(table: Sequence[dict[str, object]]) -> str:
    """The comparison as a Markdown table (F1 / AUC per model)."""
    lines = [
        "| split | n | model | precision | recall | F1 | ROC AUC |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table:
        results = row["results"]
        assert isinstance(results, dict)
        for name, m in results.items():
            auc = "n/a" if m["roc_auc"] is None else f"{m['roc_auc']:.3f}"
            lines.append(
                f"| {row['split']} | {m['count']} | {name} | {m['precision']:.3f} "
                f"| {m['recall']:.3f} | {m['f1']:.3f} | {auc} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point; prints the Markdown table (and writes JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    table = compare(args.data)
    audit = news_audit(args.data)
    if args.json:
        out = {"dev": table, "news_spam_audit": audit}
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(to_markdown(table))
    print()
    print("| TRAC-1 spam audit | held | unlabelled held | spam held | precision | recall (est.) |")
    print("|---|---|---|---|---|---|")
    for name, a in audit.items():
        print(
            f"| {name} | {a['held']} | {a['unlabelled_held']} | {a['spam_held']} "
            f"| {a['precision']:.3f} | {a['recall_estimate']:.3f} |"
        )


if __name__ == "__main__":
    main()
