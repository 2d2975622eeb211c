"""Status changes: a guarded update, its audit row and, when the site has a webhook, its
event's delivery row (the outbox), all inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from service.db.models import (
    Comment,
    WebhookDelivery,
)
from service.db.storage import UnitOfWork
from service.domain.sanitize import safe_html, safe_text, safe_url
from service.domain.statuses import Status, ensure_transition

EVENTS: dict[Status, str] = {
    Status.PUBLISHED: "comment.published",
    Status.HELD: "comment.held",
    Status.REJECTED: "comment.rejected",
    Status.SPAM: "comment.spam",
}


# When the web could not hand a new event to the broker, the relay dispatches it this long
# after the change (the same role as relay_grace_seconds for the checks).
FIRST_DISPATCH_GRACE = timedelta(seconds=10)


def iso_utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def public_comment(comment: Comment, site_slug: str) -> dict[str, Any]:
    """The comment as its site may see it. Allow-listed: never email, IP or user agent; text,
    name and URL made HTML-safe exactly as on the public read paths (service.domain.sanitize),
    since sites paste webhook payloads straight into pages."""
    return {
        "id": comment.id,
        "site": site_slug,
        "thread_id": comment.thread_id,
        "parent_id": comment.parent_id,
        "status": comment.status,
        "reasons": list(comment.reasons or ()),
        "author_name": safe_text(comment.author_name),
        "author_url": safe_url(comment.author_url),
        "text": safe_html(comment.text),
        "created_at": iso_utc(comment.created_at),
        "published_at": iso_utc(comment.published_at),
    }


def add_delivery(uow: UnitOfWork, comment: Comment, target: Status, now: datetime) -> str | None:
    """Write the event's delivery row when the comment's site has a webhook. Call inside the
    transaction of the status change, after it; the id is sent after the commit by
    :func:`~service.usecases.services.send_after_commit`."""
    event = EVENTS.get(target)
    site = uow.sites.get(comment.site_id)
    if event is None or site is None or not site.webhook_url:
        return None
    delivery_id = str(uuid.uuid4())
    uow.deliveries.add(
        WebhookDelivery(
            id=delivery_id,
            site_id=site.id,
            comment_id=comment.id,
            event=event,
            payload=public_comment(comment, site.slug),
            occurred_at=now,
            created_at=now,
            next_dispatch_at=now + FIRST_DISPATCH_GRACE,
        )
    )
    return delivery_id


def _transition_values(
    expected: Status, target: Status, reasons: Sequence[str], now: datetime
) -> dict[str, Any]:
    ensure_transition(expected, target)
    values: dict[str, Any] = {"status": target.value, "reasons": list(reasons)}
    if expected is Status.PENDING:
        # The automatic decision (its latency is a pipeline metric; moderators come later).
        values["decided_at"] = now
    if target is Status.PUBLISHED:
        values["published_at"] = now
    return values


def transition(
    uow: UnitOfWork,
    comment: Comment,
    expected: Status,
    target: Status,
    reasons: Sequence[str],
    actor: str,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Guarded status change (``WHERE status = expected``) plus its audit row and, when the
    site has a webhook, its event's delivery row (sent after the commit by the caller with
    :func:`~service.usecases.services.send_after_commit`).

    Returns False, changing nothing, when the comment is no longer in ``expected``.
    """
    values = _transition_values(expected, target, reasons, now)
    if not uow.comments.guarded_update(comment, expected.value, values):
        return False
    uow.audit.add(
        comment.id, comment.site_id, actor, expected.value, target.value, reasons, now, note
    )
    add_delivery(uow, comment, target, now)
    return True


def transition_many(
    uow: UnitOfWork,
    comments: Sequence[Comment],
    expected: Status,
    target: Status,
    reasons: Sequence[str],
    actor: str,
    now: datetime,
    note: str | None = None,
) -> list[Comment]:
    """:func:`transition` for several comments with the same change: one guarded UPDATE …
    RETURNING and one multi-row audit INSERT. Returns the comments it changed (the others
    were no longer in ``expected``); each changed one gets its audit row and delivery row."""
    if not comments:
        return []
    values = _transition_values(expected, target, reasons, now)
    changed = uow.comments.guarded_update_many(comments, expected.value, values)
    uow.audit.add_many(
        [
            {
                "comment_id": c.id,
                "site_id": c.site_id,
                "actor": actor,
                "from_status": expected.value,
                "to_status": target.value,
                "reasons": list(reasons),
                "note": note,
                "created_at": now,
            }
            for c in changed
        ]
    )
    for comment in changed:
        add_delivery(uow, comment, target, now)
    return changed
