"""Per-comment latency (p50/p99), throughput and RSS of each detector on one core.

Run: ``.venv/bin/python bench/bench_detectors.py [--data DIR] [--n 3000]``. Comments are sampled
(fixed seed) from every shared dev split so the mix covers en, hi and hi-Latn and both
short and long texts. Models are loaded (and warmed up) before timing; RSS is read after.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import time
from pathlib import Path

from workers.checks.base import CheckInput
from workers.checks.registry import get_detector
from workers.training.data import DEFAULT_DATA_DIR


def load_comments(data_dir: Path, n: int) -> list[str]:
    """``n`` texts sampled with a fixed seed from all ``dev.csv`` files under ``data_dir``."""
    texts: list[str] = []
    for path in sorted(data_dir.glob("*/dev.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            texts.extend(row["text"] for row in csv.DictReader(f))
    rng = random.Random(42)
    return rng.sample(texts, min(n, len(texts)))


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    comments = load_comments(args.data, args.n)
    report: dict[str, object] = {"comments": len(comments)}
    for check in ("spam", "toxicity"):
        detector = get_detector(check)  # type: ignore[arg-type]
        for text in comments[:50]:  # warm-up: caches, lazy regex compilation
            detector.run(CheckInput(text=text))
        latencies = []
        started = time.perf_counter()
        for text in comments:
            t0 = time.perf_counter()
            detector.run(CheckInput(text=text))
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        latencies.sort()
        report[check] = {
            "model": detector.model,
            "p50_ms": round(percentile(latencies, 0.50), 3),
            "p99_ms": round(percentile(latencies, 0.99), 3),
            "max_ms": round(latencies[-1], 3),
            "comments_per_s": round(len(comments) / elapsed, 1),
        }
    # ru_maxrss is KiB on Linux.
    report["rss_mib_models_loaded"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
