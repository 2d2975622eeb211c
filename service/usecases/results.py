"""Check results: store each detector's verdict once, then decide every comment whose checks
are all in by the policy table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.db.jobs import complete_jobs_statement
from service.db.models import (
    CheckJob,
    CheckResultRow,
    Comment,
    Site,
)
from service.db.tables import COMMENTS, RESULTS
from service.domain.policy import CheckOutcome, DecisionContext, Policy, decide
from service.domain.statuses import Status
from service.usecases.services import (
    SYSTEM_ACTOR,
    Services,
    send_after_commit,
    utcnow,
)
from service.usecases.sites import site_policy
from service.usecases.spam_memory import has_published, known_spammers, published_count
from service.usecases.transitions import transition_many


@dataclass(frozen=True)
class CheckRecord:
    """A detector's result as the pipeline stores it."""

    score: float | None
    verdict: str
    reasons: tuple[str, ...]
    evidence: tuple[dict[str, Any], ...] = ()
    model: str = "none"
    lang: str | None = None
    signals: dict[str, float] = field(default_factory=dict)
    duration_ms: float | None = None


UNAVAILABLE = CheckRecord(score=None, verdict="unavailable", reasons=("check_unavailable",))


@dataclass(frozen=True)
class Recorded:
    is_new: bool
    decided: Status | None


def record_check(svc: Services, comment_id: str, check: str, record: CheckRecord) -> Recorded:
    """Store one check's result and, when every check of the comment has one, decide.

    Idempotent: a second result for the same check is ignored (the first wins), and the
    decision is a guarded update from ``pending``, so a redelivered task never decides twice.
    """
    return record_checks(svc, [(comment_id, check, record)])[comment_id]


def record_checks(
    svc: Services, records: Sequence[tuple[str, str, CheckRecord]]
) -> dict[str, Recorded]:
    """:func:`record_check` for a batch of ``(comment id, check, record)``, in one transaction.

    The statements do not grow with the batch: lock the comments (by id, so concurrent batches
    never deadlock), read their jobs and results, insert the new results, complete the jobs
    (one UPDATE for every check), then decide every comment whose checks are all in (see
    :func:`_decide_batch`). Same idempotency as :func:`record_check`; the first record of a
    (comment, check) in ``records`` wins.
    """
    by_key: dict[tuple[str, str], CheckRecord] = {}
    for comment_id, check, record in records:
        by_key.setdefault((comment_id, check), record)
    report = {comment_id: Recorded(False, None) for comment_id, _ in by_key}
    if not by_key:
        return report
    ids = sorted(report)
    with svc.unit_of_work() as s:
        # This function's own Core statements go straight to the transaction's connection:
        # nothing is pending in the session before them, so they need no ORM autoflush.
        conn = s.connection()
        # Serialize the checks of one comment so the last one sees every result.
        comments = s.scalars(
            select(Comment).where(Comment.id.in_(ids)).order_by(Comment.id).with_for_update()
        ).all()
        if not comments:
            return report
        found = [c.id for c in comments]
        # Every check each comment needs, with its result where there is one: one query serves
        # both the idempotency test and the decision below.
        pairs = conn.execute(
            select(
                CheckJob.comment_id,
                CheckJob.check,
                CheckResultRow.check.label("result_check"),
                CheckResultRow.verdict,
                CheckResultRow.reasons,
                CheckResultRow.signals,
                CheckResultRow.score,
            )
            .outerjoin(
                CheckResultRow,
                and_(
                    CheckResultRow.comment_id == CheckJob.comment_id,
                    CheckResultRow.check == CheckJob.check,
                ),
            )
            .where(CheckJob.comment_id.in_(found))
        ).all()
        required: dict[str, list[str]] = {comment_id: [] for comment_id in found}
        outcomes: dict[str, dict[str, CheckOutcome]] = {comment_id: {} for comment_id in found}
        for row in pairs:
            required[row.comment_id].append(row.check)
            if row.result_check is not None:
                outcomes[row.comment_id][row.result_check] = CheckOutcome(
                    check=row.result_check,
                    verdict=row.verdict,
                    reasons=tuple(row.reasons or ()),
                    signals=dict(row.signals or {}),
                    score=row.score,
                )
        now = utcnow()
        new_rows: list[dict[str, Any]] = []
        new_langs: list[dict[str, Any]] = []
        completed: set[tuple[str, str]] = set()  # (comment id, check) whose job is now done
        by_comment = {c.id: c for c in comments}
        for (comment_id, check), record in by_key.items():
            comment = by_comment.get(comment_id)
            if comment is None:
                continue
            completed.add((comment_id, check))
            if check in outcomes[comment_id]:
                continue
            report[comment_id] = Recorded(True, None)
            new_rows.append(
                {
                    "comment_id": comment.id,
                    "check": check,
                    "score": record.score,
                    "verdict": record.verdict,
                    "reasons": list(record.reasons),
                    "evidence": list(record.evidence),
                    "signals": dict(record.signals),
                    "model": record.model,
                    "lang": record.lang,
                    "duration_ms": record.duration_ms,
                    "created_at": now,
                }
            )
            outcomes[comment.id][check] = CheckOutcome(
                check=check,
                verdict=record.verdict,
                reasons=tuple(record.reasons),
                signals=dict(record.signals),
                score=record.score,
            )
            if comment.lang is None and record.lang:
                new_langs.append({"b_id": comment.id, "lang": record.lang})
                set_committed_value(comment, "lang", record.lang)
        if new_rows:
            conn.execute(insert(RESULTS), new_rows)
        if new_langs:
            table = COMMENTS
            conn.execute(
                update(table).where(table.c.id == bindparam("b_id")).values(lang=bindparam("lang")),
                new_langs,
            )
        if completed:
            # One statement for every check, so its row locks are taken in one index order,
            # as the counting UPDATE of start_checks takes them (no lock-order deadlock).
            conn.execute(complete_jobs_statement(), {"now": now, "pairs": sorted(completed)})
        complete = [
            c
            for c in comments
            if c.status == Status.PENDING.value and not set(required[c.id]) - set(outcomes[c.id])
        ]
        decided = _decide_batch(svc, s, complete, now, required, outcomes)
    send_after_commit(svc, s)  # the decisions' webhook events, once they are committed
    for comment_id, status in decided.items():
        report[comment_id] = Recorded(report[comment_id].is_new, status)
    return report


def _decide_batch(
    svc: Services,
    s: Session,
    comments: Sequence[Comment],
    now: datetime,
    required: dict[str, list[str]],
    outcomes: dict[str, dict[str, CheckOutcome]],
) -> dict[str, Status]:
    """Decide each (locked, pending, fully checked) comment by the policy table; one guarded
    UPDATE per distinct decision. Returns the comments this call changed."""
    if not comments:
        return {}
    spammers = known_spammers(s, svc.vault, comments)
    policies: dict[int, Policy] = {}
    groups: dict[tuple[Status, tuple[str, ...], str | None], list[Comment]] = {}
    for comment in comments:
        policy = policies.get(comment.site_id)
        if policy is None:
            site = s.get(Site, comment.site_id)
            policy = policies[comment.site_id] = site_policy(svc, site.policy if site else None)
        is_first_time = policy.premoderation == "first_time" and not has_published(s, comment)
        is_trusted = policy.trust_after > 0 and (
            published_count(s, comment, policy.trust_after) >= policy.trust_after
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
            s, group, Status.PENDING, status, reasons, SYSTEM_ACTOR, now, note
        ):
            decided[comment.id] = status
    return decided
