"""Old vs new spam detector on every shared-data row and sanity comment: identical results?

Run: ``.venv/bin/python bench/compare_spam_rules.py OLD_SPAM_PY [--data DIR]``, where
``OLD_SPAM_PY`` is a copy of an earlier ``workers/checks/spam.py`` (e.g.
``git show 46dc357:workers/checks/spam.py > /tmp/spam_old.py``). Each row is run two ways (the
text alone; with author name/URL, time to submit, honeypot and language hint varied by row)
through two detector pairs (with the model, and rules only). Prints the number of rows,
comparisons and differences (the whole ``CheckResult``: score, verdict, reasons, evidence,
signals and their order, model, lang); exits 1 on any difference.

``--speed N``: instead, time both detectors (with the model) on N rows sampled with a fixed
seed, six passes each (which runs first alternates), and print CPU µs per comment.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

from workers.checks.base import CheckInput, Detector
from workers.checks.registry import ARTIFACTS_DIR
from workers.checks.spam import SpamDetector
from workers.checks.textmodel import TextModel
from workers.training.data import DEFAULT_DATA_DIR, SANITY_DIR, read_rows


def load_old(path: Path) -> type:
    spec = importlib.util.spec_from_file_location("spam_old", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["spam_old"] = module
    spec.loader.exec_module(module)
    return module.SpamDetector


def all_texts(data_dir: Path) -> list[str]:
    """Every ``text`` of every train/dev/test split and of the sanity sets."""
    paths = [
        p for split in ("train", "dev", "test") for p in sorted(data_dir.glob(f"*/{split}.csv"))
    ]
    paths += sorted(SANITY_DIR.glob("*.csv"))
    texts: list[str] = []
    for path in paths:
        rows = [row["text"] for row in read_rows(path)]
        print(f"{path}: {len(rows)} rows", file=sys.stderr)
        texts.extend(rows)
    return texts


def variants(i: int, text: str) -> list[CheckInput]:
    words = text.split()
    return [
        CheckInput(text=text),
        CheckInput(
            text=text,
            author_name=" ".join(words[:3]),
            author_url=words[-1] if words and i % 2 else None,
            seconds_to_submit=float(i % 7),
            is_honeypot_filled=i % 97 == 0,
            lang_hint="en" if i % 5 == 0 else None,
        ),
    ]


def compare(texts: list[str], pairs: list[tuple[Detector, Detector]]) -> tuple[int, int]:
    """(comparisons, differences); the first differences are printed to stderr."""
    compared = differences = 0
    for i, text in enumerate(texts):
        for item in variants(i, text):
            for old, new in pairs:
                a, b = asdict(old.run(item)), asdict(new.run(item))
                compared += 1
                if a != b or list(a["signals"]) != list(b["signals"]):
                    differences += 1
                    if differences <= 5:
                        print("DIFF", item, a, b, sep="\n  ", file=sys.stderr)
    return compared, differences


def speed(texts: list[str], old: Detector, new: Detector, n: int, passes: int = 6) -> None:
    """CPU time (this thread's, so other processes on a shared machine count less) per comment
    of each detector over ``passes`` passes on the same sample; which runs first alternates."""
    sample = [CheckInput(text=t) for t in random.Random(42).sample(texts, min(n, len(texts)))]
    for item in sample[:50]:  # warm-up: caches, lazy regex compilation
        old.run(item), new.run(item)
    per: dict[str, list[float]] = {"old": [], "new": []}
    for p in range(passes):
        order = [("old", old), ("new", new)]
        for name, detector in order if p % 2 else order[::-1]:
            t0 = time.thread_time()
            for item in sample:
                detector.run(item)
            per[name].append(round((time.thread_time() - t0) / len(sample) * 1e6, 1))
    for name, values in per.items():
        print(
            f"{name}: best {min(values)} us, median {sorted(values)[len(values) // 2]} us, "
            f"passes {values}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--speed", type=int, default=0)
    args = parser.parse_args()
    model = TextModel.load(ARTIFACTS_DIR, "spam-linear")
    old_cls = load_old(args.old)
    texts = all_texts(args.data)
    # The old module's lexicon path is relative to where it was copied: pass the lexicon.
    phrases = SpamDetector().phrases
    if args.speed:
        speed(texts, old_cls(model, phrases), SpamDetector(model, phrases), args.speed)
        return 0
    pairs = [
        (old_cls(model, phrases), SpamDetector(model, phrases)),
        (old_cls(None, phrases), SpamDetector(None, phrases)),
    ]
    compared, differences = compare(texts, pairs)
    print(f"rows={len(texts)} comparisons={compared} differences={differences}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
