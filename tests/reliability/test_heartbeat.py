"""The heartbeat files the compose healthchecks read, written by a real worker and scheduler.

A live process keeps its file fresh (the mtime moves); a hung one (SIGSTOP) lets it go
stale, and ``python -m workers.heartbeat`` then says unhealthy (exit 1).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from service.settings import Settings
from tests.reliability.conftest import fault_settings
from tests.reliability.servers import CommentmodProcess, Scheduler, Worker, wait_for
from tests.support.backends import Backend
from workers.heartbeat import INTERVAL_SECONDS, SCHEDULER_FILE, WORKER_FILE

STALE_AFTER = 2 * INTERVAL_SECONDS


def _healthy(path: Path) -> bool:
    check = [sys.executable, "-m", "workers.heartbeat", str(path), str(STALE_AFTER)]
    return subprocess.run(check, check=False).returncode == 0


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


def _beats_then_goes_stale_when_hung(process: CommentmodProcess, path: Path) -> None:
    wait_for(path.exists, 60, f"{path.name} written")
    first = _mtime(path)
    wait_for(lambda: _mtime(path) > first, 4 * INTERVAL_SECONDS, f"{path.name} touched again")
    assert _healthy(path)
    os.kill(process.proc.pid, signal.SIGSTOP)  # hung: alive, doing nothing
    try:
        wait_for(lambda: not _healthy(path), 4 * STALE_AFTER, f"{path.name} unhealthy", 0.5)
    finally:
        os.kill(process.proc.pid, signal.SIGCONT)


def test_worker_heartbeat(backend: Backend, settings: Settings, tmp_path: Path) -> None:
    s = fault_settings(settings, tmp_path, broker_url=backend.spare_broker_url)
    worker = Worker(s, tmp_path / "worker.log", concurrency=1).wait_ready()
    _beats_then_goes_stale_when_hung(worker, s.var_dir / WORKER_FILE)


def test_scheduler_heartbeat(backend: Backend, settings: Settings, tmp_path: Path) -> None:
    s = fault_settings(settings, tmp_path, broker_url=backend.spare_broker_url)
    scheduler = Scheduler(s, tmp_path / "scheduler.log")
    _beats_then_goes_stale_when_hung(scheduler, s.var_dir / SCHEDULER_FILE)


def test_missing_file_is_unhealthy(tmp_path: Path) -> None:
    assert not _healthy(tmp_path / "never-written.heartbeat")
