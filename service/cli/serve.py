"""``commentmod serve``: web + worker + scheduler as one process group."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from service.db.migrate import upgrade
from service.settings import Settings


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Web (gunicorn) + worker + scheduler as one process group; stops all if one dies."""
    host = args.host or settings.host
    port = args.port or settings.port
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    metrics_dir = settings.var_dir / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir.resolve()))
    exe = [sys.executable, "-m", "service.cli"]
    commands = {
        "web": [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:service.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            "service.api:create_app_from_env()",
        ],
        "worker": [*exe, "worker"],
        "scheduler": [*exe, "scheduler"],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}  # noqa: S603
    print(f"commentmod: serving on http://{host}:{port} (web, worker, scheduler); Ctrl-C stops")
    print("commentmod: create a site with: .venv/bin/commentmod sites create demo")
    stopping = False

    def _stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(
                    f"commentmod: {name} exited with {child.returncode}; stopping", file=sys.stderr
                )
                exit_code = 1
                stopping = True
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


def add_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="web + worker + scheduler (what `make run` starts)")
    serve.add_argument("--host", help="address to bind (default: the host setting)")
    serve.add_argument("--port", type=int, help="port to bind (default: the port setting)")
    serve.set_defaults(func=cmd_serve)
