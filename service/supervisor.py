"""Keep a set of child processes running: what ``commentmod serve`` runs (web, worker, scheduler).

A child that exits is started again after a backoff (doubling from ``backoff_seconds`` up to
``max_backoff_seconds``, reset once the child has stayed up ``stable_seconds``), with one log
line for the exit and one for the restart. Everything stops, children first with SIGTERM then
SIGKILL after ``stop_timeout_seconds``, only when SIGTERM/SIGINT arrives or when one child
exits ``max_restarts`` times within ``window_seconds`` (it keeps dying: restarting cannot help,
and a loud stop beats a silent loop). Pure standard library; no knowledge of what the
children are.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("commentmod.supervisor")

# Exit status when a child kept dying (as sysexits' EX_SOFTWARE: a bug or a broken setup).
GAVE_UP = 70


@dataclass
class Policy:
    max_restarts: int = 5
    window_seconds: float = 60.0
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 10.0
    stable_seconds: float = 30.0
    stop_timeout_seconds: float = 20.0
    poll_seconds: float = 0.2


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    backoff: float = 0.0
    exits: deque[float] = field(default_factory=deque)
    restarts: int = 0


class Supervisor:
    """Start ``commands`` (name → argv) with ``env`` and keep them running until :meth:`stop`."""

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        env: Mapping[str, str] | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.env = dict(env) if env is not None else None
        self.children = {name: Child(name, list(argv)) for name, argv in commands.items()}
        self._stop = threading.Event()
        self.gave_up: str | None = None

    def stop(self) -> None:
        """Ask :meth:`run` to stop every child and return (safe from a signal handler)."""
        self._stop.set()

    def install_signal_handlers(self) -> None:
        def _handler(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s; stopping", signal.Signals(signum).name)
            self.stop()

        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(child.argv, env=self.env)  # noqa: S603
        child.started_at = time.monotonic()
        child.restart_at = None

    def _on_exit(self, child: Child, now: float) -> None:
        assert child.proc is not None
        code = child.proc.returncode
        child.proc = None
        if now - child.started_at >= self.policy.stable_seconds:
            child.backoff = 0.0  # it had been healthy: a fresh failure starts the backoff over
        child.exits.append(now)
        while child.exits and now - child.exits[0] > self.policy.window_seconds:
            child.exits.popleft()
        if len(child.exits) >= self.policy.max_restarts:
            log.error(
                "%s exited with %s, %d times in %.0f s; giving up and stopping everything",
                child.name,
                code,
                len(child.exits),
                self.policy.window_seconds,
            )
            self.gave_up = child.name
            self.stop()
            return
        child.backoff = min(
            self.policy.max_backoff_seconds, max(self.policy.backoff_seconds, child.backoff * 2)
        )
        child.restart_at = now + child.backoff
        log.warning("%s exited with %s; restarting in %.1f s", child.name, code, child.backoff)

    def _tick(self) -> None:
        now = time.monotonic()
        for child in self.children.values():
            if child.proc is not None and child.proc.poll() is not None:
                self._on_exit(child, now)
            elif child.proc is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                log.warning("restarting %s (restart %d)", child.name, child.restarts)
                self._start(child)

    def run(self) -> int:
        """Start the children, supervise until stopped; 0 on a requested stop, else GAVE_UP."""
        for child in self.children.values():
            self._start(child)
        try:
            while not self._stop.is_set():
                self._tick()
                self._stop.wait(self.policy.poll_seconds)
        finally:
            self._stop_children()
        return GAVE_UP if self.gave_up else 0

    def _stop_children(self) -> None:
        running = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.policy.stop_timeout_seconds
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
