"""Moderation fixtures: a worker with fast webhook retries on its own broker, moderators,
sites with webhooks, and a local HTTP receiver that checks the webhook signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.api import create_app
from service.settings import Settings
from service.usecases.services import Services, SiteRef, build_services
from service.usecases.sites import create_moderator, create_site
from service.usecases.webhooks import SIGNATURE_HEADER, configure_webhook
from tests.conftest import auth, comment_body, wait_until
from tests.support.backends import Backend
from tests.support.processes import WorkerProcess


@pytest.fixture(scope="session")
def mod_settings(settings: Settings, backend: Backend) -> Settings:
    """The suite's settings on the spare broker, with webhook retries in half-seconds."""
    return settings.model_copy(
        update={
            "broker_url": backend.spare_broker_url,
            "webhook_retry_base_seconds": 0.5,
            "webhook_retry_max_interval_seconds": 2.0,
            "webhook_timeout_seconds": 2.0,
            "relay_stale_seconds": 3.0,
        }
    )


@pytest.fixture(scope="session")
def mod_services(mod_settings: Settings) -> Iterator[Services]:
    svc = build_services(mod_settings)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def mod_worker(
    mod_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(mod_settings, tmp_path_factory.mktemp("mod-logs") / "worker.log")
    proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
def api(mod_services: Services) -> FlaskClient:
    return create_app(services=mod_services).test_client()


# --- the webhook receiver ---------------------------------------------------------------------


@dataclass
class Received:
    event_id: str
    event: str
    body: dict[str, Any]
    raw: str
    headers: dict[str, str]
    is_signature_valid: bool


@dataclass
class Receiver:
    """A local HTTP endpoint (127.0.0.1, random port, own thread) that verifies signatures.
    ``stop()``/``start()`` take it down and bring it back on the same port."""

    secret: str = ""
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/commentmod"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            event_id=body["id"],
                            event=body["event"],
                            body=body,
                            raw=raw.decode(),
                            headers=dict(self.headers),
                            is_signature_valid=receiver.verify(
                                raw, self.headers.get(SIGNATURE_HEADER, "")
                            ),
                        )
                    )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def verify(self, raw: bytes, header: str) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if not parts.get("t", "").isdigit() or abs(time.time() - int(parts["t"])) > 300:
            return False
        expected = hmac.new(
            self.secret.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    def events_for(self, comment_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.body["comment"]["id"] == comment_id]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


# --- sites and moderators -----------------------------------------------------------------------


@dataclass
class Desk:
    """A site (with its API key, optionally a webhook) and a moderator of it."""

    site: SiteRef
    api_key: str
    moderator_id: int
    token: str

    @property
    def slug(self) -> str:
        return self.site.slug


def new_desk(svc: Services, receiver: Receiver | None = None) -> Desk:
    site, key = create_site(svc, f"mod-{uuid.uuid4().hex[:10]}")
    if receiver is not None:
        secret = configure_webhook(svc, site.slug, receiver.url)
        assert secret
        receiver.secret = secret
    moderator_id, token = create_moderator(svc, "Meera", [site.slug])
    return Desk(site, key, moderator_id, token)


@pytest.fixture
def desk(mod_services: Services) -> Desk:
    return new_desk(mod_services)


def submit(api: FlaskClient, desk: Desk, **fields: Any) -> str:
    r = api.post("/v1/comments", json=comment_body(**fields), headers=auth(desk.api_key))
    assert r.status_code == 202, r.get_json()
    return str(r.get_json()["id"])


def wait_decided(api: FlaskClient, desk: Desk, comment_id: str, timeout: float = 60) -> dict:
    def final() -> dict | None:
        body = api.get(f"/v1/comments/{comment_id}", headers=auth(desk.api_key)).get_json()
        return body if body["status"] != "pending" else None

    return wait_until(final, timeout)  # type: ignore[no-any-return]


TWO_LINKS = "Background reading: https://example.org/a and https://example.net/b {}"


def held_comment(api: FlaskClient, desk: Desk, **fields: Any) -> str:
    """A comment the default policy holds (two links), decided by the real worker."""
    fields.setdefault("text", TWO_LINKS.format(uuid.uuid4().hex[:8]))
    comment_id = submit(api, desk, **fields)
    assert wait_decided(api, desk, comment_id)["status"] == "held"
    return comment_id


Poll = Callable[[], Any]
