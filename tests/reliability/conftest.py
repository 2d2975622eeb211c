"""Reliability tests: real processes started and killed by the tests themselves.

Every process a test starts is registered in ``servers.REGISTRY`` and stopped after the test,
pass or fail. Measured figures are collected in ``figures`` and written, at the end of the
session, to ``$RELIABILITY_FIGURES`` (default: ``<basetemp>/reliability-figures.json``) and
printed in the terminal summary; docs/reliability.md quotes them.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from service.api import create_app
from service.db.models import AuditEvent, CheckResultRow, Comment
from service.settings import Settings
from service.usecases.services import Services
from tests.reliability import plugins
from tests.reliability.servers import stop_all
from tests.support.backends import Backend

FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture(autouse=True)
def _stop_processes() -> Iterator[None]:
    yield
    stop_all()


@pytest.fixture(scope="session")
def figures(backend: Backend) -> dict[str, dict[str, Any]]:
    return FIGURES


def record(name: str, backend: Backend, **values: Any) -> None:
    FIGURES[f"{name} [{backend.name}]"] = values
    print(f"\nFIGURE {name} [{backend.name}]: {json.dumps(values, default=str)}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not FIGURES:
        return
    default = Path(str(session.config._tmp_path_factory.getbasetemp()))  # type: ignore[attr-defined]
    target = Path(os.environ.get("RELIABILITY_FIGURES", default / "reliability-figures.json"))
    existing: dict[str, Any] = {}
    if target.exists():
        try:
            existing = json.loads(target.read_text())
        except ValueError:
            existing = {}
    existing.update(FIGURES)
    target.write_text(json.dumps(existing, indent=2, sort_keys=True, default=str))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, values in FIGURES.items():
            terminalreporter.write_line(f"{name}: {json.dumps(values, default=str)}")


def fault_settings(settings: Settings, tmp: Path, **overrides: Any) -> Settings:
    """The run's database with fast, deterministic detectors and short pipeline timings."""
    values: dict[str, Any] = {
        "detector_plugins": plugins.CLEAN,
        "var_dir": tmp / "var",
        "relay_interval_seconds": 1.0,
        "relay_grace_seconds": 2.0,
        "relay_stale_seconds": 3.0,
        "relay_max_sends": 6,
        "check_max_retries": 2,
        "check_retry_backoff_max_seconds": 2,
        "task_soft_time_limit_seconds": 6,
        "task_time_limit_seconds": 8,
        "broker_visibility_timeout_seconds": 10,
        "broker_restore_interval_seconds": 1,
        "flood_interval_seconds": 0.0,
        "rate_limit_site_requests": 0,
        "rate_limit_ip_requests": 0,
        "worker_concurrency": 2,
    }
    values.update(overrides)
    (tmp / "var").mkdir(parents=True, exist_ok=True)
    return settings.model_copy(update=values)


@contextmanager
def live_server(svc: Services) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(services=svc), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def body(**overrides: Any) -> dict[str, Any]:
    marker = uuid.uuid4().hex
    values: dict[str, Any] = {
        "thread_id": "reliability",
        "author_name": "Asha",
        "author_email": f"r.{marker[:12]}@example.com",
        "text": f"A calm and useful remark, number {marker}.",
    }
    values.update(overrides)
    return values


def pipeline_counts(svc: Services, comment_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per comment: status, result rows per check, automatic decisions, publications."""
    out: dict[str, dict[str, Any]] = {
        cid: {"status": None, "results": {}, "decisions": 0, "publications": 0}
        for cid in comment_ids
    }
    with svc.storage.sessions() as s:
        for cid, status, decided_at in s.execute(
            select(Comment.id, Comment.status, Comment.decided_at).where(
                Comment.id.in_(comment_ids)
            )
        ):
            out[cid]["status"] = status
            out[cid]["decided_at"] = decided_at
        for cid, check, n in s.execute(
            select(CheckResultRow.comment_id, CheckResultRow.check, func.count())
            .where(CheckResultRow.comment_id.in_(comment_ids))
            .group_by(CheckResultRow.comment_id, CheckResultRow.check)
        ):
            out[cid]["results"][check] = int(n)
        for cid, from_status, to_status, n in s.execute(
            select(
                AuditEvent.comment_id, AuditEvent.from_status, AuditEvent.to_status, func.count()
            )
            .where(AuditEvent.comment_id.in_(comment_ids))
            .group_by(AuditEvent.comment_id, AuditEvent.from_status, AuditEvent.to_status)
        ):
            if from_status == "pending":
                out[cid]["decisions"] += int(n)
            if to_status == "published":
                out[cid]["publications"] += int(n)
    return out


class _PrivateDatabase:
    """A database of the run's kind that only one test uses, dropped (PostgreSQL) when the
    test ends: the session's own worker, which claims waiting jobs from its database's
    backlog with the real detectors, never sees this test's comments."""

    def __init__(self, backend: Backend, tmp: Path) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        from service.db.migrate import upgrade
        from tests.reliability.servers import REGISTRY

        self._admin: Any = None
        if backend.database_url.startswith("sqlite"):
            self.url = f"sqlite:///{tmp / 'private.db'}"
        else:
            base = make_url(backend.database_url)
            self.name = f"{base.database}_t{uuid.uuid4().hex[:8]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.url = base.set(database=self.name).render_as_string(hide_password=False)
        REGISTRY.append(self)
        upgrade(self.url)

    def stop(self) -> None:
        if self._admin is not None:
            from sqlalchemy import text

            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
            self._admin.dispose()
            self._admin = None


def private_database_url(backend: Backend, tmp: Path) -> str:
    return _PrivateDatabase(backend, tmp).url
