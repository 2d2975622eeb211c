"""Moderators' decisions (each a guarded transition with its audit row, label, spam memory and
webhook event, in one transaction) and the labels they leave for retraining.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from service.db.storage import UnitOfWork
from service.domain.checks import check_spec
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
    with svc.uow() as uow:
        result = _decide_one(svc, uow, moderator, comment_id, action, reason, note, expected_status)
    send_after_commit(svc, uow)
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
    uow: UnitOfWork,
    moderator: ModeratorRef,
    comment_id: str,
    action: str,
    reason: str | None,
    note: str | None,
    expected: Status | None,
) -> DecisionResult:
    target = ACTIONS[action]
    comment = uow.comments.get(comment_id)
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
    if not transition(uow, comment, current, target, reasons, moderator.actor, now, note):
        raise StaleDecision()  # another decision won the race between our read and update
    uow.labels.set(comment, action, moderator.actor, now)
    if action == "spam":
        remember_spam(uow, svc.vault, comment, now)
    elif action == "approve":
        forget_spam(uow, svc.vault, comment)
    return DecisionResult(comment.id, target.value, current.value)


def export_labels(svc: Services, slug: str, check: str, out: IO[str]) -> int:
    """Write the site's moderator labels for ``check`` as CSV ``text,label,lang`` (the format
    ``commentmod evaluate`` and the detectors' training read). Returns the row count."""
    mapping = check_spec(check).labels
    writer = csv.writer(out)
    writer.writerow(["text", "label", "lang"])
    count = 0
    with svc.uow() as uow:
        site = scoped_site(uow, None, slug)
        for text, action, lang in uow.labels.texts(site.id, mapping):
            writer.writerow([text, mapping[action], lang or ""])
            count += 1
    return count
