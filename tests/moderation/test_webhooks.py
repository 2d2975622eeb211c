"""Webhooks on real parts: every status change is POSTed, signed, to a local receiver; a
receiver that is down gets the event later (relay + backoff), once per event id."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from service.db.models import WebhookDelivery
from service.usecases.services import Services
from service.usecases.webhooks import relay_webhooks
from tests.conftest import auth, unique_email, wait_until
from tests.moderation.conftest import Receiver, new_desk, submit, wait_decided
from tests.support.processes import WorkerProcess, tasks_finished


@pytest.fixture(autouse=True)
def _running_worker(mod_worker: WorkerProcess) -> WorkerProcess:
    return mod_worker


PUBLIC_FIELDS = {
    "id",
    "site",
    "thread_id",
    "parent_id",
    "status",
    "reasons",
    "author_name",
    "author_url",
    "text",
    "created_at",
    "published_at",
}


def test_held_then_approved_reaches_the_receiver_signed(
    api: FlaskClient, mod_services: Services, receiver: Receiver
) -> None:
    desk = new_desk(mod_services, receiver)
    email = unique_email()
    comment_id = submit(
        api,
        desk,
        author_email=email,
        client_ip="203.0.113.77",
        text="Sources: https://example.org/one and https://example.net/two",
    )
    assert wait_decided(api, desk, comment_id)["status"] == "held"
    held = wait_until(lambda: receiver.events_for(comment_id))
    assert [e.event for e in held] == ["comment.held"]

    queue = api.get(f"/v1/moderation/queue?site={desk.slug}", headers=auth(desk.token))
    assert [i["id"] for i in queue.get_json()["items"]] == [comment_id]
    r = api.post(
        f"/v1/moderation/comments/{comment_id}/decision",
        json={"action": "approve", "expected_status": "held"},
        headers=auth(desk.token),
    )
    assert r.status_code == 200 and r.get_json()["status"] == "published"

    events = wait_until(
        lambda: (lambda e: e if len(e) >= 2 else None)(receiver.events_for(comment_id))
    )
    assert [e.event for e in events] == ["comment.held", "comment.published"]
    for e in events:
        assert e.is_signature_valid, e.headers
        assert set(e.body) == {"id", "event", "comment", "occurred_at"}
        assert set(e.body["comment"]) == PUBLIC_FIELDS
        assert e.headers["X-Commentmod-Delivery"] == e.event_id
        assert email not in e.raw and "203.0.113" not in e.raw
    assert events[1].body["comment"]["status"] == "published"
    assert events[1].body["comment"]["published_at"] is not None
    assert len({e.event_id for e in events}) == 2


def test_receiver_down_then_up_gets_each_event_once(
    api: FlaskClient, mod_services: Services, receiver: Receiver, mod_worker: WorkerProcess
) -> None:
    desk = new_desk(mod_services, receiver)
    receiver.stop()  # connection refused from now on
    ids = [
        submit(api, desk, text=f"Calm remark number {i} about the election coverage.")
        for i in range(2)
    ]
    for comment_id in ids:
        assert wait_decided(api, desk, comment_id)["status"] == "published"

    def failed_attempts() -> list[WebhookDelivery] | None:
        with mod_services.storage.sessions() as s:
            rows = s.scalars(
                select(WebhookDelivery).where(WebhookDelivery.comment_id.in_(ids))
            ).all()
        if len(rows) == 2 and all(r.attempt_count >= 1 and r.retry_at for r in rows):
            return list(rows)
        return None

    rows = wait_until(failed_attempts, timeout=30)
    assert all(r.delivered_at is None and r.last_error for r in rows)
    # a retry dispatched before its backoff has passed does not hammer the receiver
    time.sleep(1.0)
    receiver.start()  # back, on the same port

    def delivered() -> bool:
        relay_webhooks(mod_services)  # what the scheduler does every few seconds
        with mod_services.storage.sessions() as s:
            done = s.scalars(
                select(WebhookDelivery.delivered_at).where(WebhookDelivery.comment_id.in_(ids))
            ).all()
        return len(done) == 2 and all(done)

    wait_until(delivered, timeout=30, interval=0.5)
    # more relay runs and duplicate tasks change nothing: delivered rows are never re-sent
    task = {"moderation.deliver_webhook"}
    ran = {row.id: tasks_finished(mod_worker.log(), task, row.id) for row in rows}
    for row in rows:
        assert mod_services.producer.send("moderation.deliver_webhook", row.id)
    relay_webhooks(mod_services)
    # The duplicates have run to the end (the worker says so) before the receiver is read.
    wait_until(lambda: all(tasks_finished(mod_worker.log(), task, r.id) > ran[r.id] for r in rows))
    counts = Counter(e.event_id for comment_id in ids for e in receiver.events_for(comment_id))
    assert counts == Counter({row.id: 1 for row in rows})
    assert all(e.is_signature_valid for c in ids for e in receiver.events_for(c))


def test_no_webhook_no_delivery_rows(api: FlaskClient, mod_services: Services) -> None:
    desk = new_desk(mod_services)
    comment_id = submit(api, desk, text="A quiet note of thanks for the reporting.")
    wait_decided(api, desk, comment_id)
    with mod_services.storage.sessions() as s:
        assert (
            s.scalars(select(WebhookDelivery).where(WebhookDelivery.comment_id == comment_id)).all()
            == []
        )


def test_secrets_rotate_and_payloads_scrub(
    api: FlaskClient, mod_services: Services, receiver: Receiver
) -> None:
    from cryptography.fernet import Fernet

    from service.db.models import Site
    from service.domain.privacy import Vault
    from service.usecases.webhooks import rotate_webhook_secrets, scrub_author

    desk = new_desk(mod_services, receiver)
    comment_id = submit(api, desk, text="One more calm remark, with thanks.")
    wait_decided(api, desk, comment_id)
    wait_until(lambda: receiver.events_for(comment_id))
    with mod_services.uow() as uow:
        assert scrub_author(uow, [comment_id], "[erased]") == 1
    with mod_services.storage.sessions() as s:
        row = s.scalars(
            select(WebhookDelivery).where(WebhookDelivery.comment_id == comment_id)
        ).one()
    assert row.payload["author_name"] == "[erased]" and row.payload["author_url"] is None

    old_keys = mod_services.settings.email_keys
    assert old_keys is not None
    new_key = Fernet.generate_key().decode()
    rotated = mod_services.vault.__class__(
        f"{new_key},{old_keys.get_secret_value()}",
        mod_services.settings.hash_key.get_secret_value()
        if mod_services.settings.hash_key
        else None,
    )
    original, mod_services.vault = mod_services.vault, rotated
    try:
        assert rotate_webhook_secrets(mod_services) >= 1
        with mod_services.storage.sessions() as s:
            site = s.scalar(select(Site).where(Site.slug == desk.slug))
        assert site is not None and site.webhook_secret_encrypted
        only_new = Vault(new_key, None)
        assert only_new.decrypt(site.webhook_secret_encrypted) == receiver.secret
    finally:
        # back under the original primary key, which the worker uses
        mod_services.vault = rotated.__class__(
            f"{old_keys.get_secret_value()},{new_key}",
            mod_services.settings.hash_key.get_secret_value()
            if mod_services.settings.hash_key
            else None,
        )
        rotate_webhook_secrets(mod_services)
        mod_services.vault = original
