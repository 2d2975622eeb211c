"""Rebuild every model artifact from the shared labelled data, reproducibly.

``train_all(data_dir, out_dir)`` is what ``commentmod train`` and ``make models`` call; from a
shell: ``python -m workers.training [--data DIR] [--out DIR] [--include-nc]``. Only
``train.csv`` files are read (never ``dev.csv``), through :mod:`workers.training.data`.
Deterministic: fixed seed, a deterministic solver and hashed features (CRC-32), so the same
data gives the same artifacts. Byte for byte only with OpenBLAS pinned as ``make models`` does
(``OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=2``): its kernel and thread count change the
solver's dot products in the last bits.

Artifacts (see docs/models.md for data, licences and metrics):
- ``spam-linear``: YouTube comments + UCI SMS + Hindi machine-translated SMS (CC BY / MIT).
- ``toxicity-linear`` (default): Davidson tweets (MIT) only — commercially usable.
- ``toxicity-linear-trac`` (opt-in): TRAC-1 English and Hindi (CC BY-NC-SA 4.0). Built only
  with ``--include-nc``, locally; git-ignored, never committed. Davidson is left out: its
  casual-profanity labels lowered TRAC held-out scores (docs/models.md).

Every artifact records its calibrated ``threshold``/``threshold_alone`` (out-of-fold, see
:class:`ModelSpec`) and feature settings in its ``.json``.
- ``english_words.txt``: English word statistics for language identification, from the
  permissive English sets only.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

import workers.checks
from workers.checks.language import HINGLISH_WORDS_PATH, detect_language
from workers.checks.normalize import TOKEN_RE, normalize
from workers.checks.textmodel import N_FEATURES, SCHEME, TextModel, feature_arrays
from workers.checks.toxicity_data import model_text
from workers.training.calibration import MIN_THRESHOLD, best_f1_threshold, calibrate, ham_bar
from workers.training.data import (
    DEFAULT_DATA_DIR,
    ENGLISH_WORD_DATASETS,
    split_rows,
    training_rows,
)

SEED = 42
# The detectors' committed artifacts (what the registry loads).
DEFAULT_OUT_DIR = Path(workers.checks.__file__).parent / "artifacts"
MODEL_VERSION = "3"
ENGLISH_MIN_COUNT = 3
ENGLISH_MAX_WORDS = 8000


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One artifact: training sets (with per-set sample weights), positive label,
    regularization, feature settings and how its ``suspect`` thresholds are calibrated.

    ``threshold`` (stored in the artifact) is the lowest out-of-fold probability at which the
    model's precision reaches ``target_precision`` at an assumed positive share of
    ``prevalence`` (a news site sees far less spam/abuse than these training sets hold);
    ``threshold_alone`` is the same for ``target_precision_alone`` — the bar for the model to
    hold a comment with no rule or lexicon support (the toxicity detector uses it).
    ``non_commercial`` artifacts are only built with ``--include-nc`` and never committed.
    """

    name: str
    check: str
    datasets: tuple[str, ...]
    positive: str
    c: float
    licence_note: str
    hide_links: bool = False
    weights: tuple[float, ...] = ()  # per dataset; empty = all 1.0
    char_ngrams: tuple[int, int] = (2, 5)
    char_weight: float = 0.5
    target_precision: float = 0.9
    target_precision_alone: float = 0.9
    prevalence: float = 0.2
    # > 0: also store ``threshold_bare``, the bar for a comment in which no rule found anything
    # (spam: not even one link), at this precision when such positives make up
    # ``prevalence_bare`` of comments. On a news site nearly all spam carries a link, a number
    # or an offer: of 94 comments from Indian news pages that the spam model alone held at
    # ``threshold_alone``, 4 were spam (docs/models.md, "News-comment audit").
    target_precision_bare: float = 0.0
    prevalence_bare: float = 0.05
    # > 0: store ``ham_bar``, the highest out-of-fold probability below which at most this
    # (weighted) share of positives fall — the spam detector lets a confident model veto
    # soft-only rule holds.
    ham_bar_miss: float = 0.0
    # Languages that get their own F1-optimal out-of-fold threshold (``thresholds_by_lang``).
    threshold_by_lang: tuple[str, ...] = ()
    non_commercial: bool = False
    # The text view the model is trained and run on (toxicity_data.model_text; issue 13).
    text_transform: str = ""
    # Languages (the rows' ``lang`` tag) whose ``threshold``/``threshold_alone`` are calibrated
    # on their own out-of-fold rows, stored in ``thresholds_by_lang`` (issue 13).
    calibrate_by_lang: tuple[str, ...] = ()

    def weight_of(self, dataset: str) -> float:
        return self.weights[self.datasets.index(dataset)] if self.weights else 1.0


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "spam-linear",
        "spam",
        ("youtube_spam_uci", "sms_spam_uci", "sms_spam_hindi_mt"),
        "spam",
        16.0,
        "CC BY 4.0 (UCI) + MIT (Hindi MT); commercial use with attribution",
        hide_links=True,
        # Comments first: SMS (and its machine translation) is secondary data.
        weights=(1.0, 0.4, 0.4),
        target_precision_alone=0.98,
        target_precision_bare=0.95,
        ham_bar_miss=0.02,
    ),
    ModelSpec(
        "toxicity-linear",
        "toxicity",
        # Issue 13: + Panlingua's translated Hindi pairs (MIT), as Devanagari and romanized by
        # rule (toxicity_data.py); Davidson's loose "offensive" labels at 0.3 weight.
        ("davidson_hate_offensive", "panlingua_detox_hi", "panlingua_detox_hi@latn"),
        "toxic",
        4.0,
        "MIT (Davidson et al. 2017; Panlingua 2023); commercial use with attribution",
        weights=(0.3, 1.0, 1.0),
        # Words are folded to spelling skeletons in both scripts (toxicity_data.model_text),
        # so 2–5-grams at half weight see "chutiya"/"चूतिया" alike; measured against 4–5-grams
        # at a quarter weight in docs/models.md.
        char_ngrams=(2, 5),
        char_weight=0.5,
        text_transform="script_fold",
        target_precision_alone=0.95,
        # TRAC-1 (Facebook comments on Indian news pages) is 23–41 % aggressive.
        prevalence=0.3,
        calibrate_by_lang=("en", "hi", "hi-Latn"),
    ),
    ModelSpec(
        "toxicity-linear-trac",
        "toxicity",
        ("trac1_en", "trac1_hi"),
        "toxic",
        2.0,
        "TRAC-1 (CC BY-NC-SA 4.0): non-commercial use only, opt-in; built locally, never committed",
        # An aggression model for Hinglish/Devanagari spelling variety: char n-grams matter.
        # TRAC's labels are noisy (OOF precision tops out near 0.6 at useful recall). English
        # TRAC (23 % aggressive, noisier labels) gets its own F1-optimal bar (≈ 0.39); for
        # hi/hi-Latn that bar (0.38/0.49) held 15 more of the 172 benign news comments, so
        # they keep the precision-0.6 bar (docs/models.md).
        char_ngrams=(2, 5),
        char_weight=0.5,
        target_precision=0.6,
        target_precision_alone=0.6,
        prevalence=0.3,
        threshold_by_lang=("en",),
        non_commercial=True,
    ),
)
CV_FOLDS = 5
# Languages with at least this many rows may get their own threshold (``threshold_by_lang``).
MIN_LANG_ROWS = 500


