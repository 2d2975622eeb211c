"""Check results: store each detector's verdict once, then decide every comment whose checks
are all in by the policy table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from service.db.models import (
    Comment,
)
from service.db.storage import UnitOfWork
from service.domain.checks import CheckResult
from service.domain.policy import DecisionContext, Policy, decide
from service.domain.statuses import Status
from service.usecases.services import (
    SYSTEM_ACTOR,
    Services,
    send_after_commit,
    utcnow,
)
from service.usecases.sites import site_policy
from service.usecases.spam_memory import known_spammers
from service.usecases.transitions import transition_many


@dataclass(frozen=True)
class Recorded:
    is_new: bool
    decided: Status | None


def record_check(svc: Services, comment_id: str, result: CheckResult) -> Recorded:
    """Store one check's result and, when every check of the comment has one, decide.

    Idempotent: a second result for the same check is ignored (the first wins), and the
    decision is a guarded update from ``pending``, so a redelivered task never decides twice.
    """
    return record_checks(svc, [(comment_id, result)])[comment_id]


def record_checks(svc: Services, results: Sequence[tuple[str, CheckResult]]) -> dict[str, Recorded]:
    """:func:`record_check` for a batch of ``(comment id, result)``, in one transaction.

    The statements do not grow with the batch: lock the comments (by id, so concurrent batches
    never deadlock), read their jobs and results, insert the new results, complete the jobs
    (one UPDATE for every check), then decide every comment whose checks are all in (see
    :func:`_decide_batch`). Same idempotency as :func:`record_check`; the first result of a
    (comment, check) in ``results`` wins.
    """
    by_key: dict[tuple[str, str], CheckResult] = {}
    for comment_id, result in results:
        by_key.setdefault((comment_id, result.check), result)
    report = {comment_id: Recorded(False, None) for comment_id, _ in by_key}
    if not by_key:
        return report
    with svc.uow() as uow:
        # Serialize the checks of one comment so the last one sees every result.
        comments = uow.comments.lock(sorted(report))
        if not comments:
            return report
        required, outcomes = uow.results.required_and_recorded([c.id for c in comments])
        now = utcnow()
        new: list[tuple[str, CheckResult]] = []
        languages: dict[Comment, str] = {}
        completed: set[tuple[str, str]] = set()  # (comment id, check) whose job is now done
        by_comment = {c.id: c for c in comments}
        for (comment_id, check), result in by_key.items():
            comment = by_comment.get(comment_id)
            if comment is None:
                continue
            completed.add((comment_id, check))
            if check in outcomes[comment_id]:
                continue
            report[comment_id] = Recorded(True, None)
            new.append((comment_id, result))
            outcomes[comment_id][check] = result
            if comment.lang is None and result.lang and comment not in languages:
                languages[comment] = result.lang
        uow.results.add_many(new, now)
        uow.comments.set_languages(languages)
        if completed:
            uow.jobs.complete(sorted(completed), now)
        complete = [
            c
            for c in comments
            if c.status == Status.PENDING.value and not set(required[c.id]) - set(outcomes[c.id])
        ]
        decided = _decide_batch(svc, uow, complete, now, required, outcomes)
    send_after_commit(svc, uow)  # the decisions' webhook events, once they are committed
    for comment_id, status in decided.items():
        report[comment_id] = Recorded(report[comment_id].is_new, status)
    return report


def _decide_batch(
    svc: Services,
    uow: UnitOfWork,
    comments: Sequence[Comment],
    now: datetime,
    required: dict[str, list[str]],
    outcomes: dict[str, dict[str, CheckResult]],
) -> dict[str, Status]:
    """Decide each (locked, pending, fully checked) comment by the policy table; one guarded
    UPDATE per distinct decision. Returns the comments this call changed."""
    if not comments:
        return {}
    spammers = known_spammers(uow, svc.vault, comments)
    policies: dict[int, Policy] = {}
    groups: dict[tuple[Status, tuple[str, ...], str | None], list[Comment]] = {}
    for comment in comments:
        policy = policies.get(comment.site_id)
        if policy is None:
            site = uow.sites.get(comment.site_id)
            policy = policies[comment.site_id] = site_policy(svc, site.policy if site else None)
        is_first_time = policy.premoderation == "first_time" and not uow.comments.has_published(
            comment
        )
        is_trusted = policy.trust_after > 0 and (
            uow.comments.published_count(comment, policy.trust_after) >= policy.trust_after
        )
        checks = tuple(required[comment.id])
        decision = decide(
            DecisionContext(
                outcomes=outcomes[comment.id],
                is_honeypot_filled=comment.is_honeypot_filled,
                is_first_time_author=is_first_time,
                text=comment.text,
                lang=comment.lang,
                is_trusted_author=is_trusted,
                is_known_spammer=comment.id in spammers,
            ),
            policy,
            checks,
        )
        # Shadow mode publishes; the audit row says what the policy would have done.
        note = f"shadow mode: would be {decision.shadowed}" if decision.shadowed else None
        groups.setdefault((decision.status, tuple(decision.reasons), note), []).append(comment)
    decided: dict[str, Status] = {}
    for (status, reasons, note), group in groups.items():
        for comment in transition_many(
            uow, group, Status.PENDING, status, reasons, SYSTEM_ACTOR, now, note
        ):
            decided[comment.id] = status
    return decided
