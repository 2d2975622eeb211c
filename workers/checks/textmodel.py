"""A small linear text classifier stored as plain arrays (no pickles).

Features are hashed (CRC-32, so they are stable across processes and Python versions):
character n-grams (1–5, inside whitespace-delimited tokens padded with spaces, like
scikit-learn's ``char_wb``) and word unigrams + bigrams, all taken from the *normalized* text
(:mod:`workers.checks.normalize`: case, homoglyphs, leetspeak, separators folded; digits
mapped to ``0``; runs of 3+ equal characters cut to 2; links optionally masked per artifact).
Weighting is sublinear TF × IDF with L2 normalization; the classifier is logistic regression.
Training
(:mod:`workers.training.training`) and inference share :func:`feature_arrays`, so they cannot drift.

Artifact = ``<name>.npz`` (``weights``, ``idf`` as float16 arrays, ``bias``) plus
``<name>.json`` (name, version, data, licence notes, metrics). Contract: :meth:`predict` is
pure, never raises on odd text and costs O(min(len(text), MAX_CHARS)).
"""

from __future__ import annotations

import json
import math
import zlib
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import regex

from workers.checks.links import find_links
from workers.checks.normalize import TOKEN_RE, NormalizedText, normalize

N_FEATURES = 1 << 18
# Feature scheme (recorded in each artifact's metadata as ``features_scheme``):
# 1 = char n-grams 1–5 of every token, digits kept as ``0``s (the first release);
# 2 = digit runs bucketed (see :func:`model_view`), char n-grams ``char_ngrams`` of each token
#     scaled by ``char_weight`` next to word uni/bigrams.
SCHEME = 2
CHAR_NGRAMS = (1, 5)
# Comments beyond this length are judged on their beginning: keeps p99 latency bounded.
MAX_CHARS = 1000

_DIGITS = regex.compile(r"\d+")
_LONG_RUN = regex.compile(r"(.)\1{2,}")
# Numbers of up to this many digits (points, dates, years, scores, prices, percentages) carry
# no spam or toxicity signal on their own; longer runs (phone numbers, long codes) become one
# placeholder word. Phone numbers and money amounts are the rules' job.
SHORT_NUMBER_DIGITS = 4
LONG_NUMBER = " longnumber "


def _bucket_digits(match: regex.Match[str]) -> str:
    return " " if len(match.group()) <= SHORT_NUMBER_DIGITS else LONG_NUMBER


def model_view(text: str, hide_links: bool = False, norm: NormalizedText | None = None) -> str:
    """The text the model sees: the first :data:`MAX_CHARS` characters normalized, numbers
    bucketed (short numbers dropped, long ones → ``longnumber``), long runs of a character cut;
    with ``hide_links`` every link becomes the word ``weblink`` (a model that learned URL
    spellings from SMS/YouTube spam would hold any news comment citing a source; counting
    links, shorteners and messenger links is the rules' job).

    ``norm`` may pass an already computed ``normalize(text)`` (the detectors share it); the
    view is the same either way, so training and inference cannot drift.
    """
    if norm is None:
        norm = normalize(text[:MAX_CHARS])
    folded = norm.text
    if len(text) > MAX_CHARS:
        folded = folded[: bisect_left(norm.starts, MAX_CHARS)]
    if hide_links:
        links = [(s, e) for s, e, _ in find_links(text[:MAX_CHARS])]
        if links:
            folded = _mask_spans(folded, norm.starts, links, " weblink ")
    return _LONG_RUN.sub(r"\1\1", _DIGITS.sub(_bucket_digits, folded))


