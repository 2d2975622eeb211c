"""Learning curve of a site model (issue 17): a site simulated from TRAC-1 Hindi/Hinglish,
through the real path.

The TRAC-1 ``hi`` train split, in file order, stands for a site's history: for each N (100,
300, 1000, 3000) a new site in a scratch SQLite database gets the first N comments through
the CSV importer (``commentmod import csv``'s use case: text, label, lang; file order is time
order), and ``commentmod train --site``'s use case trains its toxicity model (the default
artifact as the prior; the most recent 20 % of the N held out for the promotion comparison,
so the model learns from the oldest 80 %; its bars recalibrated on those, out of fold). The
last ``--test`` comments of the file are the site's later comments, scored through the
stored model's detector. Against it: the default model alone, the same site model with the
default's bars (before recalibration), and the char n-gram baseline
(:func:`workers.training.baseline.baseline_model`) trained on the same labels the site model
learnt from. AUC ranks by score; F1 is of "not clean" for the detectors (the pipeline's
verdict) and of P ≥ 0.5 for the baseline.

TRAC-1 is CC BY-NC-SA 4.0 (non-commercial): this runs locally only; the scratch database and
everything trained in it are deleted at the end. Run:
``.venv/bin/python bench/learning_curve.py [--data ../shared/data] [--test 3000]``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.db.migrate import upgrade
from service.domain.imports.csvfile import parse_label_csv
from service.domain.privacy import generate_email_key, generate_hash_key
from service.settings import Settings
from service.usecases.imports import ImportOptions, import_history
from service.usecases.services import Services, build_services, utcnow
from service.usecases.site_models import active_model, site_labels
from service.usecases.sites import create_site
from workers.checks.registry import get_detector, load_artifact
from workers.checks.site_models import artifact_from_bytes, detector_with
from workers.training.baseline import baseline_model
from workers.training.data import split_rows
from workers.training.evaluation import metrics
from workers.training.site_model import examples_from, score_holdout, split_by_time
from workers.training.site_retrain import train_site_check

SIZES = (100, 300, 1000, 3000)


def import_csv(svc: Services, slug: str, rows: list[dict[str, str]]) -> int:
    """The rows (text, label, lang) imported into a new site ``slug``; its label count."""
    create_site(svc, slug)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "lang"])
    writer.writerows([r["text"], r["label"], r.get("lang") or ""] for r in rows)
    buffer.seek(0)
    summary = import_history(
        svc, slug, parse_label_csv(buffer, utcnow()), ImportOptions(source="csv")
    )
    return summary.labels


def measure(svc: Services, slug: str, test: list, default_bars: dict) -> dict[str, object]:
    """Train through ``train --site``'s use case and score the stored model on ``test``."""
    outcome = train_site_check(
        svc, slug, "toxicity", trained_by="bench", force=True, out=lambda _: None
    )
    stored = active_model(svc, slug, "toxicity")
    assert stored is not None, outcome
    artifact = artifact_from_bytes(stored.weights, stored.meta or {}, stored.version)
    site_m = score_holdout("toxicity", detector_with("toxicity", artifact), test)["overall"]
    strict = replace(artifact, meta={**artifact.meta, "thresholds_by_lang": default_bars})
    strict_m = score_holdout("toxicity", detector_with("toxicity", strict), test)["overall"]
    learnt, _ = split_by_time(examples_from(site_labels(svc, slug, "toxicity")))
    train_rows = [{"text": e.text, "label": "toxic" if e.positive else "ok"} for e in learnt]
    scores = baseline_model(train_rows, "toxic")([e.text for e in test])
    base_m = metrics([e.positive for e in test], [s >= 0.5 for s in scores], scores)
    return {
        "learnt_from": len(learnt),
        "site_auc": site_m["roc_auc"],
        "site_f1": site_m["f1"],
        "site_precision": site_m["precision"],
        "site_recall": site_m["recall"],
        "site_f1_default_bars": strict_m["f1"],
        "baseline_auc": base_m["roc_auc"],
        "baseline_f1": base_m["f1"],
        "baseline_precision": base_m["precision"],
        "baseline_recall": base_m["recall"],
        "calibrated_langs": artifact.meta.get("site_calibrated_langs"),
    }


def curve(data_dir: Path, test_size: int, sizes: tuple[int, ...] = SIZES) -> list[dict]:
    rows = split_rows(data_dir, "trac1_hi", "train")
    history, later = rows[: len(rows) - test_size], rows[-test_size:]
    test = examples_from([(r["text"], r["label"], r.get("lang")) for r in later])
    default = score_holdout("toxicity", get_detector("toxicity"), test)["overall"]
    default_bars = load_artifact("toxicity", "default").meta.get("thresholds_by_lang") or {}
    out: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="learning-curve-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/site.db",
            broker_url=f"sqla+sqlite:///{tmp}/broker.db",
            email_keys=generate_email_key(),
            hash_key=generate_hash_key(),
            var_dir=Path(tmp),
            site_model_min_labels=2,
        )
        upgrade(settings.database_url)
        svc = build_services(settings)
        try:
            for size in sizes:
                labels = import_csv(svc, f"trac-{size}", history[:size])
                row = {"labels": labels, **measure(svc, f"trac-{size}", test, default_bars)}
                row.update(default_auc=default["roc_auc"], default_f1=default["f1"])
                out.append(row)
                print(json.dumps(row), flush=True)
        finally:
            svc.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    parser.add_argument("--test", type=int, default=3000)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    args = parser.parse_args()
    curve(Path(args.data), args.test, tuple(int(n) for n in args.sizes.split(",")))


if __name__ == "__main__":
    main()
