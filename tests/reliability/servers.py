"""Real processes the reliability tests own: a private redis-server, a private PostgreSQL
cluster, `commentmod worker` / `scheduler` / `relay`. Never the system services at 5432/6379.

Every class here is a context manager and also registered with :data:`REGISTRY`, which the
conftest drains after each test, so a failing test never leaves a process behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from service.settings import Settings
from tests.support.processes import settings_env


def postgres_bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` live: $PG_BINDIR, PATH, ``pg_config --bindir``, or the
    newest /usr/lib/postgresql/<major>/bin (Debian/Ubuntu keep them off PATH). Raises, so a
    test that needs them fails (never skips) on a machine without PostgreSQL's server."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(debian)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, via pg_config --bindir, "
        "or under /usr/lib/postgresql/*/bin; install the PostgreSQL server "
        "(Debian: apt-get install postgresql) or set PG_BINDIR"
    )


# Processes started by the current test, stopped (killed if need be) by the conftest.
REGISTRY: list[Any] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not within {timeout}s")


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


class RedisServer:
    """A private ``redis-server`` on a free port, without persistence: a restart is empty."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        REGISTRY.append(self)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(self.is_up, 10, "redis-server up")
        return self

    def is_up(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: everything in memory (queued and unacknowledged messages) is gone."""
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: connections stay open and nothing answers (a hung server)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.kill()


class PostgresServer:
    """A private PostgreSQL cluster (initdb in a temp dir) on a free port.

    As root, initdb/pg_ctl run as the ``postgres`` user (PostgreSQL refuses root).
    """

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        # Its own temp dir: pytest's are private to the test user, and the cluster may run
        # as another user. Removed by stop().
        self.workdir = Path(tempfile.mkdtemp(prefix="commentmod-rel-pg-"))
        self.datadir = self.workdir / "data"
        self.sockdir = self.workdir / "sock"
        self.sockdir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.sockdir, "postgres")
        REGISTRY.append(self)
        self.started = False
        self._run(
            [str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust"],
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, argv: list[str], timeout: float = 60) -> None:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=timeout)

    def start(self) -> PostgresServer:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockdir} "
            "-c fsync=off -c shared_buffers=16MB -c max_connections=50"
        )
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.workdir / "pg.log"),
                "-o",
                options,
                "-w",
                "start",
            ]
        )
        self.started = True
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.started:
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]
            )
            self.started = False

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class CommentmodProcess:
    """`python -m service.cli <argv>` with exactly ``settings`` (plus ``extra_env``)."""

    def __init__(
        self,
        settings: Settings,
        argv: list[str],
        log_path: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.log_path = log_path
        log = log_path.open("ab")
        env = settings_env(settings)
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", *argv],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        REGISTRY.append(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker's main process and its pool)."""
        _kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            _kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(CommentmodProcess):
    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(settings, ["worker", f"--concurrency={concurrency}"], log_path, extra_env)

    def wait_ready(self, timeout: float = 60.0) -> Worker:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()[-4000:]}")
            return " ready." in self.log()

        wait_for(ready, timeout, "worker ready", interval=0.2)
        return self

    def children(self) -> list[psutil.Process]:
        """The prefork pool's processes (they run the checks)."""
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


class Scheduler(CommentmodProcess):
    def __init__(self, settings: Settings, log_path: Path) -> None:
        super().__init__(settings, ["scheduler"], log_path)


def run_relay(settings: Settings) -> dict[str, int]:
    """`commentmod relay` once, as an operator would; returns its JSON report."""
    out = subprocess.run(
        [sys.executable, "-m", "service.cli", "relay"],
        env=settings_env(settings),
        capture_output=True,
        timeout=60,
        check=True,
    )
    report: dict[str, int] = json.loads(out.stdout)
    return report


def stop_all() -> None:
    while REGISTRY:
        item = REGISTRY.pop()
        with contextlib.suppress(Exception):
            item.remove() if isinstance(item, PostgresServer) else item.stop()
