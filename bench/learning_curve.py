"""Learning curve of a site model (issue 17): a site simulated from TRAC-1 Hindi/Hinglish.

The TRAC-1 ``hi`` train split, in file order, stands for a site's history: the first N
comments (N = 100, 300, 1000, 3000) are its labels, the last ``--test`` comments of the file
its later comments. For each N: the site model (``commentmod train --site``'s fit: the default
artifact as the prior, :func:`workers.training.site_model.fit_site_model`), the default model
alone, and the char n-gram baseline (:func:`workers.training.baseline.baseline_model`) trained
on the same N labels. AUC ranks by score; F1 is of "not clean" for the detectors (the
pipeline's verdict at the shipped thresholds) and of P ≥ 0.5 for the baseline.

TRAC-1 is CC BY-NC-SA 4.0 (non-commercial): this runs locally only; nothing trained here is
stored. Run: ``.venv/bin/python bench/learning_curve.py [--data ../shared/data] [--test 3000]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workers.checks.registry import get_detector, load_artifact
from workers.checks.site_models import detector_with
from workers.training.baseline import baseline_model
from workers.training.data import split_rows
from workers.training.evaluation import metrics
from workers.training.site_model import (
    PRIOR_STRENGTH,
    examples_from,
    fit_site_model,
    score_holdout,
)

SIZES = (100, 300, 1000, 3000)


def curve(
    data_dir: Path, test_size: int, strength: float, sizes: tuple[int, ...] = SIZES
) -> list[dict[str, object]]:
    rows = split_rows(data_dir, "trac1_hi", "train")
    history, later = rows[: len(rows) - test_size], rows[-test_size:]
    test = examples_from([(r["text"], r["label"], r.get("lang")) for r in later])
    prior = load_artifact("toxicity", "default")
    default = score_holdout("toxicity", get_detector("toxicity"), test)["overall"]
    out: list[dict[str, object]] = []
    for size in sizes:
        train_rows = history[:size]
        train = examples_from([(r["text"], r["label"], r.get("lang")) for r in train_rows])
        site = fit_site_model(prior, train, "toxicity-site-trac", strength)
        site_m = score_holdout("toxicity", detector_with("toxicity", site), test)["overall"]
        scores = baseline_model(train_rows, "toxic")([e.text for e in test])
        labels = [e.positive for e in test]
        base_m = metrics(labels, [s >= 0.5 for s in scores], scores)
        out.append(
            {
                "labels": size,
                "site_auc": site_m["roc_auc"],
                "site_f1": site_m["f1"],
                "baseline_auc": base_m["roc_auc"],
                "baseline_f1": base_m["f1"],
                "default_auc": default["roc_auc"],
                "default_f1": default["f1"],
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    parser.add_argument("--test", type=int, default=3000)
    parser.add_argument("--prior-strength", type=float, default=PRIOR_STRENGTH)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    sizes = tuple(int(n) for n in args.sizes.split(","))
    curve(Path(args.data), args.test, args.prior_strength, sizes)


if __name__ == "__main__":
    main()
