"""How the spam detector does on real news comments: the TRAC-1 spam audit.

TRAC-1 (``trac1_en``, ``trac1_hi``) holds 23,078 training comments from the Facebook pages of
Indian news outlets, in English, Hindi and Hinglish. Its labels are about aggression, not spam,
but the comments are what a news site's comment box receives, spam included (job and
"champcash" schemes, astrologers, bot signatures, headline-and-link posts).
``audit/trac_spam_audit.csv`` labels 1,025 of them ``spam``/``ham`` (our labels against
written criteria, docs/models.md; rows are 0-based indexes into each ``train.csv``):

- ``drawn=held``: every comment that any of four spam-detector variants held (the detector of
  rules 3, rules only, rules 3 with ``threshold_alone`` 0.75, and a model trained with SMS at
  full weight);
- ``drawn=random``: 300 comments drawn at random from all the others, to estimate the spam
  that none of them held.

The file holds only indexes and our labels, no TRAC-1 text (CC BY-NC-SA 4.0): the audit reads
the text from the shared data. Nothing is trained on it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from workers.checks.base import CheckInput, Detector
from workers.training.data import split_rows

AUDIT_PATH = Path(__file__).parent / "audit" / "trac_spam_audit.csv"


def detector_holds(detector: Detector) -> Callable[[list[str]], list[bool]]:
    """A hold predicate for :func:`audit_spam`: the verdict is not ``clean``."""
    return lambda texts: [detector.run(CheckInput(text=t)).verdict != "clean" for t in texts]


def audit_spam(
    holds: Callable[[list[str]], list[bool]], data_dir: Path, audit_path: Path = AUDIT_PATH
) -> dict:
    """Ask ``holds`` about every comment of the audited ``train.csv`` files (one call per file,
    see :func:`detector_holds`) and compare its holds with the audit labels.

    Returns ``held`` (all holds), ``unlabelled_held`` (holds outside the audit, whose label is
    unknown), ``spam_held``, ``precision`` (over labelled holds), ``recall_known`` (of the
    audit's spam), and ``spam_estimate``/``recall_estimate``, which add the spam the random
    draw suggests among the comments outside the audit.
    """
    with audit_path.open(encoding="utf-8", newline="") as f:
        labels = {(r["dataset"], int(r["row"])): r for r in csv.DictReader(f)}
    held: set[tuple[str, int]] = set()
    total = 0
    for name in sorted({key[0] for key in labels}):
        texts = [row["text"] for row in split_rows(data_dir, name)]
        total += len(texts)
        held.update((name, i) for i, hold in enumerate(holds(texts)) if hold)
    labelled_held = [key for key in held if key in labels]
    spam_held = sum(labels[key]["label"] == "spam" for key in labelled_held)
    known_spam = sum(r["label"] == "spam" for r in labels.values())
    random = [r for r in labels.values() if r["drawn"] == "random"]
    random_spam = sum(r["label"] == "spam" for r in random)
    # The random draw stands for every comment not drawn as a hold: scale its spam up to them.
    not_held = total - (len(labels) - len(random))
    spam_estimate = (
        known_spam - random_spam + (random_spam / len(random) * not_held if random else 0)
    )
    return {
        "comments": total,
        "held": len(held),
        "unlabelled_held": len(held) - len(labelled_held),
        "spam_held": spam_held,
        "precision": round(spam_held / len(labelled_held), 3) if labelled_held else 0.0,
        "recall_known": round(spam_held / known_spam, 3) if known_spam else 0.0,
        "spam_estimate": round(spam_estimate),
        "recall_estimate": round(spam_held / spam_estimate, 3) if spam_estimate else 0.0,
    }
