"""Where the labelled data comes from: the one place training, baseline and audit read it.

The shared data lives next to the repository (``../shared/data`` from the repository root,
see its README): every folder holds ``train.csv`` and ``dev.csv`` with the columns
``text,label,lang,source,orig_label``. Training reads ``train.csv`` only; ``dev.csv`` is for
evaluation. A new data source (e.g. moderators' labels exported with
``commentmod labels export``) is one more reader here returning the same row dicts.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from workers.checks.toxicity_data import read_dataset

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPOSITORY_ROOT.parent / "shared" / "data"
# Hand-written news-comment sanity sets (never trained on; tests/unit/test_checks_sanity.py).
SANITY_DIR = Path(__file__).resolve().parent / "sanity"
# The permissively licensed English sets whose words make ``english_words.txt``.
ENGLISH_WORD_DATASETS = ("youtube_spam_uci", "sms_spam_uci", "davidson_hate_offensive")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a shared-data CSV (``text,label,lang,...``)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def split_rows(data_dir: Path, dataset: str, split: str = "train") -> list[dict[str, str]]:
    """The rows of ``<data_dir>/<dataset>/<split>.csv``."""
    return read_rows(data_dir / dataset / f"{split}.csv")


def training_rows(data_dir: Path, datasets: Sequence[str]) -> list[dict[str, str]]:
    """The ``train.csv`` rows of ``datasets``, in order, each tagged with ``_dataset`` (for
    the per-set sample weight)."""
    return [{**r, "_dataset": name} for name in datasets for r in read_dataset(data_dir, name)]
