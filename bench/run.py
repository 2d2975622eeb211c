"""`make bench`: the production configuration against a bare-Flask baseline, in one run.

Starts its own redis-server (free port) and PostgreSQL database, gunicorn (4 sync workers,
as config/ and service/gunicorn_conf.py set them) for commentmod and for the baseline app,
a Celery worker and the scheduler; drives them with wrk (16 connections); and prints, as its
last line, one JSON object with the figures issue 6 asks for. Each figure is measured in
`--rounds` rounds (baseline and commentmod alternate within a round); the JSON holds medians
and `rounds` holds every value.

    .venv/bin/python bench/run.py [--rounds 3] [--duration 10] [--embedded]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import redis
import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CONNECTIONS = 16
WEB_WORKERS = 4


# Ordinary reader comments for the 20-comment thread (submitted until 20 are published).
READ_TEXTS = [
    "Thank you for this report, the background on the talks was new to me.",
    "Bahut badhiya article hai, poora context mil gaya.",
    "पुतिन और किम की यह संधि एशिया की सुरक्षा के लिए चिंता का विषय है।",
    "I disagree with the minister, but the article explains both sides fairly.",
    "The map of the affected districts was very helpful.",
    "Sarkar ko is mudde par jawab dena chahiye.",
    "इस रिपोर्ट में किसानों की बात अच्छी तरह रखी गई है।",
    "Good to see follow-up reporting on this story.",
    "Could you also cover what happens to the workers now?",
    "Yeh khabar padh kar achha laga, shukriya.",
    "A balanced piece; I would like more detail on the costs.",
    "मुझे लगता है कि अदालत का फैसला सही है।",
    "The interview with the local teachers was the best part.",
    "Is bare mein aur jaankari milegi kya?",
    "Clear writing, and the timeline at the end helps.",
    "यह लेख बहुत जानकारीपूर्ण है, धन्यवाद।",
    "I live nearby and this matches what we have seen.",
    "Accha vishleshan, lekin aankde kahan se aaye?",
    "Please keep reporting on the water shortage.",
    "सरकार को इस मुद्दे पर जल्द कदम उठाना चाहिए।",
    "Well researched, thank you to the reporter.",
    "Mujhe yeh report pasand aayi.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Proc:
    def __init__(self, name: str, cmd: Sequence[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.log = (logdir / f"{name}.log").open("ab")
        self.p = subprocess.Popen(
            list(cmd),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str, duration: int, script: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {
        p: float(v) * _UNITS[u]
        for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
    }
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50_ms": pct.get("50", float("nan")),
        "p99_ms": pct.get("99", float("nan")),
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores {model} / {system} / Python {platform.python_version()}"


def gunicorn_cmd(port: int, app: str) -> list[str]:
    return [
        PY,
        "-m",
        "gunicorn",
        "--config",
        "python:service.gunicorn_conf",
        "--workers",
        str(WEB_WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]


def start_redis(port: int, tmp: Path) -> Proc:
    """A private redis-server that keeps nothing on disk."""
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    return Proc("redis", [*cmd, "--appendonly", "no", "--dir", str(tmp)], dict(os.environ), tmp)


def prepare_deployment(
    database_url: str, broker_url: str, var_dir: Path
) -> tuple[dict[str, str], str]:
    """The environment of a fresh deployment on these stores (generated secrets; the one
    bench site's rate limit lifted, though the limiter still counts, so its cost is
    measured), its schema migrated and the site created. Returns (env, the site's API key)."""

    def cli(*args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            [PY, "-m", "service.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout

    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTMOD_")}
    env.update(dict(line.split("=", 1) for line in cli("keys", "generate").split()))
    env.update(
        {
            "COMMENTMOD_DATABASE_URL": database_url,
            "COMMENTMOD_BROKER_URL": broker_url,
            "COMMENTMOD_VAR_DIR": str(var_dir),
            "COMMENTMOD_LOG_LEVEL": "WARNING",
            "COMMENTMOD_RATE_LIMIT_SITE_REQUESTS": "1000000000",
        }
    )
    cli("db", "upgrade", env=env)
    return env, str(json.loads(cli("sites", "create", "bench", env=env))["api_key"])


def start_web(port: int, env: dict[str, str], tmp: Path) -> Proc:
    """commentmod under gunicorn (multiprocess Prometheus metrics in ``tmp``/prom)."""
    prom = tmp / "prom"
    prom.mkdir(exist_ok=True)
    web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(prom)}
    return Proc("web", gunicorn_cmd(port, "service.api:create_app_from_env()"), web_env, tmp)


def start_baseline(port: int, tmp: Path) -> Proc:
    """The bare Flask baseline under the same gunicorn settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTMOD_")}
    return Proc("baseline", gunicorn_cmd(port, "bench.baseline_app:create_app()"), env, tmp)


def submit_json(session: requests.Session, base: str, key: str, thread: str, text_: str) -> str:
    body = {
        "thread_id": thread,
        "author_name": "Bench",
        "author_email": f"e{uuid.uuid4().hex}@example.com",
        "text": text_,
    }
    r = session.post(
        f"{base}/v1/comments", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    r.raise_for_status()
    return str(r.json()["id"])


def wait_decided(engine: Any, ids: list[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as c:
            left = c.execute(
                text("SELECT count(*) FROM comments WHERE status = 'pending'")
            ).scalar()
        if not left:
            return
        time.sleep(0.2)
    raise TimeoutError("comments still pending")


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database for one bench run (its URL), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def vacuum(database_url: str) -> None:
    """``VACUUM (ANALYZE)`` the bench's database, as autovacuum would between phases.

    This machine's PostgreSQL runs with ``autovacuum = off``: without this, the planner has
    no statistics for the fresh database and the check_jobs table and its indexes fill with
    dead row versions (each job is updated three times), so every round ran slower than the
    one before (PostgreSQL CPU per comment 2.1 → 3.6 ms over five e2e runs; 1.3 ms with it).
    """
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def wait_queue_empty(redis_port: int, timeout: float = 600) -> None:
    """Wait until the workers have taken every message (the queue list is empty)."""
    client = redis.Redis(port=redis_port)
    deadline = time.monotonic() + timeout
    while client.llen("moderation") and time.monotonic() < deadline:
        time.sleep(0.2)
    client.close()
    time.sleep(1)  # the last ones taken are still running


def latencies_ms(engine: Any, ids: list[str]) -> list[float]:
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT extract(epoch FROM decided_at - created_at) * 1000"
                " FROM comments WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        ).all()
    return sorted(float(r[0]) for r in rows if r[0] is not None)


def open_loop(base: str, key: str, rate: float, seconds: float, connections: int = 48) -> list[str]:
    """Offer `rate` submissions per second for `seconds`, on a fixed schedule (open loop).

    Plain asyncio HTTP/1.1, a connection per request (gunicorn's sync workers close each
    one): the generator shares the 2 cores with the service, and requests' per-call cost
    (about 2 ms of CPU) took a quarter of a core at 200/s. At most `connections` requests
    are in flight; latency is measured server-side from the stored timestamps.
    """
    host, port = base.removeprefix("http://").split(":")
    return asyncio.run(_open_loop(host, int(port), key, rate, seconds, connections))


async def _open_loop(
    host: str, port: int, key: str, rate: float, seconds: float, connections: int
) -> list[str]:
    slots = asyncio.Semaphore(connections)
    ids: list[str] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
        body = json.dumps(
            {
                "thread_id": f"e2e-{i % 50}",
                "author_name": "Bench",
                "author_email": f"e{uuid.uuid4().hex}@example.com",
                "text": f"An ordinary e2e comment {uuid.uuid4().hex}.",
            }
        ).encode()
        head = (
            f"POST /v1/comments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        async with slots:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(head + body)
                response = await reader.read()
            finally:
                writer.close()
        status_line, _, rest = response.partition(b"\r\n")
        if status_line.split()[1:2] != [b"202"]:
            raise RuntimeError(f"submission answered {status_line!r}")
        ids.append(str(json.loads(rest.partition(b"\r\n\r\n")[2])["id"]))

    await asyncio.gather(*(one(i) for i in range(int(rate * seconds))))
    return ids


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--e2e-rate", type=float, default=200.0)
    parser.add_argument("--e2e-seconds", type=float, default=10.0)
    parser.add_argument("--backlog-seconds", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="commentmod-bench-"))
    procs: list[Proc] = []
    cleanup = ExitStack()
    db_url = cleanup.enter_context(fresh_database("commentmod_bench"))
    engine = create_engine(db_url)
    try:
        redis_port = free_port()
        procs.append(start_redis(redis_port, tmp))
        env, key = prepare_deployment(db_url, f"redis://127.0.0.1:{redis_port}/0", tmp / "var")
        app_port, base_port = free_port(), free_port()
        procs.append(start_web(app_port, env, tmp))
        procs.append(start_baseline(base_port, tmp))
        worker = Proc("worker", [PY, "-m", "service.cli", "worker"], env, tmp)
        scheduler = Proc("scheduler", [PY, "-m", "service.cli", "scheduler"], env, tmp)
        procs += [worker, scheduler]
        app_url, base_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{base_port}"
        wait_http(f"{app_url}/healthz")
        wait_http(f"{base_url}/v1/sites/x/threads/y/comments")
        session = requests.Session()
        # A 20-comment published thread for the read benchmark.
        read_texts = iter(READ_TEXTS * 5)
        published = 0
        while published < 20:
            batch = [
                submit_json(session, app_url, key, "read-bench", next(read_texts))
                for _ in range(20 - published)
            ]
            wait_decided(engine, batch)
            with engine.connect() as c:
                published = int(
                    c.execute(
                        text(
                            "SELECT count(*) FROM comments"
                            " WHERE thread_id = 'read-bench' AND status = 'published'"
                        )
                    ).scalar()
                    or 0
                )
                if not published:
                    raise RuntimeError(
                        str(c.execute(text("SELECT status, reasons FROM comments LIMIT 5")).all())
                    )
        read_path = "/v1/sites/bench/threads/read-bench/comments?limit=20"
        assert len(session.get(app_url + read_path, timeout=5).json()["items"]) == 20

        rounds: dict[str, list[float]] = {
            k: []
            for k in (
                "baseline_rps",
                "submit_rps",
                "submit_p50_ms",
                "submit_p99_ms",
                "baseline_read_rps",
                "thread_read_rps",
                "e2e_p50_ms",
                "e2e_p95_ms",
                "moderated_per_s",
                "submit_workers_stopped_rps",
                "submit_workers_stopped_p99_ms",
            )
        }
        for r in range(args.rounds):
            vacuum(db_url)
            b = wrk(
                f"{base_url}/v1/comments",
                args.duration,
                ROOT / "bench" / "submit.lua",
                {"BENCH_KEY": key, "BENCH_RUN": f"b{r}"},
            )
            s = wrk(
                f"{app_url}/v1/comments",
                args.duration,
                ROOT / "bench" / "submit.lua",
                {"BENCH_KEY": key, "BENCH_RUN": f"s{r}{uuid.uuid4().hex[:6]}"},
            )
            if s["non_2xx"]:
                print(f"warning: {s['non_2xx']:.0f} non-2xx submit responses", file=sys.stderr)
            rounds["baseline_rps"].append(b["rps"])
            rounds["submit_rps"].append(s["rps"])
            rounds["submit_p50_ms"].append(s["p50_ms"])
            rounds["submit_p99_ms"].append(s["p99_ms"])
            br = wrk(base_url + read_path, args.duration)
            tr = wrk(app_url + read_path, args.duration)
            rounds["baseline_read_rps"].append(br["rps"])
            rounds["thread_read_rps"].append(tr["rps"])
            # Let the workers drain the submit burst before measuring e2e.
            wait_decided(engine, [], timeout=600)
            wait_queue_empty(redis_port)
            vacuum(db_url)
            ids = open_loop(app_url, key, args.e2e_rate, args.e2e_seconds)
            wait_decided(engine, ids)
            lat = latencies_ms(engine, ids)
            rounds["e2e_p50_ms"].append(pct(lat, 0.5))
            rounds["e2e_p95_ms"].append(pct(lat, 0.95))
            # Throughput of the checks: build a backlog with the workers stopped, then time it.
            worker.stop()
            scheduler.stop()
            vacuum(db_url)
            # The same submit load with no check running beside it: the web path alone (the
            # issue's reference handlers were measured so); reported as extra fields.
            alone = wrk(
                f"{app_url}/v1/comments",
                args.backlog_seconds,
                ROOT / "bench" / "submit.lua",
                {"BENCH_KEY": key, "BENCH_RUN": f"m{r}{uuid.uuid4().hex[:6]}"},
            )
            rounds["submit_workers_stopped_rps"].append(alone["rps"])
            rounds["submit_workers_stopped_p99_ms"].append(alone["p99_ms"])
            with engine.connect() as c:
                backlog_ids = [
                    str(row[0])
                    for row in c.execute(text("SELECT id FROM comments WHERE status = 'pending'"))
                ]
            backlog = len(backlog_ids)
            worker = Proc("worker", [PY, "-m", "service.cli", "worker"], env, tmp)
            scheduler = Proc("scheduler", [PY, "-m", "service.cli", "scheduler"], env, tmp)
            procs += [worker, scheduler]
            wait_decided(engine, [], timeout=900)
            # Claims decide the backlog before its own messages are read: let the workers
            # drain those (cheap skips) before the next round, or they load its baseline.
            wait_queue_empty(redis_port)
            with engine.connect() as c:
                first, last = c.execute(
                    text(
                        "SELECT min(decided_at), max(decided_at) FROM comments WHERE id = ANY(:ids)"
                    ),
                    {"ids": backlog_ids},
                ).one()
            span = (last - first).total_seconds() if first and last else float("nan")
            rounds["moderated_per_s"].append(backlog / span if span and span > 0 else float("nan"))
            print(
                json.dumps({"round": r, **{k: v[-1] for k, v in rounds.items()}}), file=sys.stderr
            )
        med = {k: statistics.median(v) for k, v in rounds.items()}
        result = {
            "submit_rps": round(med["submit_rps"], 1),
            "baseline_rps": round(med["baseline_rps"], 1),
            "submit_vs_baseline": round(med["submit_rps"] / med["baseline_rps"], 3),
            "submit_p50_ms": round(med["submit_p50_ms"], 2),
            "submit_p99_ms": round(med["submit_p99_ms"], 2),
            "thread_read_rps": round(med["thread_read_rps"], 1),
            "thread_read_rps_vs_baseline": round(
                med["thread_read_rps"] / med["baseline_read_rps"], 3
            ),
            "e2e_p50_ms": round(med["e2e_p50_ms"], 1),
            "e2e_p95_ms": round(med["e2e_p95_ms"], 1),
            "moderated_per_s": round(med["moderated_per_s"], 1),
            "submit_workers_stopped_rps": round(med["submit_workers_stopped_rps"], 1),
            "submit_workers_stopped_vs_baseline": round(
                med["submit_workers_stopped_rps"] / med["baseline_rps"], 3
            ),
            "submit_workers_stopped_p99_ms": round(med["submit_workers_stopped_p99_ms"], 2),
            "machine": machine(),
            "rounds": {k: [round(x, 2) for x in v] for k, v in rounds.items()},
        }
    finally:
        for p in reversed(procs):
            p.stop()
        engine.dispose()
        cleanup.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
