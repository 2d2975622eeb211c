"""Submission: store a comment and its pending checks durably, then enqueue the checks."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.db.errors import Conflict
from service.db.storage import UnitOfWork
from service.db.submissions import store_submission
from service.domain.privacy import (
    truncate_ip,
)
from service.domain.statuses import Status
from service.domain.submission import Submission
from service.usecases.services import (
    DuplicateComment,
    Flooded,
    IdempotencyKeyReused,
    ParentNotFound,
    Services,
    SiteRef,
    utcnow,
)


@dataclass(frozen=True)
class Accepted:
    id: str
    thread_id: str
    created_at: datetime
    is_replay: bool = False


def request_fingerprint(payload: Any) -> str:
    """Hash of a request body for Idempotency-Key comparison (key order does not matter)."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def client_key(svc: Services, client_ip: str) -> str:
    """The keyed hash a reader's IP is counted under (rate limits): the IP never leaves."""
    return svc.vault.ip_hash(client_ip)


def ip_limit_key(site_id: int, ip_hash: str) -> str:
    """The rate limiter's key (scope ``ip``) of a reader's IP hash on a site."""
    return f"{site_id}:{ip_hash}"


def submit_comment(
    svc: Services,
    site: SiteRef,
    submission: Submission,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> Accepted:
    """Store the comment and its pending checks in one transaction, then enqueue the checks.

    Once this returns, the comment is durably stored: if the enqueue fails the relay sends it.
    """
    if idempotency_key:
        replay = _idempotent_replay(svc, site, idempotency_key, request_hash)
        if replay is not None:
            return replay
    now = utcnow()
    values = _comment_row(svc, site, submission, now)
    comment_id = values["id"]
    idempotency = (
        _idempotency_row(site, idempotency_key, request_hash, comment_id, now)
        if idempotency_key
        else None
    )
    flood_since = _flood_since(svc, now)
    for _ in range(3):
        try:
            is_stored = store_submission(
                svc.storage,
                values,
                idempotency,
                flood_since,
                svc.settings.checks,
                now + timedelta(seconds=svc.settings.relay_grace_seconds),
            )
        except Conflict as exc:
            # A concurrent twin with the same Idempotency-Key won the race.
            if idempotency_key:
                replay = _idempotent_replay(svc, site, idempotency_key, request_hash)
                if replay is not None:
                    return replay
            raise DuplicateComment() from exc
        if is_stored:
            break
        # Refused by a guard: say which (rare, so it may cost a second query). Nothing to
        # explain means the row that blocked it went away meanwhile: try again.
        _explain_refusal(svc, site, submission, values, now)
    else:
        raise DuplicateComment()
    svc.producer.enqueue_checks(comment_id, svc.settings.checks)
    return Accepted(id=comment_id, thread_id=submission.thread_id, created_at=now)


def _idempotency_row(
    site: SiteRef, key: str, request_hash: str | None, comment_id: str, now: datetime
) -> dict[str, Any]:
    """The ``idempotency_keys`` row stored with a submission that carries an Idempotency-Key."""
    return {
        "site_id": site.id,
        "key": key,
        "request_hash": request_hash or "",
        "comment_id": comment_id,
        "created_at": now,
    }


def _flood_since(svc: Services, now: datetime) -> datetime | None:
    """The start of the flood window (None when the flood guard is off)."""
    if svc.settings.flood_interval_seconds > 0:
        return now - timedelta(seconds=svc.settings.flood_interval_seconds)
    return None


def _comment_row(
    svc: Services, site: SiteRef, submission: Submission, now: datetime
) -> dict[str, Any]:
    """The new comment's row: the email encrypted, the IP truncated, both keyed-hashed."""
    author_hash = svc.vault.author_key(submission.author_email)
    ip_hash = svc.vault.ip_hash(submission.client_ip) if submission.client_ip else None
    text_hash = submission.text_fingerprint()
    comment_id = str(uuid.uuid4())
    return {
        "id": comment_id,
        "site_id": site.id,
        "thread_id": submission.thread_id,
        "thread_url": submission.thread_url,
        "parent_id": submission.parent_id,
        "author_name": submission.author_name,
        "author_url": submission.author_url,
        "author_email_encrypted": svc.vault.encrypt(submission.author_email),
        "author_hash": author_hash,
        "ip_truncated": truncate_ip(submission.client_ip) if submission.client_ip else None,
        "ip_hash": ip_hash,
        "user_agent": submission.user_agent,
        "referrer": submission.referrer,
        "text": submission.text,
        "text_hash": text_hash,
        "lang_hint": submission.lang_hint,
        "is_honeypot_filled": submission.is_honeypot_filled,
        "seconds_to_submit": (
            (now - submission.form_started_at).total_seconds()
            if submission.form_started_at
            else None
        ),
        "status": Status.PENDING.value,
        "reasons": [],
        "created_at": now,
    }


def _explain_refusal(
    svc: Services, site: SiteRef, submission: Submission, values: dict[str, Any], now: datetime
) -> None:
    """Raise the refusal a guard made (duplicate, flood or missing parent), if it still holds."""
    with svc.uow() as uow:
        _refuse_duplicate_or_flood(
            uow,
            site,
            submission.thread_id,
            values["author_hash"],
            values["ip_hash"],
            values["text_hash"],
            now,
            svc.settings.flood_interval_seconds,
        )
        if submission.parent_id:
            _require_parent(uow, site, submission)


def _idempotent_replay(
    svc: Services, site: SiteRef, key: str, request_hash: str | None
) -> Accepted | None:
    with svc.uow() as uow:
        row = uow.idempotency.find(site.id, key)
    if row is None:
        return None
    record, thread_id, created_at = row
    ttl = timedelta(hours=svc.settings.idempotency_ttl_hours)
    if record.created_at < utcnow() - ttl:
        return None
    if record.request_hash != (request_hash or ""):
        raise IdempotencyKeyReused()
    return Accepted(
        id=record.comment_id, thread_id=thread_id, created_at=created_at, is_replay=True
    )


def _refuse_duplicate_or_flood(
    uow: UnitOfWork,
    site: SiteRef,
    thread_id: str,
    author_hash: str,
    ip_hash: str | None,
    text_hash: str,
    now: datetime,
    flood_interval: float,
) -> None:
    """One round trip for both checks: a duplicate (409) wins over a flood (429), so a
    double-clicked submit is reported as what it is."""
    flood_since = now - timedelta(seconds=flood_interval) if flood_interval > 0 else None
    duplicate, last_at = uow.comments.duplicate_and_last(
        site.id, thread_id, author_hash, ip_hash, text_hash, flood_since
    )
    if duplicate is not None:
        raise DuplicateComment()
    if last_at is not None:
        if isinstance(last_at, str):  # SQLite returns the aggregate of a subquery as text
            last_at = datetime.fromisoformat(last_at)
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=UTC)
        wait = flood_interval - (now - last_at).total_seconds()
        raise Flooded(retry_after=max(1, math.ceil(wait)))


def _require_parent(uow: UnitOfWork, site: SiteRef, submission: Submission) -> None:
    if not submission.parent_id or not uow.comments.is_published_in_thread(
        site.id, submission.thread_id, submission.parent_id
    ):
        raise ParentNotFound()


def purge_expired_idempotency_keys(svc: Services) -> int:
    """Forget Idempotency-Keys older than their TTL. Idempotent."""
    cutoff = utcnow() - timedelta(hours=svc.settings.idempotency_ttl_hours)
    with svc.uow() as uow:
        return uow.idempotency.purge(cutoff)
