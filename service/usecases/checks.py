"""The checks' delivery side (called by workers and the scheduler): count a delivery and hand
out the work, claim backlog, release claims, and the outbox relay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    select,
)

from service.db.jobs import claim_statement, release_statement, start_statement, works_statement
from service.db.models import (
    CheckJob,
)
from service.queue import CHECK_TASKS
from service.usecases.results import UNAVAILABLE, record_checks
from service.usecases.services import (
    Services,
    utcnow,
)

log = logging.getLogger(__name__)


# See claim_checks: a worker takes up to this many never-delivered jobs of each check.
CLAIM_BATCH = 50


@dataclass(frozen=True)
class CheckWork:
    """What a worker needs to run one check: no email, no IP."""

    comment_id: str
    check: str
    text: str
    author_name: str
    author_url: str | None
    lang_hint: str | None
    is_honeypot_filled: bool
    seconds_to_submit: float | None
    user_agent: str | None
    referrer: str | None
    attempt: int


def start_checks(
    svc: Services,
    comment_ids: Sequence[str],
    checks: str | Sequence[str],
    task_id: str | None = None,
    claim: int = 0,
) -> list[CheckWork]:
    """Count a delivery of each (comment, check) and return the work still to do: one
    transaction, two statements whatever the batch's size (three with ``claim``).

    Idempotent: a missing comment, an already recorded result or an already decided comment
    is simply absent. The delivery is counted *before* the detector runs, so a check that
    kills its worker is bounded (see :func:`is_over_attempt_limit`).

    Returns the work of the (id, check) pairs that still need running, sorted by id then
    check; the others (missing, already recorded, already decided, or claimed by another
    task: see :func:`claim_checks`) are simply absent. ``task_id`` is the running task's:
    the jobs it claimed in an earlier life (a redelivery after its worker died, a retry) are
    taken back with its own, each a counted delivery. With ``claim``, a delivery whose jobs
    are all at their first attempt also claims up to that many jobs of each check from the
    backlog, in the same transaction.
    """
    ids = sorted(set(comment_ids))
    if not ids:
        return []
    names = _check_list(checks)
    start = (start_statement(), {"checks": names, "ids": ids, "me": task_id})
    return _count_deliveries(svc, start, _claim_step(names, claim, ids, task_id))


def _check_list(checks: str | Sequence[str]) -> list[str]:
    return [checks] if isinstance(checks, str) else sorted(set(checks))


def _count_deliveries(
    svc: Services,
    start: tuple[Any, dict[str, Any]] | None,
    claim: tuple[Any, dict[str, Any]] | None,
) -> list[CheckWork]:
    """Run the counting ``UPDATE … RETURNING comment_id, check, attempt_count`` of a start
    and then, when every job it counted is at its first attempt, of a claim; then read the
    work for the jobs counted. One transaction (``start_checks`` and ``claim_checks``).

    Core statements built once, on a plain connection: this runs for every message a worker
    takes, and the ORM session's execution and statement building cost more than the SQL.
    """
    with svc.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # No wait for the WAL flush: a count lost with a PostgreSQL crash only allows
            # one more attempt, and this commit is on every message's path.
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        attempts: dict[str, dict[str, int]] = {}

        def count(step: tuple[Any, dict[str, Any]]) -> None:
            for comment_id, check, attempt in conn.execute(*step):
                attempts.setdefault(comment_id, {})[check] = attempt

        if start is not None:
            count(start)
        # A disturbed delivery (a job seen before) runs what it has, alone.
        if claim is not None and all(a == 1 for by in attempts.values() for a in by.values()):
            count(claim)
        if not attempts:
            return []
        rows = conn.execute(works_statement(), {"ids": sorted(attempts)}).all()
    return [
        CheckWork(
            comment_id=row.id,
            check=check,
            text=row.text,
            author_name=row.author_name,
            author_url=row.author_url,
            lang_hint=row.lang_hint,
            is_honeypot_filled=bool(row.is_honeypot_filled),
            seconds_to_submit=row.seconds_to_submit,
            user_agent=row.user_agent,
            referrer=row.referrer,
            attempt=attempt,
        )
        for row in rows
        for check, attempt in sorted(attempts[row.id].items())
    ]


def claim_checks(
    svc: Services,
    checks: str | Sequence[str],
    limit: int,
    exclude: Sequence[str] = (),
    task_id: str | None = None,
) -> list[CheckWork]:
    """Take up to ``limit`` jobs of each of ``checks`` from the backlog for task ``task_id``,
    so that the checks of many comments run, record and decide as one batch, whatever
    messages they came with.

    Only never-delivered, unfinished jobs (``attempt_count = 0``) are taken, oldest first,
    skipping rows another worker holds; each is stamped with ``task_id``. A claim is a
    counted delivery like any other, so the crash bound holds, and a job is claimed at most
    once. The job's own message, when it arrives, leaves a claimed job alone (it is a cheap
    "skipped"); if the claiming worker dies, the redelivery of its message takes its claims
    back (:func:`start_checks`), and on a broker that does not redeliver the relay releases
    the claim when it re-sends the job (:func:`relay_outbox`).
    """
    return _count_deliveries(svc, None, _claim_step(_check_list(checks), limit, exclude, task_id))


def _claim_step(
    names: list[str], limit: int, exclude: Sequence[str], task_id: str | None
) -> tuple[Any, dict[str, Any]] | None:
    if limit <= 0:
        return None
    params: dict[str, Any] = {f"check_{i}": name for i, name in enumerate(names)}
    params.update(limit=limit, now=utcnow(), exclude=list(exclude), me=task_id)
    return claim_statement(len(names), bool(exclude)), params


def release_claims(svc: Services, works: Sequence[CheckWork]) -> None:
    """Let the jobs of ``works`` be run by their own messages again (a worker isolating the
    jobs of a batch whose earlier delivery died sends each in a message of its own)."""
    if works:
        pairs = sorted({(w.comment_id, w.check) for w in works})
        with svc.engine.begin() as conn:
            conn.execute(release_statement(), {"pairs": pairs})


def is_over_attempt_limit(svc: Services, work: CheckWork) -> bool:
    """A delivery past retries + re-sends is given up (the comment is then held)."""
    return work.attempt >= svc.settings.check_max_retries + svc.settings.relay_max_sends + 2


@dataclass(frozen=True)
class RelayReport:
    sent: int
    given_up: int
    failed: int


def relay_outbox(svc: Services) -> RelayReport:
    """Re-send every unfinished check that is due; give up after ``relay_max_sends``.

    Idempotent and safe to run concurrently (rows are locked with SKIP LOCKED on
    PostgreSQL; SQLite serializes writers). A send that fails is not counted, so a long
    broker outage never turns into ``check_unavailable``: the checks go out when it returns.
    """
    settings = svc.settings
    now = utcnow()
    sent = failed = 0
    give_up: list[tuple[str, str]] = []
    with svc.unit_of_work() as s:
        due = s.scalars(
            select(CheckJob)
            .where(CheckJob.completed_at.is_(None), CheckJob.next_send_at <= now)
            .order_by(CheckJob.next_send_at)
            .limit(settings.relay_batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for job in due:
            if job.check not in CHECK_TASKS:
                # No task runs this check (removed from the configuration with jobs still
                # out?): it is unavailable. Held, never published unchecked, and the relay
                # goes on with the other rows instead of failing on this one every run.
                log.warning("relay: no task for this check; given up", extra={"check": job.check})
                give_up.append((job.comment_id, job.check))
                continue
            if job.send_count >= settings.relay_max_sends:
                give_up.append((job.comment_id, job.check))
                continue
            if not svc.producer.send_check(job.comment_id, job.check):
                failed += 1
                break  # the broker is down: the rest waits for the next run
            job.claimed_by = None  # a claimer that died holds it no more: the message runs it
            job.send_count += 1
            backoff = settings.relay_stale_seconds * (2 ** (job.send_count - 1))
            job.next_send_at = now + timedelta(seconds=backoff)
            sent += 1
    if give_up:
        record_checks(svc, [(cid, check, UNAVAILABLE) for cid, check in give_up])
    if sent or give_up or failed:
        log.info("relay", extra={"sent": sent, "given_up": len(give_up), "failed": failed})
    return RelayReport(sent=sent, given_up=len(give_up), failed=failed)
