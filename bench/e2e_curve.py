"""End-to-end latency against offered load: 202 → final status at several open-loop rates.

    .venv/bin/python bench/e2e_curve.py [--rates 50 100 150 200] [--seconds 10] [--burst]

The production configuration as `bench/run.py` starts it (gunicorn, one Celery worker, the
scheduler, a private redis-server, a fresh PostgreSQL database). For each rate it offers
`--seconds` of submissions on a fixed schedule (asyncio, one connection per request) and
prints one JSON line: latency percentiles (server-stamped `decided_at - created_at`), the
length of the Redis queue sampled every 20 ms while it ran, and CPU milliseconds per comment
by process group. `--burst` first runs the wrk submit load for 10 s and waits for it to be
decided, as `bench/run.py` does before its e2e figure. Before each rate the database is
vacuumed and analyzed (`bench.run.vacuum`: this machine's PostgreSQL has autovacuum off).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.cpu_split import cpu_by_group  # run as a script, like bench/run.py
from bench.run import (
    PY,
    ROOT,
    Proc,
    free_port,
    fresh_database,
    latencies_ms,
    open_loop,
    pct,
    prepare_deployment,
    start_redis,
    start_web,
    vacuum,
    wait_decided,
    wait_http,
    wait_queue_empty,
    wrk,
)


def _sample_queue(queue: redis.Redis, lengths: list[int], sampling: threading.Event) -> None:
    while sampling.is_set():
        lengths.append(int(queue.llen("moderation")))
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 100.0, 150.0, 200.0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    procs: list[Proc] = []
    with (
        tempfile.TemporaryDirectory(prefix="commentmod-curve-") as tmp_name,
        fresh_database("commentmod_curve") as url,
    ):
        tmp = Path(tmp_name)
        engine = create_engine(url)
        try:
            redis_port = free_port()
            procs.append(start_redis(redis_port, tmp))
            env, key = prepare_deployment(url, f"redis://127.0.0.1:{redis_port}/0", tmp)
            port = free_port()
            procs.append(start_web(port, env, tmp))
            procs.append(Proc("worker", [PY, "-m", "service.cli", "worker"], env, tmp))
            procs.append(Proc("scheduler", [PY, "-m", "service.cli", "scheduler"], env, tmp))
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz")
            time.sleep(4)  # the worker loads its models
            queue = redis.Redis(port=redis_port)
            wait_decided(engine, open_loop(base, key, 50, 3))  # warm up
            if args.burst:
                wrk(
                    f"{base}/v1/comments",
                    10,
                    ROOT / "bench" / "submit.lua",
                    {"BENCH_KEY": key, "BENCH_RUN": "burst"},
                )
                wait_decided(engine, [], timeout=600)
                wait_queue_empty(redis_port)
            for rate in args.rates:
                lengths: list[int] = []
                sampling = threading.Event()
                sampling.set()
                sampler = threading.Thread(
                    target=_sample_queue, args=(queue, lengths, sampling), daemon=True
                )
                sampler.start()
                vacuum(url)  # this machine's PostgreSQL runs with autovacuum off
                before = cpu_by_group()
                ids = open_loop(base, key, rate, args.seconds)
                wait_decided(engine, ids)
                after = cpu_by_group()
                sampling.clear()
                sampler.join()
                lat = latencies_ms(engine, ids)
                print(
                    json.dumps(
                        {
                            "rate": rate,
                            "comments": len(ids),
                            "e2e_p50_ms": round(pct(lat, 0.5), 1),
                            "e2e_p95_ms": round(pct(lat, 0.95), 1),
                            "e2e_p99_ms": round(pct(lat, 0.99), 1),
                            "queue_len_max": max(lengths, default=0),
                            "cpu_ms_per_comment": {
                                k: round((after[k] - before[k]) / len(ids) * 1000, 2)
                                for k in sorted(after)
                            },
                        }
                    ),
                    flush=True,
                )
                wait_queue_empty(redis_port)
            queue.close()
        finally:
            for proc in reversed(procs):
                proc.stop()
            engine.dispose()


if __name__ == "__main__":
    main()
