"""Side-by-side runs of one benchmark at several commits, alternating, with medians.

    .venv/bin/python bench/compare_commits.py --bench run --rounds 2 46dc357 4ee2505 HEAD
    .venv/bin/python bench/compare_commits.py --bench workers --rounds 3 46dc357 HEAD

Each commit is checked out in its own git worktree (``var/bench/wt-<commit>``, reused) and
its own copy of the benchmark runs there with this virtualenv's Python and ``PYTHONPATH``
pointing at that worktree, so every commit runs its own code against the same packages.
The commits alternate within a round (A B C, A B C, ...) so that load from other work on the
machine falls on all of them alike. ``--bench run`` is ``bench/run.py --rounds 1 --duration
10`` (the whole deployment; ``make bench``'s figures); ``--bench workers`` is
``bench/worker_throughput.py --n 4000`` (the workers alone draining a backlog). Every run's
JSON goes to stdout as it finishes; the last lines are the per-commit medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {
    "run": ["bench/run.py", "--rounds", "1", "--duration", "10"],
    "workers": ["bench/worker_throughput.py", "--n", "4000"],
}


def worktree(commit: str) -> Path:
    sha = subprocess.check_output(["git", "rev-parse", "--short", commit], cwd=ROOT, text=True)
    path = ROOT / "var" / "bench" / f"wt-{sha.strip()}"
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), sha.strip()], cwd=ROOT, check=True
        )
    return path


def run_once(path: Path, bench: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, *BENCHES[bench]],
        cwd=path,
        env={**os.environ, "PYTHONPATH": str(path)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("commits", nargs="+")
    parser.add_argument("--bench", choices=sorted(BENCHES), default="run")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    paths = {c: worktree(c) for c in args.commits}
    results: dict[str, list[dict[str, object]]] = {c: [] for c in args.commits}
    for r in range(args.rounds):
        for commit, path in paths.items():
            result = run_once(path, args.bench)
            results[commit].append(result)
            print(json.dumps({"round": r, "commit": commit, **result}), flush=True)
    for commit, runs in results.items():
        numeric = [k for k, v in runs[0].items() if isinstance(v, int | float)]
        med = {k: statistics.median(float(run[k]) for run in runs) for k in numeric}  # type: ignore[arg-type]
        print(json.dumps({"commit": commit, "median": med}))


if __name__ == "__main__":
    main()
