"""Webhooks: each status change of a comment after submission is POSTed to its site's URL.

Delivery is an outbox, in the manner of the checks:

1. ``add_delivery`` (service/usecases/transitions.py) writes a ``webhook_deliveries``
   row in the *same* transaction as the status change and its audit row; its id is the event
   id receivers de-duplicate on. The row holds the comment's public fields (allow-listed: no
   email, no IP) as they were at the event.
2. After the commit the use case hands the id to the producer (``send_after_commit``);
   the task ``moderation.deliver_webhook`` carries that id only and calls :func:`deliver`.
3. A failed attempt is not retried with a Celery countdown (24 hours of backoff would exceed
   the Redis visibility timeout); it sets ``retry_at`` with exponential backoff and the
   scheduler's relay (:func:`relay_webhooks`) re-dispatches the row when it is due. After
   ``webhook_retry_window_hours`` the next failure gives it up.

At least once: an attempt is claimed with a short lease (``claimed_until``) so two copies of
a task never POST at the same time, and ``retry_at`` keeps a stray copy from retrying early;
a receiver may still see an event twice (e.g. a crash between its 2xx and our bookkeeping)
and must de-duplicate on ``id``. The HTTP call runs outside any transaction, so a slow
receiver never holds a database lock, and a decision never waits for a delivery.

Signature: ``X-Commentmod-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from service.db.models import (
    WebhookDelivery,
)
from service.db.storage import UnitOfWork
from service.domain.privacy import (
    new_token,
)
from service.queue import WEBHOOK_TASK
from service.usecases.services import NotFound, Services, utcnow
from service.usecases.transitions import iso_utc

log = logging.getLogger(__name__)


SIGNATURE_HEADER = "X-Commentmod-Signature"


MAX_URL_CHARS = 2000


class InvalidWebhookUrl(ValueError):
    pass


def validate_webhook_url(url: str) -> str:
    """An absolute http(s) URL without credentials (the operator sets it, not the public)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidWebhookUrl("invalid webhook URL") from exc
    if (
        len(url) > MAX_URL_CHARS
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or any(ch.isspace() for ch in url)
    ):
        raise InvalidWebhookUrl("the webhook URL must be an http(s) URL without credentials")
    return url


def configure_webhook(svc: Services, slug: str, url: str | None) -> str | None:
    """Set (or, with ``url=None``, remove) a site's webhook; returns the new signing secret
    (shown once, stored encrypted with the Vault)."""
    secret = new_token("whsec") if url else None
    checked = validate_webhook_url(url) if url else None
    with svc.uow() as uow:
        site = uow.sites.by_slug(slug)
        if site is None:
            raise NotFound("unknown site")
        site.webhook_url = checked
        site.webhook_secret_encrypted = svc.vault.encrypt(secret) if secret else None
    return secret


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": delivery.id,
        "event": delivery.event,
        "comment": delivery.payload,
        "occurred_at": iso_utc(delivery.occurred_at),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed delivery: the body and signature go to the configured URL only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None

    @property
    def is_delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Attempt:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) checked by validate_webhook_url
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(4096)
            return Attempt(response.status, None)
    except urllib.error.HTTPError as exc:
        exc.close()
        return Attempt(exc.code, "http_status")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        # The class name only: the message may hold the URL.
        return Attempt(None, type(exc).__name__[:64])


def backoff(svc: Services, attempt: int) -> timedelta:
    settings = svc.settings
    seconds = settings.webhook_retry_base_seconds * (2 ** max(0, attempt - 1))
    return timedelta(seconds=min(settings.webhook_retry_max_interval_seconds, seconds))