def _mask_spans(
    folded: str, starts: tuple[int, ...], spans: list[tuple[int, int]], filler: str
) -> str:
    """``folded`` with the original-text ``spans`` replaced by ``filler``."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        lo = max(pos, bisect_left(starts, start))
        hi = max(lo, bisect_left(starts, end))
        out.append(folded[pos:lo])
        out.append(filler)
        pos = hi
    out.append(folded[pos:])
    return "".join(out)


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (N_FEATURES - 1)


# Words recur across comments (Zipf), so a word's n-gram hashes are computed once per process.
@lru_cache(maxsize=1 << 16)
def _token_grams(token: str, lo: int, hi: int) -> tuple[int, ...]:
    """Hashed character n-grams (``lo``–``hi``) of `` token `` padded with spaces (char_wb)."""
    padded = f" {token} "
    size = len(padded)
    return tuple(_hash(padded[i : i + n]) for n in range(lo, hi + 1) for i in range(size - n + 1))


def feature_arrays(
    text: str,
    hide_links: bool = False,
    norm: NormalizedText | None = None,
    char_ngrams: tuple[int, int] = CHAR_NGRAMS,
    char_weight: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed sublinear term frequencies (``1 + log count``, before IDF) of :func:`model_view`
    of ``text`` as ``(indices, values)``, indices unique and sorted: word unigrams + bigrams,
    plus char n-grams within tokens scaled by ``char_weight`` (so whole words, not fragments
    inside them, carry most of the weight). Counting is done in numpy: a long comment has
    thousands of n-grams."""
    view = model_view(text, hide_links, norm)
    words = TOKEN_RE.findall(view)
    hashes = [_hash("\x01" + w) for w in words]
    hashes.extend(_hash("\x02" + words[i - 1] + " " + words[i]) for i in range(1, len(words)))
    keys, counts = np.unique(np.asarray(hashes, dtype=np.int64), return_counts=True)
    values = 1.0 + np.log(counts)
    lo, hi = char_ngrams
    if hi >= lo and char_weight > 0:
        grams = np.fromiter(
            chain.from_iterable(_token_grams(token, lo, hi) for token in view.split()),
            dtype=np.int64,
        )
        gram_keys, gram_counts = np.unique(grams, return_counts=True)
        # A gram may share its bucket with a word: the two weights add up.
        keys, where = np.unique(np.concatenate([keys, gram_keys]), return_inverse=True)
        both = np.concatenate([values, (1.0 + np.log(gram_counts)) * char_weight])
        values = np.asarray(np.bincount(where, weights=both, minlength=len(keys)), np.float64)
    return keys, values


def tfidf(idx: np.ndarray, tf: np.ndarray, idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TF (already sublinear, see :func:`feature_arrays`) × IDF, L2-normalized;
    (indices, values)."""
    values = tf * idf[idx]
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

    @property
    def threshold(self) -> float:
        """The calibrated probability at which the model alone holds a comment (``suspect``):
        chosen in training on out-of-fold predictions (``meta["threshold"]``), 0.5 if absent."""
        return float(self.meta.get("threshold", 0.5))

    @property
    def threshold_alone(self) -> float:
        """The stricter calibrated bar for the model to hold a comment with no rule or lexicon
        support (``meta["threshold_alone"]``; :attr:`threshold` if absent)."""
        return float(self.meta.get("threshold_alone", self.threshold))

    @property
    def threshold_bare(self) -> float:
        """The strictest bar: for a comment in which no rule found anything at all
        (``meta["threshold_bare"]``; :attr:`threshold_alone` if absent)."""
        return float(self.meta.get("threshold_bare", self.threshold_alone))

    def thresholds_for(self, lang: str | None) -> tuple[float, float]:
        """``(threshold, threshold_alone)`` for a comment in ``lang``: the per-language bar
        chosen in training (``meta["thresholds_by_lang"]``, out-of-fold) when the artifact has
        one for ``lang``, else :attr:`threshold` / :attr:`threshold_alone`."""
        by_lang = self.meta.get("thresholds_by_lang") or {}
        if lang in by_lang:
            t = float(by_lang[lang]["threshold"])
            return t, t
        return self.threshold, self.threshold_alone

    @property
    def ham_bar(self) -> float:
        """Below this probability the model is confident a comment is *not* positive
        (``meta["ham_bar"]``, chosen in training so that only a small share of out-of-fold
        positives fall below it); 0 (never) if absent."""
        return float(self.meta.get("ham_bar", 0.0))

    def features(
        self, text: str, norm: NormalizedText | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:func:`feature_arrays` with this artifact's feature settings."""
        lo, hi = self.meta.get("char_ngrams", CHAR_NGRAMS)
        return feature_arrays(
            text,
            bool(self.meta.get("hide_links")),
            norm,
            (int(lo), int(hi)),
            float(self.meta.get("char_weight", 1.0)),
        )

    def predict(self, text: str, norm: NormalizedText | None = None) -> float:
        """Probability (0–1) of the positive class (spam / toxic). ``norm`` may pass
        ``normalize(text)`` when the caller already has it (saves the work, same result)."""
        idx, values = tfidf(*self.features(text, norm), self.idf)
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
