"""Submission: store a comment and its pending checks durably, then enqueue the checks."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.db.models import (
    Comment,
    IdempotencyRecord,
)
from service.db.submissions import SubmissionShape, submission_statements
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
    author_hash = svc.vault.author_key(submission.author_email)
    ip_hash = svc.vault.ip_hash(submission.client_ip) if submission.client_ip else None
    text_hash = submission.text_fingerprint()
    comment_id = str(uuid.uuid4())
    values: dict[str, Any] = {
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
    idempotency = (
        {
            "site_id": site.id,
            "key": idempotency_key,
            "request_hash": request_hash or "",
            "comment_id": comment_id,
            "created_at": now,
        }
        if idempotency_key
        else None
    )
    flood_since = (
        now - timedelta(seconds=svc.settings.flood_interval_seconds)
        if svc.settings.flood_interval_seconds > 0
        else None
    )
    for _ in range(3):
        try:
            is_stored = _store_submission(svc, values, idempotency, flood_since)
        except IntegrityError as exc:
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
        with svc.sessions() as s:
            _refuse_duplicate_or_flood(
                s,
                site,
                submission.thread_id,
                author_hash,
                ip_hash,
                text_hash,
                now,
                svc.settings.flood_interval_seconds,
            )
            if submission.parent_id:
                _require_parent(s, site, submission)
    else:
        raise DuplicateComment()
    svc.producer.enqueue_checks(comment_id, svc.settings.checks)
    return Accepted(id=comment_id, thread_id=submission.thread_id, created_at=now)


def _store_submission(
    svc: Services,
    values: dict[str, Any],
    idempotency: dict[str, Any] | None,
    flood_since: datetime | None,
) -> bool:
    """Insert the comment, its check jobs and its idempotency record atomically, unless a guard
    refuses it: a duplicate, a flood (a comment from the same author or
    IP since ``flood_since``) or a missing parent. Returns whether it was stored.

    This is the whole durable part of a submission, so it is kept to what durability needs:
    on PostgreSQL one autocommit statement (data-modifying CTEs), one round trip and one
    commit; on SQLite the same statements in one local transaction. The statements are built
    once per shape (:func:`submission_statements`), so a request only binds parameters.
    """
    is_pg = svc.engine.dialect.name == "postgresql"
    shape = SubmissionShape(
        is_pg=is_pg,
        values=tuple(values),
        checks=tuple(svc.settings.checks),
        has_flood=flood_since is not None,
        has_ip=values["ip_hash"] is not None,
        has_parent=values["parent_id"] is not None,
        has_idempotency=idempotency is not None,
    )
    comment, jobs, record = submission_statements(shape)
    params = {f"c_{k}": v for k, v in values.items()}
    params["flood_since"] = flood_since
    params["next_send_at"] = values["created_at"] + timedelta(
        seconds=svc.settings.relay_grace_seconds
    )
    if idempotency is not None:
        params["i_key"] = idempotency["key"]
        params["i_request_hash"] = idempotency["request_hash"]
    if is_pg:
        with svc.write_connection() as conn:
            return conn.execute(comment, params).first() is not None
    with svc.engine.begin() as conn:
        if conn.execute(comment, params).first() is None:
            return False
        conn.execute(jobs, params)
        if record is not None:
            conn.execute(record, params)
        return True


def _idempotent_replay(
    svc: Services, site: SiteRef, key: str, request_hash: str | None
) -> Accepted | None:
    with svc.sessions() as s:
        row = s.execute(
            select(IdempotencyRecord, Comment.thread_id, Comment.created_at)
            .join(Comment, Comment.id == IdempotencyRecord.comment_id)
            .where(IdempotencyRecord.site_id == site.id, IdempotencyRecord.key == key)
        ).first()
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
    s: Session,
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
    duplicate = (
        select(Comment.id)
        .where(
            Comment.site_id == site.id,
            Comment.thread_id == thread_id,
            Comment.author_hash == author_hash,
            Comment.text_hash == text_hash,
        )
        .limit(1)
        .scalar_subquery()
    )
    columns = [duplicate.label("duplicate")]
    if flood_interval > 0:
        same_source = Comment.author_hash == author_hash
        if ip_hash is not None:
            same_source = or_(same_source, Comment.ip_hash == ip_hash)
        last = (
            select(func.max(Comment.created_at))
            .where(
                Comment.site_id == site.id,
                Comment.created_at > now - timedelta(seconds=flood_interval),
                same_source,
            )
            .scalar_subquery()
        )
        columns.append(last.label("last"))
    row = s.execute(select(*columns)).one()
    if row[0] is not None:
        raise DuplicateComment()
    last_at = row[1] if flood_interval > 0 else None
    if last_at is not None:
        if isinstance(last_at, str):  # SQLite returns the aggregate of a subquery as text
            last_at = datetime.fromisoformat(last_at)
        if last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=UTC)
        wait = flood_interval - (now - last_at).total_seconds()
        raise Flooded(retry_after=max(1, math.ceil(wait)))


def _require_parent(s: Session, site: SiteRef, submission: Submission) -> None:
    parent = s.scalar(
        select(Comment.id).where(
            Comment.id == submission.parent_id,
            Comment.site_id == site.id,
            Comment.thread_id == submission.thread_id,
            Comment.status == Status.PUBLISHED.value,
        )
    )
    if parent is None:
        raise ParentNotFound()


def purge_expired_idempotency_keys(svc: Services) -> int:
    """Forget Idempotency-Keys older than their TTL. Idempotent."""
    cutoff = utcnow() - timedelta(hours=svc.settings.idempotency_ttl_hours)
    with svc.unit_of_work() as s:
        result = s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