def feature_matrix(texts: Sequence[str], spec: ModelSpec) -> sparse.csr_matrix:
    """Hashed sublinear term frequencies of ``texts`` as a CSR matrix (rows = texts)."""
    rows = [
        feature_arrays(text, spec.hide_links, None, spec.char_ngrams, spec.char_weight)
        for text in texts
    ]
    indptr = np.cumsum([0] + [len(keys) for keys, _ in rows])
    indices = np.concatenate([keys for keys, _ in rows]) if rows else np.zeros(0, np.int64)
    values = np.concatenate([vals for _, vals in rows]) if rows else np.zeros(0)
    return sparse.csr_matrix((values, indices, indptr), shape=(len(texts), N_FEATURES))


def tfidf_matrix(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """TF × IDF with L2-normalized rows — the same as :func:`textmodel.tfidf`."""
    x = counts.copy().astype(np.float64)
    x.data = x.data * idf[x.indices]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)


def _fit_linear(
    spec: ModelSpec, counts: sparse.csr_matrix, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """IDF from ``counts``, then logistic regression; returns (idf, coef, intercept)."""
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    idf = np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0
    # Round through float16 now so training sees exactly the weights inference will use.
    idf = idf.astype(np.float16).astype(np.float64)
    clf = LogisticRegression(
        C=spec.c, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=SEED
    )
    clf.fit(tfidf_matrix(counts, idf), y, sample_weight=w)
    return idf, clf.coef_.ravel().copy(), float(clf.intercept_[0])


def out_of_fold(
    spec: ModelSpec, counts: sparse.csr_matrix, y: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Probabilities for every training row from a model that did not see it (k-fold)."""
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=SEED)
    p = np.zeros(len(y))
    for train_idx, test_idx in folds.split(np.zeros(len(y)), y):
        idf, coef, bias = _fit_linear(spec, counts[train_idx], y[train_idx], w[train_idx])
        z = tfidf_matrix(counts[test_idx], idf) @ coef + bias
        p[test_idx] = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
    return p


def calibrated_thresholds(
    spec: ModelSpec, texts: Sequence[str], oof: np.ndarray, y: np.ndarray, w: np.ndarray
) -> dict[str, object]:
    """The artifact's bars from out-of-fold probabilities ``oof``: ``threshold``,
    ``threshold_alone`` and, as ``spec`` asks, ``threshold_bare``, ``ham_bar`` and
    ``thresholds_by_lang``, each with how it was calibrated."""
    cal = calibrate(oof, y, w, spec.target_precision, spec.prevalence)
    cal_alone = calibrate(oof, y, w, spec.target_precision_alone, spec.prevalence)
    threshold_alone = max(MIN_THRESHOLD, cal_alone["threshold"], cal["threshold"])
    out: dict[str, object] = {
        "threshold": max(MIN_THRESHOLD, cal["threshold"]),
        "threshold_alone": threshold_alone,
        "calibration": {
            "method": f"{CV_FOLDS}-fold out-of-fold predictions on train",
            "prevalence": spec.prevalence,
            "target_precision": spec.target_precision,
            "target_precision_alone": spec.target_precision_alone,
            "at_threshold": cal,
            "at_threshold_alone": cal_alone,
        },
    }
    if spec.target_precision_bare > 0:
        cal_bare = calibrate(oof, y, w, spec.target_precision_bare, spec.prevalence_bare)
        out["threshold_bare"] = max(threshold_alone, cal_bare["threshold"])
        out["calibration_bare"] = {
            "prevalence": spec.prevalence_bare,
            "target_precision": spec.target_precision_bare,
            "at_threshold": cal_bare,
        }
    if spec.ham_bar_miss > 0:
        out["ham_bar"] = ham_bar(oof, y, w, spec.ham_bar_miss)
    if spec.threshold_by_lang:
        # The language the detector will see (detected, as in the worker), not the CSV tag.
        langs = np.array([detect_language(t) for t in texts])
        out["thresholds_by_lang"] = {
            lang: {
                **best_f1_threshold(oof[langs == lang], y[langs == lang]),
                "rows": int((langs == lang).sum()),
            }
            for lang in spec.threshold_by_lang
            if (langs == lang).sum() >= MIN_LANG_ROWS
        }
    return out


def calibrate_languages(
    spec: ModelSpec, rows: list[dict[str, str]], oof: np.ndarray, y: np.ndarray, w: np.ndarray
) -> dict[str, dict[str, object]]:
    """Per-language suspect bars: :func:`calibrate` on each language's out-of-fold rows."""
    tags = np.array([r.get("lang", "") for r in rows])
    out: dict[str, dict[str, object]] = {}
    for lang in spec.calibrate_by_lang:
        sel = tags == lang
        cal = calibrate(oof[sel], y[sel], w[sel], spec.target_precision, spec.prevalence)
        alone = calibrate(oof[sel], y[sel], w[sel], spec.target_precision_alone, spec.prevalence)
        threshold = max(MIN_THRESHOLD, cal["threshold"])
        out[lang] = {
            "threshold": threshold,
            "threshold_alone": max(threshold, alone["threshold"]),
            "rows": int(sel.sum()),
            "at_threshold": cal,
            "at_threshold_alone": alone,
        }
    return out


def fit(spec: ModelSpec, rows: list[dict[str, str]]) -> TextModel:
    """Train one :class:`TextModel` on ``rows`` (deterministic), with calibrated thresholds.

    Rows carry their dataset in ``_dataset`` (for the per-set sample weight) when known.
    """
    texts = [model_text(r["text"], spec.text_transform) for r in rows]
    y = np.array([r["label"] == spec.positive for r in rows], dtype=np.int8)
    w = np.array([spec.weight_of(r["_dataset"]) if "_dataset" in r else 1.0 for r in rows])
    counts = feature_matrix(texts, spec)
    oof = out_of_fold(spec, counts, y, w)
    idf, coef, bias = _fit_linear(spec, counts, y, w)
    meta = {
        "check": spec.check,
        "datasets": list(spec.datasets),
        "dataset_weights": [spec.weight_of(d) for d in spec.datasets],
        "licence": spec.licence_note,
        "non_commercial": spec.non_commercial,
        "train_rows": len(rows),
        "positive_share": round(float(y.mean()), 4),
        "C": spec.c,
        "features": N_FEATURES,
        "features_scheme": SCHEME,
        "char_ngrams": list(spec.char_ngrams),
        "char_weight": spec.char_weight,
        "seed": SEED,
        "hide_links": spec.hide_links,
        # Languages are detected on the original text, as the worker sees it.
        **calibrated_thresholds(spec, [r["text"] for r in rows], oof, y, w),
    }
    if spec.text_transform:
        meta["text_transform"] = spec.text_transform
    if spec.calibrate_by_lang:
        meta["thresholds_by_lang"] = calibrate_languages(spec, rows, oof, y, w)
    return TextModel(spec.name, MODEL_VERSION, coef, idf, bias, meta)


def build_english_words(data_dir: Path) -> list[str]:
    """Frequent words of the permissive English training sets, minus romanized Hindi words."""
    hinglish = {
        line.split("\t")[0].strip()
        for line in HINGLISH_WORDS_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    counts: Counter[str] = Counter()
    for name in ENGLISH_WORD_DATASETS:
        for row in split_rows(data_dir, name):
            for word in TOKEN_RE.findall(normalize(row["text"]).text):
                if word.isascii() and word.isalpha() and len(word) > 1:
                    counts[word] += 1
    ranked = sorted(
        (w for w, c in counts.items() if c >= ENGLISH_MIN_COUNT and w not in hinglish),
        key=lambda w: (-counts[w], w),
    )
    return sorted(ranked[:ENGLISH_MAX_WORDS])


def build(spec: ModelSpec, data_dir: Path, out_dir: Path) -> TextModel:
    """Train ``spec`` on ``data_dir`` and write its artifact into ``out_dir``."""
    model = fit(spec, training_rows(data_dir, spec.datasets))
    model.save(out_dir)
    return model


def train_all(
    data_dir: Path, out_dir: Path, include_nc: bool = False
) -> dict[str, dict[str, object]]:
    """Rebuild every artifact in ``out_dir`` from ``data_dir``; returns each artifact's metadata.

    Artifacts trained on non-commercial data (``toxicity-linear-trac``) are built only with
    ``include_nc`` — locally, on demand; ``artifacts/.gitignore`` keeps them out of the
    repository. Idempotent: running it twice on the same data writes identical files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    words = build_english_words(data_dir)
    (out_dir / "english_words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    summary: dict[str, dict[str, object]] = {
        "english_words": {
            "words": len(words),
            "datasets": list(ENGLISH_WORD_DATASETS),
        }
    }
    for spec in SPECS:
        if spec.non_commercial and not include_nc:
            continue
        summary[spec.name] = build(spec, data_dir, out_dir).meta
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m workers.training [--data DIR] [--out DIR] [--include-nc]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--include-nc",
        action="store_true",
        help="also build the opt-in TRAC-1 (CC BY-NC-SA 4.0) toxicity model; never commit it",
    )
    args = parser.parse_args(argv)
    summary = train_all(args.data, args.out, include_nc=args.include_nc)
    print(json.dumps(summary, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
