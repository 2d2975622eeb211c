"""Moderators' decisions (each a guarded transition with its audit row, label, spam memory and
webhook event, in one transaction) and the labels they leave for retraining.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from service.db.engine import upsert
from service.db.models import (
    Comment,
    ModerationLabel,
)
from service.domain.statuses import Status, can_transition
from service.usecases.services import (
    InvalidDecision,
    ModeratorRef,
    NotFound,
    Services,
    StaleDecision,
    send_after_commit,
    utcnow,
)
from service.usecases.sites import scoped_site
from service.usecases.spam_memory import forget_spam, remember_spam
from service.usecases.transitions import transition

ACTIONS: dict[str, Status] = {
    "approve": Status.PUBLISHED,
    "reject": Status.REJECTED,
    "spam": Status.SPAM,
}


# The stable reason a human decision leaves on the comment (the moderator's own code follows).
ACTION_REASONS = {
    "approve": "approved_by_moderator",
    "reject": "rejected_by_moderator",
    "spam": "spam_by_moderator",
}


# How a moderator's action becomes a training label per check (`commentmod labels export`).
LABELS: dict[str, dict[str, str]] = {
    "spam": {"spam": "spam", "approve": "ham"},
    "toxicity": {"reject": "toxic", "approve": "ok"},
}


@dataclass(frozen=True)
class DecisionResult:
    id: str
    status: str
    previous_status: str


def decide_comment(
    svc: Services,
    moderator: ModeratorRef,
    comment_id: str,
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
    expected_status: Status | None = None,
) -> DecisionResult:
    """A moderator's decision: a guarded transition plus its audit row, label, spam memory
    and webhook event, in one transaction. Raises :class:`StaleDecision` when the comment's
    status is not ``expected_status`` (or changed while deciding), :class:`InvalidDecision`
    for a decision the transition table refuses, :class:`NotFound` outside the moderator's
    sites."""
    with svc.unit_of_work() as s:
        result = _decide_one(svc, s, moderator, comment_id, action, reason, note, expected_status)
    send_after_commit(svc, s)
    return result


@dataclass(frozen=True)
class BulkResult:
    id: str
    status: str | None = None
    previous_status: str | None = None
    error: str | None = None


def decide_many(
    svc: Services,
    moderator: ModeratorRef,
    comment_ids: Sequence[str],
    action: str,
    *,
    reason: str | None = None,
    note: str | None = None,
) -> list[BulkResult]:
    """The same decision for many comments; each is its own transaction, so one stale or
    invalid comment does not undo the others. Results keep the request's order."""
    results: list[BulkResult] = []
    for comment_id in dict.fromkeys(comment_ids):
        try:
            done = decide_comment(svc, moderator, comment_id, action, reason=reason, note=note)
        except NotFound:
            results.append(BulkResult(comment_id, error="not_found"))
        except StaleDecision:
            results.append(BulkResult(comment_id, error="stale_decision"))
        except InvalidDecision as exc:
            results.append(BulkResult(comment_id, error=exc.code))
        else:
            results.append(BulkResult(comment_id, done.status, done.previous_status))
    return results


def _decide_one(
    svc: Services,
    s: Session,
    moderator: ModeratorRef,
    comment_id: str,
    action: str,
    reason: str | None,
    note: str | None,
    expected: Status | None,
) -> DecisionResult:
    target = ACTIONS[action]
    comment = s.get(Comment, comment_id)
    if comment is None or comment.site_id not in moderator.site_ids:
        raise NotFound()
    current = Status(comment.status)
    if expected is not None and current is not expected:
        raise StaleDecision()
    if current is Status.PENDING:
        raise InvalidDecision("comment_pending")
    if current is target:
        raise InvalidDecision("already_in_status")
    if not can_transition(current, target):
        raise InvalidDecision("invalid_transition")
    now = utcnow()
    reasons = [ACTION_REASONS[action], *([reason] if reason else [])]
    if not transition(s, comment, current, target, reasons, moderator.actor, now, note):
        raise StaleDecision()  # another decision won the race between our read and update
    upsert(
        s,
        ModerationLabel,
        {
            "comment_id": comment.id,
            "site_id": comment.site_id,
            "action": action,
            "actor": moderator.actor,
            "updated_at": now,
        },
        ["comment_id"],
        {"action": action, "actor": moderator.actor, "updated_at": now},
    )
    if action == "spam":
        remember_spam(s, svc.vault, comment, now)
    elif action == "approve":
        forget_spam(s, svc.vault, comment)
    return DecisionResult(comment.id, target.value, current.value)


def export_labels(svc: Services, slug: str, check: str, out: IO[str]) -> int:
    """Write the site's moderator labels for ``check`` as CSV ``text,label,lang`` (the format
    ``commentmod evaluate`` and the detectors' training read). Returns the row count."""
    mapping = LABELS[check]
    writer = csv.writer(out)
    writer.writerow(["text", "label", "lang"])
    count = 0
    with svc.sessions() as s:
        site = scoped_site(s, None, slug)
        rows = s.execute(
            select(Comment.text, ModerationLabel.action, Comment.lang)
            .join(Comment, Comment.id == ModerationLabel.comment_id)
            .where(ModerationLabel.site_id == site.id, ModerationLabel.action.in_(mapping))
            .order_by(ModerationLabel.updated_at, ModerationLabel.comment_id)
        ).tuples()
        for text, action, lang in rows:
            writer.writerow([text, mapping[action], lang or ""])
            count += 1
    return count
