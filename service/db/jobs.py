"""Statements on the check jobs (the outbox of the checks), each built once and cached."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from service.db.models import CheckJob
from service.db.tables import COMMENTS, JOBS
from service.domain.statuses import Status


@functools.cache
def start_statement() -> Any:
    """Count a delivery of each of ``checks`` for ``ids`` (unless another task claimed it)
    and of the jobs task ``me`` claimed, while the job is unfinished and the comment still
    pending (SQLite's RETURNING cannot read a joined table, hence EXISTS)."""
    jobs, comments = JOBS.c, COMMENTS.c
    pending = (
        select(comments.id)
        .where(comments.id == jobs.comment_id, comments.status == Status.PENDING.value)
        .exists()
    )
    me = bindparam("me", type_=jobs.claimed_by.type)
    return (
        update(JOBS)
        .where(
            jobs.check.in_(bindparam("checks", expanding=True)),
            or_(
                and_(
                    jobs.comment_id.in_(bindparam("ids", expanding=True)),
                    or_(jobs.claimed_by.is_(None), jobs.claimed_by == me),
                ),
                jobs.claimed_by == me,  # ix_check_jobs_claimed_by
            ),
            jobs.completed_at.is_(None),
            pending,
        )
        .values(attempt_count=jobs.attempt_count + 1)
        .returning(jobs.comment_id, jobs.check, jobs.attempt_count)
    )


@functools.cache
def works_statement() -> Any:
    """The comments' columns a detector needs, for the pending ones of ``ids``, sorted by id."""
    c = COMMENTS.c
    return (
        select(
            c.id,
            c.site_id,
            c.text,
            c.author_name,
            c.author_url,
            c.lang_hint,
            c.is_honeypot_filled,
            c.seconds_to_submit,
            c.user_agent,
            c.referrer,
        )
        # Pending comments only: a claim counts jobs without looking at their comments (see
        # claim_statement), so a job of a comment decided meanwhile is counted, not run.
        .where(c.id.in_(bindparam("ids", expanding=True)), c.status == Status.PENDING.value)
        .order_by(c.id)
    )


@functools.cache
def claim_statement(check_count: int, has_exclude: bool) -> Any:
    # No "comment still pending" test here, unlike start_checks: with it the planner joined
    # every unfinished job before sorting (figures in docs/benchmarks.md, History).
    # Without it the claim walks ix_check_jobs_claimable and stops at the limit, once per
    # check (one walk each: an IN list of checks would sort the whole backlog).
    # The work is then read for pending comments only (works_statement): a claimed job of a
    # comment no longer pending is counted once (so never claimed again) and not run.
    # The walks are joined by UNION ALL of derived tables (one IN): with an OR of one IN per
    # walk the planner could not join on the key and scanned the whole table (figures in
    # docs/benchmarks.md, "Changes in this round").
    walks: list[Any] = []
    for i in range(check_count):
        jobs = JOBS.alias(f"waiting_{i}").c
        waiting = (
            select(jobs.id)
            .where(
                jobs.check == bindparam(f"check_{i}"),
                jobs.completed_at.is_(None),
                jobs.attempt_count == 0,
                jobs.created_at <= bindparam("now", type_=jobs.created_at.type),
            )
            .order_by(jobs.created_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
        )
        if has_exclude:
            waiting = waiting.where(jobs.comment_id.not_in(bindparam("exclude", expanding=True)))
        walks.append(waiting)
    if len(walks) == 1:
        claimed: Any = walks[0].scalar_subquery()
    else:
        derived = [walk.subquery(f"walk_{i}") for i, walk in enumerate(walks)]
        claimed = union_all(*(select(d.c.id) for d in derived))
    return (
        update(JOBS)
        .where(JOBS.c.id.in_(claimed))
        .values(
            attempt_count=JOBS.c.attempt_count + 1,
            claimed_by=bindparam("me", type_=JOBS.c.claimed_by.type),
        )
        .returning(JOBS.c.comment_id, JOBS.c.check, JOBS.c.attempt_count)
    )


@functools.cache
def release_statement() -> Any:
    jobs = JOBS.c
    return (
        update(JOBS)
        .where(tuple_(jobs.comment_id, jobs.check).in_(bindparam("pairs", expanding=True)))
        .values(claimed_by=None)
    )


@functools.cache
def complete_jobs_statement() -> Any:
    jobs = JOBS.c
    return (
        update(JOBS)
        .where(
            tuple_(jobs.comment_id, jobs.check).in_(bindparam("pairs", expanding=True)),
            jobs.completed_at.is_(None),
        )
        .values(completed_at=bindparam("now", type_=jobs.completed_at.type), claimed_by=None)
    )


# (comment id, check) → the job's attempt count after this delivery.
Attempts = dict[str, dict[str, int]]


class CheckJobs:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _count(self, statement: Any, params: dict[str, Any], into: Attempts) -> None:
        for comment_id, check, attempt in self.s.connection().execute(statement, params):
            into.setdefault(comment_id, {})[check] = attempt

    def count_deliveries(
        self, checks: Sequence[str], ids: Sequence[str], task_id: str | None, into: Attempts
    ) -> None:
        """Count a delivery of each of ``checks`` for ``ids`` (see :func:`start_statement`)."""
        self._count(
            start_statement(), {"checks": list(checks), "ids": list(ids), "me": task_id}, into
        )

    def claim(
        self,
        checks: Sequence[str],
        limit: int,
        now: datetime,
        exclude: Sequence[str],
        task_id: str | None,
        into: Attempts,
    ) -> None:
        """Claim up to ``limit`` never-delivered jobs of each check (see
        :func:`claim_statement`), counted as deliveries."""
        params: dict[str, Any] = {f"check_{i}": name for i, name in enumerate(checks)}
        params.update(limit=limit, now=now, exclude=list(exclude), me=task_id)
        self._count(claim_statement(len(checks), bool(exclude)), params, into)

    def work_rows(self, ids: Sequence[str]) -> Sequence[Row[Any]]:
        """The detector's columns of the pending comments of ``ids``, sorted by id."""
        return self.s.connection().execute(works_statement(), {"ids": sorted(ids)}).all()

    def release(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.s.connection().execute(release_statement(), {"pairs": sorted(pairs)})

    def complete(self, pairs: Sequence[tuple[str, str]], now: datetime) -> None:
        # One statement for every check, so its row locks are taken in one index order,
        # as the counting UPDATE takes them (no lock-order deadlock).
        self.s.connection().execute(complete_jobs_statement(), {"now": now, "pairs": sorted(pairs)})

    def unsend(self, pairs: Sequence[tuple[str, str]], now: datetime) -> None:
        """The relay could not send these: take back their count, due again at ``now``."""
        for comment_id, check in sorted(pairs):
            self.s.execute(
                update(CheckJob)
                .where(
                    CheckJob.comment_id == comment_id,
                    CheckJob.check == check,
                    CheckJob.completed_at.is_(None),
                    CheckJob.send_count > 0,
                )
                .values(send_count=CheckJob.send_count - 1, next_send_at=now)
            )

    def due(self, now: datetime, limit: int) -> Sequence[CheckJob]:
        """Unfinished jobs due for a re-send, oldest first, locked (others skipped)."""
        return self.s.scalars(
            select(CheckJob)
            .where(CheckJob.completed_at.is_(None), CheckJob.next_send_at <= now)
            .order_by(CheckJob.next_send_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