def deliver(svc: Services, delivery_id: str) -> str:
    """Attempt one delivery. Idempotent: a missing, delivered, given-up, not yet due or
    currently claimed delivery is a normal return ("skipped", "not_due", "busy")."""
    now = utcnow()
    lease = timedelta(seconds=svc.settings.webhook_timeout_seconds * 2 + 30)
    with svc.uow() as uow:
        if not uow.deliveries.claim(delivery_id, now, now + lease):
            row = uow.deliveries.get(delivery_id)
            if row is None or row.delivered_at or row.given_up_at:
                return "skipped"
            return "not_due" if row.retry_at and row.retry_at > now else "busy"
        delivery = uow.deliveries.get(delivery_id)
        site = uow.sites.get(delivery.site_id) if delivery else None
        assert delivery is not None
        url = site.webhook_url if site else None
        secret_token = site.webhook_secret_encrypted if site else None
        attempt_number = delivery.attempt_count
        created_at = delivery.created_at
        body = event_body(delivery)
        event = delivery.event
    if not url or not secret_token:
        _finish(svc, delivery_id, Attempt(None, "webhook_disabled"), give_up=True)
        return "given_up"
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "commentmod-webhooks/1",
        "X-Commentmod-Event": event,
        "X-Commentmod-Delivery": delivery_id,
        SIGNATURE_HEADER: sign(svc.vault.decrypt(secret_token), timestamp, body),
    }
    attempt = post(url, body, headers, svc.settings.webhook_timeout_seconds)
    if attempt.is_delivered:
        _finish(svc, delivery_id, attempt)
        return "delivered"
    window = timedelta(hours=svc.settings.webhook_retry_window_hours)
    give_up = utcnow() >= created_at + window
    log.warning(
        "webhook delivery failed",
        extra={
            "delivery_id": delivery_id,
            "attempt": attempt_number,
            "status_code": attempt.status_code,
            "error": attempt.error,
            "given_up": give_up,
        },
    )
    _finish(svc, delivery_id, attempt, give_up=give_up, attempt_number=attempt_number)
    return "given_up" if give_up else "failed"


def _finish(
    svc: Services,
    delivery_id: str,
    attempt: Attempt,
    *,
    give_up: bool = False,
    attempt_number: int = 1,
) -> None:
    now = utcnow()
    values: dict[str, Any] = {
        "claimed_until": None,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
    }
    if attempt.is_delivered:
        values["delivered_at"] = now
    elif give_up:
        values["given_up_at"] = now
    else:
        retry_at = now + backoff(svc, attempt_number)
        values.update(retry_at=retry_at, next_dispatch_at=retry_at)
    with svc.uow() as uow:
        uow.deliveries.update(delivery_id, values)


def relay_webhooks(svc: Services) -> int:
    """Dispatch every undelivered event that is due (new ones the web could not send, and
    retries whose backoff has passed). Idempotent; safe to run concurrently (SKIP LOCKED).
    A dispatched row is dispatched again after ``relay_stale_seconds`` if still undelivered.
    """
    settings = svc.settings
    now = utcnow()
    # Scheduled in one short transaction, sent after it commits: the database is never
    # locked while the broker is slow or down (see checks.relay_outbox).
    with svc.uow() as uow:
        ids = []
        for delivery in uow.deliveries.due(now, settings.relay_batch_size):
            delivery.next_dispatch_at = now + timedelta(seconds=settings.relay_stale_seconds)
            ids.append(delivery.id)
    sent = len(ids)
    for i, delivery_id in enumerate(ids):
        if not svc.producer.send(WEBHOOK_TASK, delivery_id):
            # The broker is down: this one and the rest are due again now.
            with svc.uow() as uow:
                uow.deliveries.update_many(ids[i:], {"next_dispatch_at": utcnow()})
            sent = i
            break
    if sent:
        log.info("webhook relay", extra={"sent": sent})
    return sent


def scrub_author(uow: UnitOfWork, comment_ids: Sequence[str], erased_name: str) -> int:
    """Erasure: blank the author fields in the stored event payloads of these comments
    (call inside the erasure's unit of work). Returns the number of rows changed."""
    rows = uow.deliveries.of_comments(comment_ids)
    for row in rows:
        row.payload = {**(row.payload or {}), "author_name": erased_name, "author_url": None}
    return len(rows)


def rotate_webhook_secrets(svc: Services) -> int:
    """Re-encrypt every site's webhook secret under the primary email key (run with
    ``rotate_email_keys`` before removing an old key). Idempotent."""
    with svc.uow() as uow:
        sites = uow.sites.with_webhook_secrets()
        for site in sites:
            site.webhook_secret_encrypted = svc.vault.rotate(str(site.webhook_secret_encrypted))
        return len(sites)
