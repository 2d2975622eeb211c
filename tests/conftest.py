"""Shared fixtures: one backend per run (PostgreSQL + Redis in CI, else SQLite + embedded
broker), a migrated database, a real Celery worker process, the Flask app and a live server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from service.api import create_app
from service.db.migrate import upgrade
from service.domain.privacy import generate_email_key, generate_hash_key
from service.settings import Settings
from service.usecases.services import Services, SiteRef, build_services
from service.usecases.sites import create_site
from tests.support.backends import Backend, make_backend
from tests.support.processes import WorkerProcess


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    chosen = make_backend(tmp_path_factory.mktemp("backend"))
    upgrade(chosen.database_url)
    yield chosen


@pytest.fixture(scope="session")
def base_settings(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=backend.database_url,
        broker_url=backend.broker_url,
        email_keys=generate_email_key(),
        hash_key=generate_hash_key(),
        relay_grace_seconds=1.0,
        relay_stale_seconds=5.0,
        check_max_retries=2,
        check_retry_backoff_max_seconds=2,
        var_dir=tmp_path_factory.mktemp("var"),
        log_level="INFO",
    )


@pytest.fixture(scope="session")
def settings(base_settings: Settings) -> Settings:
    return base_settings


@pytest.fixture(scope="session")
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(settings, tmp_path_factory.mktemp("logs") / "worker.log")
    proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def live_url(services: Services) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port."""
    server = make_server("127.0.0.1", 0, create_app(services=services), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def new_site(svc: Services) -> tuple[SiteRef, str]:
    return create_site(svc, f"site-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def site(services: Services) -> tuple[SiteRef, str]:
    return new_site(services)


def unique_email() -> str:
    return f"reader.{uuid.uuid4().hex[:12]}@example.com"


def comment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "thread_id": "article-42",
        "author_name": "Asha",
        "author_email": unique_email(),
        "text": "A thoughtful article, thank you for the background.",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def wait_until(predicate: Callable[[], Any], timeout: float = 45.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s")


def wait_for_final(
    base_url: str, api_key: str, comment_id: str, timeout: float = 45.0
) -> dict[str, Any]:
    """Poll the read API until the comment leaves ``pending``."""

    def final() -> dict[str, Any] | None:
        r = requests.get(
            f"{base_url}/v1/comments/{comment_id}",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=5,
        )
        r.raise_for_status()
        body = r.json()
        return body if body["status"] != "pending" else None

    return wait_until(final, timeout)  # type: ignore[no-any-return]


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def tmp_logs(tmp_path: Path) -> Path:
    return tmp_path
