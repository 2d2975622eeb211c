"""Console fixtures: a real web server (gunicorn, the command `commentmod serve` runs) on the
test database, the suite's Celery worker deciding comments, a headless Chromium per test,
and desks (a site, its API key and a moderator token)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.remote.webdriver import WebDriver

from service.settings import Settings
from service.usecases.services import Services
from service.usecases.sites import create_moderator, create_site
from tests.conftest import auth, comment_body, wait_for_final, wait_until
from tests.console.browser import browser_binaries, start_chromium
from tests.support.processes import WorkerProcess, settings_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ConsoleServer:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def console_server(
    settings: Settings, worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """gunicorn with two sync workers (sessions must work across processes) on the suite's
    database and broker; ready when /healthz answers."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("console") / "web.log"
    log = log_path.open("ab")
    env = dict(settings_env(settings), WEB_CONCURRENCY="2")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:service.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "service.api:create_app_from_env()",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = ConsoleServer(f"http://127.0.0.1:{port}", proc, log_path)

    def is_up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log()[-3000:]}")
        try:
            return requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or still importing
            return False

    try:
        wait_until(is_up, timeout=60)
        yield server
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[WebDriver]:
    browser_binaries()  # fails (never skips) without the browser
    driver = start_chromium(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


@dataclass
class Desk:
    slug: str
    api_key: str
    moderator_id: int
    token: str


def new_desk(svc: Services, moderator: str = "Meera") -> Desk:
    site, key = create_site(svc, f"desk-{uuid.uuid4().hex[:8]}")
    moderator_id, token = create_moderator(svc, moderator, [site.slug])
    return Desk(site.slug, key, moderator_id, token)


@pytest.fixture
def desk(services: Services) -> Desk:
    return new_desk(services)


TWO_LINKS = "Background: https://example.org/a and https://example.net/b ({})"
# Toxicity "suspect" (held, one insult:2 span on हरामी) under the issue-13 model; the old
# sample ("सुन बे हरामी, तेरी बकवास बंद कर") is now "blatant" and rejected outright.
HINDI_ABUSE = "सुन भाई, तू हरामी है, तेरी बात कोई नहीं सुनेगा"


def submit_decided(server: ConsoleServer, desk: Desk, **fields: Any) -> dict[str, Any]:
    """Submit over HTTP and wait until the real worker decided it; returns the read API's
    answer (``id``, ``status``, ``reasons``)."""
    fields.setdefault("text", TWO_LINKS.format(uuid.uuid4().hex[:8]))
    r = requests.post(
        f"{server.url}/v1/comments",
        json=comment_body(**fields),
        headers=auth(desk.api_key),
        timeout=10,
    )
    assert r.status_code == 202, r.text
    return wait_for_final(server.url, desk.api_key, r.json()["id"], timeout=90)


def held(server: ConsoleServer, desk: Desk, **fields: Any) -> str:
    found = submit_decided(server, desk, **fields)
    assert found["status"] == "held", found
    return str(found["id"])
