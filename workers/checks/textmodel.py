"""A small linear text classifier stored as plain arrays (no pickles).

Features are hashed (CRC-32, so they are stable across processes and Python versions):
character n-grams (1–5, inside whitespace-delimited tokens padded with spaces, like
scikit-learn's ``char_wb``) and word unigrams + bigrams, all taken from the *normalized* text
(:mod:`workers.checks.normalize`: case, homoglyphs, leetspeak, separators folded; digits
mapped to ``0``; runs of 3+ equal characters cut to 2; links optionally masked per artifact).
Weighting is sublinear TF × IDF with L2 normalization; the classifier is logistic regression.
Training
(:mod:`workers.checks.training`) and inference share :func:`featurize`, so they cannot drift.

Artifact = ``<name>.npz`` (``weights``, ``idf`` as float16 arrays, ``bias``) plus
``<name>.json`` (name, version, data, licence notes, metrics). Contract: :meth:`predict` is
pure, never raises on odd text and costs O(min(len(text), MAX_CHARS)).
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import regex

from workers.checks.links import mask_links
from workers.checks.normalize import TOKEN_RE, normalize

N_FEATURES = 1 << 18
CHAR_NGRAMS = (1, 5)
# Comments beyond this length are judged on their beginning: keeps p99 latency bounded.
MAX_CHARS = 1000

_DIGIT = regex.compile(r"\d")
_LONG_RUN = regex.compile(r"(.)\1{2,}")


def model_view(text: str, hide_links: bool = False) -> str:
    """The text the model sees: normalized, digits as ``0``, long runs of a character cut;
    with ``hide_links`` every link becomes the word ``weblink`` (see :func:`links.mask_links`)."""
    clipped = text[:MAX_CHARS]
    folded = normalize(mask_links(clipped) if hide_links else clipped).text
    return _LONG_RUN.sub(r"\1\1", _DIGIT.sub("0", folded))


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (N_FEATURES - 1)


# Words recur across comments (Zipf), so a word's n-gram hashes are computed once per process.
@lru_cache(maxsize=1 << 16)
def _token_grams(token: str) -> tuple[int, ...]:
    """Hashed character n-grams (``CHAR_NGRAMS``) of `` token `` padded with spaces."""
    padded = f" {token} "
    size = len(padded)
    lo, hi = CHAR_NGRAMS
    return tuple(_hash(padded[i : i + n]) for n in range(lo, hi + 1) for i in range(size - n + 1))


def featurize(text: str, hide_links: bool = False) -> dict[int, float]:
    """Hashed raw term counts (before TF-IDF) of :func:`model_view` of ``text``."""
    view = model_view(text, hide_links)
    counts: Counter[int] = Counter()
    for token in view.split():
        counts.update(_token_grams(token))
    words = TOKEN_RE.findall(view)
    for i, word in enumerate(words):
        counts[_hash("\x01" + word)] += 1
        if i:
            counts[_hash("\x02" + words[i - 1] + " " + word)] += 1
    return {idx: float(c) for idx, c in counts.items()}


def tfidf(counts: dict[int, float], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sublinear TF × IDF, L2-normalized; returns (indices, values)."""
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    values = (1.0 + np.log(tf)) * idf[idx]
    norm = float(np.sqrt(values @ values))
    return idx, values / norm if norm else values


@dataclass(frozen=True, slots=True)
class TextModel:
    """A trained linear model. ``name``/``version`` form the detector's ``name@version``."""

    name: str
    version: str
    weights: np.ndarray
    idf: np.ndarray
    bias: float
    meta: dict[str, Any]

    def predict(self, text: str) -> float:
        """Probability (0–1) of the positive class (spam / toxic)."""
        idx, values = tfidf(featurize(text, bool(self.meta.get("hide_links"))), self.idf)
        z = float(values @ self.weights[idx]) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def save(self, directory: Path) -> None:
        """Write ``<name>.npz`` and ``<name>.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / f"{self.name}.npz",
            weights=self.weights.astype(np.float16),
            idf=self.idf.astype(np.float16),
            bias=np.array([self.bias]),
        )
        meta = {**self.meta, "name": self.name, "version": self.version}
        (directory / f"{self.name}.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path, name: str) -> TextModel:
        """Load an artifact written by :meth:`save`; raises ``FileNotFoundError`` if absent."""
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        with np.load(directory / f"{name}.npz") as arrays:
            weights = arrays["weights"].astype(np.float64)
            idf = arrays["idf"].astype(np.float64)
            bias = float(arrays["bias"][0])
        if weights.shape != (N_FEATURES,):
            raise ValueError(f"{name}: expected {N_FEATURES} weights, got {weights.shape}")
        return cls(meta["name"], meta["version"], weights, idf, bias, meta)
