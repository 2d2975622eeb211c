"""Real processes for integration tests: a Celery worker started with `commentmod worker`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from service.settings import Settings

SECRET_FIELDS = ("email_keys", "hash_key")


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMENTMOD_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if name in SECRET_FIELDS:
            value = getattr(settings, name).get_secret_value()
        elif isinstance(value, tuple | list):
            value = ",".join(value)
        elif isinstance(value, dict):
            import json

            value = json.dumps(value)
        env[f"COMMENTMOD_{name.upper()}"] = str(value)
    return env


class WorkerProcess:
    """`commentmod worker` as a child process, logging to a file the tests can read."""

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        concurrency: int = 2,
        command: tuple[str, ...] | None = None,
    ) -> None:
        """``command``: another ``commentmod`` command (e.g. ``("trainer",)``)."""
        self.log_path = log_path
        self._log = log_path.open("ab")
        argv = command or ("worker", f"--concurrency={concurrency}")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *argv],
            env=settings_env(settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()[-4000:]}")
            if " ready." in self.log():
                return
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready in {timeout}s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def tasks_finished(log: str, task_names: set[str], arg: str) -> int:
    """How many tasks named in ``task_names`` whose arguments mention ``arg`` the worker
    logged as succeeded (read from its JSON log: "received" lines carry the arguments)."""
    import json

    received: set[str] = set()
    finished = 0
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        data = record.get("data") or {}
        if data.get("name") not in task_names:
            continue
        if record.get("logger") == "celery.worker.strategy" and arg in data.get("args", ""):
            received.add(data["id"])
        elif data.get("id") in received and " succeeded in " in record.get("message", ""):
            finished += 1
    return finished
