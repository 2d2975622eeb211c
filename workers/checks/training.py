"""Rebuild every model artifact from the shared labelled data, reproducibly.

``train_all(data_dir, out_dir)`` is what ``commentmod train`` and ``make models`` call; from a
shell: ``python -m workers.checks.training [--data DIR] [--out DIR]``. Only ``train.csv`` files
are read (never ``dev.csv``). Deterministic: fixed seed, a deterministic solver and hashed
features (CRC-32), so the same data gives the same artifacts.

Artifacts (see docs/models.md for data, licences and metrics):
- ``spam-linear``: YouTube comments + UCI SMS + Hindi machine-translated SMS (CC BY / MIT).
- ``toxicity-linear`` (default): Davidson tweets (MIT) only — commercially usable.
- ``toxicity-linear-trac`` (opt-in): TRAC-1 English and Hindi (CC BY-NC-SA 4.0). Davidson is
  left out: its casual-profanity labels lowered TRAC held-out scores (docs/models.md).
- ``english_words.txt``: English word statistics for language identification, from the
  permissive English sets only.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from workers.checks.language import HINGLISH_WORDS_PATH
from workers.checks.normalize import TOKEN_RE, normalize
from workers.checks.textmodel import N_FEATURES, TextModel, featurize

SEED = 42
DEFAULT_DATA_DIR = Path("/work/shared/data")
DEFAULT_OUT_DIR = Path(__file__).parent / "artifacts"
MODEL_VERSION = "1"
ENGLISH_MIN_COUNT = 3
ENGLISH_MAX_WORDS = 8000


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One artifact: which training sets, which positive label, regularization strength."""

    name: str
    check: str
    datasets: tuple[str, ...]
    positive: str
    c: float
    licence_note: str
    hide_links: bool = False


SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "spam-linear",
        "spam",
        ("youtube_spam_uci", "sms_spam_uci", "sms_spam_hindi_mt"),
        "spam",
        32.0,
        "CC BY 4.0 (UCI) + MIT (Hindi MT); commercial use with attribution",
        hide_links=True,
    ),
    ModelSpec(
        "toxicity-linear",
        "toxicity",
        ("davidson_hate_offensive",),
        "toxic",
        4.0,
        "MIT (Davidson et al. 2017); commercial use with attribution",
    ),
    ModelSpec(
        "toxicity-linear-trac",
        "toxicity",
        ("trac1_en", "trac1_hi"),
        "toxic",
        2.0,
        "TRAC-1 (CC BY-NC-SA 4.0): non-commercial use only, opt-in",
    ),
)


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a shared-data CSV (``text,label,lang,...``)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def feature_matrix(texts: Sequence[str], hide_links: bool = False) -> sparse.csr_matrix:
    """Hashed raw counts of ``texts`` as a CSR matrix (rows = texts)."""
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        counts = featurize(text, hide_links)
        indices.extend(counts.keys())
        values.extend(counts.values())
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(values), np.asarray(indices), np.asarray(indptr)),
        shape=(len(texts), N_FEATURES),
    )


def tfidf_matrix(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF × IDF with L2-normalized rows — the same as :func:`textmodel.tfidf`."""
    x = counts.copy().astype(np.float64)
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)


def fit(spec: ModelSpec, rows: list[dict[str, str]]) -> TextModel:
    """Train one :class:`TextModel` on ``rows`` (deterministic)."""
    texts = [r["text"] for r in rows]
    y = np.array([r["label"] == spec.positive for r in rows], dtype=np.int8)
    counts = feature_matrix(texts, spec.hide_links)
    df = np.bincount(counts.indices, minlength=N_FEATURES)
    idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
    # Round through float16 now so training sees exactly the weights inference will use.
    idf = idf.astype(np.float16).astype(np.float64)
    x = tfidf_matrix(counts, idf)
    clf = LogisticRegression(
        C=spec.c, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=SEED
    )
    clf.fit(x, y)
    meta = {
        "check": spec.check,
        "datasets": list(spec.datasets),
        "licence": spec.licence_note,
        "train_rows": len(rows),
        "positive_share": round(float(y.mean()), 4),
        "C": spec.c,
        "features": N_FEATURES,
        "seed": SEED,
        "hide_links": spec.hide_links,
    }
    return TextModel(
        spec.name, MODEL_VERSION, clf.coef_.ravel().copy(), idf, float(clf.intercept_[0]), meta
    )


def build_english_words(data_dir: Path) -> list[str]:
    """Frequent words of the permissive English training sets, minus romanized Hindi words."""
    hinglish = {
        line.split("\t")[0].strip()
        for line in HINGLISH_WORDS_PATH.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    counts: Counter[str] = Counter()
    for name in ("youtube_spam_uci", "sms_spam_uci", "davidson_hate_offensive"):
        for row in read_rows(data_dir / name / "train.csv"):
            for word in TOKEN_RE.findall(normalize(row["text"]).text):
                if word.isascii() and word.isalpha() and len(word) > 1:
                    counts[word] += 1
    ranked = sorted(
        (w for w, c in counts.items() if c >= ENGLISH_MIN_COUNT and w not in hinglish),
        key=lambda w: (-counts[w], w),
    )
    return sorted(ranked[:ENGLISH_MAX_WORDS])


def train_all(data_dir: Path, out_dir: Path) -> dict[str, dict[str, object]]:
    """Rebuild every artifact in ``out_dir`` from ``data_dir``; returns each artifact's metadata.

    Idempotent: running it twice on the same data writes identical files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    words = build_english_words(data_dir)
    (out_dir / "english_words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    summary: dict[str, dict[str, object]] = {
        "english_words": {
            "words": len(words),
            "datasets": ["youtube_spam_uci", "sms_spam_uci", "davidson_hate_offensive"],
        }
    }
    for spec in SPECS:
        rows = [r for name in spec.datasets for r in read_rows(data_dir / name / "train.csv")]
        model = fit(spec, rows)
        model.save(out_dir)
        summary[spec.name] = model.meta
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: ``python -m workers.checks.training [--data DIR] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    print(json.dumps(train_all(args.data, args.out), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
