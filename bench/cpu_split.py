"""Where the CPU goes in the deployed configuration: CPU per request by process, and py-spy
profiles of a web worker under the submit load and of the Celery workers draining checks.

`bench/profile.py` profiles the code paths in one process; this measures the real processes
(gunicorn's sync workers, the Celery prefork pool, PostgreSQL, Redis) while wrk or an
open-loop generator drives them, so contention and per-process overheads are included.

    .venv/bin/python bench/cpu_split.py [--duration 10] [--e2e-rate 100]

Prints, for the submit load (wrk, 16 connections, no Celery worker running) and for an
open-loop load at `--e2e-rate` (web, worker and scheduler running): milliseconds of CPU per
comment by process group, and the share of py-spy samples (threads holding the GIL) by
part of the code. Needs py-spy (in the dev extras) and permission to ptrace (root here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import psutil
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import (  # run as a script, like bench/run.py
    PY,
    ROOT,
    Proc,
    free_port,
    fresh_database,
    open_loop,
    prepare_deployment,
    start_redis,
    start_web,
    vacuum,
    wait_decided,
    wait_http,
    wrk,
)

PY_SPY = str(Path(PY).with_name("py-spy"))
# Part of the code a sample belongs to: the first pattern found in its stack wins.
WEB_PARTS = [
    ("task sender thread (Celery publish)", "TaskProducer._drain"),
    ("storing (INSERT … SELECT, one round trip)", "_store_submission"),
    ("rate limit (Redis)", "_rate_limit"),
    ("site key check (cached)", "require_site"),
    ("validation (pydantic, email-validator)", "parse_submission"),
    ("JSON body reading", "read_json_body"),
    ("hand-off to the sender", "enqueue_checks"),
    ("encryption and keyed hashes", "Vault."),
    ("rest of submit_comment", "submit_comment"),
    ("rest of the handler", "comments.py"),
    ("Flask and Werkzeug", "Flask.__call__"),
    ("gunicorn", "SyncWorker"),
]
WORKER_PARTS = [
    ("record results and decide", "record_checks"),
    ("detectors", "run_detector"),
    ("claim backlog", "claim_checks"),
    ("count the delivery", "start_checks"),
    ("rest of the task", "run_checks"),
    ("Celery in the pool process", "Worker.workloop"),
    ("Celery consumer (main process)", "WorkController.start"),
]


def cpu_by_group() -> Counter[str]:
    groups: Counter[str] = Counter()
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        try:
            cl = " ".join(p.info["cmdline"] or [])
            t = p.info["cpu_times"].user + p.info["cpu_times"].system
        except (psutil.Error, TypeError, AttributeError):
            continue
        if "create_app_from_env" in cl:
            groups["web (gunicorn)"] += t
        elif "service.cli worker" in cl:
            groups["worker (Celery)"] += t
        elif "service.cli scheduler" in cl:
            groups["scheduler"] += t
        elif "postgres" in cl:
            groups["postgresql"] += t
        elif "redis-server" in cl:
            groups["redis"] += t
        elif cl.startswith("wrk") or "cpu_split.py" in cl:
            groups["load generator"] += t
    return groups


def spy(pid: int, seconds: int, out: Path, subprocesses: bool = False) -> subprocess.Popen[bytes]:
    cmd = [
        PY_SPY,
        "record",
        "-p",
        str(pid),
        "-d",
        str(seconds),
        "-r",
        "250",
        "--gil",
        "--nonblocking",
        "-f",
        "raw",
        "-o",
        str(out),
    ]
    if subprocesses:
        cmd.append("--subprocesses")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def shares(raw: Path, parts: list[tuple[str, str]]) -> dict[str, float]:
    total = 0
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        total += int(n)
        name = next((label for label, pattern in parts if pattern in stack), "other")
        counts[name] += int(n)
    return {k: round(v / total, 3) for k, v in counts.most_common()} if total else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--e2e-rate", type=float, default=100.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="commentmod-cpu-"))
    cleanup = ExitStack()
    db_url = cleanup.enter_context(fresh_database("commentmod_cpu"))
    engine = create_engine(db_url)
    procs: list[Proc] = []
    try:
        redis_port = free_port()
        procs.append(start_redis(redis_port, tmp))
        env, key = prepare_deployment(db_url, f"redis://127.0.0.1:{redis_port}/0", tmp / "var")
        port = free_port()
        web = start_web(port, env, tmp)
        procs.append(web)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz")
        result: dict[str, object] = {}

        # 1. Submit under wrk, no Celery worker (as the submit figure of bench/run.py).
        wrk(
            f"{url}/v1/comments",
            2,
            ROOT / "bench" / "submit.lua",
            {"BENCH_KEY": key, "BENCH_RUN": "warm"},
        )
        web_pid = psutil.Process(web.p.pid).children()[0].pid
        vacuum(db_url)  # this machine's PostgreSQL runs with autovacuum off
        before = cpu_by_group()
        profiler = spy(web_pid, args.duration - 2, tmp / "web.raw")
        load = wrk(
            f"{url}/v1/comments",
            args.duration,
            ROOT / "bench" / "submit.lua",
            {"BENCH_KEY": key, "BENCH_RUN": uuid.uuid4().hex[:8]},
        )
        profiler.wait()
        used = cpu_by_group() - before
        n = load["rps"] * args.duration
        result["submit"] = {
            "rps_while_profiled": load["rps"],
            "cpu_ms_per_comment": {k: round(v / n * 1000, 2) for k, v in used.most_common()},
            "one_web_worker_samples": shares(tmp / "web.raw", WEB_PARTS),
        }

        # 2. Checks: an open-loop load with the worker and scheduler running.
        worker = Proc("worker", [PY, "-m", "service.cli", "worker"], env, tmp)
        procs += [worker, Proc("scheduler", [PY, "-m", "service.cli", "scheduler"], env, tmp)]
        wait_decided(engine, [], timeout=900)  # the submit load's backlog
        warm = open_loop(url, key, 20, 2)
        wait_decided(engine, warm)
        vacuum(db_url)
        before = cpu_by_group()
        profiler = spy(worker.p.pid, args.duration - 2, tmp / "worker.raw", subprocesses=True)
        ids = open_loop(url, key, args.e2e_rate, args.duration)
        profiler.wait()
        wait_decided(engine, ids)
        used = cpu_by_group() - before
        result["checks"] = {
            "rate": args.e2e_rate,
            "cpu_ms_per_comment": {k: round(v / len(ids) * 1000, 2) for k, v in used.most_common()},
            "worker_samples": shares(tmp / "worker.raw", WORKER_PARTS),
        }
    finally:
        for p in reversed(procs):
            p.stop()
        engine.dispose()
        cleanup.close()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
