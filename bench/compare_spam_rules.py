"""Old vs new spam detector on every shared-data row and sanity comment: identical results?

Run: ``.venv/bin/python bench/compare_spam_rules.py OLD_SPAM_PY [--data DIR]``, where
``OLD_SPAM_PY`` is a copy of an earlier ``workers/checks/spam.py`` (e.g.
``git show 46dc357:workers/checks/spam.py > /tmp/spam_old.py``). Each row is run three ways:
the text alone; with author name/URL, time to submit and the honeypot varied by row; and
against a near-duplicate index holding spam of the train splits. Prints the number of
comparisons and of differences (whole ``CheckResult``: score, verdict, reasons, evidence,
signals, model, lang); exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from dataclasses import asdict
from pathlib import Path

from workers.checks.base import CheckInput
from workers.checks.duplicates import RecentSpamIndex
from workers.checks.registry import ARTIFACTS_DIR
from workers.checks.spam import SpamDetector
from workers.checks.textmodel import TextModel

ROOT = Path(__file__).resolve().parents[1]
SANITY_DIRS = (ROOT / "workers" / "training" / "sanity", ROOT / "workers" / "checks" / "sanity")


def load_old(path: Path) -> type:
    spec = importlib.util.spec_from_file_location("spam_old", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["spam_old"] = module
    spec.loader.exec_module(module)
    return module.SpamDetector


def csv_texts(data_dir: Path) -> list[str]:
    paths = sorted(data_dir.glob("*/train.csv")) + sorted(data_dir.glob("*/dev.csv"))
    paths += sorted(data_dir.glob("*/test.csv"))
    sanity = next(d for d in SANITY_DIRS if d.is_dir())
    paths += sorted(sanity.glob("*.csv"))
    texts: list[str] = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as f:
            rows = [row["text"] for row in csv.DictReader(f)]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    model = TextModel.load(ARTIFACTS_DIR, "spam-linear")
    old_cls = load_old(args.old)
    texts = csv_texts(args.data)
    index = RecentSpamIndex()
    with (args.data / "youtube_spam_uci" / "train.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["label"] == "spam":
                index.add(row["text"])
    # The old module's lexicon path is relative to where it was copied: pass the lexicon.
    phrases = SpamDetector().phrases
    pairs = [
        (old_cls(model, phrases), SpamDetector(model, phrases)),
        (old_cls(None, phrases), SpamDetector(None, phrases)),
        (old_cls(model, phrases, index), SpamDetector(model, phrases, index)),
    ]
    compared = differences = 0
    for i, text in enumerate(texts):
        for item in variants(i, text):
            for k, (old, new) in enumerate(pairs):
                if k == 2 and i % 3:  # the near-duplicate index on every third row
                    continue
                a, b = asdict(old.run(item)), asdict(new.run(item))
                compared += 1
                if a != b or list(a["signals"]) != list(b["signals"]):
                    differences += 1
                    if differences <= 5:
                        print("DIFF", item, a, b, sep="\n  ", file=sys.stderr)
    print(f"rows={len(texts)} comparisons={compared} differences={differences}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
