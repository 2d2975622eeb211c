"""The email never leaves the service in clear text: not in HTTP responses, log records,
task messages or stored columns."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
import requests
from sqlalchemy import select

from service.api import create_app
from service.db.models import Base, Comment
from service.settings import Settings
from service.usecases.checks import relay_outbox
from service.usecases.services import Services, SiteRef, build_services
from tests.conftest import auth, comment_body, wait_for_final, wait_until
from tests.support.backends import Backend
from tests.support.brokers import raw_messages
from tests.support.metrics import metric_value
from tests.support.processes import WorkerProcess


def test_email_appears_nowhere_in_clear(
    backend: Backend,
    settings: Settings,
    services: Services,
    site: tuple[SiteRef, str],
    worker: WorkerProcess,
    live_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    local = f"privacy.{uuid.uuid4().hex}"
    email = f"{local}@example.com"
    needles = (email, email.lower(), local)
    ip = "203.0.113.199"

    # Submit through an app whose broker nobody consumes, to read the task messages as sent.
    captive = build_services(settings.model_copy(update={"broker_url": backend.captive_broker_url}))
    try:
        client = create_app(services=captive).test_client()
        body = comment_body(
            author_email=email, client_ip=ip, text=f"A fine article {uuid.uuid4().hex}"
        )
        responses = [client.post("/v1/comments", json=body, headers=auth(site[1]))]
        comment_id = responses[0].get_json()["id"]
        responses.append(client.post("/v1/comments", json=body, headers=auth(site[1])))  # 409
        responses.append(
            client.post("/v1/comments", json=dict(body, text="x" * 20_000), headers=auth(site[1]))
        )
        responses.append(
            client.post(
                "/v1/comments", json=dict(body, author_email=email + ">"), headers=auth(site[1])
            )
        )
        assert captive.producer.flush()
        messages = raw_messages(backend.captive_broker_url)
    finally:
        captive.close()
    assert [r.status_code for r in responses] == [202, 409, 422, 422]
    # One message carries every check of the comment (CHECK_COMMENTS_TASK).
    assert len(messages) == 1 and comment_id in messages[0]

    # The real worker decides it after the relay re-sends to the real broker.
    time.sleep(settings.relay_grace_seconds)
    wait_until(lambda: relay_outbox(services).sent or None, timeout=10)
    final = wait_for_final(live_url, site[1], comment_id)
    public = requests.get(
        f"{live_url}/v1/sites/{site[0].slug}/threads/{body['thread_id']}/comments", timeout=5
    )
    texts = [r.get_data(as_text=True) for r in responses] + [str(final), public.text]
    texts += [str(dict(r.headers)) for r in responses]
    texts += messages
    texts += [record.getMessage() + str(record.__dict__) for record in caplog.records]
    texts.append(worker.log())

    # Every stored column of every table, in every row.
    with services.storage.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)).all():
                texts.append(repr(tuple(row)))
        stored = s.scalar(select(Comment).where(Comment.id == comment_id))
    assert stored is not None
    assert (
        stored.author_email_encrypted
        and services.vault.decrypt(stored.author_email_encrypted) == email
    )
    assert stored.ip_truncated == "203.0.113.0/24"

    for text in texts:
        for needle in needles:
            assert needle not in text
        assert ip not in text


def test_email_never_in_metrics_labels(
    settings: Settings, site: tuple[SiteRef, str], services: Services
) -> None:
    """Metric labels are outcomes and check names only: scrape after every kind of answer."""
    local = f"metrics.{uuid.uuid4().hex}"
    email = f"{local}@example.com"
    client = create_app(services=services).test_client()
    body = comment_body(author_email=email, client_ip="203.0.113.201")
    codes = [client.post("/v1/comments", json=body, headers=auth(site[1])).status_code]
    codes.append(client.post("/v1/comments", json=body, headers=auth(site[1])).status_code)
    bad = dict(body, author_email=email + ">")
    codes.append(client.post("/v1/comments", json=bad, headers=auth(site[1])).status_code)
    erased = client.post("/v1/privacy/erasure", json={"author_email": email}, headers=auth(site[1]))
    assert codes[0] == 202 and erased.status_code == 200
    scraped = client.get("/metrics").get_data(as_text=True)
    # The three answers were counted (the numbers move), under outcome labels only.
    assert metric_value(scraped, "commentmod_submissions_total", outcome="accepted") == 1
    assert metric_value(scraped, "commentmod_submissions_total") == 3
    for needle in (email, local, "203.0.113.201"):
        assert needle not in scraped
        assert needle not in erased.get_data(as_text=True)
