"""service.supervisor with real child processes (``python -c``), no mocks.

Each child writes a line to a file when it starts, so the tests wait for that positive signal
instead of sleeping.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from service.supervisor import GAVE_UP, Policy, Supervisor

FAST = Policy(
    max_restarts=3,
    window_seconds=60,
    backoff_seconds=0.05,
    max_backoff_seconds=0.2,
    stop_timeout_seconds=5,
    poll_seconds=0.02,
)


def _child(starts: Path, body: str) -> list[str]:
    """A child that appends its pid to ``starts`` and then runs ``body``."""
    code = f"import os; open({str(starts)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
    code += textwrap.dedent(body)
    return [sys.executable, "-c", code]


def _starts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _wait(predicate: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def _run_in_thread(sup: Supervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(sup.run()), daemon=True)
    thread.start()
    return thread, result


def test_a_child_that_dies_is_restarted_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    flaky, steady = tmp_path / "flaky", tmp_path / "steady"
    # Dies on its first start only, then stays up.
    flaky_body = f"""
        import sys, time
        if len(open({str(flaky)!r}).read().splitlines()) == 1:
            sys.exit(3)
        time.sleep(600)
    """
    sup = Supervisor(
        {
            "flaky": _child(flaky, flaky_body),
            "steady": _child(steady, "import time; time.sleep(600)"),
        },
        policy=FAST,
    )
    caplog.set_level(logging.INFO, logger="commentmod.supervisor")
    thread, result = _run_in_thread(sup)
    _wait(lambda: _starts(flaky) == 2 and _starts(steady) == 1)
    proc = sup.children["flaky"].proc
    assert proc is not None and proc.poll() is None
    sup.stop()
    thread.join(timeout=20)
    assert result == [0]
    assert _starts(steady) == 1  # the healthy sibling was never touched
    assert sup.children["flaky"].restarts == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("flaky exited with 3; restarting" in m for m in messages), messages
    for child in sup.children.values():
        assert child.proc is not None and child.proc.poll() is not None  # stopped


def test_a_child_that_keeps_dying_stops_everything(tmp_path: Path) -> None:
    dying, steady = tmp_path / "dying", tmp_path / "steady"
    sup = Supervisor(
        {
            "dying": _child(dying, "raise SystemExit(1)"),
            "steady": _child(steady, "import time; time.sleep(600)"),
        },
        policy=FAST,
    )
    thread, result = _run_in_thread(sup)
    thread.join(timeout=30)
    assert result == [GAVE_UP]
    assert sup.gave_up == "dying"
    assert _starts(dying) == FAST.max_restarts
    steady_proc = sup.children["steady"].proc
    assert steady_proc is not None and steady_proc.poll() is not None


def test_backoff_doubles_up_to_its_ceiling(tmp_path: Path) -> None:
    dying = tmp_path / "dying"
    policy = Policy(
        max_restarts=5,
        backoff_seconds=0.05,
        max_backoff_seconds=0.1,
        stop_timeout_seconds=5,
        poll_seconds=0.02,
    )
    sup = Supervisor({"dying": _child(dying, "raise SystemExit(1)")}, policy=policy)
    backoffs: list[float] = []
    original = sup._on_exit

    def record(child: Any, now: float) -> None:
        original(child, now)
        backoffs.append(child.backoff)

    sup._on_exit = record  # type: ignore[method-assign]
    thread, result = _run_in_thread(sup)
    thread.join(timeout=30)
    assert result == [GAVE_UP]
    # The fifth exit gives up before computing a backoff, so four were recorded.
    assert backoffs[:4] == [0.05, 0.1, 0.1, 0.1]


def test_sigterm_stops_the_children_and_exits_zero(tmp_path: Path) -> None:
    child_starts = tmp_path / "child"
    script = textwrap.dedent(
        f"""
        import sys
        from service.supervisor import Policy, Supervisor
        sup = Supervisor({{"child": {_child(child_starts, "import time; time.sleep(600)")!r}}},
                         policy=Policy(poll_seconds=0.02))
        sup.install_signal_handlers()
        sys.exit(sup.run())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[2])
    try:
        _wait(lambda: _starts(child_starts) == 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _starts(child_starts) == 1  # stopped, not restarted
    child_pid = int(child_starts.read_text().split()[0])
    assert not psutil.pid_exists(child_pid)
