"""Statements on the check jobs (the outbox of the checks), each built once and cached."""

from __future__ import annotations

import functools
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
    # every unfinished job before sorting (60 ms per claim with 10,000 pending comments).
    # Without it the claim walks ix_check_jobs_claimable and stops at the limit, once per
    # check (one walk each: an IN list of checks would sort the whole backlog).
    # The work is then read for pending comments only (works_statement): a claimed job of a
    # comment no longer pending is counted once (so never claimed again) and not run.
    # The walks are joined by UNION ALL of derived tables (one IN): with an OR of one IN per
    # walk the planner could not join on the key and scanned the whole table (90 ms with
    # 400,000 jobs).
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
