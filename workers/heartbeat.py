"""Heartbeat files: the worker and the scheduler touch one while they are really working, so
a container healthcheck (or an operator) can tell a hung process from a live one.

- The worker touches ``<var_dir>/worker.heartbeat`` from a consumer bootstep's timer: the
  timer runs in the consumer's event loop, only while it is connected to the broker, so the
  file goes stale when the loop is stuck or the broker connection is lost for good.
- The scheduler touches ``<var_dir>/scheduler.heartbeat`` on every beat tick.

``python -m workers.heartbeat FILE [MAX_AGE_SECONDS]`` exits 0 when FILE was touched within
MAX_AGE_SECONDS (default 60), else 1: the compose healthcheck.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.beat import PersistentScheduler

# The app setting holding the folder of the heartbeat files (make_celery sets it).
DIR_SETTING = "commentmod_heartbeat_dir"
WORKER_FILE = "worker.heartbeat"
SCHEDULER_FILE = "scheduler.heartbeat"
INTERVAL_SECONDS = 5.0


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: touch the heartbeat file every INTERVAL_SECONDS while consuming."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.path = Path(parent.app.conf[DIR_SETTING]) / WORKER_FILE
        self._tref: Any = None

    def start(self, parent: Any) -> None:
        touch(self.path)
        self._tref = parent.timer.call_repeatedly(INTERVAL_SECONDS, touch, (self.path,))

    def stop(self, parent: Any) -> None:
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None

    shutdown = stop


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler, touching the heartbeat file on every tick."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        touch(Path(self.app.conf[DIR_SETTING]) / SCHEDULER_FILE)
        interval: float = super().tick(*args, **kwargs)
        # Tick at least every INTERVAL_SECONDS, so the file stays fresh between due tasks.
        return min(interval, INTERVAL_SECONDS)


def is_fresh(path: Path, max_age_seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime < max_age_seconds
    except FileNotFoundError:
        return False


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m workers.heartbeat FILE [MAX_AGE_SECONDS]", file=sys.stderr)
        return 2
    max_age = float(argv[1]) if len(argv) > 1 else 60.0
    return 0 if is_fresh(Path(argv[0]), max_age) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
