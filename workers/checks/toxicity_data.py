"""Training data and the model's text view for the default toxicity model (issue 13).

Kept apart from ``training.py`` so the offline training package only needs to call
:func:`read_dataset` and :func:`model_text`:

- ``panlingua_detox_hi`` (MIT, translated Devanagari minimal pairs) is read as it is;
- ``panlingua_detox_hi@latn`` is the same rows written in Hinglish letters by the rule-based
  :func:`workers.checks.transliterate.romanize` (there is no shippable Hinglish toxicity
  set; this teaches the model the romanized forms of the same words);
- :func:`model_text` with ``"script_fold"`` rewrites every word as its spelling skeleton, so
  Devanagari and romanized Hindi (and ``chutiya``/``chootiya``) become the same features.
  The detector applies the same view when the artifact's metadata asks for it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from workers.checks.normalize import TOKEN_RE, normalize
from workers.checks.textmodel import MAX_CHARS
from workers.checks.transliterate import has_devanagari, romanize, skeleton

ROMANIZED_SUFFIX = "@latn"
SCRIPT_FOLD = "script_fold"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def romanize_text(text: str) -> str:
    """``text`` with every Devanagari word replaced by its Hinglish-style romanization."""
    return TOKEN_RE.sub(
        lambda m: romanize(m.group()) if has_devanagari(m.group()) else m.group(),
        normalize(text).text,
    )


def read_dataset(data_dir: Path, name: str, split: str = "train") -> list[dict[str, str]]:
    """Rows of ``data_dir/name/split.csv``; ``name@latn`` gives the romanized copy (``lang``
    becomes ``hi-Latn``)."""
    if name.endswith(ROMANIZED_SUFFIX):
        base = name[: -len(ROMANIZED_SUFFIX)]
        return [
            {**r, "text": romanize_text(r["text"]), "lang": "hi-Latn"}
            for r in _read(data_dir / base / f"{split}.csv")
        ]
    return _read(data_dir / name / f"{split}.csv")


def model_text(text: str, transform: str = "") -> str:
    """The text the model sees: unchanged, or (``"script_fold"``) one skeleton per word."""
    if transform != SCRIPT_FOLD:
        return text
    # The model reads the first MAX_CHARS characters anyway; folding more would only cost time.
    norm = normalize(text[:MAX_CHARS]).text
    return TOKEN_RE.sub(lambda m: skeleton(m.group()) or m.group(), norm)
