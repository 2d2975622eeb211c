"""``commentmod serve``: web + worker + scheduler, each restarted if it dies."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from typing import Any

from service.cli.runtime import training_available
from service.db.migrate import upgrade
from service.logs import configure_logging
from service.settings import Settings
from service.supervisor import Supervisor


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Web (gunicorn) + worker + scheduler, each restarted if it dies (service.supervisor)."""
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
    if training_available():  # the scheduler's site retraining needs the training extra
        commands["trainer"] = [*exe, "trainer"]
    else:
        print("commentmod: no training extra: site models are not retrained on schedule")
    configure_logging(settings.log_level)
    supervisor = Supervisor(commands, env=env)
    supervisor.install_signal_handlers()
    roles = ", ".join(commands)
    print(f"commentmod: serving on http://{host}:{port} ({roles}); Ctrl-C stops")
    print("commentmod: create a site with: .venv/bin/commentmod sites create demo")
    return supervisor.run()


def add_commands(sub: Any) -> None:
    serve = sub.add_parser("serve", help="web + worker + scheduler (what `make run` starts)")
    serve.add_argument("--host", help="address to bind (default: the host setting)")
    serve.add_argument("--port", type=int, help="port to bind (default: the port setting)")
    serve.set_defaults(func=cmd_serve)
