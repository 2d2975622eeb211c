"""The embedded default (SQLite + the embedded broker) against Isso and the bare baseline.

Issue 6 asks for the embedded default's submit rate, and Isso's (a Python comment server on
SQLite) in the same run. All three run under the same gunicorn settings as `bench/run.py`
(4 sync workers); commentmod also runs its worker and scheduler, as `make run` does. Isso
runs from its own virtualenv (`make bench-isso` creates it; its dependencies would clash
with ours), bound to 127.0.0.1, with its guard (rate limits) and moderation off.

    .venv/bin/python bench/embedded.py [--rounds 3] [--duration 10] [--isso-venv var/bench/isso]

The last line is one JSON object of medians: embedded_submit_rps, isso_submit_rps,
baseline_rps and the same for a 20-comment thread read, with every round under `rounds`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.run import (  # run as a script, like bench/run.py
    PY,
    READ_TEXTS,
    ROOT,
    WEB_WORKERS,
    Proc,
    free_port,
    machine,
    prepare_deployment,
    start_baseline,
    start_web,
    submit_json,
    wait_http,
    wrk,
)

ISSO_CONFIG = """
[general]
dbpath = {db}
host = http://127.0.0.1/
[moderation]
enabled = false
[guard]
enabled = false
require-author = false
require-email = false
[server]
listen = http://127.0.0.1:{port}/
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--isso-venv", default=str(ROOT / "var" / "bench" / "isso"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="commentmod-bench-embedded-"))
    var = tmp / "var"
    var.mkdir()
    procs: list[Proc] = []
    isso_python = Path(args.isso_venv) / "bin" / "python"
    has_isso = isso_python.exists()
    if not has_isso:
        print(
            f"Isso is not installed at {args.isso_venv} (make bench-isso): skipped", file=sys.stderr
        )
    try:
        # The embedded defaults of config/commentmod.toml, under a fresh directory.
        env, key = prepare_deployment(
            f"sqlite:///{var}/commentmod.db", f"sqla+sqlite:///{var}/broker.db", var
        )
        app_port, base_port, isso_port = free_port(), free_port(), free_port()
        procs.append(start_web(app_port, env, tmp))
        procs.append(start_baseline(base_port, tmp))
        procs.append(Proc("worker", [PY, "-m", "service.cli", "worker"], env, tmp))
        procs.append(Proc("scheduler", [PY, "-m", "service.cli", "scheduler"], env, tmp))
        app_url, base_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{base_port}"
        isso_url = f"http://127.0.0.1:{isso_port}"
        if has_isso:
            config = tmp / "isso.cfg"
            config.write_text(ISSO_CONFIG.format(db=tmp / "isso.db", port=isso_port))
            isso_cmd = [
                str(isso_python),
                "-m",
                "gunicorn",
                "--workers",
                str(WEB_WORKERS),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{isso_port}",
                "isso.run:application",
            ]
            procs.append(Proc("isso", isso_cmd, {**os.environ, "ISSO_SETTINGS": str(config)}, tmp))
        wait_http(f"{app_url}/healthz")
        wait_http(f"{base_url}/v1/sites/x/threads/y/comments")
        session = requests.Session()
        # 20 published comments in one thread on each server, for the read figure.
        ids = [submit_json(session, app_url, key, "read-bench", t) for t in READ_TEXTS[:20]]
        read_path = "/v1/sites/bench/threads/read-bench/comments?limit=20"
        deadline = time.monotonic() + 120
        while len(session.get(app_url + read_path, timeout=5).json()["items"]) < 20:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the read thread was not published: {ids[:3]}…")
            time.sleep(0.5)
        if has_isso:
            wait_http(f"{isso_url}/info")
            for i, t in enumerate(READ_TEXTS[:20]):
                posted = session.post(
                    f"{isso_url}/new?uri=%2Fread-bench",
                    json={"title": "Read", "author": f"Reader {i}", "text": t},
                    timeout=5,
                )
                posted.raise_for_status()
            assert (
                len(session.get(f"{isso_url}/?uri=%2Fread-bench", timeout=5).json()["replies"])
                == 20
            )
        rounds: dict[str, list[float]] = {
            k: []
            for k in (
                "baseline_rps",
                "embedded_submit_rps",
                "embedded_submit_p99_ms",
                "isso_submit_rps",
                "baseline_read_rps",
                "embedded_thread_read_rps",
                "isso_thread_read_rps",
            )
        }
        for r in range(args.rounds):
            tag = uuid.uuid4().hex[:6]
            b = wrk(
                f"{base_url}/v1/comments",
                args.duration,
                ROOT / "bench" / "submit.lua",
                {"BENCH_KEY": key, "BENCH_RUN": f"b{tag}"},
            )
            s = wrk(
                f"{app_url}/v1/comments",
                args.duration,
                ROOT / "bench" / "submit.lua",
                {"BENCH_KEY": key, "BENCH_RUN": f"e{tag}"},
            )
            rounds["baseline_rps"].append(b["rps"])
            rounds["embedded_submit_rps"].append(s["rps"])
            rounds["embedded_submit_p99_ms"].append(s["p99_ms"])
            if s["non_2xx"]:
                print(f"warning: {s['non_2xx']:.0f} non-2xx embedded submits", file=sys.stderr)
            if has_isso:
                isso = wrk(
                    f"{isso_url}/new",
                    args.duration,
                    ROOT / "bench" / "isso_submit.lua",
                    {"BENCH_RUN": f"i{tag}"},
                )
                if isso["non_2xx"]:
                    print(f"warning: {isso['non_2xx']:.0f} non-2xx Isso submits", file=sys.stderr)
                rounds["isso_submit_rps"].append(isso["rps"])
            rounds["baseline_read_rps"].append(wrk(base_url + read_path, args.duration)["rps"])
            rounds["embedded_thread_read_rps"].append(
                wrk(app_url + read_path, args.duration)["rps"]
            )
            if has_isso:
                rounds["isso_thread_read_rps"].append(
                    wrk(f"{isso_url}/?uri=%2Fread-bench", args.duration)["rps"]
                )
            print(
                json.dumps({"round": r, **{k: v[-1] for k, v in rounds.items() if v}}),
                file=sys.stderr,
            )
        med = {k: statistics.median(v) for k, v in rounds.items() if v}
        result: dict[str, object] = {k: round(v, 1) for k, v in med.items()}
        result["embedded_submit_vs_baseline"] = round(
            med["embedded_submit_rps"] / med["baseline_rps"], 3
        )
        result["embedded_read_vs_baseline"] = round(
            med["embedded_thread_read_rps"] / med["baseline_read_rps"], 3
        )
        if has_isso:
            result["isso_submit_vs_baseline"] = round(
                med["isso_submit_rps"] / med["baseline_rps"], 3
            )
            result["isso_read_vs_baseline"] = round(
                med["isso_thread_read_rps"] / med["baseline_read_rps"], 3
            )
        result["machine"] = machine()
        result["rounds"] = {k: [round(x, 2) for x in v] for k, v in rounds.items() if v}
    finally:
        for p in reversed(procs):
            p.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
